"""Gated Jacobians: block step Jacobians and their products against finite differences of an
independent model, and the LSTM's cell-state path against the product of its forget gates."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import GATED, assert_same, gated_reference, make_gated_problem
from reference_gated import gru_step, lstm_step, run

#: Central differences of the states (values of order 1, smooth maps): as rnnnum's checks.
FD_STEP, FD_RTOL, FD_ATOL = rnnnum.FD_STEP, rnnnum.FD_RTOL, rnnnum.FD_ATOL


def roll(ref: dict, n: int, state: np.ndarray, k: int, i: int) -> np.ndarray:
    """s_i of example n (h, or h and c stacked) when s_k is set to `state` (reference model)."""
    lstm = ref["cell"] == "lstm"
    H = ref["h0"].shape[1]
    h, c = state[None, :H], state[None, H:] if lstm else None
    for t in range(k + 1, i + 1):
        x = ref["X"][n : n + 1, t - 1]
        if lstm:
            h, c, _ = lstm_step(ref["params"], x, h, c)
        else:
            h, _ = gru_step(ref["params"], x, h, ref["reset"])
    return np.concatenate([h[0], c[0]]) if lstm else h[0]


@pytest.mark.parametrize("cell", GATED)
def test_block_products_match_finite_difference_jacobians(rng, cell):
    problem = make_gated_problem(rng, cell, N=2, T=4, H=3)
    cache = problem.forward()
    jp = rnnnum.jacobian_products(problem.params, cache)
    ref = gated_reference(problem)
    states = [cache.tape.h] + ([cache.tape.c] if cell == "lstm" else [])
    s = np.concatenate(states, axis=-1)  # (N, T+1, n): s_0..s_T
    n_state = s.shape[-1]
    assert jp.matrices.shape == (2, 5, 5, n_state, n_state)
    for n in range(2):
        for k in range(5):
            for i in range(k, 5):
                fd = np.empty((n_state, n_state))  # row convention: fd[b, a] = d s_i[a] / d s_k[b]
                for b in range(n_state):
                    e = np.zeros(n_state)
                    e[b] = FD_STEP
                    fd[b] = (roll(ref, n, s[n, k] + e, k, i) - roll(ref, n, s[n, k] - e, k, i)) / (
                        2 * FD_STEP
                    )
                np.testing.assert_allclose(
                    jp.matrices[n, i, k], fd, rtol=FD_RTOL, atol=FD_ATOL,
                    err_msg=f"ds_{i}/ds_{k}, example {n}, {cell}",
                )  # fmt: skip


@pytest.mark.parametrize("cell", GATED)
def test_products_are_chains_of_step_jacobians_with_their_singular_values(rng, cell):
    problem = make_gated_problem(rng, cell, N=2, T=4, H=3)
    cache = problem.forward()
    M = rnnnum.step_jacobians(problem.params, cache)
    jp = rnnnum.jacobian_products(problem.params, cache)
    assert_same(jp.matrices[:, 3, 0], M[:, 0] @ M[:, 1] @ M[:, 2], "ds_3/ds_0 = M_1 M_2 M_3")
    assert_same(jp.singular_values, np.linalg.svd(jp.matrices, compute_uv=False), "svd")
    assert_same(jp.norms, np.linalg.norm(jp.matrices, ord=2, axis=(-2, -1)), "spectral norms")


def test_lstm_blocks_and_the_cell_state_path(rng):
    problem = make_gated_problem(rng, "lstm", N=2, T=5, H=3)
    cache = problem.forward()
    jp = rnnnum.jacobian_products(problem.params, cache)
    H = 3
    assert jp.states == ("h", "c")
    assert_same(jp.block("c", "h"), jp.matrices[..., :H, H:], "dc_i/dh_k: rows h_k, columns c_i")
    # the cell-state path against the forget gates of the independent model
    f = np.stack([g["f"] for g in run(gated_reference(problem))["gates"]], axis=1)  # (N, T, H)
    path = rnnnum.cell_state_path(problem.params, cache)
    for i in range(6):
        for k in range(6):
            expected = np.prod(f[:, k:i], axis=1) if k <= i else np.zeros((2, H))
            np.testing.assert_allclose(path[:, i, k], expected, rtol=1e-13, atol=0)
    assert_same(jp.cell_path, path, "cell_path beside the products")
    # M_t's c-to-c block is diag(f_t): one step of the path is exact
    M = rnnnum.step_jacobians(problem.params, cache)
    assert_same(M[:, :, H:, H:], np.einsum("nti,ij->ntij", f, np.eye(H)), "dc_t/dc_{t-1}")


def test_without_recurrent_weights_the_full_cell_block_is_the_forget_gate_path(rng):
    # W_h = 0: no gate reads h, so nothing leaves c through h and comes back
    problem = make_gated_problem(rng, "lstm", N=2, T=5, H=3)
    problem.params = problem.params.replace(Wh=np.zeros((3, 12)))
    cache = problem.forward()
    jp = rnnnum.jacobian_products(problem.params, cache)
    full = jp.block("c", "c")
    diag = np.einsum("nikj,jl->nikjl", jp.cell_path, np.eye(3))
    assert_same(full, diag, "dc_i/dc_k with W_h = 0")
    assert np.all(jp.block("c", "h") == 0.0)


def test_cell_state_path_is_for_the_lstm_only(rng):
    problem = make_gated_problem(rng, "gru-after")
    with pytest.raises(rnnnum.CellMismatchError, match="LSTM only; got GRUParams"):
        rnnnum.cell_state_path(problem.params, problem.forward())
