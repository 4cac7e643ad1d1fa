"""One sheet of glyph shapes per page, shared by all its inline formulas.

MathJax's local font cache gives each drawing the shapes of the glyphs it uses, in its
own ``<defs>``: a page of 190 small formulas (the API reference) carried 836 shape
paths, 400 kB of its 750 kB, most of them the same few letters again. Each inline
drawing's shapes move to one hidden SVG at the top of the page's article (inside what
Material's instant navigation replaces), one path per glyph, and its glyphs point
there. A glyph's id names its font and character, so one id is one shape; should two
drawings give one id two shapes, the second is kept under an id of its own. A formula
image (formula_images.py) keeps its shapes in its own file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: The id prefix of a glyph shape in a drawing as MathJax makes it (its localID), and
#: on the page's sheet.
DRAWN = "MJX-unrolled-"
SHEET = "MJX-glyph-"
#: Where the sheet goes: first thing in the article (Material's page content).
ARTICLE = '<article class="md-content__inner md-typeset">'
_DEFS = re.compile(r"<defs>(.*?)</defs>", re.S)
_PATH = re.compile(rf'<path id="{DRAWN}([^"]+)" d="([^"]*)"></path>')
_HREF = re.compile(rf'xlink:href="#{DRAWN}([^"]+)"')


@dataclass
class GlyphSheet:
    """The shapes of a page's glyphs: sheet id (less SHEET) -> path data."""

    shapes: dict[str, str] = field(default_factory=dict)

    def take(self, drawing: str) -> str:
        """`drawing` without its <defs>, its glyphs pointing at this sheet; a drawing
        whose <defs> hold anything but glyph shapes is returned as it is."""
        defs = _DEFS.search(drawing)
        if defs is None or _PATH.sub("", defs[1]):
            return drawing
        names = {}
        for name, shape in _PATH.findall(defs[1]):
            key = name
            while self.shapes.get(key, shape) != shape:
                key += "-"
            self.shapes[key] = shape
            names[name] = key
        body = drawing[: defs.start()] + drawing[defs.end() :]
        return _HREF.sub(lambda m: f'xlink:href="#{SHEET}{names[m[1]]}"', body)

    def markup(self) -> str:
        """The sheet: a hidden SVG of every shape, by id."""
        paths = "".join(f'<path id="{SHEET}{k}" d="{d}"></path>' for k, d in self.shapes.items())
        return (
            '<svg class="mjx-glyphs" aria-hidden="true" focusable="false" style="position: '
            f'absolute; width: 0; height: 0; overflow: hidden"><defs>{paths}</defs></svg>'
        )

    def place(self, page_html: str) -> str:
        """`page_html` with the sheet first in its article (or first, without one)."""
        if not self.shapes:
            return page_html
        at = page_html.find(ARTICLE)
        at = 0 if at < 0 else at + len(ARTICLE)
        return page_html[:at] + self.markup() + page_html[at:]
