"""components: each (loss i, step k) term against finite differences of an independent
model with per-step copies, their sum against bptt, and the norms-only variant."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnnnum

from problems import assert_same, make_problem
from reference import component_by_differences

ACTIVATIONS = tuple(rnnnum.ACTIVATIONS)
LOSSES = tuple(rnnnum.LOSSES)
NAMES = rnnnum.GRADIENT_NAMES
#: Central differences of the scalar reference (loops in Python floats): same error budget
#: as rnnnum's own gradient checks.
FD_STEP, FD_RTOL, FD_ATOL = rnnnum.FD_STEP, rnnnum.FD_RTOL, rnnnum.FD_ATOL


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("name", NAMES)
def test_each_component_is_the_derivative_of_L_i_through_step_k(rng, name, activation, loss):
    problem = make_problem(rng, N=2, T=3, D=2, H=3, V=3, activation=activation, loss=loss)
    cache = problem.forward()
    assert rnnnum.distance_to_kink(cache) > 100 * FD_STEP
    terms = rnnnum.components(problem.params, cache, name).terms
    ref = problem.as_reference()
    for i in range(1, 4):
        for k in range(1, 4):
            if name == "h0" and k > 1:
                expected = np.zeros_like(terms[i - 1, k - 1])  # h0 is read by step 1 only
            else:
                expected = component_by_differences(ref, name, i, k, FD_STEP)
            np.testing.assert_allclose(
                terms[i - 1, k - 1], expected, rtol=FD_RTOL, atol=FD_ATOL,
                err_msg=f"component (i={i}, k={k}) of dL/d{name}, {activation}/{loss}",
            )  # fmt: skip


@pytest.mark.parametrize("nonzero_h0", [False, True])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_components_sum_to_the_bptt_total(rng, activation, loss, nonzero_h0):
    problem = make_problem(rng, N=3, T=7, activation=activation, loss=loss, nonzero_h0=nonzero_h0)
    cache = problem.forward()
    grads = rnnnum.bptt(problem.params, cache)
    for name in NAMES:
        parts = rnnnum.components(problem.params, cache, name)
        assert_same(parts.total(), getattr(grads, name), f"sum of components of dL/d{name}")


@pytest.mark.parametrize("N", [1, 2, 7])  # N=1 rank-one route, N<D Gram route, N>D product route
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_norms_only_variant_equals_norms_of_full_variant(rng, N, activation):
    problem = make_problem(rng, N=N, T=9, D=4, H=5, V=3, activation=activation)
    cache = problem.forward()
    fast = rnnnum.all_component_norms(problem.params, cache)
    for name in NAMES:
        full = rnnnum.components(problem.params, cache, name).norms()
        assert_same(fast[name], full, f"norms of components of dL/d{name}")
        assert_same(rnnnum.component_norms(problem.params, cache, name), full, name)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_recursion_equals_explicit_jacobian_products(rng, activation, loss):
    problem = make_problem(rng, N=2, T=6, activation=activation, loss=loss)
    cache = problem.forward()
    for name in NAMES:
        fast = rnnnum.components(problem.params, cache, name).terms
        naive = rnnnum.components(problem.params, cache, name, method="jacobian").terms
        assert_same(fast, naive, f"components of dL/d{name} by recursion vs Jacobian products")
        assert_same(
            rnnnum.component_norms(problem.params, cache, name),
            rnnnum.component_norms(problem.params, cache, name, method="jacobian"),
            f"norms of dL/d{name}",
        )


def test_sparsity_pattern(rng):
    problem = make_problem(rng, T=5)
    cache = problem.forward()
    T = cache.T
    upper = np.triu(np.ones((T, T), dtype=bool), k=1)
    off_diagonal = ~np.eye(T, dtype=bool)
    for name in NAMES:
        norms = rnnnum.components(problem.params, cache, name).norms()
        assert np.all(norms[upper] == 0.0), f"{name}: no loss depends on a later step"
        assert np.all(norms[~upper] > 0.0) or name in ("Wyh", "by", "h0"), name
    for name in ("Wyh", "by"):  # y_i is the only place the step-i copy is read
        norms = rnnnum.components(problem.params, cache, name).norms()
        assert np.all(norms[off_diagonal] == 0.0) and np.all(np.diag(norms) > 0.0)
    h0 = rnnnum.components(problem.params, cache, "h0").norms()
    assert np.all(h0[:, 1:] == 0.0) and np.all(h0[:, 0] > 0.0)


def test_backward_signals_window_keeps_only_recent_losses(rng):
    problem = make_problem(rng, T=6)
    cache = problem.forward()
    full = {t: D.copy() for t, D in rnnnum.backward_signals(problem.params, cache)}
    for t, D in rnnnum.backward_signals(problem.params, cache, window=2):
        assert len(D) == min(2, 6 - t)
        assert_same(D, full[t][: len(D)], f"windowed signals at step {t + 1}")


def _hypot_norms(terms: np.ndarray) -> np.ndarray:
    """Reference norms with math.hypot, which neither overflows nor underflows."""
    T = terms.shape[0]
    flat = terms.reshape(T, T, -1)
    return np.array([[math.hypot(*flat[i, k]) for k in range(T)] for i in range(T)])


@pytest.mark.parametrize("N", [1, 3, 8])
@pytest.mark.parametrize(("scale", "regime"), [(1e-3, "vanishing"), (1e3, "exploding")])
def test_norms_are_exact_where_squares_would_underflow_or_overflow(rng, N, scale, regime):
    # A linear RNN whose W_hh = s Q makes component (i, k) scale like s^(i-k): with T = 60
    # the far components reach 1e-177 or 1e+177, whose squares leave the float64 range.
    problem = make_problem(rng, N=N, T=60, D=4, H=3, V=2, activation="identity")
    problem.params = problem.params.replace(Whh=scale * rnnnum.orthogonal_matrix(3, rng))
    cache = problem.forward() if regime == "vanishing" else None
    if cache is None:  # keep the forward pass finite: zero inputs and state, W_hh explodes backward
        problem.X = 1e-300 * problem.X
        problem.h0 = None
        problem.params = problem.params.replace(bh=np.zeros(3))
        cache = problem.forward()
    for name in ("Wxh", "Whh", "bh", "X"):
        parts = rnnnum.components(problem.params, cache, name)
        expected = _hypot_norms(parts.terms)
        assert np.all(expected[np.tril_indices(60)] > 0) or name == "Whh"
        np.testing.assert_allclose(parts.norms(), expected, rtol=1e-13, atol=0, err_msg=name)
        fast = rnnnum.component_norms(problem.params, cache, name)
        np.testing.assert_allclose(fast, expected, rtol=1e-12, atol=0, err_msg=f"{name}, {regime}")
