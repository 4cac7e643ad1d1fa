"""Training the gated cells: gradients against finite differences of the trainer's loss,
and a short lag learnt by each cell (the cells themselves: test_gated_cells.py)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum
from rnnnum.training import loss_and_gradients

from problems import trainer_numerical_gradients

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
def test_each_gated_cell_learns_a_short_lag_deterministically(cell):
    config = rnnnum.TrainConfig(hidden=16, steps=600)
    task = rnnnum.RecallTask(2)
    _, first = rnnnum.train(cell, task, config, seed=3)
    _, again = rnnnum.train(cell, task, config, seed=3)
    assert first.accuracy >= config.stop_accuracy, first.history
    assert first == again
