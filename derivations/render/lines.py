r"""Long formulas broken into lines, the same way everywhere they are printed.

A written-out term is a chain of factors and an entry of the element-wise form a
sum of many summands; on one line either runs past the text column. `balanced`
cuts a list into as few lines of equal length as fit, `broken_sum` joins a sum's
summands for an ``aligned`` environment (the summands, their order and signs are
SymPy's own); `MAX_WRITTEN_STEPS` is the one limit on what is written out term by term.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = [
    "CONTINUED_PRODUCT",
    "CONTINUED_SUM",
    "FACTORS_PER_LINE",
    "MAX_WRITTEN_STEPS",
    "SUMMANDS_PER_LINE",
    "balanced",
    "broken_sum",
]

#: Longest sequence whose expanded sum is written out term by term: T = 10 already
#: gives 55 terms of up to 21 factors each; beyond that only the compact form reads.
MAX_WRITTEN_STEPS = 10
#: Most factors on one line of a written-out term. A T = 3 term has up to 8; on one
#: line the longest ran past the 688-px text column of a 1280-px page. Longer terms
#: are split into equal lines of at most this many factors.
FACTORS_PER_LINE = 6
#: Most summands on one line of an entry-wise sum (element-wise form, forward entries):
#: the seven-summand lines of the element-wise form were 900 px wide on one line, and
#: four summands of the engine's entries, each naming its $(\partial L_t/\partial y_t)_j$,
#: 835 px against the 688-px text column of a 1280-px page.
SUMMANDS_PER_LINE = 3
#: How a broken line goes on inside ``aligned``: a continued product is indented past
#: the ``+`` of its term, a continued sum starts with its sign.
CONTINUED_PRODUCT = r" \\ &\qquad\qquad "
CONTINUED_SUM = r" \\ &\quad "


def balanced(items: list[str], per_line: int) -> list[list[str]]:
    """`items` cut into as few lines of at most `per_line` as possible, of equal length."""
    lines = max(1, -(-len(items) // per_line))
    size = -(-len(items) // lines)
    return [items[n : n + size] for n in range(0, len(items), size)]


def broken_sum(expr: Any, names: dict[sp.Symbol, str]) -> str:
    """SymPy's LaTeX of `expr` for an ``aligned`` row, a new line every few summands.

    The summands, their order and their signs are those of SymPy's own ``_print_Add``
    (``as_ordered_terms`` and ``could_extract_minus_sign``); only the breaks are added.
    """

    def tex(e: Any) -> str:
        return sp.latex(e, symbol_names=names)

    if not isinstance(expr, sp.Add):
        return tex(expr)
    first, *others = expr.as_ordered_terms()
    summands = [tex(first)] + [
        f"- {tex(-term)}" if term.could_extract_minus_sign() else f"+ {tex(term)}"
        for term in others
    ]
    return CONTINUED_SUM.join(" ".join(line) for line in balanced(summands, SUMMANDS_PER_LINE))
