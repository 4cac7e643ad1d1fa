r"""A gradient's expanded sum as a reader sees it: the compact form and each term on its own.

The compact form (`broken_compact`) is `derivations.render.sums.cell_compact_latex`
with its two long rows broken for a text column. The written-out sum
(`written_terms`) gives each term (i, k) a display of its own, each path a row and
each path product broken into lines of `PATH_FACTORS_PER_LINE` factors; a term of
more than `OPEN_PATHS` products is folded into a block the reader opens (raw HTML, so
that Markdown leaves its TeX alone).
"""

from __future__ import annotations

import html

from derivations.core.cell import Cell
from derivations.core.notation import total_derivative
from derivations.gradient.links import sum_notation
from derivations.gradient.paths import repeated_reads
from derivations.gradient.sums import CellTerm
from derivations.render.lines import balanced
from derivations.render.sums import (
    CONTINUED_PATH,
    CONTINUED_PATH_PRODUCT,
    cell_compact_latex,
    written_groups,
)

__all__ = [
    "COMPACT_BREAK",
    "OPEN_PATHS",
    "PATH_FACTORS_PER_LINE",
    "broken_compact",
    "display",
    "inline",
    "repeated_note",
    "term_latex",
    "written_terms",
]

#: Factors per line of a written-out path product: the gated cells' factors are wide
#: (diag(f_t (1 - f_t)) against the vanilla cell's diag(1 - h^2)). Two, not three: at
#: three the LSTM's lines are 390-530 px wide and scroll on a 390 px phone (358 px of
#: column); at two nearly every term fits there, and on a desktop every line still
#: fits, in more lines.
PATH_FACTORS_PER_LINE = 2
#: Where the compact form's long first line is broken: before the in-step derivative.
COMPACT_BREAK = r"\Big(\frac"
#: Most path products of a term shown open. A longer term is folded (shown when
#: opened): the LSTM's dL/dh_0 holds one term of 48 paths, 50 000 characters of TeX,
#: pages of formula the reader would otherwise scroll past to reach the rest.
OPEN_PATHS = 8


def inline(latex: str) -> str:
    """Inline math, in the delimiters the site's Markdown (arithmatex) reads."""
    return rf"\({latex}\)"


def display(latex: str) -> str:
    """Display math as its own block."""
    return "\n\n$$\n" + latex + "\n$$\n\n"


def _term_display(term: CellTerm, lhs: str, first: bool) -> str:
    """One term (i, k) as its own display: each path a row, each product broken into lines."""
    latex = term_latex(term, lhs, first)
    if term.path_count() <= OPEN_PATHS:
        return display(latex)
    return _folded(term, latex)


def term_latex(term: CellTerm, lhs: str = "", first: bool = False) -> str:
    """One term (i, k) as the ``aligned`` block its display holds; `lhs` (the gradient's
    left-hand side) only on the `first` term of an equation, the others continue it."""
    notation = sum_notation(term.cell)
    rows = []
    for n, path in enumerate(term.paths):
        parts = path.parts(notation)
        lines = [r"\,".join(line) for line in balanced(parts, PATH_FACTORS_PER_LINE)]
        sign = "- " if path.sign < 0 else ("+ " if n or not first else "")
        lead = "&= " if first and n == 0 else "&\\quad "
        lines[0] = (lead if n == 0 else "") + sign + lines[0]
        rows.append(CONTINUED_PATH_PRODUCT.join(lines))
    head = lhs + " " if first else ""
    tag = rf"\text{{term }}(i={term.loss},\ k={term.step}):"
    body = CONTINUED_PATH.join(rows)
    return rf"\begin{{aligned}}&{tag}\\ {head}{body}\end{{aligned}}"


def _folded(term: CellTerm, latex: str) -> str:
    """A term too long to show open: a closed block holding its formula. Raw HTML, so
    Markdown and arithmatex leave the TeX as it is (escaped once)."""
    which = rf"\(i = {term.loss},\ k = {term.step}\)"
    summary = f'Term <span class="arithmatex">{which}</span>: {term.path_count()} products'
    formula = html.escape(rf"\[{latex}\]", quote=False)
    block = f'class="abstract folded-term" id="term-{term.loss}-{term.step}"'
    return (
        f"\n\n<details {block}>\n<summary>{summary}</summary>\n"
        f'<div class="arithmatex">{formula}</div>\n</details>\n\n'
    )


def repeated_note(cell: Cell) -> str:
    """Where a path gives more than one product: a variable read in several places."""
    notation = cell.notation
    return "".join(
        f", and {n} for a path through {inline(notation.at(var, 't'))}, which the equation "
        f"of {inline(notation.at(eq, 't'))} reads in {n} places"
        for var, eq, n in repeated_reads(cell)
    )


def written_terms(cell: Cell, wrt: str, terms: list[CellTerm]) -> list[str]:
    """Each term's display; each equation of `written_groups` names its left-hand side
    once, on its first term."""
    return [
        _term_display(term, lhs, n == 0)
        for lhs, group in written_groups(cell, wrt, terms)
        for n, term in enumerate(group)
    ]


def broken_compact(cell: Cell, wrt: str, T: int) -> str:
    """The compact form as a display, its two long rows broken: the sum before the
    in-step derivative, the ``where`` row before J_t and before s_t."""
    text = cell_compact_latex(cell, wrt, T)
    first, _, rest = text.partition(r" \\ ")
    first = first.replace(COMPACT_BREAK, r"\\ &\qquad " + COMPACT_BREAK, 1)
    # the where row on the right of the alignment: on the left it would widen the column
    rest = rest.replace(r"\text{where}\quad ", r"&\text{where}\quad ", 1)
    rest = rest.replace(r",\quad J_{t} &= ", r" \\ J_{t} &= ", 1)
    rest = rest.replace(r",\quad s_{t} = ", r" \\ s_{t} &= ", 1)
    if len(cell.state_names) == 1:  # J_t's sum on its own rows, not after dh_t/dh_{t-1}
        jt = total_derivative(cell.notation.at("h", "t"), cell.notation.at("h", "t", -1))
        rest = rest.replace(rf"J_{{t}} &= {jt} = ", rf"J_{{t}} &= {jt} \\ &= ", 1)
    # a block's later paths one \quad in, not two \qquad: the GRU's six-factor paths fit
    for sign in "+-":
        rest = rest.replace(rf"&\qquad\qquad {sign} ", rf"&\quad {sign} ")
    return display(first + (r" \\ " + rest if rest else ""))
