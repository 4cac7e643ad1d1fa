"""The training loop, against something independent (the cells: test_cells.py; the task:
test_tasks.py).

- Every cell gradient of the trainer's loss against central finite differences of it.
- The optimiser's update against the rule written out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum
from rnnnum.training import loss_and_gradients

from problems import trainer_numerical_gradients

#: Same budget as rnnnum.gradcheck: central differences with h = 1e-6 on O(1) losses
#: err by ~1e-10 (truncation h^2 f''' plus rounding eps/h); a wrong term errs by O(1e-2).
FD_RTOL, FD_ATOL = rnnnum.FD_RTOL, rnnnum.FD_ATOL
#: One update computed two ways (a few float64 operations per entry).
UPDATE_RTOL = 1e-14

CELLS = [
    rnnnum.VanillaCell("tanh", "xavier"),
    rnnnum.VanillaCell("sigmoid", "orthogonal"),
    rnnnum.VanillaCell("tanh", "normal", residual=True),
    rnnnum.VanillaCell("leaky_relu", "identity", residual=True),
]


def _model(cell, rng, task):
    model = rnnnum.Model.create(cell, task.D, 5, task.symbols, rng)
    # move away from the zero biases so every path is exercised
    model.params["bh"] += 0.3 * rng.standard_normal(5)
    return model


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.name)
def test_cell_gradients_match_finite_differences(rng, cell):
    task = rnnnum.RecallTask(4, symbols=3, distractors=2)
    model = _model(cell, rng, task)
    X, answers = task.sample(6, rng)
    _, grads = loss_and_gradients(model, X, answers)
    for name, numeric in trainer_numerical_gradients(model, X, answers).items():
        np.testing.assert_allclose(grads[name], numeric, rtol=FD_RTOL, atol=FD_ATOL, err_msg=name)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"momentum": 1.0}, r"momentum must be in \[0, 1\); got 1.0"),
        ({"learning_rate": -0.1}, "learning_rate must be a finite number > 0; got -0.1"),
        ({"stop_accuracy": 0}, r"stop_accuracy must be in \(0, 1\]; got 0"),
        ({"batch": 0}, "batch must be an integer >= 1; got 0"),
    ],
)
def test_train_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rnnnum.TrainConfig(**kwargs)


def _one_step(config, seed=7):
    """Parameters before and after one training step, and the gradient of that step."""
    task = rnnnum.RecallTask(3)
    rng = np.random.default_rng(seed)  # the generator train() draws from, in the same order
    model = rnnnum.Model.create(rnnnum.VanillaCell(), task.D, config.hidden, task.symbols, rng)
    before = {n: v.copy() for n, v in model.params.items()}
    X, answers = task.sample(config.batch, rng)
    _, grads = loss_and_gradients(model, X, answers)
    trained, result = rnnnum.train(rnnnum.VanillaCell(), task, config, seed)
    assert result.steps == 1
    return before, grads, trained.params


def test_one_step_of_plain_gradient_descent_is_theta_minus_eta_g():
    config = rnnnum.TrainConfig(hidden=6, steps=1, momentum=0.0, clip=1e9, learning_rate=0.3)
    before, grads, after = _one_step(config)
    for name in before:
        expected = before[name] - 0.3 * grads[name]
        np.testing.assert_allclose(after[name], expected, rtol=UPDATE_RTOL, atol=0, err_msg=name)


def test_clipped_step_has_length_eta_theta_and_the_gradients_direction():
    config = rnnnum.TrainConfig(hidden=6, steps=1, momentum=0.0, clip=1e-3, learning_rate=0.5)
    before, grads, after = _one_step(config)
    step = np.concatenate([(after[n] - before[n]).ravel() for n in before])
    g = np.concatenate([grads[n].ravel() for n in before])
    assert np.linalg.norm(g) > 1e-3  # the clip is active
    np.testing.assert_allclose(np.linalg.norm(step), 0.5 * 1e-3, rtol=1e-9)
    np.testing.assert_allclose(step @ -g / (np.linalg.norm(step) * np.linalg.norm(g)), 1.0)


def test_training_learns_a_short_lag_and_is_deterministic():
    config = rnnnum.TrainConfig(hidden=16, steps=600)
    task = rnnnum.RecallTask(2)
    _, first = rnnnum.train(rnnnum.VanillaCell(), task, config, seed=3)
    _, again = rnnnum.train(rnnnum.VanillaCell(), task, config, seed=3)
    assert first.accuracy >= config.stop_accuracy, first.history
    assert first == again
