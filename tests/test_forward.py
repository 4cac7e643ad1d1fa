"""forward: against an independent scalar implementation, and against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnnnum

from problems import assert_same, make_problem
from reference import step_losses

ACTIVATIONS = tuple(rnnnum.ACTIVATIONS)
LOSSES = tuple(rnnnum.LOSSES)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_step_losses_match_scalar_reference(rng, activation, loss):
    problem = make_problem(rng, N=2, T=4, activation=activation, loss=loss)
    cache = problem.forward()
    expected = step_losses(problem.as_reference())
    assert_same(cache.losses, expected, f"L_t for {activation}/{loss}")
    assert cache.loss == pytest.approx(float(expected.sum()), rel=1e-12)


def test_cache_shapes_and_time_index(rng):
    problem = make_problem(rng, N=3, T=5, D=2, H=4, V=6)
    c = problem.forward()
    assert (c.N, c.T) == (3, 5)
    assert c.a.shape == c.h.shape == c.h_prev.shape == (3, 5, 4)
    assert c.y.shape == c.p.shape == (3, 5, 6)
    assert c.losses.shape == (5,)
    # position 0 holds step 1: h_1 = tanh(x_1 Wxh + h_0 Whh + b_h)
    p = problem.params
    h1 = np.tanh(problem.X[:, 0] @ p.Wxh + problem.h0 @ p.Whh + p.bh)
    assert_same(c.h[:, 0], h1, "h_1")
    assert_same(c.h_prev[:, 0], problem.h0, "h_prev[:, 0] is h_0")
    assert_same(c.h_prev[:, 1:], c.h[:, :-1], "h_prev shifts h by one step")
    assert_same(c.p.sum(axis=-1), np.ones((3, 5)), "softmax rows sum to 1")


def test_uniform_logits_give_log_V_per_example(rng):
    # W_yh = 0 and b_y = 0 make every logit 0, so p_t is uniform: L_t = N log V exactly.
    problem = make_problem(rng, N=3, T=4, V=5)
    problem.params = problem.params.replace(Wyh=np.zeros((4, 5)), by=np.zeros(5))
    c = problem.forward()
    np.testing.assert_allclose(c.losses, np.full(4, 3 * math.log(5)), rtol=1e-14, atol=0)


def test_mse_with_zero_output_is_half_squared_targets(rng):
    problem = make_problem(rng, N=2, T=3, V=3, loss="mse")
    problem.params = problem.params.replace(Wyh=np.zeros((4, 3)), by=np.zeros(3))
    c = problem.forward()
    expected = 0.5 * (problem.targets**2).sum(axis=(0, 2))
    np.testing.assert_allclose(c.losses, expected, rtol=1e-14, atol=0)
    assert c.p is None


def test_h0_defaults_to_zero(rng):
    problem = make_problem(rng, nonzero_h0=False)
    c = problem.forward()
    assert np.array_equal(c.h0, np.zeros((2, 4)))
    explicit = rnnnum.forward(problem.params, problem.X, problem.targets, h0=np.zeros((2, 4)))
    assert np.array_equal(explicit.h, c.h)


def test_weights_are_shared_across_any_length(rng):
    # One parameter set runs sequences of any length; a prefix gives the same states.
    problem = make_problem(rng, T=40)
    long = problem.forward()
    short = rnnnum.forward(problem.params, problem.X[:, :7], problem.targets[:, :7], h0=problem.h0)
    assert np.array_equal(short.h, long.h[:, :7])
    assert np.array_equal(short.losses, long.losses[:7])


def test_integer_inputs_are_accepted_as_float64(rng):
    problem = make_problem(rng)
    X_int = np.round(3 * problem.X).astype(np.int32)
    c = rnnnum.forward(problem.params, X_int, problem.targets)
    assert c.X.dtype == np.float64
    assert np.array_equal(c.X, X_int.astype(np.float64))


def test_cache_keeps_its_own_copy_of_the_parameters(rng):
    problem = make_problem(rng)
    c = problem.forward()
    with pytest.raises(ValueError, match="read-only"):
        c.params.Whh[0, 0] = 1.0
    for derived in (c.h_prev, c.fprime):  # cached once, shared by every backward stage
        with pytest.raises(ValueError, match="read-only"):
            derived[0, 0, 0] = 1.0


def test_caches_and_gradients_are_complete_frozen_records(rng):
    # they are built without the dataclass __init__ (rnnnum._arith.frozen_record):
    # every field is there, none can be reassigned, and a missing field is refused
    import dataclasses

    from rnnnum._arith import frozen_record

    X, targets = rng.standard_normal((2, 3, 3)), rng.integers(0, 4, size=(2, 3))
    cells = (rnnnum.init_xavier(3, 4, 4, rng), rnnnum.init_lstm(3, 4, 4, rng),
             rnnnum.init_gru(3, 4, 4, rng))  # fmt: skip
    for params in cells:
        cache = rnnnum.forward(params, X, targets)
        grads = rnnnum.bptt(params, cache)
        for record in (cache, grads):
            for f in dataclasses.fields(record):
                assert f.name in vars(record), (type(record).__name__, f.name)
            with pytest.raises(dataclasses.FrozenInstanceError):
                record.X = X
        with pytest.raises(TypeError, match=r"missing \['h0'\]"):
            frozen_record(type(grads), **{k: v for k, v in grads.as_dict().items() if k != "h0"})
