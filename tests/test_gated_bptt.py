"""LSTM and GRU: forward against an independent model, bptt against central differences."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import GATED, assert_same, gated_reference, make_gated_problem
from reference_gated import run

LOSSES = tuple(rnnnum.LOSSES)
#: Two float64 computations of the same states with the sums in another order, and a
#: different (algebraically equal) sigmoid: a few roundings relative to values of order 1.
STATE_RTOL = 1e-12


@pytest.mark.parametrize("cell", GATED)
def test_forward_states_gates_and_losses_match_the_independent_model(rng, cell):
    problem = make_gated_problem(rng, cell, N=3, T=6, D=4, H=5, V=3)
    cache = problem.forward()
    ref = run(gated_reference(problem))
    np.testing.assert_allclose(cache.h, np.stack(ref["h"], axis=1), rtol=STATE_RTOL, atol=1e-14)
    np.testing.assert_allclose(cache.losses, ref["losses"], rtol=STATE_RTOL)
    for gate in ref["gates"][0]:
        expected = np.stack([g[gate] for g in ref["gates"]], axis=1)
        np.testing.assert_allclose(getattr(cache, gate), expected, rtol=STATE_RTOL, atol=1e-14)
    if cell == "lstm":
        np.testing.assert_allclose(cache.c, np.stack(ref["c"], axis=1), rtol=STATE_RTOL)
    assert cache.h.shape == (3, 6, 5) and cache.y.shape == (3, 6, 3)


@pytest.mark.parametrize("nonzero_h0", [False, True], ids=["states=0", "states random"])
@pytest.mark.parametrize("T", [1, 2, 3, 7])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("cell", GATED)
def test_bptt_matches_central_differences(rng, cell, loss, T, nonzero_h0):
    problem = make_gated_problem(rng, cell, N=2, T=T, loss=loss, nonzero_h0=nonzero_h0)
    grads = rnnnum.bptt(problem.params, problem.forward())
    numeric = rnnnum.numerical_gradients(
        problem.params, problem.X, problem.targets, **problem.kwargs
    )
    assert list(grads.as_dict()) == list(problem.params.gradient_names)
    for name in problem.params.gradient_names:
        np.testing.assert_allclose(
            getattr(grads, name), getattr(numeric, name), rtol=rnnnum.FD_RTOL,
            atol=rnnnum.FD_ATOL, err_msg=f"dL/d{name}, {cell}, {loss}, T={T}",
        )  # fmt: skip


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("cell", GATED)
def test_bptt_matches_directional_differences(rng, cell, loss):
    problem = make_gated_problem(rng, cell, N=3, T=6, D=4, H=5, V=3, loss=loss)
    grads = rnnnum.bptt(problem.params, problem.forward())
    checks = rnnnum.directional_checks(
        problem.params, problem.X, problem.targets, grads, rng, **problem.kwargs
    )
    assert len(checks) == 3 * len(problem.params.gradient_names)
    failed = [str(c) for c in checks if not c.ok]
    assert not failed, "\n".join(failed)


def test_the_two_reset_placements_are_different_cells(rng):
    after = make_gated_problem(rng, "gru-after", N=2, T=5, H=4)
    before = after.params.replace(reset="before")
    X, targets = after.X, after.targets
    a, b = rnnnum.forward(after.params, X, targets), rnnnum.forward(before, X, targets)
    assert np.abs(a.h - b.h).max() > 1e-2  # the same weights give other states...
    ga, gb = rnnnum.bptt(after.params, a), rnnnum.bptt(before, b)
    assert np.abs(ga.Wh - gb.Wh).max() > 1e-2  # ...and other gradients
    # With the reset gate saturated open (r = 1) both read n = tanh(x W_xn + b_xn + h W_hn + b_hn)
    open_r = after.params.bx.copy()
    open_r[:4] = 40.0  # sigma(40 + O(1)) = 1 to within 1e-16
    a = rnnnum.forward(after.params.replace(bx=open_r), X, targets)
    b = rnnnum.forward(before.replace(bx=open_r), X, targets)
    assert_same(a.h, b.h, "states of the two placements with r = 1")


def test_batch_gradient_is_the_sum_of_per_example_gradients(rng):
    problem = make_gated_problem(rng, "lstm", N=3, T=4)
    whole = rnnnum.bptt(problem.params, problem.forward())
    parts = [
        rnnnum.bptt(problem.params, rnnnum.forward(
            problem.params, problem.X[n : n + 1], problem.targets[n : n + 1],
            h0=problem.h0[n : n + 1], c0=problem.c0[n : n + 1],
        ))
        for n in range(3)
    ]  # fmt: skip
    for name in problem.params.param_names:
        total = sum(getattr(g, name) for g in parts)
        np.testing.assert_allclose(getattr(whole, name), total, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(whole.c0, np.concatenate([g.c0 for g in parts]), rtol=1e-12)
