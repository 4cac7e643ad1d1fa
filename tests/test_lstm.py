"""rnnnum.lstm: the step against its equations written here, the sweep against finite
differences.

The forward pass is recomputed from the module's defining equations with NumPy
(sigmoid as 1/(1 + e^-a)); the backward sweep and the one-step block Jacobians are
compared with central differences of `lstm_forward` itself, for a loss linear in the
states, L = sum_t <R_t, h_t>, so that dL/dh_t arriving at step t is R_t.
"""

from __future__ import annotations

import numpy as np

from rnnnum.lstm import lstm_backward, lstm_forward, lstm_step_jacobians

N, T, D, H = 2, 3, 3, 2
#: the module's tanh form of sigmoid against 1/(1 + e^-a): a few roundings
RTOL = 1e-13
#: central differences with step 1e-6 of O(1) smooth maps: truncation ~1e-12, rounding
#: ~1e-10; a wrong gate's derivative is off by O(0.1)
FD_ATOL, STEP = 1e-8, 1e-6


def _problem(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    Wx, Wh = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H))
    b, X = 0.5 * rng.standard_normal(4 * H), rng.standard_normal((N, T, D))
    return Wx, Wh, b, X, rng.standard_normal((N, H)), rng.standard_normal((N, H))


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def test_forward_is_the_defining_equations(rng: np.random.Generator, steps: str) -> None:
    Wx, Wh, b, X, h, c = _problem(rng)
    tape = lstm_forward(Wx, Wh, b, X, h, c)
    for t in range(T):  # position t holds step t + 1; the tape's h, c start at h_0, c_0
        a = X[:, t] @ Wx + h @ Wh + b
        i, f, o = (_sigmoid(a[:, k * H : (k + 1) * H]) for k in range(3))
        g = np.tanh(a[:, 3 * H :])
        c = f * c + i * g
        h = o * np.tanh(c)
        np.testing.assert_allclose(tape.c[:, t + 1], c, rtol=RTOL, atol=RTOL)
        np.testing.assert_allclose(tape.h[:, t + 1], h, rtol=RTOL, atol=RTOL)
        np.testing.assert_allclose(tape.gate("f")[:, t], f, rtol=RTOL, atol=RTOL)


def _loss(R: np.ndarray, *args: np.ndarray) -> float:
    return float(np.sum(R * lstm_forward(*args).h[:, 1:]))


def test_backward_is_central_differences(rng: np.random.Generator, steps: str) -> None:
    args = list(_problem(rng))
    R = rng.standard_normal((N, T, H))
    dA, dh0, dc0 = lstm_backward(args[1], lstm_forward(*args), R)
    for position, ours in ((2, dA.sum(axis=(0, 1))), (4, dh0), (5, dc0)):  # b, h0, c0
        numeric = np.zeros_like(args[position])
        for index in np.ndindex(numeric.shape):
            plus, minus = [a.copy() for a in args], [a.copy() for a in args]
            plus[position][index] += STEP
            minus[position][index] -= STEP
            numeric[index] = (_loss(R, *plus) - _loss(R, *minus)) / (2 * STEP)
        np.testing.assert_allclose(ours, numeric, rtol=0, atol=FD_ATOL)


def test_step_jacobians_are_central_differences_of_one_step(rng: np.random.Generator) -> None:
    Wx, Wh, b, X, h0, c0 = _problem(rng)
    tape = lstm_forward(Wx, Wh, b, X, h0, c0)
    M = lstm_step_jacobians(Wh, tape)  # (N, T, 2H, 2H): rows (h_{t-1}, c_{t-1}), cols (h_t, c_t)
    t = 1  # the second step, from the tape's (h_1, c_1)

    def step(s: np.ndarray) -> np.ndarray:
        one = lstm_forward(Wx, Wh, b, X[:, t : t + 1], s[:, :H], s[:, H:])
        return np.concatenate([one.h[:, 1], one.c[:, 1]], axis=1)

    s = np.concatenate([tape.h[:, t], tape.c[:, t]], axis=1)
    rows = [(step(s + STEP * e) - step(s - STEP * e)) / (2 * STEP) for e in np.eye(2 * H)]
    np.testing.assert_allclose(M[:, t], np.stack(rows, axis=1), rtol=0, atol=FD_ATOL)
