"""Jacobian products dh_i/dh_k: finite differences, closed forms, singular values."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import assert_same, make_problem
from reference import act

ACTIVATIONS = tuple(rnnnum.ACTIVATIONS)
#: Central differences of h_i (values of order 1, smooth maps): as rnnnum's checks.
FD_STEP, FD_RTOL, FD_ATOL = rnnnum.FD_STEP, rnnnum.FD_RTOL, rnnnum.FD_ATOL


def roll(problem, n: int, h_k: np.ndarray, k: int, i: int) -> np.ndarray:
    """h_i of example n when the state at step k is set to h_k (scalar reference activations)."""
    p = problem.params
    h = h_k
    for t in range(k + 1, i + 1):
        a = problem.X[n, t - 1] @ p.Wxh + h @ p.Whh + p.bh
        h = np.array([act(problem.activation, float(v)) for v in a])
    return h


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_products_match_finite_difference_jacobians(rng, activation):
    problem = make_problem(rng, N=2, T=4, H=3, activation=activation)
    cache = problem.forward()
    assert rnnnum.distance_to_kink(cache) > 100 * FD_STEP
    J = rnnnum.jacobian_products(problem.params, cache).matrices  # (N, T+1, T+1, H, H)
    states = np.concatenate([cache.h0[:, None], cache.h], axis=1)  # h_0..h_T
    for n in range(2):
        for k in range(5):
            for i in range(k, 5):
                fd = np.empty((3, 3))  # row convention: fd[b, a] = d h_i[a] / d h_k[b]
                for b in range(3):
                    e = np.zeros(3)
                    e[b] = FD_STEP
                    fd[b] = (
                        roll(problem, n, states[n, k] + e, k, i)
                        - roll(problem, n, states[n, k] - e, k, i)
                    ) / (2 * FD_STEP)
                np.testing.assert_allclose(
                    J[n, i, k], fd, rtol=FD_RTOL, atol=FD_ATOL,
                    err_msg=f"dh_{i}/dh_{k}, example {n}, {activation}",
                )  # fmt: skip


def test_structure_identity_on_diagonal_zero_above(rng):
    problem = make_problem(rng, T=5)
    J = rnnnum.jacobian_products(problem.params, problem.forward()).matrices
    for i in range(6):
        assert np.array_equal(J[:, i, i], np.broadcast_to(np.eye(4), (2, 4, 4)))
        for k in range(i + 1, 6):
            assert np.all(J[:, i, k] == 0.0)


def test_products_are_chains_of_step_jacobians(rng):
    problem = make_problem(rng, T=4)
    cache = problem.forward()
    M = rnnnum.step_jacobians(problem.params, cache)
    J = rnnnum.jacobian_products(problem.params, cache).matrices
    assert_same(J[:, 3, 0], M[:, 0] @ M[:, 1] @ M[:, 2], "dh_3/dh_0 = M_1 M_2 M_3")
    # M_t = W_hh diag(1 - h_t^2) for tanh
    assert_same(M[:, 1], problem.params.Whh[None] * (1 - cache.h[:, 1, None, :] ** 2), "M_2")


def test_singular_values_and_norms(rng):
    problem = make_problem(rng, N=2, T=4, H=5)
    jp = rnnnum.jacobian_products(problem.params, problem.forward())
    assert_same(jp.singular_values, np.linalg.svd(jp.matrices, compute_uv=False), "svd")
    assert_same(jp.norms, np.linalg.norm(jp.matrices, ord=2, axis=(-2, -1)), "spectral norm")
    assert np.all(np.diff(jp.singular_values, axis=-1) <= 0.0), "descending"


@pytest.mark.parametrize("s", [0.9, 1.0, 1.1])
def test_linear_rnn_with_scaled_orthogonal_matrix_has_norm_s_to_the_distance(rng, s):
    # Linear RNN, W_hh = s Q: dh_i/dh_k = (s Q)^(i-k), every singular value s^(i-k).
    problem = make_problem(rng, N=1, T=12, H=6, activation="identity")
    problem.params = problem.params.replace(Whh=s * rnnnum.orthogonal_matrix(6, rng))
    jp = rnnnum.jacobian_products(problem.params, problem.forward())
    distance = np.subtract.outer(np.arange(13), np.arange(13))
    lower = distance >= 0
    expected = np.where(lower, float(s) ** np.maximum(distance, 0), 0.0)
    np.testing.assert_allclose(jp.norms[0], expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        jp.singular_values[0][lower], np.repeat(expected[lower][:, None], 6, axis=1), rtol=1e-12
    )


def test_too_large_a_request_is_refused_with_the_alternative(rng):
    problem = make_problem(rng, N=1, T=300, H=64, D=2, V=2)
    with pytest.raises(rnnnum.OutOfRangeError, match="component_norms"):
        rnnnum.jacobian_products(problem.params, problem.forward())
