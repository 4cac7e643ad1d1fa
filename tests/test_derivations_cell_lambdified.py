"""Any cell compiled (forward + loop) against rnnnum.bptt, the vanilla model, forward mode."""

from __future__ import annotations

import numpy as np
import pytest
from test_derivations_cell_loop import CELLS, ROUNDOFF, array, assert_gradients, problem, reference
from vanilla_reference.lambdified import lambdify_model
from vanilla_reference.unroll import unroll

from derivations.check.loop_proofs import LOOP_RTOL, check_cell_loop
from derivations.compile.lambdify import cell_input_shapes, lambdify_cell
from derivations.core.cells import gru, lstm, vanilla
from derivations.core.errors import OutOfRangeError
from derivations.core.notation import LOSS_NAMES
from derivations.core.spec import ModelSpec
from derivations.program.unroll import UnrolledCell, unroll_cell


def inputs(program: UnrolledCell, numbers: dict, targets) -> dict[str, np.ndarray]:
    """The compiled function's inputs by name, from the program's numbers."""
    values = {}
    for name, shape in cell_input_shapes(program).items():
        if name == "X":
            rows = [[numbers[s] for s in program.x[t]] for t in range(1, program.T + 1)]
            values[name] = np.array(rows)
        elif name.endswith("0"):
            values[name] = np.array([numbers[s] for s in program.values[name[:-1]][0]])
        else:
            values[name] = array(program.params[name], numbers).reshape(shape)
    values["targets"] = targets[0]
    return values


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("T", [1, 2, 5])
@pytest.mark.parametrize("key", CELLS)
def test_compiled_gradients_match_rnnnum(key: str, T: int, loss: str, rng) -> None:
    cell = CELLS[key]
    program, numbers, targets = problem(cell, T, loss, rng)
    theirs, cache = reference(cell, program, numbers, targets, loss)
    evaluation = lambdify_cell(program)(inputs(program, numbers, targets))
    assert_gradients(cell, evaluation.gradients, theirs, f"compiled {key}, T={T}, {loss}")
    assert set(evaluation.gradients) == set(cell.gradient_names)
    if cache is not None:
        np.testing.assert_allclose(evaluation.trace["h"][1:], cache.h[0], rtol=ROUNDOFF)
        np.testing.assert_allclose(evaluation.losses, cache.losses, rtol=ROUNDOFF)


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_vanilla_cell_compiles_to_the_vanilla_models_numbers(activation: str, loss: str, rng):
    spec = ModelSpec(T=3, activation=activation, loss=loss, D=2, H=3, V=4)
    values = {
        "Wxh": rng.normal(size=(2, 3)),
        "Whh": rng.normal(size=(3, 3)) / 2,
        "Wyh": rng.normal(size=(3, 4)),
        "bh": rng.normal(size=3),
        "by": rng.normal(size=4),
        "X": rng.normal(size=(3, 2)),
        "h0": rng.normal(size=3),
        "targets": rng.integers(0, 4, size=3) if loss == "cross_entropy" else rng.normal(
            size=(3, 4)),
    }  # fmt: skip
    theirs = lambdify_model(unroll(spec))(values)
    mine = lambdify_cell(unroll_cell(vanilla(activation), T=3, D=2, H=3, V=4, loss=loss))(values)
    assert mine.loss == pytest.approx(theirs.loss, rel=ROUNDOFF)
    for name, expected in theirs.gradients.items():
        np.testing.assert_allclose(mine.gradients[name], expected, rtol=ROUNDOFF, atol=ROUNDOFF)


def test_against_forward_mode_at_T8() -> None:
    """The numeric proof for the longest loops of the suite (the report runs every cell)."""
    for cell in (lstm(),):  # every built-in cell passes it (the report lists them)
        checks = check_cell_loop(cell, T=8, D=2, H=2, V=3, points=1)
        assert all(c.tolerance == LOOP_RTOL for c in checks)
        assert all(c.holds for c in checks), [(c.wrt, c.max_error) for c in checks]


def test_bad_inputs_are_named(rng) -> None:
    program = unroll_cell(lstm(), T=2, D=2, H=2, V=3)
    compiled = lambdify_cell(program)
    good = {n: rng.normal(size=s) for n, s in cell_input_shapes(program).items()}
    good["targets"] = np.array([0, 2])
    assert np.isfinite(compiled(good).loss)
    without_c0 = {k: v for k, v in good.items() if k != "c0"}  # initial states default to 0
    assert compiled(without_c0).trace["c"][0].tolist() == [0.0, 0.0]
    cases = [
        ({**good, "Wxh": good["Wxi"]}, "unknown inputs \\['Wxh'\\] for the lstm cell"),
        ({k: v for k, v in good.items() if k != "Whf"}, "missing input 'Whf' of shape \\(2, 2\\)"),
        ({**good, "bi": np.zeros((1, 2))}, "bi must have shape \\(2,\\) .* got \\(1, 2\\)"),
        ({**good, "X": np.full((2, 2), np.nan)}, "X must be finite"),
        ({**good, "targets": np.array([0, 3])}, "class indices must lie in 0..2"),
        ({k: v for k, v in good.items() if k != "targets"}, "missing input 'targets'"),
    ]
    for values, message in cases:
        with pytest.raises(OutOfRangeError, match=message):
            compiled(values)
    mse = lambdify_cell(unroll_cell(gru(), T=2, D=2, H=2, V=3, loss="mse"))
    shaped = {n: rng.normal(size=s) for n, s in cell_input_shapes(mse.program).items()}
    with pytest.raises(OutOfRangeError, match="mse targets must have shape \\(2, 3\\)"):
        mse({**shaped, "targets": np.zeros(2)})


@pytest.mark.parametrize("key", ["lstm", "gru-before"])
def test_the_trace_is_keyed_and_valued_like_the_programs_own(key: str, rng) -> None:
    program, numbers, targets = problem(CELLS[key], 2, "mse", rng)
    expected = program.trace(numbers)  # SymPy's evaluation of the same program
    trace = lambdify_cell(program)(inputs(program, numbers, targets)).trace
    assert set(trace) == set(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(trace[name], values, rtol=ROUNDOFF, atol=ROUNDOFF, err_msg=name)
