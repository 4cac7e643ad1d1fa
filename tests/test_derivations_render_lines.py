"""derivations.render.lines: long formulas are broken into short lines and nothing else changes.

With the breaks taken out, an entry-wise sum is SymPy's own print and a written-out
term is the term's own LaTeX; every line stays within its limit.
"""

from __future__ import annotations

import sympy as sp
from vanilla_reference import backward_loop, expanded_sum, unroll, written_out_latex
from vanilla_reference.render_loop import loop_latex_names

from derivations import ModelSpec
from derivations.render.lines import (
    CONTINUED_PRODUCT,
    CONTINUED_SUM,
    FACTORS_PER_LINE,
    SUMMANDS_PER_LINE,
    balanced,
    broken_sum,
)


def test_balanced_lines_are_as_few_and_as_equal_as_possible() -> None:
    items = [str(n) for n in range(7)]
    assert [len(line) for line in balanced(items, 3)] == [3, 3, 1]
    assert [len(line) for line in balanced(items[:6], 4)] == [3, 3]
    assert [item for line in balanced(items, 2) for item in line] == items


def _unbroken(latex: str, marker: str) -> str:
    return latex.replace(marker, " ")


def test_long_sums_are_broken_but_otherwise_sympys_print() -> None:
    """The element-wise lines equal SymPy's own print once the line breaks are taken out."""
    spec = ModelSpec(T=3)
    model = unroll(spec)
    loop = backward_loop(model)
    names = loop_latex_names(model, loop)
    checked = 0
    for _, expr in loop.assignments:
        broken = broken_sum(expr, names)
        whole = sp.latex(expr, symbol_names=names)
        assert " ".join(_unbroken(broken, CONTINUED_SUM).split()) == " ".join(whole.split())
        for line in broken.split(CONTINUED_SUM):
            summands = 1 + line.count(" + ") + line.count(" - ")
            assert summands <= SUMMANDS_PER_LINE, line
        checked += CONTINUED_SUM in broken
    assert checked > 0  # some lines were long enough to break


def test_written_out_terms_are_broken_into_short_equal_lines() -> None:
    spec = ModelSpec(T=4)
    latex = written_out_latex("Wxh", spec)
    rows = latex.removeprefix(r"\begin{aligned}").removesuffix(r"\end{aligned}").split(r" \\ ")
    widest = max(row.count(r"\,") + 1 for row in rows)
    assert widest <= FACTORS_PER_LINE
    longest = max(expanded_sum("Wxh", 4), key=lambda t: len(t.factors))
    assert len(longest.factors) > FACTORS_PER_LINE  # so a break was needed
    assert longest.latex(spec).replace(r"\,", " ") in " ".join(
        _unbroken(latex, CONTINUED_PRODUCT).replace(r"\,", " ").split()
    ).replace(rf"\qquad && (i={longest.loss},\ k={longest.step})", "")
