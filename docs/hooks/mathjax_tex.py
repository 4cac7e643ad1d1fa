"""The formulas of a page as pymdownx.arithmatex leaves them: found, and their TeX read.

The first stage of drawing the formulas (``mathjax_svg.py`` is the hook): an
``.arithmatex`` element holds ``\\( \\)`` inline, ``\\[ \\]`` or an environment for
display; `page_formulas` lists each one's (TeX, display?) in page order.
"""

from __future__ import annotations

import html
import re

#: A formula as arithmatex leaves it: the element (with any other attributes), its TeX.
ELEMENT = re.compile(
    r'<(?P<tag>span|div)(?P<attrs>[^>]*\bclass="(?P<cls>[^"]*\barithmatex\b[^"]*)"[^>]*)>'
    r"(?P<tex>[^<]*)</(?P=tag)>"
)
DELIMITERS = ((r"\(", r"\)", False), (r"\[", r"\]", True), ("$$", "$$", True), ("$", "$", False))
#: mkdocs-jupyter's loader of the client MathJax, added to every page it passes by.
NOTEBOOK_MATHJAX = re.compile(r"<script data-mkdocs-jupyter-mathjax=[^>]*>.*?</script>\n?", re.S)


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


def page_formulas(
    page_html: str, where: str, matches: list[re.Match[str]] | None = None
) -> list[tuple[str, bool]]:
    """(TeX, display?) of every arithmatex formula of `page_html`, in order."""
    try:
        found = ELEMENT.finditer(page_html) if matches is None else matches
        return [split_tex(html.unescape(m["tex"])) for m in found]
    except TexError as error:
        raise TexError(f"{where}: {error}") from error
