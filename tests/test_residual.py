"""The residual cell h_t = h_{t-1} + f(a_t) in rnnnum's full twin (forward(..., residual=True)).

Checked against things that share no code with it: central differences of the loss,
the scalar reference of tests/reference.py (per-step copies), the training cell
rnnnum.VanillaCell(residual=True), finite-difference Jacobians of plain loops, and the
closed form of a reduction.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnnnum

from problems import assert_same, make_gated_problem, make_problem
from reference import act, component_by_differences, step_losses

#: f(0) = 0 for these, so zero weights and bias leave h_t = h_0 exactly; sigmoid is
#: excluded (sigmoid(0) = 1/2) and leaky_relu adds nothing new over relu.
ACTIVATIONS = ("tanh", "sigmoid", "relu")
LOSSES = tuple(rnnnum.LOSSES)
NAMES = rnnnum.GRADIENT_NAMES
#: Central differences in float64 (smooth losses of size ~10): rnnnum's documented budget.
FD_STEP, FD_RTOL, FD_ATOL = rnnnum.FD_STEP, rnnnum.FD_RTOL, rnnnum.FD_ATOL
#: ReLU checks need every pre-activation farther than this from the kink at 0
#: (100 finite-difference steps), or a central difference could straddle it.
KINK_MARGIN = 100 * FD_STEP


def _problem(rng, **kw):
    problem = make_problem(rng, **kw)
    cache = rnnnum.forward(
        problem.params, problem.X, problem.targets, residual=True, **problem.kwargs
    )
    assert cache.residual is True
    assert rnnnum.distance_to_kink(cache) > KINK_MARGIN, "seed puts a pre-activation at a kink"
    return problem, cache


def _reference(problem) -> dict:
    return {**problem.as_reference(), "residual": True}


@pytest.mark.parametrize("nonzero_h0", [False, True], ids=["h0=0", "h0 random"])
@pytest.mark.parametrize("T", [1, 2, 3, 7])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_bptt_matches_central_differences(rng, activation, loss, T, nonzero_h0):
    problem, cache = _problem(
        rng, N=2, T=T, activation=activation, loss=loss, nonzero_h0=nonzero_h0
    )
    grads = rnnnum.bptt(problem.params, cache)
    numeric = rnnnum.numerical_gradients(
        problem.params, problem.X, problem.targets, residual=True, **problem.kwargs
    )
    for name in NAMES:
        np.testing.assert_allclose(
            getattr(grads, name), getattr(numeric, name), rtol=FD_RTOL, atol=FD_ATOL,
            err_msg=f"residual dL/d{name}, {activation}/{loss}, T={T}",
        )  # fmt: skip


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_losses_match_the_scalar_reference(rng, activation):
    problem, cache = _problem(rng, N=2, T=5, activation=activation)
    assert_same(cache.losses, step_losses(_reference(problem)), "L_1..L_T of the residual cell")


@pytest.mark.parametrize("name", NAMES)
def test_each_component_is_the_derivative_of_L_i_through_step_k(rng, name):
    for activation, loss in (("tanh", "cross_entropy"), ("relu", "mse")):
        problem, cache = _problem(rng, N=2, T=3, D=2, H=3, V=3, activation=activation, loss=loss)
        terms = rnnnum.components(problem.params, cache, name).terms
        ref = _reference(problem)
        for i in range(1, 4):
            for k in range(1, 4):
                if name == "h0" and k > 1:
                    expected = np.zeros_like(terms[i - 1, k - 1])  # h0 is read by step 1 only
                else:
                    expected = component_by_differences(ref, name, i, k, FD_STEP)
                np.testing.assert_allclose(
                    terms[i - 1, k - 1], expected, rtol=FD_RTOL, atol=FD_ATOL,
                    err_msg=f"residual component (i={i}, k={k}) of dL/d{name}, {activation}",
                )  # fmt: skip


@pytest.mark.parametrize("nonzero_h0", [False, True], ids=["h0=0", "h0 random"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_components_sum_to_bptt_and_match_jacobian_products(rng, activation, nonzero_h0):
    problem, cache = _problem(rng, N=3, T=7, activation=activation, nonzero_h0=nonzero_h0)
    grads = rnnnum.bptt(problem.params, cache)
    for name in NAMES:
        parts = rnnnum.components(problem.params, cache, name)
        assert_same(parts.total(), getattr(grads, name), f"sum of residual components, {name}")
        naive = rnnnum.components(problem.params, cache, name, method="jacobian")
        assert_same(parts.terms, naive.terms, f"recursion vs Jacobian products, {name}")
    bias = rnnnum.components(problem.params, cache, "bh", method="jacobian").terms  # (T, T, H)
    for t, S in rnnnum.backward_signals(problem.params, cache):  # S[j] = dL_{k+j}/da_k
        assert_same(S.sum(axis=1), bias[t:, t], f"backward_signals at step {t + 1}")


@pytest.mark.parametrize("N", [1, 2, 7])  # the rank-one, Gram and product routes of the norms
def test_norms_only_equals_norms_of_the_components(rng, N):
    problem, cache = _problem(rng, N=N, T=9, D=4, H=5, V=3)
    fast = rnnnum.all_component_norms(problem.params, cache)
    for name in NAMES:
        full = rnnnum.components(problem.params, cache, name).norms()
        assert_same(fast[name], full, f"norms of residual components of dL/d{name}")
        assert_same(rnnnum.component_norms(problem.params, cache, name), full, name)


def _roll(problem, n: int, h_k: np.ndarray, k: int, i: int) -> np.ndarray:
    """h_i of example n when h_k is set, by plain scalar loops of h_t = h_{t-1} + f(a_t)."""
    p = problem.params
    h = h_k
    for t in range(k + 1, i + 1):
        a = problem.X[n, t - 1] @ p.Wxh + h @ p.Whh + p.bh
        h = h + np.array([act(problem.activation, float(v)) for v in a])
    return h


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_jacobian_products_match_finite_difference_jacobians(rng, activation):
    problem, cache = _problem(rng, N=2, T=4, H=3, activation=activation)
    J = rnnnum.jacobian_products(problem.params, cache).matrices  # (N, T+1, T+1, H, H)
    states = np.concatenate([cache.h0[:, None], cache.h], axis=1)  # h_0..h_T
    for n in range(2):
        for k in range(5):
            for i in range(k, 5):
                fd = np.empty((3, 3))  # row convention: fd[b, a] = d h_i[a] / d h_k[b]
                for b in range(3):
                    e = np.zeros(3)
                    e[b] = FD_STEP
                    up = _roll(problem, n, states[n, k] + e, k, i)
                    down = _roll(problem, n, states[n, k] - e, k, i)
                    fd[b] = (up - down) / (2 * FD_STEP)
                np.testing.assert_allclose(
                    J[n, i, k], fd, rtol=FD_RTOL, atol=FD_ATOL,
                    err_msg=f"residual dh_{i}/dh_{k}, example {n}, {activation}",
                )  # fmt: skip


def _cell_problem(rng, activation: str):
    """A residual problem with h0 = 0 (the training cell's start) and its cell parameters."""
    problem, cache = _problem(rng, N=3, T=6, D=3, H=4, V=4, activation=activation, nonzero_h0=False)
    p = problem.params
    cell = rnnnum.VanillaCell(activation=activation, residual=True)
    return problem, cache, cell, {"Wxh": p.Wxh.copy(), "Whh": p.Whh.copy(), "bh": p.bh.copy()}


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_states_and_jacobians_match_the_training_cell(rng, activation):
    problem, cache, cell, weights = _cell_problem(rng, activation)
    h_last, tape = cell.forward(weights, problem.X)
    assert_same(cache.h, tape.h[:, 1:], "h_1..h_T: forward(residual=True) vs VanillaCell")
    assert_same(h_last, cache.h[:, -1], "h_T")
    assert_same(
        rnnnum.step_jacobians(problem.params, cache),
        cell.step_jacobians(weights, tape),
        "one-step Jacobians I + W_hh diag(f'(a_t))",
    )


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradients_of_the_last_loss_match_the_training_cells_backward(rng, activation):
    # L_T reads only h_T: the cell's backward from dL_T/dh_T = ∂L_T/∂y_T W_yhᵀ must give
    # row i = T of the components, summed over the steps k.
    problem, cache, cell, weights = _cell_problem(rng, activation)
    _, tape = cell.forward(weights, problem.X)
    y = cache.y[:, -1]  # (N, V); cross-entropy: ∂L_T/∂y_T = softmax(y_T) - onehot(target_T)
    dy = np.exp(y - y.max(axis=1, keepdims=True))
    dy /= dy.sum(axis=1, keepdims=True)
    dy[np.arange(cache.N), problem.targets[:, -1]] -= 1.0
    expected = cell.backward(weights, tape, dy @ problem.params.Wyh.T)
    for name in ("Wxh", "Whh", "bh"):
        last_row = rnnnum.components(problem.params, cache, name).terms[-1].sum(axis=0)
        assert_same(last_row, expected[name], f"dL_T/d{name}: components vs VanillaCell")


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
def test_zero_weights_keep_the_initial_state(rng, activation):
    # W_xh = W_hh = 0, b_h = 0, f(0) = 0: a_t = 0, so h_t = h_{t-1} + 0 = h_0 exactly.
    problem = make_problem(rng, N=2, T=5, activation=activation)
    p = problem.params
    zero = p.replace(Wxh=np.zeros_like(p.Wxh), Whh=np.zeros_like(p.Whh), bh=np.zeros_like(p.bh))
    cache = rnnnum.forward(zero, problem.X, problem.targets, residual=True, **problem.kwargs)
    assert np.array_equal(cache.a, np.zeros_like(cache.a))
    assert np.array_equal(cache.h, np.broadcast_to(problem.h0[:, None], cache.h.shape))
    J = rnnnum.jacobian_products(zero, cache).matrices  # every dh_i/dh_k = I for k <= i
    lower = np.tril(np.ones((6, 6), dtype=bool))
    assert np.array_equal(J[:, lower], np.broadcast_to(np.eye(4), (2, 21, 4, 4)))


def test_truncation_keeps_the_terms_within_the_window(rng):
    problem, cache = _problem(rng, N=2, T=6)
    full = rnnnum.bptt(problem.params, cache)
    i, k = np.indices((6, 6))
    for name in NAMES:  # the (i, k) terms from explicit Jacobian products, not the recursion
        terms = rnnnum.components(problem.params, cache, name, method="jacobian").terms
        for window in (1, 2, 4, 6, 9):
            mask = (i - k < window).reshape(6, 6, *(1,) * (terms.ndim - 2))
            expected = rnnnum.Components(name, terms * mask).total()
            truncated = getattr(rnnnum.truncated_bptt(problem.params, cache, window), name)
            assert_same(truncated, expected, f"window {window}, dL/d{name}")
            if window >= 6:
                assert_same(truncated, getattr(full, name), f"window {window} is full bptt")


def test_directional_checks_and_clipping_follow_the_residual_cell(rng):
    problem, cache = _problem(rng, N=3, T=6, D=4, H=5, V=3, loss="mse")
    grads = rnnnum.bptt(problem.params, cache)
    checks = rnnnum.directional_checks(
        problem.params, problem.X, problem.targets, grads, rng, residual=True, **problem.kwargs
    )
    failed = [str(c) for c in checks if not c.ok]
    assert len(checks) == 3 * len(NAMES) and not failed, "\n".join(failed)
    flat = np.concatenate([g.ravel() for g in grads.parameters().values()])
    assert np.isclose(rnnnum.global_norm(grads), np.linalg.norm(flat), rtol=1e-14)
    clipped = rnnnum.clip_by_norm(grads, 0.5 * np.linalg.norm(flat))
    assert np.isclose(rnnnum.global_norm(clipped), 0.5 * np.linalg.norm(flat), rtol=1e-14)


def test_the_vanilla_cell_is_untouched(rng):
    problem = make_problem(rng, N=2, T=4)
    default = problem.forward()
    explicit = rnnnum.forward(
        problem.params, problem.X, problem.targets, residual=False, **problem.kwargs
    )
    residual = rnnnum.forward(
        problem.params, problem.X, problem.targets, residual=True, **problem.kwargs
    )
    assert default.residual is False
    for field in ("a", "h", "y", "losses"):
        assert np.array_equal(getattr(default, field), getattr(explicit, field)), field
    assert not np.allclose(default.h, residual.h), "the skip changes the states"


@pytest.mark.parametrize("bad", [1, 0, "yes", None, 1.0])
def test_residual_must_be_a_bool(rng, bad):
    problem = make_problem(rng)
    with pytest.raises(rnnnum.DTypeError, match=rf"residual must be True or False; got .*{bad!r}"):
        rnnnum.forward(problem.params, problem.X, problem.targets, residual=bad)
    with pytest.raises(rnnnum.DTypeError, match="residual must be True or False"):
        rnnnum.numerical_gradients(problem.params, problem.X, problem.targets, residual=bad)


def test_numpy_bools_are_accepted(rng):
    problem = make_problem(rng)
    cache = rnnnum.forward(problem.params, problem.X, problem.targets, residual=np.True_)
    assert cache.residual is True


@pytest.mark.parametrize("cell", ["lstm", "gru-after"])
def test_residual_with_a_gated_cell_is_refused(rng, cell):
    gated = make_gated_problem(rng, cell)
    with pytest.raises(rnnnum.CellMismatchError, match="residual applies to the vanilla cell"):
        rnnnum.forward(gated.params, gated.X, gated.targets, residual=True)
    with pytest.raises(rnnnum.CellMismatchError, match="residual applies to the vanilla cell"):
        rnnnum.numerical_gradients(gated.params, gated.X, gated.targets, residual=True)
    cache = rnnnum.forward(gated.params, gated.X, gated.targets, residual=False)  # the default
    assert np.isfinite(cache.loss)


def test_overflow_is_reported_at_its_step():
    # x_t = 0, b_h = 0, h_0 = 1, W_hh = 1000 I, relu: a_t = 1000 * 1001^(t-1), h_t = 1001^t,
    # so a_t is the first to overflow, at the first t with log10 a_t > log10(float max).
    H, T = 3, 120
    params = rnnnum.RNNParams(
        Wxh=np.ones((2, H)),
        Whh=1e3 * np.eye(H),
        Wyh=np.ones((H, 2)),
        bh=np.zeros(H),
        by=np.zeros(2),
    )
    limit = math.log10(np.finfo(np.float64).max)
    step = math.floor((limit - 3.0) / math.log10(1001.0)) + 2
    with pytest.raises(
        rnnnum.NumericalOverflowError, match=rf"forward: the pre-activation a_{step} .* t={step} "
    ):
        rnnnum.forward(
            params, np.zeros((1, T, 2)), np.zeros((1, T), dtype=np.int64),
            h0=np.ones((1, H)), residual=True, activation="relu",
        )  # fmt: skip
