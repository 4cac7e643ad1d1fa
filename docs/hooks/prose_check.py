"""What readers see must hold no symbol outside math and no repository path.

`site.py` calls `check_page` on every page's final HTML (``on_post_page``) and fails
the build on any finding (``on_post_build``, every page in one message). Pure
functions, no MkDocs:

- `visible_text`: the page's text as a reader sees it, every block on its own line:
  prose, table cells, figure captions, admonitions and headings, but not the inside of
  ``code``, ``pre``, ``kbd``, ``script``, ``style``, ``svg`` or math (elements of class
  ``arithmatex``, which MathJax draws), nor the navigation (it repeats the titles
  and headings, read where they stand; it is read for raw TeX only), and no attribute
  (a link's ``href``, an image's ``alt``). Code spans are kept apart (`code_text`):
  they may name a Python module, not a file of the repository.
- `symbol_findings`: math written as plain text: a short name with an underscore
  index (``h_t``, ``W_hh``, ``b_f``, ``a_647``, ``h_{t−1}``, ``σ_max``), one with a
  Unicode subscript (``h₀``), a d- or ∂-quotient (``dc_i/dc_k``, ``∂L/∂y``).
  A snake_case identifier is caught too (``forget_bias``): it belongs in a code span.
- `path_findings`: a path of the repository (``docs/hooks/x.py``, ``tests/``,
  ``derivations/core/cell.py``, ``mkdocs.yml``), in prose or in code, except in a command
  line a reader runs in the checkout (`code_path_findings`).
- TeX left raw where MathJax does not look (``\\(`` in a heading's entry in the table
  of contents, in raw HTML without ``markdown``, a docstring's ``$ x$`` that arithmatex
  did not take, any dollar), in the text and in the navigation;
- a Markdown table left as text (its ``| --- |`` row shows: a cell held a ``|``);
- `stray_headings`: a heading inside an object's documentation (``doc-contents``,
  the API reference) that is not an object's own heading, or any heading that starts
  with ``#`` or a digit: a docstring line such as ``#26561, ...`` that Markdown read
  as a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

#: Elements whose text is not prose: code, listings, keys, scripts, pictures.
#: The navigation is skipped too: it repeats the pages' titles and headings (an API
#: object's name, in code on its page), which are checked where they stand.
SKIPPED = frozenset({"code", "pre", "kbd", "samp", "script", "style", "svg", "math", "head", "nav"})
#: Elements of these classes are skipped: hidden (the notebooks' copy of each code cell)
#: or a heading's permalink (a pilcrow).
HIDDEN_CLASSES = frozenset({"clipboard-copy-txt", "headerlink"})
#: The class of the formulas (pymdownx.arithmatex, generic mode, and the folded terms'
#: raw HTML), which docs/hooks/mathjax_svg.py draws after this check has read the page.
MATH_CLASS = "arithmatex"
#: Elements without an end tag.
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
#: Elements that start a new line of text (so tokens never run across two blocks).
BLOCKS = frozenset(
    {"p", "div", "li", "td", "th", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption",
     "figure", "summary", "details", "dt", "dd", "blockquote", "nav", "label", "table",
     "section", "article", "header", "footer", "ul", "ol", "br", "hr", "title", "option"}
)  # fmt: skip
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: What a skipped element leaves in the text, so the context of a finding reads well.
MATH_MARK, CODE_MARK = "[math]", "[code]"
#: Characters of context shown on each side of a finding.
CONTEXT = 40
#: Findings listed in the build's error message, per page.
SHOWN = 12

_NAME = r"(?:[A-Za-z]{1,3}|[\u0391-\u03a9\u03b1-\u03c9])"  # h, W, dc, Whh; or one Greek letter
_INDEX = r"(?:\{[^{}\n]{1,24}\}|[A-Za-z0-9]+)"  # t, hh, 647, {t−1}, {i,k}
_SUBSCRIPT = "\u2080-\u209c"  # ₀..₉, ₐ..ₜ
_QUOTIENT_SIDE = rf"[A-Za-z\u0391-\u03a9\u03b1-\u03c9]{{1,3}}(?:_{_INDEX}|[{_SUBSCRIPT}]+)?"
#: d- or ∂-quotients: dc_i/dc_k, dh_t/dh_{t-1}, dL/dWxh, ∂L/∂y.
QUOTIENT = re.compile(rf"(?<![\w\\])[d∂]{_QUOTIENT_SIDE}\s*/\s*[d∂]{_QUOTIENT_SIDE}(?![\w])")
#: Indexed symbols: h_t, W_hh, b_f, a_647, h_{t−1}, δ_{i,k}, h₀.
INDEXED = re.compile(rf"(?<![\w\\]){_NAME}(?:_{_INDEX}|[{_SUBSCRIPT}]+)(?!\w)")
#: snake_case identifiers: forget_bias, lstm_regimes (code outside a code span).
SNAKE = re.compile(r"(?<![\w\\])[A-Za-z]\w*_\w*[A-Za-z0-9](?![\w])")
#: Top folders of the repository and the files a reader has no use for.
_TOP = r"(?:docs|derivations|rnnnum|tests|benchmarks|\.ci|\.cache|site)"
#: The folders of the checkout that hold its Python modules.
_TOPS = ("docs", "derivations", "rnnnum", "tests", "benchmarks")
PATH = re.compile(
    rf"(?<![\w./-]){_TOP}/[\w./-]*[\w/]"
    r"|(?<![\w./-])[\w.-]*\.pyi?(?![\w-])"
    r"|\b(?:pyproject\.toml|Makefile|mkdocs\.yml)\b"
)
#: TeX math delimiters left in the text: typeset math never shows them. A dollar too: no
#: page shows one, and a docstring's ``$...$`` that arithmatex did not take (``$ x$``,
#: with a space inside) reaches the reader as it was typed.
RAW_TEX = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]|\\[()\[\]]|\$[^$\n]*\$|\$")
#: A Markdown table's rule row left as text: the table did not render.
RAW_TABLE = re.compile(r"\|(?:\s*:?-{3,}:?\s*\|)+")
#: A line of code that is a command run in the checkout: it may name the checkout's files.
COMMAND = re.compile(r"^\s*(?:\$\s*)?(?:python3?|make|unrolled|pip|mkdocs|\.venv/bin/\S+)\s")
#: A heading that starts like the rest of a wrapped list of issue numbers ("#26561, ..."
#: loses its "#" to Markdown and shows "26561, ..."); "404 - Not found" is a title.
STRAY_HEADING = re.compile(r"^\s*(?:#|\d+\s*[,;)])")

SYMBOL_ADVICE = (
    "write it as math: use a generated fragment ({{ sym.* }}, {{ sym.<cell>.* }}, "
    "{{ d.* }}; see the docstring of docs/hooks/gen_fragments.py) in a page, math(...) "
    "in a generator, $...$ in a docstring; put a code identifier in a code span"
)
PATH_ADVICE = (
    "say it in the reader's terms (what the site's build does, the page that shows it, "
    "or the Python module, e.g. `derivations.core.cells`), not as a path of the repository"
)
TEX_ADVICE = (
    "TeX that MathJax never sees: math in a heading shows raw in the table of contents "
    "(say it in words there), math in raw HTML needs the markdown attribute "
    "(<figcaption markdown>), math in a docstring is $x_t$ with no space inside the dollars"
)
TABLE_ADVICE = (
    "a Markdown table that did not become a table: a cell holds a '|' (write 'absolute', "
    "or escape it as \\|) or the rows have different numbers of cells"
)
HEADING_ADVICE = (
    "a line of a docstring or page that starts with '#' became a heading; rewrap the "
    "text so that no line starts with '#'"
)


@dataclass(frozen=True)
class Finding:
    """One thing a reader should not see: what kind, the token, its context, the fix."""

    kind: str  # "symbol", "path", "tex", "table" or "heading"
    token: str
    context: str

    def describe(self, page: str) -> str:
        advice = {
            "symbol": SYMBOL_ADVICE,
            "path": PATH_ADVICE,
            "tex": TEX_ADVICE,
            "table": TABLE_ADVICE,
            "heading": HEADING_ADVICE,
        }
        return (
            f"{page}: {self.kind} {self.token!r} as plain text in "
            f"'…{self.context}…': {advice[self.kind]}"
        )


class _Reader(HTMLParser):
    """Collects the visible text (math and code marked), code text and stray headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # each open element: (tag, skipped, inside doc-contents, an object's heading)
        self.stack: list[tuple[str, bool, bool, bool]] = []
        self.text: list[str] = []
        self.code: list[str] = []
        self.nav: list[str] = []  # the navigation's text, read for raw TeX only
        self.headings: list[tuple[str, bool]] = []  # (text, inside doc-contents)
        self._heading: list[str] | None = None

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag in BLOCKS:
            self.text.append("\n")
        if tag in VOID:
            return
        outer_skip = self._skipping()
        in_docs = (bool(self.stack) and self.stack[-1][2]) or "doc-contents" in classes
        is_math = any(name.startswith(MATH_CLASS) for name in classes)
        skip = outer_skip or tag in SKIPPED or is_math or bool(HIDDEN_CLASSES & set(classes))
        if skip and not outer_skip:
            self.text.append(f" {MATH_MARK if is_math else CODE_MARK} ")
            if tag in {"code", "kbd", "samp", "pre"}:
                self.code.append("\n")
        if tag in HEADINGS:
            self._heading = []
            self.headings.append(("", in_docs and "doc-heading" not in classes))
        self.stack.append((tag, skip, in_docs, "doc-heading" in classes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID or not any(open_tag == tag for open_tag, *_ in self.stack):
            return
        while self.stack:
            open_tag, *_ = self.stack.pop()
            if open_tag == tag:
                break
        if tag in BLOCKS:
            self.text.append("\n")
        if tag in HEADINGS and self._heading is not None:
            _, stray = self.headings[-1]
            self.headings[-1] = ("".join(self._heading).strip(), stray)
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._skipping():
            tags = {tag for tag, *_ in self.stack}
            if tags & {"code", "kbd", "samp", "pre"}:
                self.code.append(data)
            elif "nav" in tags:
                self.nav.append(data)
            return
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)


def _read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def visible_text(html: str) -> str:
    """The text a reader sees, math as ``[math]``, code as ``[code]``, a block a line."""
    return "".join(_read(html).text)


def code_text(html: str) -> str:
    """The text of every code span and listing (``code``, ``pre``, ``kbd``, ``samp``)."""
    return "".join(_read(html).code)


def _context(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - CONTEXT) : end + CONTEXT].split())


def _scan(text: str, rules: tuple[tuple[str, re.Pattern[str]], ...]) -> list[Finding]:
    """Every match of the rules in `text`, in the order of the text; a match inside an
    earlier rule's match is not reported again (the h_i of dh_i/dh_k, the gen_cell of
    a path)."""
    found: list[tuple[int, Finding]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in rules:
        for match in pattern.finditer(text):
            if any(a < match.end() and match.start() < b for a, b in taken):
                continue
            taken.append(match.span())
            found.append(
                (match.start(), Finding(kind, match.group(), _context(text, *match.span())))
            )
    return [finding for _, finding in sorted(found, key=lambda item: item[0])]


PATHS = (("path", PATH),)
TEX = (("tex", RAW_TEX), ("table", RAW_TABLE))
SYMBOLS = (("symbol", QUOTIENT), ("symbol", INDEXED), ("symbol", SNAKE))


def symbol_findings(text: str) -> list[Finding]:
    """Math written as plain text in `text` (the output of `visible_text`)."""
    return _scan(text, SYMBOLS)


def path_findings(text: str) -> list[Finding]:
    """Repository paths in `text` (visible text or code text)."""
    return _scan(text, PATHS)


@cache
def _repository_modules() -> frozenset[str]:
    """The file names of the checkout's Python modules (``cells.py``, ``site.py``)."""
    root = Path(__file__).resolve().parents[2]
    return frozenset(p.name for top in _TOPS for p in (root / top).rglob("*.py"))


def code_path_findings(code: str) -> list[Finding]:
    """Repository paths in code (`code_text`), except on the line of a command a reader
    runs in the checkout (``python -m rnnnum.horizon --out docs/results/...``, recorded
    in the results' provenance), which names its files as they are, and a bare file name
    no module of the checkout has (``mycells.py``: a reader's own file, which a notebook
    writes)."""
    kept = "\n".join("" if COMMAND.match(line) else line for line in code.split("\n"))
    return [
        f
        for f in path_findings(kept)
        if "/" in f.token
        or not f.token.endswith((".py", ".pyi"))
        or f.token in _repository_modules()
    ]


def _stray(reader: _Reader) -> list[Finding]:
    return [
        Finding("heading", text, text)
        for text, in_docs in reader.headings
        if in_docs or STRAY_HEADING.match(text)
    ]


def stray_headings(html: str) -> list[Finding]:
    """Headings that a docstring or page did not mean (see the module docstring)."""
    return _stray(_read(html))


def report(page: str, findings: list[Finding], shown: int = SHOWN) -> str:
    """The build's error message: the page, then each finding (at most `shown`)."""
    lines = [f.describe(page) for f in findings[:shown]]
    if len(findings) > shown:
        lines.append(f"... and {len(findings) - shown} more on {page}")
    return (
        f"{page} shows {len(findings)} thing(s) a reader should not see as plain text "
        "(docs/hooks/prose_check.py):\n  " + "\n  ".join(lines)
    )


def check_page(html: str) -> list[Finding]:
    """Every finding on one page: symbols, paths, raw TeX and tables, stray headings.

    Every page is checked alike, the API reference too: its docstrings write symbols as
    ``$...$`` (typeset like the pages' math) and code names in code spans.
    """
    reader = _read(html)
    text, code = "".join(reader.text), "".join(reader.code)
    in_text = _scan(text, TEX + PATHS + SYMBOLS)
    in_nav = _scan("\n".join(reader.nav), TEX)
    return [*in_text, *in_nav, *code_path_findings(code), *_stray(reader)]
