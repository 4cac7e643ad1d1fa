"""An independent LSTM and GRU for the tests: the equations of issue 12, one gate at a time.

Nothing here comes from rnnnum: the gate blocks are sliced by hand in the documented
order (LSTM i, f, o, g; GRU r, z, n), the sigmoid is 1 / (1 + exp(-a)), and every step
may use its own copy of each quantity, so that one (loss i, step k) component can be
measured by finite differences with nothing shared with the code under test.
"""

from __future__ import annotations

import numpy as np


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def block(arr: np.ndarray, k: int, H: int) -> np.ndarray:
    """Gate block k (0-based) of a stacked array, along its last axis."""
    return arr[..., k * H : (k + 1) * H]


def lstm_step(p: dict, x: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple:
    """(h_t, c_t, gates) from x_t (N, D), h_{t-1}, c_{t-1} (N, H); p has Wx, Wh, b."""
    H = h.shape[1]
    pre = [x @ block(p["Wx"], k, H) + h @ block(p["Wh"], k, H) + block(p["b"], k, H)
           for k in range(4)]  # fmt: skip
    i, f, o = sigmoid(pre[0]), sigmoid(pre[1]), sigmoid(pre[2])
    g = np.tanh(pre[3])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new, {"i": i, "f": f, "o": o, "g": g}


def gru_step(p: dict, x: np.ndarray, h: np.ndarray, reset: str) -> tuple:
    """(h_t, gates) from x_t (N, D) and h_{t-1} (N, H); p has Wx, Wh, bx, bh."""
    H = h.shape[1]

    def side(k, u, W, b):  # one block of u W + b
        return u @ block(p[W], k, H) + block(p[b], k, H)

    r = sigmoid(side(0, x, "Wx", "bx") + side(0, h, "Wh", "bh"))
    z = sigmoid(side(1, x, "Wx", "bx") + side(1, h, "Wh", "bh"))
    if reset == "after":
        n = np.tanh(side(2, x, "Wx", "bx") + r * side(2, h, "Wh", "bh"))
    else:
        n = np.tanh(side(2, x, "Wx", "bx") + side(2, r * h, "Wh", "bh"))
    return (1.0 - z) * n + z * h, {"r": r, "z": z, "n": n}


def run(problem: dict, copies: dict | None = None) -> dict:
    """Losses L_1..L_T (T,), states and gates of a gated problem.

    `problem`: cell ("lstm" or "gru"), reset, params (a dict of arrays), X (N, T, D),
    targets, h0, c0, loss. `copies` maps (name, k) to the value used at step k (1-based):
    parameter names, ("X", k) for x_k (N, D), ("h0", 1) and ("c0", 1).
    """
    copies = copies or {}
    X, p = problem["X"], problem["params"]
    N, T, _ = X.shape
    h = copies.get(("h0", 1), problem["h0"])
    c = copies.get(("c0", 1), problem.get("c0"))
    out = {"losses": np.zeros(T), "h": [], "c": [], "gates": []}
    for k in range(1, T + 1):
        pk = {name: copies.get((name, k), value) for name, value in p.items()}
        x = copies.get(("X", k), X[:, k - 1])
        if problem["cell"] == "lstm":
            h, c, gates = lstm_step(pk, x, h, c)
            out["c"].append(c)
        else:
            h, gates = gru_step(pk, x, h, problem["reset"])
        out["h"].append(h)
        out["gates"].append(gates)
        y = h @ pk["Wyh"] + pk["by"]
        if problem["loss"] == "cross_entropy":
            top = y.max(axis=1, keepdims=True)
            log_z = top[:, 0] + np.log(np.exp(y - top).sum(axis=1))
            out["losses"][k - 1] = np.sum(log_z - y[np.arange(N), problem["targets"][:, k - 1]])
        else:
            out["losses"][k - 1] = 0.5 * np.sum((y - problem["targets"][:, k - 1]) ** 2)
    return out


def component_by_differences(problem: dict, name: str, i: int, k: int, step: float) -> np.ndarray:
    """dL_i / d(copy of `name` used at step k) by central differences, entry by entry."""
    if name == "X":
        base = problem["X"][:, k - 1]
    elif name in ("h0", "c0"):
        base = problem[name]
    else:
        base = problem["params"][name]
    grad = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[idx] += step
        minus[idx] -= step
        up = run(problem, {(name, k): plus})["losses"][i - 1]
        down = run(problem, {(name, k): minus})["losses"][i - 1]
        grad[idx] = (up - down) / (2 * step)
    return grad
