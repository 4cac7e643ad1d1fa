"""bptt: against central differences for every quantity, activation, loss, length and h0."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import make_problem

ACTIVATIONS = tuple(rnnnum.ACTIVATIONS)
LOSSES = tuple(rnnnum.LOSSES)
#: ReLU-family checks need every pre-activation farther than this from the kink at 0,
#: or a central difference could straddle it (100 finite-difference steps).
KINK_MARGIN = 100 * rnnnum.FD_STEP


def _checked_problem(rng, **kw):
    problem = make_problem(rng, **kw)
    cache = problem.forward()
    assert rnnnum.distance_to_kink(cache) > KINK_MARGIN, "seed puts a pre-activation at a kink"
    return problem, cache


@pytest.mark.parametrize("nonzero_h0", [False, True], ids=["h0=0", "h0 random"])
@pytest.mark.parametrize("T", [1, 2, 3, 7])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_bptt_matches_central_differences(rng, activation, loss, T, nonzero_h0):
    problem, cache = _checked_problem(
        rng, N=2, T=T, activation=activation, loss=loss, nonzero_h0=nonzero_h0
    )
    grads = rnnnum.bptt(problem.params, cache)
    numeric = rnnnum.numerical_gradients(
        problem.params, problem.X, problem.targets, **problem.kwargs
    )
    for name in rnnnum.GRADIENT_NAMES:
        np.testing.assert_allclose(
            getattr(grads, name),
            getattr(numeric, name),
            rtol=rnnnum.FD_RTOL,
            atol=rnnnum.FD_ATOL,
            err_msg=f"dL/d{name} for activation={activation}, loss={loss}, T={T}",
        )


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_bptt_matches_directional_differences(rng, activation, loss):
    problem, cache = _checked_problem(
        rng, N=3, T=6, D=4, H=5, V=3, activation=activation, loss=loss
    )
    grads = rnnnum.bptt(problem.params, cache)
    checks = rnnnum.directional_checks(
        problem.params, problem.X, problem.targets, grads, rng, **problem.kwargs
    )
    assert len(checks) == len(rnnnum.GRADIENT_NAMES) * 3
    failed = [str(c) for c in checks if not c.ok]
    assert not failed, "\n".join(failed)


def test_gradients_have_the_shapes_of_their_quantities(rng):
    problem = make_problem(rng, N=2, T=5, D=3, H=4, V=6)
    grads = rnnnum.bptt(problem.params, problem.forward())
    shapes = {name: arr.shape for name, arr in grads.as_dict().items()}
    assert shapes == {
        "Wxh": (3, 4), "Whh": (4, 4), "Wyh": (4, 6), "bh": (4,), "by": (6,),
        "X": (2, 5, 3), "h0": (2, 4),
    }  # fmt: skip
    assert list(grads.parameters()) == list(rnnnum.PARAM_NAMES)


def test_batch_gradient_is_the_sum_of_per_example_gradients(rng):
    # Each L_t is summed over the batch, so parameter gradients add up across examples.
    problem = make_problem(rng, N=3, T=4)
    whole = rnnnum.bptt(problem.params, problem.forward())
    parts = [
        rnnnum.bptt(
            problem.params,
            rnnnum.forward(
                problem.params, problem.X[n : n + 1], problem.targets[n : n + 1],
                h0=problem.h0[n : n + 1],
            ),
        )
        for n in range(3)
    ]  # fmt: skip
    for name in rnnnum.PARAM_NAMES:
        total = sum(getattr(g, name) for g in parts)
        np.testing.assert_allclose(getattr(whole, name), total, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        whole.X, np.concatenate([g.X for g in parts]), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("residual", [False, True], ids=["vanilla", "residual"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_bptt_is_the_same_whether_or_not_fprime_was_cached(rng, activation, residual):
    # bptt takes f'(a_t) step by step unless cache.fprime (read by the components and the
    # Jacobians) was computed already: the same element-wise arithmetic either way.
    problem = make_problem(rng, N=3, T=6, activation=activation)
    caches = [
        rnnnum.forward(problem.params, problem.X, problem.targets, residual=residual,
                       **problem.kwargs)
        for _ in range(2)
    ]  # fmt: skip
    assert caches[1].fprime.shape == caches[1].a.shape  # computed now, before bptt
    fresh, cached = (rnnnum.bptt(problem.params, c) for c in caches)
    for name in rnnnum.GRADIENT_NAMES:
        assert np.array_equal(getattr(fresh, name), getattr(cached, name)), name
