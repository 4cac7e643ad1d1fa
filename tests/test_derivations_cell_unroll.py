"""The generic unroll: the vanilla program exactly, and rnnnum's LSTM and GRU numerically.

For the vanilla cell, `unroll_cell` must build the very program `vanilla_reference.unroll`
builds (same symbols, same expressions, once the two renamed families are mapped).
For the gated cells, the program run on random numbers must give rnnnum's states,
losses and one-step Jacobians, with rnnnum's stacked parameters assembled from the
per-gate values in the cell's stacking order: the names/shapes/gate-order contract.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from vanilla_reference.unroll import unroll

import rnnnum
from derivations import OutOfRangeError
from derivations.core.cells import gru, lstm, vanilla
from derivations.core.notation import ACTIVATION_NAMES, LOSS_NAMES
from derivations.core.spec import ModelSpec
from derivations.program.unroll import UnrolledCell, unroll_cell
from rnnnum.gru import gru_step_jacobians
from rnnnum.lstm import lstm_step_jacobians

#: SymPy's float64 evaluation, one rounding per operation, against NumPy's: the two
#: orders of summation differ by a few ulps over a T = 3 program
RTOL = 1e-12
ATOL = 1e-13
T, D, H, V = 3, 2, 2, 3


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_vanilla_is_the_same_program_as_unroll(activation: str, loss: str) -> None:
    theirs = unroll(ModelSpec(T=2, activation=activation, loss=loss, D=2, H=3, V=3))
    mine = unroll_cell(vanilla(activation), T=2, D=2, H=3, V=3, loss=loss)
    rename = {}  # the targets are "target" here (GRU has an r), ∂L_t/∂y_t "dy" (LSTM has a g)
    for t in range(1, 3):
        rename.update(zip(theirs.r[t], mine.targets[t], strict=True))
        rename.update(zip(theirs.g[t], mine.dy[t], strict=True))
    expected = {
        rename.get(symbol, symbol): expr.xreplace(rename)
        for symbol, expr in theirs.assignments
        if theirs.owners[symbol][0] != "d"  # f'(a_t): the cell derives it from the tree
    }
    program = dict(mine.assignments)
    assert list(program) == list(expected)  # same symbols, same order
    for symbol, expr in expected.items():
        assert program[symbol] == expr, (symbol, program[symbol], expr)
    assert set(mine.inputs()) == {rename.get(s, s) for s in theirs.inputs()}
    assert mine.loss == theirs.loss


def _numbers(
    program: UnrolledCell, rng: np.random.Generator, loss: str
) -> tuple[dict[sp.Symbol, float], np.ndarray]:
    """Random inputs (one-hot targets for cross-entropy) and rnnnum's targets (1, T[, V])."""
    numbers = {s: rng.uniform(-1.0, 1.0) for s in program.inputs()}
    if loss == "cross_entropy":
        classes = rng.integers(0, V, size=(1, T))
        for t in range(1, T + 1):
            for v, symbol in enumerate(program.targets[t]):
                numbers[symbol] = float(v == classes[0, t - 1])
        return numbers, classes
    targets = np.array([[[numbers[s] for s in program.targets[t]] for t in range(1, T + 1)]])
    return numbers, targets


def _array(program: UnrolledCell, numbers: dict[sp.Symbol, float], name: str) -> np.ndarray:
    matrix = program.params[name]
    out = np.array([[numbers[s] for s in matrix.row(i)] for i in range(matrix.rows)])
    return out[0] if matrix.rows == 1 else out


def _rnnnum_params(program: UnrolledCell, numbers: dict[sp.Symbol, float], reset: str | None):
    """rnnnum's stacked parameters: the per-gate blocks side by side in the cell's order."""
    stacked = {
        name: np.concatenate([_array(program, numbers, b) for b in blocks], axis=-1)
        for name, blocks in program.cell.stacking().items()
    }
    readout = {n: _array(program, numbers, n) for n in ("Wyh", "by")}
    if reset is None:
        return rnnnum.LSTMParams(**stacked, **readout)
    return rnnnum.GRUParams(**stacked, **readout, reset=reset)


def _row(program: UnrolledCell, values: dict[sp.Symbol, float], name: str, t: int) -> np.ndarray:
    return np.array([values[s] for s in program.values[name][t]])


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("reset", [None, "after", "before"], ids=["lstm", "gru", "gru-before"])
def test_gated_programs_agree_with_rnnnum(
    reset: str | None, loss: str, rng: np.random.Generator
) -> None:
    cell = lstm() if reset is None else gru(reset)
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    numbers, targets = _numbers(program, rng, loss)
    values = program.evaluate(numbers)
    X = np.array([[[numbers[s] for s in program.x[t]] for t in range(1, T + 1)]])
    initial = {s: _row(program, numbers, s, 0)[None, :] for s in cell.state_names}
    params = _rnnnum_params(program, numbers, reset)
    cache = rnnnum.forward(params, X, targets, loss=loss, h0=initial["h"], c0=initial.get("c"))
    for t in range(1, T + 1):
        label = f"{cell.name}, {loss}, step {t}"
        np.testing.assert_allclose(
            _row(program, values, "h", t), cache.h[0, t - 1], rtol=RTOL, atol=ATOL, err_msg=label
        )
        if reset is None:
            np.testing.assert_allclose(
                _row(program, values, "c", t), cache.c[0, t - 1], rtol=RTOL, atol=ATOL
            )
        np.testing.assert_allclose(
            values[program.L[t]], cache.losses[t - 1], rtol=RTOL, atol=ATOL, err_msg=label
        )


@pytest.mark.parametrize("reset", [None, "after", "before"], ids=["lstm", "gru", "gru-before"])
def test_step_blocks_agree_with_rnnnums_step_jacobians(
    reset: str | None, rng: np.random.Generator
) -> None:
    """The blocks' NumPy values (from the program's trace) against rnnnum's own M_t."""
    cell = lstm() if reset is None else gru(reset)
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss="mse")
    numbers, targets = _numbers(program, rng, "mse")
    trace = program.trace(numbers)
    X = trace["x"][None, 1:]
    params = _rnnnum_params(program, numbers, reset)
    initial = {s: trace[s][0][None, :] for s in cell.state_names}
    cache = rnnnum.forward(params, X, targets, loss="mse", h0=initial["h"], c0=initial.get("c"))
    blocks = cell.step_jacobian_blocks()
    if reset is None:
        M = lstm_step_jacobians(params.Wh, cache.tape)[0]  # rows (h, c)_{t-1}, cols (h, c)_t
        where = {("h", "h"): (0, 0), ("c", "h"): (0, 1), ("h", "c"): (1, 0), ("c", "c"): (1, 1)}
    else:
        M = gru_step_jacobians(params.Wh, cache.tape)[0]
        where = {("h", "h"): (0, 0)}
    for t in range(1, T + 1):
        scope = program.numeric_scope(trace, t)
        for key, (row, col) in where.items():
            expected = M[t - 1, row * H : (row + 1) * H, col * H : (col + 1) * H]
            np.testing.assert_allclose(
                blocks[key].value(scope, H, H), expected, rtol=RTOL, atol=ATOL, err_msg=str(key)
            )


def test_program_shapes_and_names() -> None:
    program = unroll_cell(lstm(), T=2, D=3, H=2, V=4)
    assert program.params["Wxf"].shape == (3, 2)
    assert program.params["bf"].shape == (1, 2)
    assert program.values["c"][0].shape == (1, 2)  # c_0 is an input
    assert str(program.values["c"][0][1]) == "c0_2"
    assert str(program.values["ai"][2][0]) == "ai_2_1"
    inputs = program.inputs()
    # four gates (Wx, Wh, b), Wyh, by, x_1..x_2, h_0 and c_0, targets
    assert len(inputs) == len(set(inputs)) == 4 * (6 + 4 + 2) + 8 + 4 + 6 + 4 + 8
    defined = [s for s, _ in program.assignments]
    assert len(defined) == len(set(defined))
    assert not set(defined) & set(inputs)
    names = program.latex_names
    assert names[program.values["ai"][2][0]] == "a^{i}_{2,1}"
    assert names[program.params["Wxf"][0, 1]] == "(W_{xf})_{1,2}"
    # every family of symbols, named as the pages write them (row t, entry j; a bias or
    # a read-out bias by its entry alone; a matrix by row and column)
    expected = {
        program.params["bf"][0, 1]: "(b_{f})_{2}",
        program.params["Wyh"][1, 0]: "(W_{yh})_{2,1}",
        program.params["by"][0, 1]: "(b_y)_{2}",
        program.x[2][0, 0]: "x_{2,1}",
        program.targets[1][0, 1]: "r_{1,2}",
        program.y[2][0, 0]: "y_{2,1}",
        program.p[1][0, 1]: "p_{1,2}",
        program.values["c"][2][0, 1]: "c_{2,2}",
        program.values["h"][0][0, 0]: "h_{0,1}",
        program.dy[2][0, 1]: r"(\partial L_{2} / \partial y_{2})_{2}",
        program.L[2]: "L_{2}",
    }
    assert {s: names[s] for s in expected} == expected


def test_sizes_are_checked_as_modelspec_checks_them() -> None:
    with pytest.raises(OutOfRangeError, match="T \\(the number of steps\\) must be an integer"):
        unroll_cell(lstm(), T=0)
    with pytest.raises(OutOfRangeError, match="H must be an integer from 1 to 16"):
        unroll_cell(gru(), H=40)


def test_every_family_is_indexed_by_step_and_named_as_the_docstring_says() -> None:
    """Steps 1..T (a state also 0); symbols ``name_t_j``, the targets ``target_t_j`` and
    ∂L_t/∂y_t ``dy_t_j`` (the module's docstring), the losses ``L_t``."""
    program = unroll_cell(lstm(), T=2, D=3, H=2, V=4)
    families = {"x": program.x, "target": program.targets, "y": program.y, "p": program.p}
    families |= {"dy": program.dy, "ai": program.values["ai"]}
    for name, family in families.items():
        assert sorted(family) == [1, 2], name
        for t, row in family.items():
            assert [str(s) for s in row] == [f"{name}_{t}_{j}" for j in range(1, row.cols + 1)]
    assert sorted(program.values["c"]) == [0, 1, 2]
    assert program.targets[1].shape == program.dy[1].shape == (1, 4)
    assert {t: str(s) for t, s in program.L.items()} == {1: "L_1", 2: "L_2"}


def test_the_default_sizes() -> None:
    """T = 3, D = 2, H = 3, V = 4 and cross-entropy, as the signature promises (the
    benchmark's program takes them)."""
    program = unroll_cell(vanilla())
    assert program.spec == ModelSpec(T=3, activation="tanh", loss="cross_entropy", D=2, H=3, V=4)
    assert sorted(program.x) == [1, 2, 3]
    assert program.x[1].shape == (1, 2)
    assert program.values["h"][3].shape == (1, 3)
    assert program.y[3].shape == program.p[3].shape == (1, 4)


def test_the_repr_leaves_out_the_program() -> None:
    """A repr (in a REPL, in a failure report) shows the rows and the loss symbols, not the
    assignments or the total loss built from them."""
    program = unroll_cell(vanilla(), T=1, D=1, H=1, V=2)
    text = repr(program)
    assert text.startswith("UnrolledCell(cell=")
    assert text.endswith("L={1: L_1})")
    assert "assignments=" not in text


@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_the_trace_is_the_forward_pass_computed_by_hand(
    loss: str, steps: int, rng: np.random.Generator
) -> None:
    """x, a, h, y and dy (∂L_t/∂y_t) of the vanilla cell against NumPy by hand:
    a_t = x_t W_xh + h_{t-1} W_hh + b_h, h_t = tanh(a_t), y_t = h_t W_yh + b_y, and
    dy_t = softmax(y_t) - r_t (one-hot r_t) or y_t - r_t (MSE); row 0 holds h_0, NaN
    for the others."""
    program = unroll_cell(vanilla(), T=steps, D=D, H=H, V=V, loss=loss)
    numbers = {s: rng.uniform(-1.0, 1.0) for s in program.inputs()}
    if loss == "cross_entropy":
        for t in range(1, steps + 1):
            hot = rng.integers(0, V)
            numbers.update({s: float(v == hot) for v, s in enumerate(program.targets[t])})
    trace = program.trace(numbers)

    def rows(family: dict[int, sp.Matrix]) -> np.ndarray:
        return np.array([[numbers[s] for s in family[t]] for t in sorted(family)])

    Wxh, Whh, Wyh = (_array(program, numbers, n) for n in ("Wxh", "Whh", "Wyh"))
    bh, by = _array(program, numbers, "bh"), _array(program, numbers, "by")
    x, r = rows(program.x), rows(program.targets)
    h = [rows({0: program.values["h"][0]})[0]]
    a, y, dy = [], [], []
    for t in range(steps):
        a.append(x[t] @ Wxh + h[t] @ Whh + bh)
        h.append(np.tanh(a[t]))
        y.append(h[t + 1] @ Wyh + by)
        p = np.exp(y[t]) / np.exp(y[t]).sum()
        dy.append(p - r[t] if loss == "cross_entropy" else y[t] - r[t])
    expected = {"x": x, "a": a, "y": y, "dy": dy}
    for name, values in expected.items():
        np.testing.assert_allclose(trace[name][0], np.nan, err_msg=name)
        np.testing.assert_allclose(trace[name][1:], values, rtol=RTOL, atol=ATOL, err_msg=name)
    np.testing.assert_allclose(trace["h"], h, rtol=RTOL, atol=ATOL)
