"""The gated training cells: gradients against finite differences of the trainer's loss,
states against the independent model, and a short lag learnt by each cell."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum
from rnnnum.training import loss_and_gradients

from problems import trainer_numerical_gradients
from reference_gated import run

#: Same budget as rnnnum.gradcheck (central differences of an O(1) loss).
FD_RTOL, FD_ATOL = rnnnum.FD_RTOL, rnnnum.FD_ATOL

CELLS = [
    rnnnum.LSTMCell("xavier", forget_bias=0.0),
    rnnnum.LSTMCell("orthogonal", forget_bias=1.0),
    rnnnum.GRUCell("xavier", reset="after"),
    rnnnum.GRUCell("orthogonal", reset="before"),
]


def _model(cell, rng, task):
    model = rnnnum.Model.create(cell, task.D, 4, task.symbols, rng)
    for name in ("b", "bx", "bh"):  # away from the zero biases so every path is exercised
        if name in model.params:
            model.params[name] += 0.5 * rng.standard_normal(model.params[name].shape)
    return model


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.name)
def test_cell_gradients_match_finite_differences_of_the_trainer_loss(rng, cell):
    task = rnnnum.RecallTask(4, symbols=3, distractors=2)
    model = _model(cell, rng, task)
    X, answers = task.sample(5, rng)
    _, grads = loss_and_gradients(model, X, answers)
    assert set(grads) == set(model.params)
    for name, numeric in trainer_numerical_gradients(model, X, answers).items():
        np.testing.assert_allclose(grads[name], numeric, rtol=FD_RTOL, atol=FD_ATOL, err_msg=name)


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.name)
def test_cell_states_match_the_independent_model(rng, cell):
    params = cell.init(3, 4, rng)
    X = rng.standard_normal((2, 6, 3))
    h_last, tape = cell.forward(params, X)
    lstm = isinstance(cell, rnnnum.LSTMCell)
    ref = run({
        "cell": "lstm" if lstm else "gru", "reset": getattr(cell, "reset", None),
        "params": {**params, "Wyh": np.zeros((4, 2)), "by": np.zeros(2)}, "X": X,
        "targets": np.zeros((2, 6), int), "h0": np.zeros((2, 4)), "c0": np.zeros((2, 4)),
        "loss": "cross_entropy",
    })  # fmt: skip
    np.testing.assert_allclose(tape.h[:, 1:], np.stack(ref["h"], axis=1), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(h_last, tape.h[:, -1])
    n = 8 if lstm else 4
    assert cell.step_jacobians(params, tape).shape == (2, 6, n, n)
    if lstm:
        assert np.all(params["b"][4:8] == cell.forget_bias)


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.name)
def test_each_gated_cell_learns_a_short_lag_deterministically(cell):
    config = rnnnum.TrainConfig(hidden=16, steps=600)
    task = rnnnum.RecallTask(2)
    _, first = rnnnum.train(cell, task, config, seed=3)
    _, again = rnnnum.train(cell, task, config, seed=3)
    assert first.accuracy >= config.stop_accuracy, first.history
    assert first == again


def test_gated_cells_reject_bad_options():
    with pytest.raises(rnnnum.UnknownChoiceError, match="'after', 'before'; got 'middle'"):
        rnnnum.GRUCell(reset="middle")
    with pytest.raises(rnnnum.UnknownChoiceError, match="'xavier', 'orthogonal'; got 'normal'"):
        rnnnum.LSTMCell("normal")
    with pytest.raises(rnnnum.NonFiniteError, match="forget_bias must be finite"):
        rnnnum.LSTMCell(forget_bias=float("nan"))
    params = rnnnum.LSTMCell().init(3, 2, np.random.default_rng(0))
    with pytest.raises(rnnnum.ShapeError, match="D = 3 features \\(the rows of Wx\\)"):
        rnnnum.LSTMCell().forward(params, np.zeros((1, 2, 4)))
