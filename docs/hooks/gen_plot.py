"""Matplotlib settings and SVG output shared by the figure jobs.

Byte-identical SVGs from build to build: a fixed hash salt, no date, glyphs drawn
as paths (so no font file is requested by the page).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
from matplotlib.typing import RcKeyType

mpl.use("svg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

mpl.rcParams.update(
    {
        "svg.hashsalt": "unrolled",
        "svg.fonttype": "path",
        "font.size": 11,
        "mathtext.fontset": "cm",
    }
)

GREY = "#9a9a9a"
#: Type sizes of the laboratory's plots, points. Those plots are about 5.4 in wide with
#: their labels (about 400 pt), shown 358 px wide on a 390 px phone: 11 pt is drawn
#: about 10 px tall there, 12 pt about 11 px (tests/test_site_lab.py holds every
#: figure of the site to 9 px at least).
READABLE: dict[RcKeyType, Any] = {
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "figure.titlesize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
}


def readable[**P](draw: Callable[P, str]) -> Callable[P, str]:
    """A figure function drawn with the `READABLE` type sizes."""

    @functools.wraps(draw)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> str:
        with plt.rc_context(READABLE):
            return draw(*args, **kwargs)

    return wrapped


def svg_text(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(
        buffer, format="svg", bbox_inches="tight", metadata={"Date": None}, facecolor="white"
    )
    plt.close(fig)
    return buffer.getvalue()
