"""Degenerate cells warn, with a category of their own, and the warning tells the truth.

What the warning claims is checked against the compiled gradients of the same cell
(`lambdify_cell`, the backward loop): a state that never reaches the loss has
dL/ds0 = 0 and gives the parameters that feed only it a zero gradient; a cell whose
h never feeds back has dL/dh0 = 0 and every term with k < i equal to zero (evaluated
from the expanded sum). The built-in cells warn about nothing.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from derivations.compile.lambdify import CellEvaluation, lambdify_cell, random_cell_values
from derivations.core.cell import (
    Add,
    Cell,
    Equation,
    Func,
    Input,
    MatMul,
    Mul,
    Param,
    Prev,
    Ref,
    State,
)
from derivations.core.cells import BUILTIN_CELLS
from derivations.core.degenerate import DegenerateCellWarning, degenerate_states
from derivations.gradient.sums import cell_expanded_sum
from derivations.program.unroll import UnrolledCell, unroll_cell


def _idle() -> Cell:
    """c carries itself over (c_t = c_{t-1} + x_t V) but h never reads it."""
    return Cell(
        "idle",
        (Param("W", "D", latex="W"), Param("U", "H", latex="U"), Param("V", "D", latex="V")),
        (State("h", "h"), State("c", "c")),
        (
            Equation("c", Add(Prev("c"), MatMul(Input(), "V")), "c"),
            Equation("h", Func("tanh", Add(MatMul(Input(), "W"), MatMul(Prev("h"), "U"))), "h"),
        ),
    )


def _feedforward() -> Cell:
    return Cell(
        "ff",
        (Param("W", "D", latex="W"),),
        (State("h", "h"),),
        (Equation("h", Func("tanh", MatMul(Input(), "W")), "h"),),
    )


def _carries_nothing_over() -> Cell:
    """h reads c at its own step, but no equation reads Prev('c'): c carries nothing over."""
    return Cell(
        "cross",
        (Param("W", "D", latex="W"), Param("U", "H", latex="U")),
        (State("h", "h"), State("c", "c")),
        (
            Equation("c", Func("tanh", MatMul(Prev("h"), "U")), "c"),
            Equation("h", Mul(Ref("c"), Func("tanh", MatMul(Input(), "W"))), "h"),
        ),
    )


def _evaluate(cell: Cell, T: int = 3) -> tuple[UnrolledCell, CellEvaluation]:
    program = unroll_cell(cell, T=T, D=2, H=2, V=3, loss="mse")
    values = random_cell_values(program, np.random.default_rng(7))
    return program, lambdify_cell(program)(values)


def test_a_state_nothing_reads_warns_and_its_gradients_are_zero() -> None:
    with pytest.warns(DegenerateCellWarning, match="state c never reaches the loss") as caught:
        cell = _idle()
    assert len(caught) == 1
    grads = _evaluate(cell)[1].gradients
    np.testing.assert_array_equal(grads["c0"], 0.0)  # as the warning says
    np.testing.assert_array_equal(grads["V"], 0.0)  # V feeds c alone
    assert np.abs(grads["W"]).max() > 0  # and h is a working state


def test_h_that_never_feeds_back_warns_and_earlier_terms_vanish() -> None:
    with pytest.warns(DegenerateCellWarning, match=r"state h never feeds back.*not recurrent"):
        cell = _feedforward()
    program, evaluation = _evaluate(cell)
    np.testing.assert_array_equal(evaluation.gradients["h0"], 0.0)
    terms = cell_expanded_sum(cell, "W", 3)
    for term in terms:
        value = term.value(program, evaluation.trace)
        if term.step < term.loss:
            np.testing.assert_array_equal(value, 0.0)
        else:
            assert np.abs(value).max() > 0


def test_a_state_that_carries_nothing_over_warns_even_when_read() -> None:
    with pytest.warns(DegenerateCellWarning, match=r"state c never feeds back \(no equation"):
        cell = _carries_nothing_over()
    np.testing.assert_array_equal(_evaluate(cell)[1].gradients["c0"], 0.0)


@pytest.mark.parametrize("name", sorted(BUILTIN_CELLS))
def test_the_built_in_cells_warn_about_nothing(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateCellWarning)
        cell = BUILTIN_CELLS[name]()
    assert degenerate_states(cell.name, cell.state_names, cell.equations) == []


def test_the_category_is_a_user_warning_of_its_own() -> None:
    assert issubclass(DegenerateCellWarning, UserWarning)
    assert DegenerateCellWarning is not UserWarning
