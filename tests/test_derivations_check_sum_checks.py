"""The expanded sum's own checks (`derivations.check.sum_checks`), for a cell with no twin.

What is compared with what: the finite differences of one copy (`term_differences`)
against rnnnum's per-(i, k) components of the vanilla RNN (independent NumPy code with
its own backward pass), zero where k > i included; then, through `verify_cell`, a
user's element-wise ReLU cell with no twin: every kind of check that runs, and the ones
that cannot, named with the reason. A wrong term and a missing term must each fail.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum
from derivations.check import sum_checks
from derivations.check.sum_checks import distance_to_kink, term_differences
from derivations.check.table import CHECKS, KINK_MARGIN, SUM_CHECKS
from derivations.check.verify import cell_problem, verify_cell
from derivations.core.cell import (
    Add,
    Bias,
    Cell,
    Equation,
    Func,
    Input,
    MatMul,
    Mul,
    Param,
    Prev,
    State,
)
from derivations.core.cells import load_cell
from derivations.core.notation import pair_position
from derivations.gradient.sums import CellTerm

#: Central differences of float64 sums of O(1) values: truncation O(FD_STEP^2) and
#: rounding O(eps / FD_STEP) give ~1e-9 here; rnnnum's FD tolerances (1e-6) are the
#: ones every finite-difference check of the project uses.
FD_RTOL, FD_ATOL = rnnnum.FD_RTOL, rnnnum.FD_ATOL


def relu_cell() -> Cell:
    r"""$h_t = \mathrm{relu}(x_t W + u \odot h_{t-1} + b)$: an element-wise recurrence."""
    params = (Param("W", "D", latex="W"), Param("u", None, latex="u"), Param("b", None, latex="b"))
    a = Add(MatMul(Input(), "W"), Mul(Bias("u"), Prev("h")), Bias("b"))
    equations = (Equation("h", Func("act", a), "h"),)
    return Cell("ew", params, (State("h", "h"),), equations, activation="relu")


@pytest.mark.parametrize("wrt", ["Wxh", "Whh", "bh", "Wyh", "by", "X", "h0"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_differences_of_one_copy_are_rnnnums_components(wrt: str, loss: str) -> None:
    cell = load_cell("vanilla")
    _, values, twin = cell_problem(cell, T=3, loss=loss, sizes=(2, 3, 4), seed=5)
    assert twin is not None
    ours = term_differences(cell, values, loss, wrt)  # (T, T, *shape), [i-1, k-1]
    theirs = rnnnum.components(twin.params, twin.cache, wrt).terms  # [i-1, k-1, (N,) ...]
    if wrt in ("X", "h0"):
        theirs = theirs[:, :, 0]
    for i in range(1, 4):
        for k in range(1, 4):
            if k > i or (wrt in ("Wyh", "by") and k != i) or (wrt == "h0" and k != 1):
                np.testing.assert_allclose(ours[i - 1, k - 1], 0.0, atol=FD_ATOL)
            else:
                reference = theirs[pair_position(i, k)]
                np.testing.assert_allclose(
                    ours[i - 1, k - 1], reference, rtol=FD_RTOL, atol=FD_ATOL, err_msg=str((i, k))
                )


def test_a_users_relu_cell_checks_its_expanded_sum() -> None:
    table = verify_cell(relu_cell(), steps=(1, 3), sizes=(2, 3, 4))
    assert table.passed, "\n".join(map(str, table.failures))
    assert {r.check for r in table.rows} == {CHECKS[2], *SUM_CHECKS}
    for check in SUM_CHECKS:  # every gradient, both losses, both T
        assert len([r for r in table.rows if r.check == check]) == 7 * 2 * 2
    said = table.text()
    assert (
        "checks run: loop vs finite differences, terms vs finite differences, "
        "sum of terms vs loop\n"
    ) in said
    assert (
        "not run: loop vs rnnnum.bptt, terms vs rnnnum.components, Jacobian products vs "
        "rnnnum: the cell names no rnnnum twin"
    ) in said


def test_a_wrong_term_fails_both_checks_of_its_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    value = CellTerm.value

    def wrong(term: CellTerm, program: object, trace: object) -> object:
        out = value(term, program, trace)  # type: ignore[arg-type]
        return out * 1.001 if (term.wrt, term.loss, term.step) == ("u", 2, 1) else out

    monkeypatch.setattr(CellTerm, "value", wrong)
    table = verify_cell(relu_cell(), steps=(2,), losses=("mse",))
    assert {(r.check, r.wrt) for r in table.failures} == {(c, "u") for c in SUM_CHECKS}


def test_a_missing_term_fails_against_finite_differences(monkeypatch: pytest.MonkeyPatch) -> None:
    expanded = sum_checks.cell_expanded_sum

    def without_2_1(cell: Cell, wrt: str, T: int) -> list[CellTerm]:
        return [t for t in expanded(cell, wrt, T) if (t.wrt, t.loss, t.step) != ("W", 2, 1)]

    monkeypatch.setattr(sum_checks, "cell_expanded_sum", without_2_1)
    table = verify_cell(relu_cell(), steps=(2,), losses=("mse",))
    assert {(r.check, r.wrt) for r in table.failures} == {(c, "W") for c in SUM_CHECKS}


def test_options_that_leave_checks_out_say_so() -> None:
    table = verify_cell(
        load_cell("gru"), steps=(1,), losses=("mse",), finite_differences=False,
        expanded_sum=False,
    )  # fmt: skip
    assert table.passed
    assert [(n.check, n.reason) for n in table.not_run] == [
        (CHECKS[2], "finite_differences=False"),
        (SUM_CHECKS[0], "finite_differences=False"),
        (SUM_CHECKS[1], "expanded_sum=False"),
    ]
    assert "not run: loop vs finite differences, terms vs finite differences: " in table.text()


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh"])
def test_the_distance_to_a_kink_is_rnnnums(activation: str) -> None:
    """Read off the cell's equations, the smallest |a| over the kinked functions' arguments
    is the one rnnnum measures on its own forward pass (infinity for a smooth cell)."""
    cell = load_cell("vanilla", activation=activation)
    _, values, twin = cell_problem(cell, T=3, loss="mse", seed=3)
    assert twin is not None
    assert distance_to_kink(cell, values) == rnnnum.distance_to_kink(twin.cache)


def test_a_users_relu_cell_is_checked_away_from_its_kinks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A point on a kink (made so by a distance of 0 on the first draw) is drawn again."""
    from derivations.check import verify

    calls: list[float] = []

    def first_on_a_kink(cell: Cell, values: dict[str, object]) -> float:
        calls.append(distance_to_kink(cell, values))
        return 0.0 if len(calls) == 1 else calls[-1]

    monkeypatch.setattr(verify, "distance_to_kink", first_on_a_kink)
    _, drawn, _ = cell_problem(relu_cell(), T=2, loss="mse", seed=0)
    monkeypatch.undo()
    _, first, _ = cell_problem(relu_cell(), T=2, loss="mse", seed=0)
    assert len(calls) == 2
    assert not np.array_equal(drawn["W"], first["W"])  # the second draw, not the first
    assert distance_to_kink(relu_cell(), drawn) > KINK_MARGIN
