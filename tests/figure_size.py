"""How large a figure's text is on a phone, from its SVG or its matplotlib Figure.

A figure is shown at most as wide as the text column: on a 390 px phone that is
`PHONE_PX`, and a wider SVG is shrunk to it. Text smaller than `MIN_TEXT_PX` there is
hard to read. Used by tests/test_lab_figures.py and tests/test_site_lab.py.
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
from matplotlib.text import Text

#: Width of a figure on a 390 px phone: the text column (390 px less Material's 0.8 rem
#: margins) less the figure's 0.4 rem padding on each side (docs/stylesheets/site.css).
PHONE_PX = 390 - 2 * 12.8 - 2 * 6.4
#: Smallest text height, CSS px, that stays readable at arm's length on a phone.
MIN_TEXT_PX = 9.0
#: CSS px per point.
PX_PER_PT = 96 / 72
#: matplotlib writes each text drawn as paths as a group scaled by its size / 100.
_TEXT_GROUP = re.compile(r'<g [^>]*transform="translate\([^)]*\) scale\(([0-9.]+) -\1\)"')
_WIDTH = re.compile(r'<svg [^>]*width="([0-9.]+)pt"')


def _shown_px(size_pt: float, width_pt: float) -> float:
    """A `size_pt` text of a `width_pt`-wide figure, in CSS px on the phone."""
    return size_pt * PX_PER_PT * min(1.0, PHONE_PX / (width_pt * PX_PER_PT))


def svg_smallest_text_px(svg: str) -> float:
    """The smallest text of a matplotlib SVG (`gen_plot.svg_text`), in px on the phone."""
    width = _WIDTH.search(svg)
    sizes = [float(s) * 100 for s in _TEXT_GROUP.findall(svg)]
    if width is None or not sizes:
        raise ValueError("not a matplotlib SVG with text drawn as paths (gen_plot.svg_text)")
    return _shown_px(min(sizes), float(width[1]))


def figure_smallest_text_px(fig: plt.Figure) -> float:
    """The smallest text of `fig`, saved with a tight bounding box, in px on the phone."""
    fig.canvas.draw()
    width_pt = fig.get_tightbbox().width * 72  # inches -> points, the SVG's own unit
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    return _shown_px(min(sizes), width_pt)
