"""truncated_bptt: against full bptt and against the expanded sum with terms dropped."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum
import rnnnum.lab

from problems import assert_same, make_gated_problem, make_problem


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


# --- chunked_bptt: the state detached every k steps ----------------------------------


def _chunks(T: int, every: int) -> list[range]:
    """0-based step positions of each chunk: [0, k), [k, 2k), ..."""
    return [range(start, min(start + every, T)) for start in range(0, T, every)]


def _chunked_reference(problem, every: int, residual: bool = False) -> dict[str, np.ndarray]:
    """Each chunk run by rnnnum.forward with the carried state as its (constant) initial
    state (h0, and the LSTM's c0), then ordinary rnnnum.bptt per chunk; parameter
    gradients summed, X laid back in place, the initial states' from the first chunk."""
    kwargs = dict(problem.kwargs)
    if not isinstance(problem.params, (rnnnum.LSTMParams, rnnnum.GRUParams)):
        kwargs["residual"] = residual
    cache = rnnnum.forward(problem.params, problem.X, problem.targets, **kwargs)
    states = ("h0", "c0") if "c0" in kwargs else ("h0",)
    out: dict[str, np.ndarray] = {}
    dX = np.zeros_like(problem.X)
    for number, chunk in enumerate(_chunks(cache.T, every)):
        for state in states:  # a constant: what the chunk before left
            tape = getattr(cache, state[0])  # (N, T, H) states 1..T
            kwargs[state] = getattr(cache, state) if number == 0 else tape[:, chunk.start - 1]
        part = rnnnum.forward(
            problem.params, problem.X[:, chunk], problem.targets[:, chunk], **kwargs
        )
        grads = rnnnum.bptt(problem.params, part).as_dict()
        dX[:, chunk] = grads.pop("X")
        initial = {state: grads.pop(state) for state in states}
        if number == 0:
            out |= initial
        for name, value in grads.items():
            out[name] = out.get(name, 0.0) + value
    return {**out, "X": dX}


@pytest.mark.parametrize("every", [1, 2, 3, 5, 7, 9])
@pytest.mark.parametrize(
    ("activation", "loss", "residual"),
    [("tanh", "cross_entropy", False), ("relu", "mse", False), ("tanh", "cross_entropy", True)],
)
def test_chunked_is_bptt_of_each_chunk_with_the_carried_state_held_fixed(
    rng, every, activation, loss, residual
):
    problem = make_problem(rng, T=7, activation=activation, loss=loss)
    kwargs = {**problem.kwargs, "residual": residual}
    cache = rnnnum.forward(problem.params, problem.X, problem.targets, **kwargs)
    chunked = rnnnum.chunked_bptt(problem.params, cache, every)
    for name, expected in _chunked_reference(problem, every, residual).items():
        assert_same(getattr(chunked, name), expected, f"{name}, every={every}")


def test_chunked_keeps_exactly_the_terms_whose_step_is_in_the_losss_chunk(rng):
    # Reference: the expanded sum from explicit Jacobian products, masked by chunk, and
    # the pairs rnnnum.lab.chunk_dropped_pairs names (what the remedies page counts).
    problem = make_problem(rng, T=7)
    cache, T = problem.forward(), 7
    chunk = np.arange(T)[:, None] // np.arange(1, T + 1)  # (step, every) -> chunk number
    for every in range(1, T + 1):
        same = np.equal.outer(chunk[:, every - 1], chunk[:, every - 1])  # [i, k]
        mask = same & np.tri(T, dtype=bool)
        rows, cols = np.nonzero(~same & np.tri(T, dtype=bool))
        dropped = {(int(i) + 1, int(k) + 1) for i, k in zip(rows, cols, strict=True)}
        assert set(rnnnum.lab.chunk_dropped_pairs(T, every)) == dropped, every
        chunked = rnnnum.chunked_bptt(problem.params, cache, every)
        for name in rnnnum.GRADIENT_NAMES:
            parts = rnnnum.components(problem.params, cache, name, method="jacobian")
            expand = mask.reshape(T, T, *[1] * (parts.terms.ndim - 2))
            kept = rnnnum.Components(name, parts.terms * expand)
            assert_same(getattr(chunked, name), kept.total(), f"{name}, every={every}")


def test_chunked_matches_central_differences_of_the_chunked_loss(rng):
    # The chunked loss: each chunk's starting state computed once, then frozen.
    problem = make_problem(rng, T=7)
    cache, every = problem.forward(), 3
    starts = [cache.h0 if c.start == 0 else cache.h[:, c.start - 1] for c in _chunks(7, every)]
    kwargs = {key: value for key, value in problem.kwargs.items() if key != "h0"}

    def chunked_loss(params) -> float:
        return sum(
            rnnnum.forward(params, problem.X[:, c], problem.targets[:, c], h0=h, **kwargs).loss
            for c, h in zip(_chunks(7, every), starts, strict=True)
        )

    grads = rnnnum.chunked_bptt(problem.params, cache, every)
    for name in ("Wxh", "Whh", "bh"):
        direction = rng.standard_normal(getattr(problem.params, name).shape)
        step = rnnnum.FD_STEP * direction

        def moved(sign: float, name=name, step=step):
            return problem.params.replace(**{name: getattr(problem.params, name) + sign * step})

        numeric = (chunked_loss(moved(1.0)) - chunked_loss(moved(-1.0))) / (2 * rnnnum.FD_STEP)
        analytic = float(np.sum(getattr(grads, name) * direction))
        np.testing.assert_allclose(
            analytic, numeric, rtol=rnnnum.FD_RTOL, atol=rnnnum.FD_ATOL, err_msg=name
        )


def test_chunked_ends_equal_the_per_loss_window_and_differ_between(rng):
    problem = make_problem(rng, T=8)
    cache = problem.forward()
    one = rnnnum.chunked_bptt(problem.params, cache, 1)
    diagonal = rnnnum.truncated_bptt(problem.params, cache, 1)
    full, whole = rnnnum.bptt(problem.params, cache), rnnnum.chunked_bptt(problem.params, cache, 8)
    for name in rnnnum.GRADIENT_NAMES:
        assert_same(getattr(one, name), getattr(diagonal, name), f"{name}, every=1")
        assert_same(getattr(whole, name), getattr(full, name), f"{name}, every=T")
    # In between the two forms differ: a chunk's first loss reaches back one step only.
    chunked, window = (
        rnnnum.chunked_bptt(problem.params, cache, 3),
        rnnnum.truncated_bptt(problem.params, cache, 3),
    )
    assert np.abs(chunked.Whh - window.Whh).max() > 1e-6


@pytest.mark.parametrize(
    ("every", "error", "message"),
    [
        (0, rnnnum.OutOfRangeError, "every must be an integer >= 1; got 0"),
        (2.0, rnnnum.DTypeError, "every must be an integer >= 1; got float 2.0"),
        (True, rnnnum.DTypeError, "every must be an integer >= 1; got bool True"),
    ],
)
def test_chunked_rejects_a_bad_chunk_length(rng, every, error, message):
    problem = make_problem(rng, T=4)
    with pytest.raises(error, match=message):
        rnnnum.chunked_bptt(problem.params, problem.forward(), every)


@pytest.mark.parametrize("every", [1, 2, 3, 5])
@pytest.mark.parametrize("cell", ["lstm", "gru-after", "gru-before"])
def test_chunked_takes_a_gated_cell_through_its_kernel_the_same_way(rng, cell, every):
    """The LSTM's cell state is detached with h: its gradient through c_{t+1} stops too."""
    problem = make_gated_problem(rng, cell, T=5)
    chunked = rnnnum.chunked_bptt(problem.params, problem.forward(), every).as_dict()
    reference = _chunked_reference(problem, every)
    assert chunked.keys() == reference.keys()
    for name, expected in reference.items():
        assert_same(chunked[name], expected, f"{cell}: {name}, every={every}")
