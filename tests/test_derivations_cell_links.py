"""The links of a path product (`derivations.gradient.links`): each against an independent value.

The numbers are rnnnum.components' (the numeric twin's own hand-written backward pass)
at the point of a trace; the LaTeX is written by hand from the cells' equations.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from test_derivations_cell_sums import _at, _point, _their_terms
from test_derivations_cell_unroll import ATOL, RTOL, T, _numbers

from derivations.core.cells import BUILTIN_CELLS, gru, lstm
from derivations.core.errors import UnknownChoiceError
from derivations.core.factors import Diag
from derivations.gradient.links import Link, Path, sum_notation, term_numbers
from derivations.gradient.sums import cell_expanded_sum


def test_the_paths_matrices_add_up_to_rnnnums_terms_negative_paths_included(rng) -> None:
    """The GRU's paths, some negative (1 - z_t), as SymPy matrices evaluated at the point."""
    numbers, cell, program, _, params, cache = _point("gru", "mse", rng)
    values = {s: sp.Float(v) for s, v in program.evaluate(numbers).items()}
    negative = 0
    for wrt in ("h0", "Whz", "bxn", "X", "Wyh", "by"):
        theirs = _their_terms(cell, params, cache, wrt)
        for term in cell_expanded_sum(cell, wrt, T):
            if term.loss > 2:  # up to 25 products a term: enough for every kind of link
                continue
            negative += sum(p.sign < 0 for p in term.paths)
            total = sum(_at(p.matrix(program), values) for p in term.paths)
            expected = theirs[term.loss - 1, term.step - 1]
            np.testing.assert_allclose(
                np.reshape(total, expected.shape), expected, rtol=RTOL, atol=ATOL,
                err_msg=f"gru: ({term.loss}, {term.step}) of dL/d{wrt}",
            )  # fmt: skip
    assert negative > 0


class _One:
    """An expression whose LaTeX is 1: diag of it is the identity."""

    def latex(self, t: int | str, notation: object) -> str:
        return "1"


def test_a_path_of_identities_reads_I() -> None:
    notation = sum_notation(lstm())
    identity = Link(1, piece=Diag(_One()))  # type: ignore[arg-type]
    assert identity.latex(notation) == ""
    assert Path(1, (identity,), ("h_0", "h_1")).parts(notation) == ["I"]
    assert Path(-1, (identity,), ("h_0", "h_1")).latex(notation) == "-I"


@pytest.mark.parametrize("name", sorted(BUILTIN_CELLS))
def test_the_sums_notation_adds_the_readout(name: str) -> None:
    cell = BUILTIN_CELLS[name]()
    notation = sum_notation(cell)
    assert notation.latex == {**cell.notation.latex, "Wyh": "W_{yh}", "by": "b_y"}
    assert notation.activation == cell.activation


def test_a_row_that_is_a_product_is_written_in_parentheses() -> None:
    """The GRU with the reset before W_hn: W_hn multiplies the row r_t ⊙ h_{t-1}."""
    cell = gru("before")
    (term,) = cell_expanded_sum(cell, "Whn", 1)
    first = {p.links[0].latex(sum_notation(cell)) for p in term.paths}
    assert first == {r"(r_{1} \odot h_{0})^\top"}
    (x_term,) = cell_expanded_sum(cell, "Wxn", 1)
    assert {p.links[0].latex(sum_notation(cell)) for p in x_term.paths} == {r"x_{1}^\top"}


def test_the_numbers_of_one_trace_are_cached_and_a_new_trace_gets_its_own(rng) -> None:
    """One program, two points: each term's value is rnnnum's at its own point, and
    the cache is shared while the program and the trace stay the same."""
    _, cell, program, trace, params, cache = _point("lstm", "mse", rng)
    other, _ = _numbers(program, rng, "mse")
    second = program.trace(other)
    assert term_numbers(program, trace) is term_numbers(program, trace)
    assert term_numbers(program, second) is not term_numbers(program, trace)
    terms = cell_expanded_sum(cell, "Whf", T)
    first_values = [t.value(program, trace) for t in terms]
    second_values = [t.value(program, second) for t in terms]
    theirs = _their_terms(cell, params, cache, "Whf")
    for term, mine in zip(terms, first_values, strict=True):
        np.testing.assert_allclose(mine, theirs[term.loss - 1, term.step - 1], rtol=RTOL, atol=ATOL)
    assert not any(np.allclose(a, b) for a, b in zip(first_values, second_values, strict=True))


def test_the_cell_check_is_remembered_per_gradient_not_per_name(rng) -> None:
    """An equal LSTM's h0 terms evaluate on the program; then a GRU's h0 (same name) is
    refused on the same trace, and the equal LSTM's still evaluates."""
    _, cell, program, trace, params, cache = _point("lstm", "mse", rng)
    theirs = _their_terms(cell, params, cache, "h0")
    equal = cell_expanded_sum(lstm(), "h0", T)
    np.testing.assert_allclose(equal[0].value(program, trace), theirs[0, 0], rtol=RTOL, atol=ATOL)
    with pytest.raises(UnknownChoiceError, match="belongs to the gru cell"):
        cell_expanded_sum(gru(), "h0", T)[0].value(program, trace)
    np.testing.assert_allclose(equal[1].value(program, trace), theirs[1, 0], rtol=RTOL, atol=ATOL)
