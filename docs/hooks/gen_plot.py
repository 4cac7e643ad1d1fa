"""Matplotlib settings and SVG output shared by the figure jobs.

Byte-identical SVGs from build to build: a fixed hash salt, no date, glyphs drawn
as paths (so no font file is requested by the page).
"""

from __future__ import annotations

import io

import matplotlib as mpl

mpl.use("svg")
import matplotlib.pyplot as plt

mpl.rcParams.update(
    {
        "svg.hashsalt": "unrolled",
        "svg.fonttype": "path",
        "font.size": 11,
        "mathtext.fontset": "cm",
    }
)

GREY = "#9a9a9a"


def svg_text(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(
        buffer, format="svg", bbox_inches="tight", metadata={"Date": None}, facecolor="white"
    )
    plt.close(fig)
    return buffer.getvalue()
