"""Exploding regimes are reported where they happen, not passed on as NaN."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import make_problem


def _exploding_forward(rng):
    # Linear RNN with W_hh = 10 I: h_t grows like 10^t and passes 1e308 near t = 310.
    problem = make_problem(rng, N=1, T=400, D=2, H=3, V=2, activation="identity")
    problem.params = problem.params.replace(Whh=10.0 * np.eye(3))
    return problem


def test_forward_overflow_names_the_step(rng):
    problem = _exploding_forward(rng)
    with pytest.raises(rnnnum.NumericalOverflowError, match=r"a_\d+ became non-finite") as info:
        problem.forward()
    message = str(info.value)
    assert "exploding" in message and "on_overflow='warn'" in message
    step = int(message.split("step t=")[1].split(maxsplit=1)[0])
    assert 300 < step < 320  # 10^t overflows float64 (max ~1.8e308) between these steps
    assert isinstance(info.value, FloatingPointError)


def test_forward_overflow_can_be_observed_with_warn(rng):
    problem = _exploding_forward(rng)
    with pytest.warns(rnnnum.NumericalOverflowWarning, match="non-finite"):
        cache = rnnnum.forward(
            problem.params, problem.X, problem.targets, activation="identity", on_overflow="warn"
        )
    assert not np.isfinite(cache.h).all()
    assert np.isfinite(cache.h[:, :300]).all()


def _exploding_backward(rng):
    # Zero inputs, state and bias keep every h_t = 0 (forward is finite), while the
    # backward signal is multiplied by W_hh^T = 10 I at each of the 400 steps.
    problem = make_problem(rng, N=1, T=400, D=2, H=3, V=2, activation="identity", nonzero_h0=False)
    problem.X = np.zeros_like(problem.X)
    problem.params = problem.params.replace(Whh=10.0 * np.eye(3), bh=np.zeros(3))
    return problem


def test_bptt_overflow_names_the_step(rng):
    problem = _exploding_backward(rng)
    cache = problem.forward()
    assert np.isfinite(cache.loss)
    with pytest.raises(rnnnum.NumericalOverflowError, match=r"bptt: dL/dh_\d+ became non-finite"):
        rnnnum.bptt(problem.params, cache)


def test_bptt_overflow_can_be_observed_with_warn(rng):
    problem = _exploding_backward(rng)
    cache = problem.forward()
    with pytest.warns(rnnnum.NumericalOverflowWarning):
        grads = rnnnum.bptt(problem.params, cache, on_overflow="warn")
    assert not np.isfinite(grads.Whh).all()


def test_bounded_activation_does_not_overflow_forward(rng):
    problem = _exploding_forward(rng)
    problem.activation = "tanh"
    cache = problem.forward()
    assert np.isfinite(cache.h).all() and np.isfinite(cache.loss)


@pytest.mark.parametrize(
    ("run", "where"),
    [
        (lambda p, c: rnnnum.components(p, c, "Wxh"), r"components: the component of dL/dWxh"),
        (lambda p, c: rnnnum.component_norms(p, c, "Whh"), r"component_norms: the norm"),
        (rnnnum.all_component_norms, r"component_norms: the norm"),
        (lambda p, c: rnnnum.truncated_bptt(p, c, 400), r"truncated_bptt: dL/da_\d+"),
        (rnnnum.jacobian_products, r"jacobian_products: the product"),
    ],
    ids=["components", "component_norms", "all_component_norms", "truncated", "jacobians"],
)
def test_every_backward_stage_reports_overflow(rng, run, where):
    problem = _exploding_backward(rng)
    if "jacobian" in where:  # the products themselves explode; keep them small in memory
        problem.X, problem.targets = problem.X[:, :350], problem.targets[:, :350]
    cache = problem.forward()
    with pytest.raises(rnnnum.NumericalOverflowError, match=where) as info:
        run(problem.params, cache)
    if "(i=" in str(info.value):  # the first pair to overflow is ~310 steps back (10^310)
        back = int(str(info.value).split("), ")[1].split(" steps back")[0])
        assert 300 < back < 320, str(info.value)


def test_components_overflow_can_be_observed_with_warn(rng):
    problem = _exploding_backward(rng)
    cache = problem.forward()
    with pytest.warns(rnnnum.NumericalOverflowWarning, match="steps back"):
        norms = rnnnum.component_norms(problem.params, cache, "Wxh", on_overflow="warn")
    assert np.isfinite(np.diag(norms)).all()
    assert not np.isfinite(norms[-1, :50]).all()


def test_bptt_reports_a_gradient_whose_sum_over_steps_overflows():
    # Linear RNN, W_hh = 3Q: the states reach ~1e307 at T = 646 and stay finite, but the
    # gradient (states times signals, summed) passes the float64 limit: no silent inf.
    from rnnnum.lab import problem

    params, _, _, cache = problem(646, H=8, kind="orthogonal", activation="identity", gain=3.0)
    assert np.isfinite(cache.h).all()
    with pytest.raises(rnnnum.NumericalOverflowError, match=r"dL/dWhh became non-finite .* sum"):
        rnnnum.bptt(params, cache)
