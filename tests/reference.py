"""An independent, deliberately plain RNN for the tests: explicit loops, no rnnnum code.

It lets each step use its own copy of every quantity, so the contribution of loss
L_i through the copy used at step k (one component of the expanded sum) can be
measured by finite differences, with nothing shared with the code under test.
"""

from __future__ import annotations

import math

import numpy as np

LEAKY = 0.01  # the slope rnnnum documents for leaky_relu


def act(name: str, a: float) -> float:
    """f(a) for one scalar, written from the textbook definitions."""
    if name == "tanh":
        return math.tanh(a)
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-a))
    if name == "relu":
        return max(a, 0.0)
    if name == "leaky_relu":
        return a if a > 0 else LEAKY * a
    assert name == "identity"
    return a


def step_losses(problem: dict, copies: dict | None = None) -> np.ndarray:
    """L_1..L_T (each summed over the batch), (T,).

    `copies` maps (name, k) to the value of `name` used at step k (1-based):
    names Wxh, Whh, bh, Wyh, by; ("X", k) replaces x_k (N, D); ("h0", 1) replaces h0.
    With ``problem["residual"]`` true, the residual cell h_t = h_{t-1} + f(a_t).
    """
    copies = copies or {}
    p, X, targets, h0 = problem["params"], problem["X"], problem["targets"], problem["h0"]
    activation, loss = problem["activation"], problem["loss"]
    residual = problem.get("residual", False)
    N, T, _ = X.shape
    H, V = p["Whh"].shape[0], p["Wyh"].shape[1]
    out = np.zeros(T)
    for n in range(N):
        h = list(copies.get(("h0", 1), h0)[n])
        for k in range(1, T + 1):
            Wxh, Whh, bh = (copies.get((name, k), p[name]) for name in ("Wxh", "Whh", "bh"))
            Wyh, by = (copies.get((name, k), p[name]) for name in ("Wyh", "by"))
            x = copies.get(("X", k), X[:, k - 1])[n]
            a = [
                sum(x[d] * Wxh[d, j] for d in range(len(x)))
                + sum(h[m] * Whh[m, j] for m in range(H))
                + bh[j]
                for j in range(H)
            ]
            fa = [act(activation, aj) for aj in a]
            h = [h[j] + fa[j] for j in range(H)] if residual else fa
            y = [sum(h[j] * Wyh[j, v] for j in range(H)) + by[v] for v in range(V)]
            if loss == "cross_entropy":
                top = max(y)
                log_z = top + math.log(sum(math.exp(yv - top) for yv in y))
                out[k - 1] += log_z - y[int(targets[n, k - 1])]
            else:
                out[k - 1] += 0.5 * sum((y[v] - targets[n, k - 1, v]) ** 2 for v in range(V))
    return out


def component_by_differences(problem: dict, name: str, i: int, k: int, step: float) -> np.ndarray:
    """dL_i / d(copy of `name` used at step k) by central differences, entry by entry."""
    base = problem["params"].get(name)
    if name == "X":
        base = problem["X"][:, k - 1]
    elif name == "h0":
        base = problem["h0"]
    grad = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[idx] += step
        minus[idx] -= step
        up = step_losses(problem, {(name, k): plus})[i - 1]
        down = step_losses(problem, {(name, k): minus})[i - 1]
        grad[idx] = (up - down) / (2 * step)
    return grad
