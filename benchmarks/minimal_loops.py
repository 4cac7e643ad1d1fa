"""Minimal NumPy loops of each cell's forward + backward mathematics: the benchmark's yardstick.

No validation, no overflow checks, no caches beyond what the backward pass needs: the
least a hand-written NumPy implementation of the same mathematics has to do (inputs
multiplied for all steps in one product, the read-out and the losses in one product,
cross-entropy). Written here, apart from `rnnnum`, so that nothing the benchmark
compares against comes from the code it measures.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def _sigmoid(a: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # the overflow-free form rnnnum uses too


def _readout(hs: Array, Wyh: Array, by: Array, targets: Array) -> tuple[float, Array, Array, Array]:
    """Loss, dL/dWyh, dL/dby and dL/dh_t through y_t, for h_1..h_T (N, T, H)."""
    N, T, H = hs.shape
    flat = hs.reshape(N * T, H)
    y = flat @ Wyh + by
    y -= y.max(axis=1, keepdims=True)
    p = np.exp(y)
    p /= p.sum(axis=1, keepdims=True)
    rows, cols = np.arange(N * T), targets.reshape(-1)
    loss = float(-np.log(p[rows, cols]).sum())
    p[rows, cols] -= 1.0  # dL/dy
    return loss, flat.T @ p, p.sum(axis=0), (p @ Wyh.T).reshape(N, T, H)


def vanilla(Wxh, Whh, Wyh, bh, by, X, targets):  # type: ignore[no-untyped-def]
    N, T, D = X.shape
    H = Whh.shape[0]
    xw = (X.reshape(N * T, D) @ Wxh).reshape(N, T, H)
    h = np.zeros((N, T + 1, H))
    for t in range(T):
        h[:, t + 1] = np.tanh(xw[:, t] + h[:, t] @ Whh + bh)
    loss, dWyh, dby, direct = _readout(h[:, 1:], Wyh, by, targets)
    dA = np.empty((N, T, H))
    dh = np.zeros((N, H))
    for t in reversed(range(T)):
        dA[:, t] = (direct[:, t] + dh) * (1.0 - h[:, t + 1] ** 2)
        dh = dA[:, t] @ Whh.T
    flat = dA.reshape(N * T, H)
    return (loss, X.reshape(N * T, D).T @ flat, np.tensordot(h[:, :-1], dA, ([0, 1], [0, 1])),
            dWyh, flat.sum(0), dby, dA @ Wxh.T, dh)  # fmt: skip


def lstm(Wx, Wh, b, Wyh, by, X, targets):  # type: ignore[no-untyped-def]
    N, T, D = X.shape
    H = Wh.shape[0]
    pre = (X.reshape(N * T, D) @ Wx).reshape(N, T, 4 * H) + b
    h, c = np.zeros((N, T + 1, H)), np.zeros((N, T + 1, H))
    gates, tc = np.empty((N, T, 4 * H)), np.empty((N, T, H))
    for t in range(T):
        a = pre[:, t] + h[:, t] @ Wh
        gates[:, t, : 3 * H] = _sigmoid(a[:, : 3 * H])
        gates[:, t, 3 * H :] = np.tanh(a[:, 3 * H :])
        i, f, o, g = np.split(gates[:, t], 4, axis=1)
        c[:, t + 1] = f * c[:, t] + i * g
        tc[:, t] = np.tanh(c[:, t + 1])
        h[:, t + 1] = o * tc[:, t]
    loss, dWyh, dby, direct = _readout(h[:, 1:], Wyh, by, targets)
    dA = np.empty((N, T, 4 * H))
    dh, dc = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        i, f, o, g = np.split(gates[:, t], 4, axis=1)
        dh = direct[:, t] + dh
        dc = dc + dh * o * (1.0 - tc[:, t] ** 2)
        dA[:, t, :H] = dc * g * i * (1.0 - i)
        dA[:, t, H : 2 * H] = dc * c[:, t] * f * (1.0 - f)
        dA[:, t, 2 * H : 3 * H] = dh * tc[:, t] * o * (1.0 - o)
        dA[:, t, 3 * H :] = dc * i * (1.0 - g * g)
        dc = dc * f
        dh = dA[:, t] @ Wh.T
    flat = dA.reshape(N * T, 4 * H)
    return (loss, X.reshape(N * T, D).T @ flat, np.tensordot(h[:, :-1], dA, ([0, 1], [0, 1])),
            flat.sum(0), dWyh, dby, dA @ Wx.T, dh, dc)  # fmt: skip


def gru(Wx, Wh, bx, bh, Wyh, by, X, targets):  # type: ignore[no-untyped-def]
    """The GRU with the reset gate after the product (PyTorch's)."""
    N, T, D = X.shape
    H = Wh.shape[0]
    u = (X.reshape(N * T, D) @ Wx).reshape(N, T, 3 * H) + bx
    h = np.zeros((N, T + 1, H))
    gates, vn = np.empty((N, T, 3 * H)), np.empty((N, T, H))
    for t in range(T):
        v = h[:, t] @ Wh + bh
        rz = _sigmoid(u[:, t, : 2 * H] + v[:, : 2 * H])
        vn[:, t] = v[:, 2 * H :]
        n = np.tanh(u[:, t, 2 * H :] + rz[:, :H] * vn[:, t])
        gates[:, t, : 2 * H], gates[:, t, 2 * H :] = rz, n
        z = rz[:, H:]
        h[:, t + 1] = (1.0 - z) * n + z * h[:, t]
    loss, dWyh, dby, direct = _readout(h[:, 1:], Wyh, by, targets)
    dU, dV = np.empty((N, T, 3 * H)), np.empty((N, T, 3 * H))
    dh = np.zeros((N, H))
    for t in reversed(range(T)):
        r, z, n = np.split(gates[:, t], 3, axis=1)
        dh = direct[:, t] + dh
        dan = dh * (1.0 - z) * (1.0 - n * n)
        dU[:, t, :H] = dan * vn[:, t] * r * (1.0 - r)
        dU[:, t, H : 2 * H] = dh * (h[:, t] - n) * z * (1.0 - z)
        dU[:, t, 2 * H :] = dan
        dV[:, t, : 2 * H] = dU[:, t, : 2 * H]
        dV[:, t, 2 * H :] = dan * r
        dh = dh * z + dV[:, t] @ Wh.T
    flatU, flatV = dU.reshape(N * T, 3 * H), dV.reshape(N * T, 3 * H)
    return (loss, X.reshape(N * T, D).T @ flatU, np.tensordot(h[:, :-1], dV, ([0, 1], [0, 1])),
            flatU.sum(0), flatV.sum(0), dWyh, dby, dU @ Wx.T, dh)  # fmt: skip
