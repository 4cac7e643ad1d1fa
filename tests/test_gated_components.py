"""Gated components: each (loss i, step k) term against finite differences of an independent
model with per-step copies, their sum against bptt, and the norms-only variant."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import GATED, assert_same, gated_reference, make_gated_problem
from reference_gated import component_by_differences

LOSSES = tuple(rnnnum.LOSSES)


@pytest.mark.parametrize("cell", GATED)
def test_each_component_is_the_derivative_of_L_i_through_step_k(rng, cell):
    loss = "mse" if cell == "gru-after" else "cross_entropy"
    problem = make_gated_problem(rng, cell, N=2, T=3, D=2, H=2, V=3, loss=loss)
    cache = problem.forward()
    ref = gated_reference(problem)
    for name in problem.params.gradient_names:
        terms = rnnnum.components(problem.params, cache, name).terms
        for i in range(1, 4):
            for k in range(1, 4):
                if name in ("h0", "c0") and k > 1:
                    expected = np.zeros_like(terms[i - 1, k - 1])  # read by step 1 only
                else:
                    expected = component_by_differences(ref, name, i, k, rnnnum.FD_STEP)
                np.testing.assert_allclose(
                    terms[i - 1, k - 1], expected, rtol=rnnnum.FD_RTOL, atol=rnnnum.FD_ATOL,
                    err_msg=f"component (i={i}, k={k}) of dL/d{name}, {cell}",
                )  # fmt: skip


@pytest.mark.parametrize("nonzero_h0", [False, True])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("cell", GATED)
def test_components_sum_to_the_bptt_total(rng, cell, loss, nonzero_h0):
    problem = make_gated_problem(rng, cell, N=3, T=7, loss=loss, nonzero_h0=nonzero_h0)
    cache = problem.forward()
    grads = rnnnum.bptt(problem.params, cache)
    for name in problem.params.gradient_names:
        parts = rnnnum.components(problem.params, cache, name)
        assert_same(parts.total(), getattr(grads, name), f"sum of components of dL/d{name}")


@pytest.mark.parametrize("N", [1, 2, 7])  # rank one, Gram route (N < D), product route
@pytest.mark.parametrize("cell", GATED)
def test_norms_only_variant_equals_norms_of_full_variant(rng, cell, N):
    problem = make_gated_problem(rng, cell, N=N, T=9, D=4, H=5, V=3)
    cache = problem.forward()
    fast = rnnnum.all_component_norms(problem.params, cache)
    assert list(fast) == list(problem.params.gradient_names)
    for name in problem.params.gradient_names:
        full = rnnnum.components(problem.params, cache, name).norms()
        assert_same(fast[name], full, f"norms of components of dL/d{name}, {cell}")
        assert_same(rnnnum.component_norms(problem.params, cache, name), full, name)


def test_sparsity_pattern_of_the_lstm(rng):
    problem = make_gated_problem(rng, "lstm", T=5)
    cache = problem.forward()
    upper = np.triu(np.ones((5, 5), dtype=bool), k=1)
    for name in problem.params.gradient_names:
        norms = rnnnum.components(problem.params, cache, name).norms()
        assert np.all(norms[upper] == 0.0), f"{name}: no loss depends on a later step"
    for name in ("h0", "c0"):
        norms = rnnnum.components(problem.params, cache, name).norms()
        assert np.all(norms[:, 1:] == 0.0) and np.all(norms[:, 0] > 0.0)
