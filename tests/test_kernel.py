"""rnnnum.kernel: one protocol, one registry; every kernel's forward + BPTT against plain loops.

The plain loops below are written from the equations of each cell (per gate, one step
at a time, ``1 / (1 + exp(-a))`` for the sigmoid), with nothing shared with rnnnum: they
hold the kernels to the mathematics while the kernels are tuned for speed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import rnnnum
from rnnnum._arith import as_step_tape, step_sums
from rnnnum.kernel import KERNELS, kernel_for
from rnnnum.kernel.protocol import Signals

ROOT = Path(__file__).resolve().parent.parent
#: Plain loops and the kernels round differently (sigmoid's two forms, the order of
#: sums inside BLAS); over T = 12 steps of a contracting network the two stay within a
#: few hundred ulps, so 1e-13 relative catches any wrong term yet no reordering.
KERNEL_RTOL = 1e-13
#: Entries of a gradient that are zero up to rounding: 1e-13 of the largest one.
KERNEL_ATOL_SCALE = 1e-13


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _softmax_loss(y: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Cross-entropy summed over the batch and the steps, and dL/dy, for y (N, T, V)."""
    shifted = y - y.max(axis=-1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    N, T = targets.shape
    n, t = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = float(-np.log(p[n, t, targets]).sum())
    dy = p.copy()
    dy[n, t, targets] -= 1.0
    return loss, dy


def plain_vanilla(p, X, targets, h0, residual):  # type: ignore[no-untyped-def]
    N, T, _ = X.shape
    h, a = [h0], []
    for t in range(T):
        a.append(X[:, t] @ p.Wxh + h[-1] @ p.Whh + p.bh)
        h.append(h[-1] + np.tanh(a[-1]) if residual else np.tanh(a[-1]))
    hs = np.stack(h[1:], axis=1)
    loss, dy = _softmax_loss(hs @ p.Wyh + p.by, targets)
    g = {k: np.zeros_like(v) for k, v in p.as_dict().items()}
    g["X"] = np.zeros_like(X)
    dh = np.zeros_like(h0)
    for t in reversed(range(T)):
        dh = dh + dy[:, t] @ p.Wyh.T
        g["Wyh"] += np.outer(hs[:, t], dy[:, t]) if N == 1 else hs[:, t].T @ dy[:, t]
        g["by"] += dy[:, t].sum(axis=0)
        da = dh * (1.0 - np.tanh(a[t]) ** 2)
        g["Wxh"] += X[:, t].T @ da
        g["Whh"] += h[t].T @ da
        g["bh"] += da.sum(axis=0)
        g["X"][:, t] = da @ p.Wxh.T
        dh = da @ p.Whh.T + (dh if residual else 0.0)
    g["h0"] = dh
    return loss, g


def plain_lstm(p, X, targets, h0, c0):  # type: ignore[no-untyped-def]
    T = X.shape[1]
    H = p.H
    W = {k: (p.Wx[:, j * H : (j + 1) * H], p.Wh[:, j * H : (j + 1) * H], p.b[j * H : (j + 1) * H])
         for j, k in enumerate("ifog")}  # fmt: skip
    h, c, gates = [h0], [c0], []
    for t in range(T):
        pre = {k: X[:, t] @ wx + h[-1] @ wh + b for k, (wx, wh, b) in W.items()}
        gt = {k: _sigmoid(pre[k]) for k in "ifo"} | {"g": np.tanh(pre["g"])}
        gates.append(gt)
        c.append(gt["f"] * c[-1] + gt["i"] * gt["g"])
        h.append(gt["o"] * np.tanh(c[-1]))
    hs = np.stack(h[1:], axis=1)
    loss, dy = _softmax_loss(hs @ p.Wyh + p.by, targets)
    g = {k: np.zeros_like(v) for k, v in p.as_dict().items()}
    g["X"] = np.zeros_like(X)
    dh, dc = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(T)):
        gt = gates[t]
        dh = dh + dy[:, t] @ p.Wyh.T
        g["Wyh"] += hs[:, t].T @ dy[:, t]
        g["by"] += dy[:, t].sum(axis=0)
        tc = np.tanh(c[t + 1])
        dc = dc + dh * gt["o"] * (1.0 - tc**2)
        d = {
            "i": dc * gt["g"] * gt["i"] * (1.0 - gt["i"]),
            "f": dc * c[t] * gt["f"] * (1.0 - gt["f"]),
            "o": dh * tc * gt["o"] * (1.0 - gt["o"]),
            "g": dc * gt["i"] * (1.0 - gt["g"] ** 2),
        }
        da = np.concatenate([d[k] for k in "ifog"], axis=1)
        g["Wx"] += X[:, t].T @ da
        g["Wh"] += h[t].T @ da
        g["b"] += da.sum(axis=0)
        g["X"][:, t] = da @ p.Wx.T
        dh, dc = da @ p.Wh.T, dc * gt["f"]
    g["h0"], g["c0"] = dh, dc
    return loss, g


def plain_gru(p, X, targets, h0):  # type: ignore[no-untyped-def]
    T = X.shape[1]
    H = p.H
    Wx = {k: p.Wx[:, j * H : (j + 1) * H] for j, k in enumerate("rzn")}
    Wh = {k: p.Wh[:, j * H : (j + 1) * H] for j, k in enumerate("rzn")}
    bx = {k: p.bx[j * H : (j + 1) * H] for j, k in enumerate("rzn")}
    bh = {k: p.bh[j * H : (j + 1) * H] for j, k in enumerate("rzn")}
    after = p.reset == "after"
    h, tape = [h0], []
    for t in range(T):
        x, hp = X[:, t], h[-1]
        r = _sigmoid(x @ Wx["r"] + bx["r"] + hp @ Wh["r"] + bh["r"])
        z = _sigmoid(x @ Wx["z"] + bx["z"] + hp @ Wh["z"] + bh["z"])
        vn = hp @ Wh["n"] + bh["n"] if after else (r * hp) @ Wh["n"] + bh["n"]
        n = np.tanh(x @ Wx["n"] + bx["n"] + (r * vn if after else vn))
        tape.append((r, z, n, vn))
        h.append((1.0 - z) * n + z * hp)
    hs = np.stack(h[1:], axis=1)
    loss, dy = _softmax_loss(hs @ p.Wyh + p.by, targets)
    g = {k: np.zeros_like(v) for k, v in p.as_dict().items() if k != "reset"}
    g["X"] = np.zeros_like(X)
    dh = np.zeros_like(h0)
    for t in reversed(range(T)):
        r, z, n, vn = tape[t]
        x, hp = X[:, t], h[t]
        dh = dh + dy[:, t] @ p.Wyh.T
        g["Wyh"] += hs[:, t].T @ dy[:, t]
        g["by"] += dy[:, t].sum(axis=0)
        dn = dh * (1.0 - z) * (1.0 - n**2)  # dL/d(pre-activation of n)
        dz = dh * (hp - n) * z * (1.0 - z)
        if after:
            dr = dn * vn * r * (1.0 - r)
            dvn = dn * r  # dL/d(h W_hn + b_hn)
            dh_prev = dvn @ Wh["n"].T
            n_input = hp
        else:
            drh = dn @ Wh["n"].T  # dL/d(r ⊙ h_{t-1})
            dr = drh * hp * r * (1.0 - r)
            dvn = dn
            dh_prev = drh * r
            n_input = r * hp
        du = np.concatenate([dr, dz, dn], axis=1)
        dv = np.concatenate([dr, dz, dvn], axis=1)
        g["Wx"] += x.T @ du
        g["bx"] += du.sum(axis=0)
        g["bh"] += dv.sum(axis=0)
        g["Wh"] += np.concatenate([hp.T @ dr, hp.T @ dz, n_input.T @ dvn], axis=1)
        g["X"][:, t] = du @ p.Wx.T
        dh = dh_prev + dr @ Wh["r"].T + dz @ Wh["z"].T + dh * z
    g["h0"] = dh
    return loss, g


CASES = ["vanilla", "residual", "lstm", "gru-after", "gru-before"]


def _case(name: str, seed: int = 0):  # type: ignore[no-untyped-def]
    N, T, D, H, V = 3, 12, 4, 5, 6
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, T, D))
    targets = rng.integers(0, V, size=(N, T))
    h0 = 0.3 * rng.standard_normal((N, H))
    if name in ("vanilla", "residual"):
        p = rnnnum.init_spectral(D, H, V, rng, sigma_max=0.9)
        p = p.replace(bh=0.1 * rng.standard_normal(H), Wxh=0.5 * p.Wxh)
        residual = name == "residual"
        ours = rnnnum.forward(p, X, targets, h0=h0, residual=residual)
        return p, ours, plain_vanilla(p, X, targets, h0, residual)
    if name == "lstm":
        p = rnnnum.init_lstm(D, H, V, rng, forget_bias=1.0)
        c0 = 0.3 * rng.standard_normal((N, H))
        ours = rnnnum.forward(p, X, targets, h0=h0, c0=c0)
        return p, ours, plain_lstm(p, X, targets, h0, c0)
    p = rnnnum.init_gru(D, H, V, rng).replace(reset=name.split("-")[1])
    p = p.replace(bx=0.1 * rng.standard_normal(3 * H), bh=0.1 * rng.standard_normal(3 * H))
    return p, rnnnum.forward(p, X, targets, h0=h0), plain_gru(p, X, targets, h0)


@pytest.mark.parametrize("name", CASES)
def test_forward_and_bptt_of_every_kernel_match_plain_loops(name, steps):
    params, cache, (loss, expected) = _case(name)
    np.testing.assert_allclose(cache.loss, loss, rtol=KERNEL_RTOL)
    grads = rnnnum.bptt(params, cache).as_dict()
    assert grads.keys() == expected.keys()
    for key, want in expected.items():
        atol = KERNEL_ATOL_SCALE * float(np.abs(want).max())
        np.testing.assert_allclose(
            grads[key], want, rtol=KERNEL_RTOL, atol=atol, err_msg=f"{name}: dL/d{key}"
        )


@pytest.mark.parametrize("name", CASES)
def test_a_sweeps_batch_sums_are_its_signals_summed(name, steps):
    """Each sweep sums every step's signals over the batch while the step is in the cache
    (`Signals.sums`, for the biases' gradients): the bits of the tapes' own sums."""
    params, cache, _ = _case(name)
    kernel = kernel_for(params)
    direct = as_step_tape(np.random.default_rng(1).standard_normal(cache.h.shape))
    signals = kernel.sweep(params, cache, direct, None)
    assert signals.sums is not None
    for side, kept in zip("uv", signals.sums, strict=True):
        np.testing.assert_array_equal(kept, step_sums(getattr(signals, side)), err_msg=side)
    kept_off = Signals(signals.u, signals.v, signals.initial)  # the sums taken from the tapes
    with_sums, without = (
        kernel.gradients(params, cache, signals),
        kernel.gradients(params, cache, kept_off),
    )
    for key, value in without.items():
        np.testing.assert_array_equal(with_sums[key], value, err_msg=key)


def test_the_registry_holds_one_kernel_per_parameter_type():
    assert set(KERNELS) == {rnnnum.RNNParams, rnnnum.LSTMParams, rnnnum.GRUParams}
    for kind, kernel in KERNELS.items():
        assert kernel.cache_type.__name__ in ("ForwardCache", "LSTMCache", "GRUCache")
        assert set(kernel.roles) <= set(kind.param_names)
    with pytest.raises(rnnnum.DTypeError, match=r"RNNParams, LSTMParams or GRUParams; got dict"):
        kernel_for({"Wxh": np.eye(2)})


#: The parameter, cache and tape types: an isinstance on one of them tells cells apart.
CELL_TYPES = {
    "RNNParams", "LSTMParams", "GRUParams", "ForwardCache", "LSTMCache", "GRUCache",
    "LSTMTape", "GRUTape",
}  # fmt: skip
#: Where such a test is input validation, not dispatch: a function written for one cell
#: refusing another (backward_signals, a gate's columns), a laboratory experiment
#: narrowing the type it built itself.
VALIDATION = {
    "rnnnum/components.py": 1, "rnnnum/lab/gated_shares.py": 1, "rnnnum/lab/gated.py": 1,
    "rnnnum/lab/resets.py": 1,
}  # fmt: skip


def cell_type_tests(root: Path = ROOT) -> dict[str, int]:
    """Per file of rnnnum: how many isinstance calls name a parameter, cache or tape type."""
    found: dict[str, int] = {}
    for path in sorted((root / "rnnnum").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                if names & CELL_TYPES:
                    key = path.relative_to(root).as_posix()
                    found[key] = found.get(key, 0) + 1
    return found


def test_the_registry_is_the_only_place_that_tells_the_cells_apart():
    assert cell_type_tests() == VALIDATION, (
        "an isinstance on a parameter, cache or tape type outside rnnnum.kernel.registry: "
        "ask the kernel (rnnnum.kernel.kernel_for(params)) instead"
    )
