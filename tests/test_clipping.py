"""Clipping by norm keeps the direction and caps the norm; clipping by value does not."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnnnum

from problems import make_problem


def _flat(grads: rnnnum.Gradients) -> np.ndarray:
    return np.concatenate([g.ravel() for g in grads.parameters().values()])


def _cosine(u: np.ndarray, v: np.ndarray) -> float:
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


@pytest.fixture
def grads(rng) -> rnnnum.Gradients:
    problem = make_problem(rng, T=6)
    return rnnnum.bptt(problem.params, problem.forward())


@pytest.mark.parametrize("threshold", [1.0, 5.0])
def test_norm_clipping_caps_the_norm_and_keeps_the_direction(grads, threshold):
    big = rnnnum.Gradients(**{k: 100.0 * v for k, v in grads.as_dict().items()})
    assert rnnnum.global_norm(big) > threshold
    clipped = rnnnum.clip_by_norm(big, threshold)
    assert rnnnum.global_norm(clipped) == pytest.approx(threshold, rel=1e-12)
    assert _cosine(_flat(clipped), _flat(big)) == pytest.approx(1.0, abs=1e-12)
    assert clipped.X is big.X and clipped.h0 is big.h0  # not parameters: untouched


def test_norm_clipping_leaves_small_gradients_alone(grads):
    threshold = 2 * rnnnum.global_norm(grads)
    clipped = rnnnum.clip_by_norm(grads, threshold)
    for name in rnnnum.PARAM_NAMES:
        assert np.array_equal(getattr(clipped, name), getattr(grads, name))


def test_norm_clipping_of_an_array(rng):
    g = rng.standard_normal(10)
    clipped = rnnnum.clip_by_norm(g, 0.5)
    assert np.linalg.norm(clipped) == pytest.approx(0.5, rel=1e-12)
    np.testing.assert_allclose(clipped / np.linalg.norm(clipped), g / np.linalg.norm(g), rtol=1e-12)


def test_value_clipping_bounds_entries_and_turns_the_direction():
    g = np.array([10.0, 1.0])
    clipped = rnnnum.clip_by_value(g, 1.0)
    assert np.array_equal(clipped, [1.0, 1.0])
    # closed form: cos = (10 + 1) / (sqrt(101) sqrt(2))
    assert _cosine(clipped, g) == pytest.approx(11 / math.sqrt(202), rel=1e-14)


def test_value_clipping_of_gradients(grads):
    big = rnnnum.Gradients(**{k: 100.0 * v for k, v in grads.as_dict().items()})
    clipped = rnnnum.clip_by_value(big, 1.0)
    flat = _flat(clipped)
    assert np.max(np.abs(flat)) <= 1.0
    inside = np.abs(_flat(big)) <= 1.0
    assert np.array_equal(flat[inside], _flat(big)[inside])
    assert _cosine(flat, _flat(big)) < 1.0 - 1e-6


def test_a_non_finite_gradient_cannot_be_clipped():
    with pytest.raises(rnnnum.NonFiniteError, match="inf or NaN"):
        rnnnum.clip_by_norm(np.array([np.inf, 1.0]), 1.0)
    with pytest.raises(rnnnum.NonFiniteError):
        rnnnum.clip_by_value(np.array([np.nan, 1.0]), 1.0)


@pytest.mark.parametrize("scale", [1e-300, 1.0, 1e200, 1e300])
def test_global_norm_is_exact_where_the_squares_would_overflow_or_underflow(scale):
    # math.hypot is an independent scaled computation of the same norm
    import math

    values = np.array([3.0, -4.0, 12.0]) * scale
    assert rnnnum.global_norm(values) == pytest.approx(math.hypot(*values), rel=1e-15)


def test_global_norm_of_non_finite_entries_is_not_finite():
    assert np.isinf(rnnnum.global_norm(np.array([np.inf, 1.0])))
    assert np.isnan(rnnnum.global_norm(np.array([np.nan, 1.0])))
