"""Cells, the recall task and the training loop, each against something independent.

- The vanilla cell's states against `rnnnum.forward` (a separate implementation).
- Every cell gradient against central finite differences of the loss alone.
- Each one-step Jacobian against finite differences of one step.
- The optimiser's update against the rule written out by hand.
"""

from __future__ import annotations

import dataclasses

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


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
def test_vanilla_cell_states_match_rnnnum_forward(rng, activation):
    cell = rnnnum.VanillaCell(activation, "xavier")
    params = cell.init(3, 4, rng)
    X = rng.standard_normal((2, 7, 3))
    h_last, tape = cell.forward(params, X)
    full = rnnnum.RNNParams(**params, Wyh=np.zeros((4, 2)), by=np.zeros(2))
    cache = rnnnum.forward(full, X, np.zeros((2, 7), dtype=int), activation=activation)
    np.testing.assert_array_equal(tape.h[:, 1:], cache.h)
    np.testing.assert_array_equal(h_last, cache.h[:, -1])
    np.testing.assert_array_equal(
        cell.step_jacobians(params, tape), rnnnum.step_jacobians(full, cache)
    )


@pytest.mark.parametrize("residual", [False, True])
def test_step_jacobians_match_finite_differences_of_one_step(rng, residual):
    cell = rnnnum.VanillaCell("tanh", "xavier", residual=residual)
    params = cell.init(3, 4, rng)
    X = rng.standard_normal((1, 5, 3))
    _, tape = cell.forward(params, X)
    M = cell.step_jacobians(params, tape)  # (1, T, H, H)
    t = 3  # dh_3/dh_2: rerun step 3 from perturbed copies of h_2

    def step(h_prev):
        a = X[:, t - 1] @ params["Wxh"] + h_prev @ params["Whh"] + params["bh"]
        return (h_prev if residual else 0) + np.tanh(a)

    h_prev = tape.h[:, t - 1]
    numeric = np.stack(
        [
            ((step(h_prev + rnnnum.FD_STEP * e) - step(h_prev - rnnnum.FD_STEP * e)) / 2e-6)[0]
            for e in np.eye(4)
        ]
    )  # row j: d h_t / d h_{t-1, j}, the row convention
    np.testing.assert_allclose(M[0, t - 1], numeric, rtol=FD_RTOL, atol=FD_ATOL)


def test_residual_jacobian_is_identity_plus_the_vanilla_one(rng):
    plain = rnnnum.VanillaCell("tanh", "xavier")
    params = plain.init(2, 3, rng)
    X = rng.standard_normal((1, 4, 2))
    residual = dataclasses.replace(plain, residual=True)
    _, tape = residual.forward(params, X)
    np.testing.assert_array_equal(
        residual.step_jacobians(params, tape), plain.step_jacobians(params, tape) + np.eye(3)
    )


def test_recall_task_puts_the_answer_first_and_only_distractors_after(rng):
    task = rnnnum.RecallTask(7, symbols=3, distractors=5)
    X, answers = task.sample(50, rng)
    assert X.shape == (50, 8, 8) and task.T == 8 and task.chance == pytest.approx(1 / 3)
    np.testing.assert_array_equal(X.sum(axis=2), 1.0)  # one-hot everywhere
    np.testing.assert_array_equal(X[:, 0].argmax(axis=1), answers)
    assert (X[:, 1:].argmax(axis=2) >= 3).all()  # distractors come after the symbols
    assert set(answers.tolist()) == {0, 1, 2}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lag": 0}, "lag must be an integer >= 1; got 0"),
        ({"lag": 3, "symbols": 1}, "symbols must be an integer >= 2; got 1"),
        ({"lag": 2.5}, "lag must be an integer >= 1; got float 2.5"),
    ],
)
def test_recall_task_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError if "float" not in message else TypeError, match=message):
        rnnnum.RecallTask(**kwargs)


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
