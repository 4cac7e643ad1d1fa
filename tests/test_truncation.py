"""truncated_bptt: against full bptt and against the expanded sum with terms dropped."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import assert_same, make_problem


@pytest.mark.parametrize("T", [1, 3, 8])
@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
def test_window_at_least_T_is_full_bptt(rng, T, activation):
    problem = make_problem(rng, T=T, activation=activation)
    cache = problem.forward()
    full = rnnnum.bptt(problem.params, cache)
    for window in (T, T + 3):
        truncated = rnnnum.truncated_bptt(problem.params, cache, window)
        for name in rnnnum.GRADIENT_NAMES:
            assert_same(getattr(truncated, name), getattr(full, name), f"{name}, window={window}")


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_window_w_keeps_exactly_the_terms_with_i_minus_k_below_w(rng, loss):
    # Reference: the expanded sum built from explicit Jacobian products, then masked.
    problem = make_problem(rng, T=6, loss=loss)
    cache = problem.forward()
    T = cache.T
    distance = np.subtract.outer(np.arange(T), np.arange(T))  # i - k
    for window in range(1, T + 1):
        truncated = rnnnum.truncated_bptt(problem.params, cache, window)
        for name in rnnnum.GRADIENT_NAMES:
            parts = rnnnum.components(problem.params, cache, name, method="jacobian")
            mask = (distance >= 0) & (distance < window)
            expand = mask.reshape(T, T, *[1] * (parts.terms.ndim - 2))
            kept = rnnnum.Components(name, parts.terms * expand)
            assert_same(getattr(truncated, name), kept.total(), f"{name}, window={window}")


def test_window_one_keeps_only_the_diagonal_terms(rng):
    problem = make_problem(rng, T=5)
    cache = problem.forward()
    truncated = rnnnum.truncated_bptt(problem.params, cache, 1)
    terms = rnnnum.components(problem.params, cache, "Wxh", method="jacobian").terms
    assert_same(truncated.Wxh, np.einsum("iidh->dh", terms), "sum of the i = k terms")
    # the recurrent weights get only x_k-to-loss-k paths: h_{k-1}^T dL_k/da_k
    full = rnnnum.bptt(problem.params, cache)
    assert not np.allclose(truncated.Whh, full.Whh)
    assert_same(truncated.Wyh, full.Wyh, "W_yh has only i = k terms, so truncation keeps it")
