"""rnnnum.gru: the step against its equations written here (both resets), the sweep and
the one-step Jacobian against finite differences.

The loss is linear in the states, L = sum_t <R_t, h_t>, so that dL/dh_t arriving at
step t is R_t.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnnum.gru import gru_backward, gru_forward, gru_step_jacobians

N, T, D, H = 2, 3, 3, 2
#: the module's tanh form of sigmoid against 1/(1 + e^-a): a few roundings
RTOL = 1e-13
#: central differences with step 1e-6 of O(1) smooth maps: truncation ~1e-12, rounding
#: ~1e-10; a wrong gate's derivative is off by O(0.1)
FD_ATOL, STEP = 1e-8, 1e-6
RESETS = ["after", "before"]


def _problem(rng: np.random.Generator) -> list[np.ndarray]:
    return [
        rng.standard_normal((D, 3 * H)),  # Wx
        rng.standard_normal((H, 3 * H)),  # Wh
        0.5 * rng.standard_normal(3 * H),  # bx
        0.5 * rng.standard_normal(3 * H),  # bh
        rng.standard_normal((N, T, D)),  # X
        rng.standard_normal((N, H)),  # h0
    ]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


@pytest.mark.parametrize("reset", RESETS)
def test_forward_is_the_defining_equations(
    reset: str, rng: np.random.Generator, steps: str
) -> None:
    Wx, Wh, bx, bh, X, h = _problem(rng)
    tape = gru_forward(Wx, Wh, bx, bh, X, h, reset)
    blocks = [slice(k * H, (k + 1) * H) for k in range(3)]  # r, z, n
    for t in range(T):  # position t holds step t + 1
        u = X[:, t] @ Wx + bx
        v = h @ Wh + bh
        r = _sigmoid(u[:, blocks[0]] + v[:, blocks[0]])
        z = _sigmoid(u[:, blocks[1]] + v[:, blocks[1]])
        if reset == "after":
            vn = v[:, blocks[2]]
            n = np.tanh(u[:, blocks[2]] + r * vn)
        else:
            vn = (r * h) @ Wh[:, blocks[2]] + bh[blocks[2]]
            n = np.tanh(u[:, blocks[2]] + vn)
        h = (1 - z) * n + z * h
        np.testing.assert_allclose(tape.h[:, t + 1], h, rtol=RTOL, atol=RTOL)
        for got, want in [(tape.gate("r"), r), (tape.gate("z"), z), (tape.gate("n"), n)]:
            np.testing.assert_allclose(got[:, t], want, rtol=RTOL, atol=RTOL)
        np.testing.assert_allclose(tape.vn[:, t], vn, rtol=RTOL, atol=RTOL)


def _loss(R: np.ndarray, reset: str, *args: np.ndarray) -> float:
    return float(np.sum(R * gru_forward(*args, reset).h[:, 1:]))


@pytest.mark.parametrize("reset", RESETS)
def test_backward_is_central_differences(reset: str, rng: np.random.Generator, steps: str) -> None:
    args = _problem(rng)
    R = rng.standard_normal((N, T, H))
    dU, dV, dh0 = gru_backward(args[1], gru_forward(*args, reset), R)
    for position, ours in ((2, dU.sum(axis=(0, 1))), (3, dV.sum(axis=(0, 1))), (5, dh0)):
        numeric = np.zeros_like(args[position])
        for index in np.ndindex(numeric.shape):
            plus, minus = [a.copy() for a in args], [a.copy() for a in args]
            plus[position][index] += STEP
            minus[position][index] -= STEP
            numeric[index] = (_loss(R, reset, *plus) - _loss(R, reset, *minus)) / (2 * STEP)
        np.testing.assert_allclose(ours, numeric, rtol=0, atol=FD_ATOL)


@pytest.mark.parametrize("reset", RESETS)
def test_step_jacobians_are_central_differences_of_one_step(
    reset: str, rng: np.random.Generator
) -> None:
    Wx, Wh, bx, bh, X, h0 = _problem(rng)
    tape = gru_forward(Wx, Wh, bx, bh, X, h0, reset)
    M = gru_step_jacobians(Wh, tape)  # (N, T, H, H), row convention
    t = 1

    def step(h: np.ndarray) -> np.ndarray:
        return gru_forward(Wx, Wh, bx, bh, X[:, t : t + 1], h, reset).h[:, 1]

    h = tape.h[:, t]
    rows = [(step(h + STEP * e) - step(h - STEP * e)) / (2 * STEP) for e in np.eye(H)]
    np.testing.assert_allclose(M[:, t], np.stack(rows, axis=1), rtol=0, atol=FD_ATOL)
