"""The gradient checker itself: right on a closed form, and able to fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import rnnnum

from problems import make_problem


def test_numerical_gradients_match_a_closed_form(rng):
    # One step, identity activation, mse: y = (x W_xh + h0 W_hh + b_h) W_yh + b_y and
    # L = 1/2 ||y - r||^2, so dL/db_y = sum_n (y - r) and dL/dW_yh = h^T (y - r).
    problem = make_problem(rng, N=3, T=1, activation="identity", loss="mse")
    p, x, r, h0 = problem.params, problem.X[:, 0], problem.targets[:, 0], problem.h0
    h = x @ p.Wxh + h0 @ p.Whh + p.bh
    e = h @ p.Wyh + p.by - r
    numeric = rnnnum.numerical_gradients(p, problem.X, problem.targets, **problem.kwargs)
    tol = {"rtol": rnnnum.FD_RTOL, "atol": rnnnum.FD_ATOL}
    np.testing.assert_allclose(numeric.by, e.sum(axis=0), **tol)
    np.testing.assert_allclose(numeric.Wyh, h.T @ e, **tol)
    np.testing.assert_allclose(numeric.h0, e @ p.Wyh.T @ p.Whh.T, **tol)


def test_directional_checks_flag_a_wrong_gradient(rng):
    problem = make_problem(rng, T=4)
    grads = rnnnum.bptt(problem.params, problem.forward())
    wrong = dataclasses.replace(grads, Whh=grads.Whh * (1 + 1e-3))
    checks = rnnnum.directional_checks(
        problem.params, problem.X, problem.targets, wrong, rng, **problem.kwargs
    )
    failed = {c.wrt for c in checks if not c.ok}
    assert failed == {"Whh"}
    message = str(next(c for c in checks if not c.ok))
    assert "Whh" in message and "finite difference" in message and "analytic" in message


def test_step_must_be_positive(rng):
    problem = make_problem(rng)
    with pytest.raises(rnnnum.OutOfRangeError, match="step"):
        rnnnum.numerical_gradients(problem.params, problem.X, problem.targets, step=0.0)
