"""MkDocs hook: every formula of the site drawn as SVG while it builds (MathJax 3 in Node).

Listed in mkdocs.yml after site.py. ``on_files`` adds MathJax's stylesheet for its SVG;
``on_post_page`` draws the formulas of each finished page, after Material's search has
indexed the page's text (in ``on_page_context``), so the index holds each formula's
TeX, not its drawing. No page needs JavaScript for its math.

`typeset_page(html, where)` finds the formulas pymdownx.arithmatex wrapped in
``.arithmatex`` elements (``\\( \\)`` inline, ``\\[ \\]`` or an environment for display)
and replaces each one's TeX by MathJax's drawing: an ``<mjx-container>`` holding the SVG
(``currentColor``: it follows the text colour, dark scheme included; ``aria-hidden``),
or, for a large formula, a box masked by an image file of that SVG (formula_images.py).
The element and its class stay; its TeX stays beside the drawing, in a visually hidden
``<span class="arithmatex-tex">``, which is what screen readers read and what copying a
selection picks up. (MathJax's assistive MathML would have doubled the weight of the
heaviest pages, a quarter of their bytes, and been laid out though unseen.)

The stages, in the order of the data flow: the formulas of a page are found and their
TeX read (``mathjax_tex.py``), looked up in the cache (``mathjax_cache.py``), the missing
ones drawn (``mathjax_renderer.py``), then placed in the page here (`typeset_page`).

The drawings come from `Renderer`: one Node process (``mathjax_svg.js``, npm
``mathjax-full`` pinned in package.json) per build, or per ``mkdocs serve`` session, fed
whole pages of formulas at a time over stdin. Each drawing is kept in `FormulaCache`
(``.cache/mathjax-svg``) under a key made of the TeX, the display flag, the MathJax
version, the script's hash and the configuration, so a rebuild draws only the formulas
that changed, and starts no Node at all when none did. A TeX error fails the build with
the page and the formula named.
"""

from __future__ import annotations

import hashlib
import sys
import time
import types
from pathlib import Path
from typing import Any

import formula_images
import glyph_sheet
from mathjax_cache import LOCAL_ID, FormulaCache, cache_salt, file_hash
from mathjax_renderer import Renderer
from mathjax_tex import ELEMENT, NOTEBOOK_MATHJAX, TexError, page_formulas
from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

log = get_plugin_logger("unrolled")

HOOKS = Path(__file__).resolve().parent
#: The modules whose code draws a formula: a change to any starts a new renderer.
STAGES = ("mathjax_tex.py", "mathjax_cache.py", "mathjax_renderer.py", "mathjax_svg.py")
#: Where MathJax's CSS for its SVG goes in the site (mkdocs.yml's extra_css names it).
STYLESHEET = "assets/stylesheets/mathjax-svg.css"


def typeset_page(
    page_html: str, where: str, renderer: Renderer, images: formula_images.Images | None = None
) -> str:
    """`page_html` with every arithmatex formula drawn; `where` names the page in errors.
    With `images`, a large drawing is placed as an image (kept in `images.files`). The
    glyph shapes of the inline drawings go to one sheet at the top of the article."""
    page_html = NOTEBOOK_MATHJAX.sub("", page_html)
    matches = list(ELEMENT.finditer(page_html))
    if not matches:
        return page_html
    formulas = page_formulas(page_html, where, matches)
    drawings = renderer.draw(formulas, where)
    out, last, sheet = [], 0, glyph_sheet.GlyphSheet()
    for n, (match, drawn) in enumerate(zip(matches, drawings, strict=True), start=1):
        placed = drawn if images is None else images.place(drawn)
        drawing = sheet.take(placed).replace(f"MJX-{LOCAL_ID}-", f"MJX-{n}-")
        kept = f'<span class="arithmatex-tex">{match["tex"]}</span>'
        tag = match["tag"]
        out += [page_html[last : match.start()], f"<{tag}{match['attrs']}>{drawing}{kept}</{tag}>"]
        last = match.end()
    out.append(page_html[last:])
    return sheet.place("".join(out))


# --- the MkDocs hooks ---------------------------------------------------------------
#
# One Node process per build; under `mkdocs serve` it outlives the rebuilds (kept in a
# namespace registered in sys.modules, as site.py keeps its job server) and it is
# started only when a formula is missing from the cache.
_KEPT: Any = sys.modules.setdefault("_unrolled_mathjax", types.ModuleType("_unrolled_mathjax"))
if not hasattr(_KEPT, "pages"):
    _KEPT.pages = {}  # src -> (hash of the page's HTML before drawing, drawn HTML, images)


def _serving() -> bool:
    return sys.argv[1:2] == ["serve"]


def renderer() -> Renderer:
    """This build's renderer: the kept one, unless MathJax, its script, its settings or
    the modules that draw (`STAGES`) changed since it started (then a new one, and a new
    key for the cache)."""
    try:
        salt = cache_salt()
    except TexError as error:
        raise PluginError(str(error)) from error
    identity = salt + "".join(file_hash(HOOKS / name) for name in STAGES)
    kept = getattr(_KEPT, "renderer", None)
    if kept is None or getattr(_KEPT, "identity", None) != identity:
        if kept is not None:
            kept.close()
        kept = Renderer(FormulaCache(salt=salt))
        _KEPT.renderer, _KEPT.identity = kept, identity
    return kept


def on_files(files: Files, config: Any) -> Files:
    css = renderer().stylesheet() + formula_images.CSS
    files.append(File.generated(config, STYLESHEET, content=css))
    return files


def on_page_content(html_text: str, page: Any, config: Any, files: Files) -> str:
    """Send the page's formulas to Node now; `on_post_page` collects their drawings."""
    try:
        _KEPT.renderer.prefetch(page_formulas(html_text, page.file.src_uri))
    except TexError as error:
        raise PluginError(str(error)) from error
    return html_text


def on_post_page(output: str, page: Any, config: Any) -> str:
    """The page with its formulas drawn; under `mkdocs serve` a page whose HTML is what it
    was at the last build (most pages, after most edits) gets the same answer at once."""
    started = time.perf_counter()
    src = page.file.src_uri
    key = hashlib.sha256(f"{_KEPT.identity}\0{output}".encode()).digest()
    last = _KEPT.pages.get(src) if _serving() else None
    try:
        if last is not None and last[0] == key:
            drawn, images = last[1], last[2]
        else:
            prefix = get_relative_url(formula_images.FOLDER, page.url) + "/"
            images = formula_images.Images(prefix)
            drawn = typeset_page(output, src, _KEPT.renderer, images)
            if _serving():
                _KEPT.pages[src] = (key, drawn, images)
        formula_images.write(images.files, Path(config["site_dir"]))
        return str(drawn)
    except TexError as error:
        raise PluginError(str(error)) from error
    finally:
        _KEPT.renderer.page_seconds += time.perf_counter() - started


def on_post_build(config: Any) -> None:
    kept = _KEPT.renderer
    log.info("formulas: %d drawn by MathJax in %.2f s, %d from the cache; the pages "
             "waited %.2f s for them", kept.drawn, kept.seconds, kept.reused,
             kept.page_seconds)  # fmt: skip
    kept.drawn = kept.reused = 0
    kept.seconds = kept.page_seconds = 0.0
    if not _serving():
        kept.close()


def on_build_error(error: Exception) -> None:
    kept = getattr(_KEPT, "renderer", None)
    if kept is not None and not _serving():
        kept.close()


def on_shutdown() -> None:
    kept = getattr(_KEPT, "renderer", None)
    if kept is not None:
        kept.close()
