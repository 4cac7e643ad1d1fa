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
import html
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import types
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import formula_images
import glyph_sheet
from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

log = get_plugin_logger("unrolled")

HOOKS = Path(__file__).resolve().parent
ROOT = HOOKS.parent.parent
SCRIPT = HOOKS / "mathjax_svg.js"
MATHJAX_PACKAGE = ROOT / "node_modules" / "mathjax-full" / "package.json"
CACHE_DIR = ROOT / ".cache" / "mathjax-svg"
#: Set (as for site.py's generator jobs) to draw every formula anew, reading no cache.
FRESH_VARIABLE = "UNROLLED_FRESH"
#: Where MathJax's CSS for its SVG goes in the site (mkdocs.yml's extra_css names it).
STYLESHEET = "assets/stylesheets/mathjax-svg.css"
#: The ids of an SVG's glyphs are ``MJX-<this>-...`` as drawn; each page renumbers them
#: per formula (``MJX-<n>-``), so that no id appears twice on a page.
LOCAL_ID = "unrolled"
#: What the Node side is given; part of every cache key. maxBuffer: the written-out sums
#: of the gated cells expand \operatorname once per factor, beyond MathJax's 5 KiB.
CONFIG: dict[str, object] = {"localID": LOCAL_ID, "tex": {"maxBuffer": 100 * 1024}}
#: A formula as arithmatex leaves it: the element (with any other attributes), its TeX.
ELEMENT = re.compile(
    r'<(?P<tag>span|div)(?P<attrs>[^>]*\bclass="(?P<cls>[^"]*\barithmatex\b[^"]*)"[^>]*)>'
    r"(?P<tex>[^<]*)</(?P=tag)>"
)
DELIMITERS = ((r"\(", r"\)", False), (r"\[", r"\]", True), ("$$", "$$", True), ("$", "$", False))
NODE_HINT = (
    "Install Node.js (Debian: apt-get install nodejs npm) and run `npm ci` in the checkout "
    "(`make setup` does both checks and the npm step)."
)


class TexError(Exception):
    """A formula MathJax could not read: its message, the formula and where it is."""


def split_tex(text: str) -> tuple[str, bool]:
    """(TeX without its delimiters, display?) for an arithmatex element's text."""
    stripped = text.strip()
    for opening, closing, display in DELIMITERS:
        if (
            stripped.startswith(opening)
            and stripped.endswith(closing)
            and len(stripped) >= len(opening) + len(closing)
        ):
            return stripped[len(opening) : len(stripped) - len(closing)], display
    if stripped.startswith(r"\begin{"):  # an environment written alone is display math
        return stripped, True
    raise TexError(
        f"a formula without math delimiters: {stripped[:120]!r}. arithmatex writes "
        r"\( \) inline and \[ \] for display; write the formula as $...$ or $$...$$."
    )


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class FormulaCache:
    """Drawings by key on disk, one file each (written whole, then renamed into place)."""

    folder: Path = CACHE_DIR
    salt: str = ""

    def key(self, tex: str, display: bool) -> str:
        digest = hashlib.sha256(json.dumps([self.salt, tex, display]).encode())
        return digest.hexdigest()

    def has(self, key: str) -> bool:
        if os.environ.get(FRESH_VARIABLE):  # as for the generator jobs: reuse nothing
            return False
        return (self.folder / key[:2] / f"{key}.html").is_file()

    def get(self, key: str) -> str | None:
        path = self.folder / key[:2] / f"{key}.html"
        return path.read_text(encoding="utf-8") if self.has(key) else None

    def put(self, key: str, drawing: str) -> None:
        path = self.folder / key[:2] / f"{key}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_text(drawing, encoding="utf-8")
        partial.replace(path)


def mathjax_version() -> str:
    """The installed mathjax-full's version (npm ci), or a clear error naming the fix."""
    if shutil.which("node") is None:
        raise TexError(f"drawing the formulas needs Node.js, which is not on PATH. {NODE_HINT}")
    if not MATHJAX_PACKAGE.is_file():
        raise TexError(f"npm's mathjax-full is not installed ({MATHJAX_PACKAGE}). {NODE_HINT}")
    return str(json.loads(MATHJAX_PACKAGE.read_text())["version"])


def cache_salt() -> str:
    """What, besides the formula, decides a drawing: MathJax, the script, the config."""
    return json.dumps([mathjax_version(), _file_hash(SCRIPT), CONFIG], sort_keys=True)


Result = dict[str, Any]


@dataclass
class Renderer:
    """The Node process, started on the first formula missing from the cache.

    Requests are written as they come (`prefetch`: a page's formulas, as soon as its
    Markdown is HTML) and answered in order; a reader thread files each answer, and
    `draw` waits only for what is not in yet. So Node draws while MkDocs goes on
    rendering the other pages and running the notebooks.
    """

    cache: FormulaCache
    process: subprocess.Popen[str] | None = None
    drawn: int = 0
    reused: int = 0
    #: Seconds the Node process spent drawing (its own count), this build.
    seconds: float = 0.0
    #: Seconds on_post_page spent (waiting for drawings, reading the cache, rewriting).
    page_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[str, Future[Result]] = field(default_factory=dict)
    waiting: deque[list[Future[Result]]] = field(default_factory=deque)

    def _start(self) -> subprocess.Popen[str]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                ["node", str(SCRIPT), json.dumps(CONFIG)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                encoding="utf-8",
            )  # fmt: skip
            assert self.process.stdout is not None
            hello = json.loads(self.process.stdout.readline() or "{}")
            if hello.get("ready") is not True:
                raise TexError(f"the MathJax process did not start ({hello}). {NODE_HINT}")
            reader = threading.Thread(target=self._read, args=(self.process,), daemon=True)
            reader.start()
        return self.process

    def _read(self, process: subprocess.Popen[str]) -> None:
        """File each answer line with the futures of its request, in order."""
        assert process.stdout is not None
        for line in process.stdout:
            answer = json.loads(line)
            with self.lock:
                futures = self.waiting.popleft()
                self.seconds += float(answer.get("ms", 0)) / 1000
            results = answer.get("results", [answer])
            if len(results) != len(futures):
                results = [{"error": f"the MathJax process answered {answer!r:.300}"}] * len(
                    futures
                )
            for future, result in zip(futures, results, strict=True):
                future.set_result(result)
        with self.lock:  # the process ended: nothing more will come
            ended = TexError(
                f"the MathJax process ({SCRIPT.name}) ended (exit {process.poll()}); its "
                f"error is printed above. {NODE_HINT}"
            )
            while self.waiting:
                for future in self.waiting.popleft():
                    future.set_exception(ended)

    def _send(self, request: dict[str, Any], futures: list[Future[Result]]) -> None:
        """Write one request; its answer resolves `futures` (call with the lock held)."""
        process = self._start()
        assert process.stdin is not None
        self.waiting.append(futures)
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()

    def prefetch(self, formulas: list[tuple[str, bool]]) -> None:
        """Ask Node for every formula not cached nor asked for yet; return at once."""
        asked: dict[str, tuple[str, bool]] = {}
        for tex, display in formulas:
            key = self.cache.key(tex, display)
            if key not in self.pending and key not in asked and not self.cache.has(key):
                asked[key] = (tex, display)
        if not asked:
            return
        with self.lock:
            futures = [self.pending.setdefault(key, Future()) for key in asked]
            wanted = [{"tex": tex, "display": display} for tex, display in asked.values()]
            self._send({"formulas": wanted}, futures)
            self.drawn += len(asked)

    def stylesheet(self) -> str:
        """MathJax's CSS for its SVG output (cached like a formula)."""
        key = self.cache.key("<stylesheet>", True)
        css = self.cache.get(key)
        if css is None:
            future: Future[Result] = Future()
            with self.lock:
                self._send({"stylesheet": True}, [future])
            css = str(future.result()["css"])
            self.cache.put(key, css)
        return css

    def draw(self, formulas: list[tuple[str, bool]], where: str) -> list[str]:
        """The drawing of each (TeX, display) formula, from the cache or drawn now."""
        self.prefetch(formulas)
        keys = [self.cache.key(tex, display) for tex, display in formulas]
        found: dict[str, str] = {}
        for key, (tex, display) in zip(keys, formulas, strict=True):
            if key in found:
                continue
            future = self.pending.get(key)
            if future is None:
                cached = self.cache.get(key)
                assert cached is not None, "neither cached nor asked for"
                found[key] = cached
                self.reused += 1
                continue
            result = future.result()
            if "error" in result:
                shown = tex if len(tex) <= 300 else tex[:300] + " ..."
                raise TexError(
                    f"{where}: TeX error in the {'display' if display else 'inline'} "
                    f"formula {shown!r}: {result['error']}. Fix the formula's source "
                    f"(its generator in derivations/ or docs/hooks/, or the page)."
                )
            found[key] = str(result["html"])
            self.cache.put(key, found[key])
            del self.pending[key]
        return [found[key] for key in keys]

    def close(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()


#: mkdocs-jupyter's loader of the client MathJax, added to every page it passes by.
NOTEBOOK_MATHJAX = re.compile(r"<script data-mkdocs-jupyter-mathjax=[^>]*>.*?</script>\n?", re.S)


def page_formulas(
    page_html: str, where: str, matches: list[re.Match[str]] | None = None
) -> list[tuple[str, bool]]:
    """(TeX, display?) of every arithmatex formula of `page_html`, in order."""
    try:
        found = ELEMENT.finditer(page_html) if matches is None else matches
        return [split_tex(html.unescape(m["tex"])) for m in found]
    except TexError as error:
        raise TexError(f"{where}: {error}") from error


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
    this module changed since it started (then a new one, and a new key for the cache)."""
    try:
        salt = cache_salt()
    except TexError as error:
        raise PluginError(str(error)) from error
    identity = salt + _file_hash(Path(__file__))
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
