"""The pieces of the tuned memory-horizon protocol, each against something independent.

- the optimisers against their closed forms (constant gradient; Adam's moments as
  explicit weighted sums of the gradients seen);
- one Adam step of `rnnnum.train` against the update written out by hand;
- the chrono starts: their range, their signs, and (behaviour) that they keep the first
  input longer than the default start, read by the fitted read-out;
- the selective-recall task's layout;
- read-out-only training against a plain per-batch loop over the same batches.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from rnnnum import (
    SGD,
    Adam,
    GRUCell,
    LSTMCell,
    RecallTask,
    SelectiveRecallTask,
    VanillaCell,
    training,
)
from rnnnum.errors import DTypeError, OutOfRangeError
from rnnnum.gated_init import chrono_bias
from rnnnum.gated_params import GRU_GATES, LSTM_GATES
from rnnnum.optimisers import make_optimiser
from rnnnum.readout import fit_softmax, fitted_readout_accuracy
from rnnnum.training import Model, TrainConfig, loss_and_gradients, train

#: Closed forms and the recursions agree to rounding: a few ulps per step over 50 steps.
CLOSED_FORM_RTOL = 1e-12


def _run(opt, gradients, theta0=0.0):
    params = {"w": np.array([theta0])}
    for g in gradients:
        opt.step(params, {"w": np.array([g])})
    return float(params["w"][0])


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_sgd_under_a_constant_gradient_follows_its_closed_form(momentum):
    eta, g, t = 0.1, 0.7, 50
    closed = -eta * g / (1 - momentum) * (t - momentum * (1 - momentum**t) / (1 - momentum))
    assert _run(SGD(eta, momentum), [g] * t) == pytest.approx(closed, rel=CLOSED_FORM_RTOL)


@pytest.mark.parametrize("g", [1e-6, 0.3, -40.0])
def test_adam_under_a_constant_gradient_moves_by_the_rate_whatever_the_gradients_size(g):
    eta, t = 0.01, 50
    closed = -t * eta * g / (abs(g) + 1e-8)
    assert _run(Adam(eta), [g] * t) == pytest.approx(closed, rel=CLOSED_FORM_RTOL)


def test_adam_matches_its_moments_written_as_sums_over_the_gradients_seen():
    rng = np.random.default_rng(0)
    gs = rng.normal(size=30) * np.geomspace(1, 1e-3, 30)
    b1, b2, eta, eps = 0.9, 0.999, 0.05, 1e-8
    theta = 0.0
    for t in range(1, len(gs) + 1):
        w1 = (1 - b1) * b1 ** np.arange(t - 1, -1, -1)  # weight of g_1 .. g_t in m_t
        w2 = (1 - b2) * b2 ** np.arange(t - 1, -1, -1)
        m_hat = (w1 @ gs[:t]) / (1 - b1**t)
        v_hat = (w2 @ gs[:t] ** 2) / (1 - b2**t)
        theta -= eta * m_hat / (np.sqrt(v_hat) + eps)
    assert _run(Adam(eta, b1, b2, eps), gs) == pytest.approx(theta, rel=CLOSED_FORM_RTOL)


def test_one_adam_step_of_train_is_the_clipped_gradients_sign_times_the_rate():
    task, config, seed = RecallTask(3), TrainConfig(hidden=5, steps=1, clip=1e9), 7
    model, _ = train(VanillaCell(), task, config, seed, Adam(0.01))
    rng = np.random.default_rng(seed)  # the trainer's stream: parameters, then the batch
    start = Model.create(VanillaCell(), task.D, 5, task.symbols, rng)
    initial = {k: v.copy() for k, v in start.params.items()}
    _, grads = loss_and_gradients(start, *task.sample(config.batch, rng))
    for name, g in grads.items():
        assert_allclose(model.params[name], initial[name] - 0.01 * g / (np.abs(g) + 1e-8),
                        rtol=0, atol=1e-15)  # fmt: skip


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SGD(0.0), "learning_rate must be a finite number > 0"),
        (lambda: SGD(0.1, 1.0), "momentum must be in [0, 1); got 1.0"),
        (lambda: Adam(0.1, beta2=1.5), "beta2 must be in [0, 1); got 1.5"),
        (lambda: make_optimiser("rmsprop", 0.1), "optimiser must be one of 'sgd', 'adam'"),
    ],
)
def test_bad_optimiser_settings_are_refused_with_the_rule(make, message):
    with pytest.raises(OutOfRangeError, match=re.escape(message)):
        make()


def _block(b, gates, gate, H):
    i = gates.index(gate)
    return b[i * H : (i + 1) * H]


def test_the_chrono_bias_is_the_log_of_a_uniform_draw_between_1_and_tmax_minus_1():
    H, T_max = 4000, 101
    b = chrono_bias(H, T_max, np.random.default_rng(0))
    assert b.min() >= 0 and b.max() <= np.log(T_max - 1)
    # exp(b) ~ U(1, T_max - 1): mean T_max / 2, standard error (T_max - 2)/sqrt(12 H)
    assert np.exp(b).mean() == pytest.approx(T_max / 2, abs=4 * (T_max - 2) / np.sqrt(12 * H))


def test_the_lstm_chrono_start_sets_the_forget_biases_and_closes_the_input_gate():
    H, T_max = 64, 101
    b = LSTMCell(chrono=T_max).init(3, H, np.random.default_rng(0))["b"]
    b_f, b_i = _block(b, LSTM_GATES, "f", H), _block(b, LSTM_GATES, "i", H)
    assert b_f.min() >= 0 and b_f.max() <= np.log(T_max - 1) and b_f.std() > 0.5
    assert_array_equal(b_i, -b_f)
    assert not _block(b, LSTM_GATES, "o", H).any() and not _block(b, LSTM_GATES, "g", H).any()


def test_the_gru_chrono_start_opens_the_gate_that_keeps_the_old_state():
    H = 500
    params = GRUCell(chrono=50).init(3, H, np.random.default_rng(0))
    b_z = _block(params["bx"], GRU_GATES, "z", H)
    assert (b_z >= 0).all() and b_z.max() <= np.log(49) and b_z.std() > 0.5
    assert not params["bh"].any()
    assert not _block(params["bx"], GRU_GATES, "r", H).any()


@pytest.mark.parametrize(("default", "chrono"), [
    (LSTMCell("orthogonal", 0.0), LSTMCell("orthogonal", chrono=200)),
    (GRUCell(), GRUCell(chrono=200)),
])  # fmt: skip
def test_an_untrained_chrono_cell_keeps_the_first_input_where_the_default_has_lost_it(
    default, chrono
):
    task = RecallTask(40)
    test = task.sample(1000, np.random.default_rng(9))
    kept = fitted_readout_accuracy(chrono, task, 32, 0, test)
    lost = fitted_readout_accuracy(default, task, 32, 0, test)
    assert kept > 0.9 and lost < 0.4, (kept, lost)


def test_a_bad_chrono_is_refused():
    with pytest.raises(OutOfRangeError, match="chrono must be an integer >= 3; got 2"):
        LSTMCell(chrono=2)
    with pytest.raises(DTypeError, match="chrono must be an integer"):
        GRUCell(chrono=10.5)


def test_selective_recall_flags_one_of_the_first_w_steps_and_asks_for_its_symbol():
    task = SelectiveRecallTask(lag=7, symbols=3, window=4)
    X, answers = task.sample(500, np.random.default_rng(1))
    assert X.shape == (500, 11, 4) and (task.D, task.T, task.chance) == (4, 11, 1 / 3)
    assert_array_equal(X[:, :, :3].sum(axis=2), 1.0)  # one symbol at every step
    flags = X[:, :, 3]
    assert_array_equal(flags.sum(axis=1), 1.0)
    position = flags.argmax(axis=1)
    assert set(position) == {0, 1, 2, 3}  # every step of the window, none after it
    assert_array_equal(X[np.arange(500), position, :3].argmax(axis=1), answers)
    assert (task.T - position >= task.lag).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lag": 0}, "lag must be an integer >= 1; got 0"),
    ({"lag": 3, "symbols": 1}, "symbols must be an integer >= 2; got 1"),
    ({"lag": 3, "window": 0}, "window must be an integer >= 1; got 0"),
])  # fmt: skip
def test_bad_selective_tasks_are_refused(kwargs, message):
    with pytest.raises(OutOfRangeError, match=message):
        SelectiveRecallTask(**kwargs)


def test_readout_only_training_is_the_plain_loop_over_the_same_batches(monkeypatch):
    monkeypatch.setattr(training, "READOUT_CHUNK", 3)  # chunks of 3, 3 and 1 batches
    task, config, seed = SelectiveRecallTask(4), TrainConfig(hidden=6, steps=7, clip=0.5), 3
    model, _ = train(LSTMCell(), task, config, seed, SGD(0.2), train_cell=False)
    rng = np.random.default_rng(seed)
    plain = Model.create(LSTMCell(), task.D, 6, task.symbols, rng)
    cell_params = {k: v.copy() for k, v in plain.params.items() if k not in ("Wyh", "by")}
    opt = SGD(0.2)
    for _ in range(config.steps):
        _, grads = loss_and_gradients(plain, *task.sample(config.batch, rng))
        readout = {k: grads[k] for k in ("Wyh", "by")}
        norm = np.sqrt(sum(float((g**2).sum()) for g in readout.values()))
        opt.step(plain.params, {k: g * min(1.0, 0.5 / norm) for k, g in readout.items()})
    for name in ("Wyh", "by"):
        assert_allclose(model.params[name], plain.params[name], rtol=1e-12, atol=1e-14)
    for name, value in cell_params.items():
        assert_array_equal(model.params[name], value)


def test_the_fitted_softmax_is_at_its_optimum():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.7 * rng.normal(size=400) > 0).astype(np.int64)
    W, b = fit_softmax(X, y, 2)
    p = np.exp(X @ W + b)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(400), y] -= 1
    gradient = np.concatenate([(X.T @ p / 400 + 1e-4 * W).ravel(), p.mean(axis=0)])
    assert np.abs(gradient).max() < 1e-3  # a stationary point of a convex loss
