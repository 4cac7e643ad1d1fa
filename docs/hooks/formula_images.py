"""Large formulas as images: one SVG file each, shown through a CSS mask.

A drawing MathJax makes is inline SVG: one element per glyph. A written-out sum of a
gated cell holds thousands of glyphs, and a page of them tens of thousands of
elements, which the browser styles and lays out on every visit (and again each time
Material's script reads the layout), folded or not. Such a formula is written to its
own file instead, named by a hash of its content (a formula on several pages is one
file), and shown as an empty box of the drawing's size whose mask is that file and
whose colour is the text colour: the page holds one element per formula, the browser
draws the image off the DOM, and a folded term's image is fetched only when it is
opened. In the dark scheme the mask takes the text colour like the inline drawings.
The TeX stays beside the box (docs/hooks/mathjax_svg.py), for screen readers and copying.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

#: A drawing with at least this many glyphs becomes an image. Below it the inline SVG
#: costs the browser little and appears with the page (no request). Measured on the
#: heaviest page (gated/lstm/X): with every drawing of 40 glyphs or more as an image,
#: navigation -> math drawn fell from 0.65 s to 0.42 s; the formulas left inline are
#: the short ones of the prose, and their glyph shapes are shared (glyph_sheet.py).
IMAGE_GLYPHS = 40
#: Where the images go, in the built site.
FOLDER = "assets/formulas"
#: The box: the drawing's size and baseline, its colour the text's, its shape the image.
CSS = """
.md-typeset mjx-container > .mjx-image {
  display: inline-block;
  background-color: currentColor;
  -webkit-mask-repeat: no-repeat;
  mask-repeat: no-repeat;
  -webkit-mask-size: 100% 100%;
  mask-size: 100% 100%;
}
"""
_SVG = re.compile(
    r'<svg style="(?P<style>[^"]*)" width="(?P<width>[\d.]+ex)" height="(?P<height>[\d.]+ex)"'
)
_NAMESPACES = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def glyphs(drawing: str) -> int:
    """The glyphs of a MathJax drawing: one <use> each."""
    return drawing.count("<use ")


@dataclass
class Images:
    """The formula images of one page: their URL relative to the page, their files.

    `prefix` is the URL of FOLDER seen from the page, ending in "/"; `files` maps each
    image's file name to its SVG document.
    """

    prefix: str
    files: dict[str, str] = field(default_factory=dict)

    def place(self, drawing: str) -> str:
        """`drawing` (an <mjx-container> holding one <svg>) as it goes into the page:
        itself, or, with IMAGE_GLYPHS glyphs or more, a box masked by its image."""
        start, end = drawing.find("<svg "), drawing.rfind("</svg>") + len("</svg>")
        size = _SVG.match(drawing, start)
        if glyphs(drawing) < IMAGE_GLYPHS or size is None:
            return drawing
        svg = drawing[start:end].replace("<svg ", f"<svg {_NAMESPACES} ", 1)
        name = hashlib.sha256(svg.encode()).hexdigest()[:20] + ".svg"
        self.files[name] = svg
        url = self.prefix + name
        style = (
            f"{size['style']} width: {size['width']}; height: {size['height']}; "
            f"-webkit-mask-image: url({url}); mask-image: url({url});"
        )
        box = f'<span class="mjx-image" aria-hidden="true" style="{style}"></span>'
        return drawing[:start] + box + drawing[end:]


def write(files: dict[str, str], site_dir: Path) -> None:
    """Write each image into the built site, unless it is there (its name is its hash)."""
    folder = site_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name, svg in files.items():
        path = folder / name
        if not path.exists():
            path.write_text(svg, encoding="utf-8")
