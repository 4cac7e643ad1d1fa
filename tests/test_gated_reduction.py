"""An independent reduction: an LSTM whose gates are saturated open is a one-line cell.

With b_i = b_o = +SATURATE and b_f = -SATURATE the gates are i = o = 1 and f = 0 to the
last bit, so c_t = g_t and the LSTM becomes

    h_t = tanh(tanh(x_t W_xg + h_{t-1} W_hg + b_g)),

written below in one line with its own gradients taken by central differences. The
LSTM's states and its gradients for W_xg, W_hg, b_g, W_yh, b_y, X and h0 must match; the
saturated gates' blocks and c0 must receive exactly nothing (sigma' = sigma (1 - sigma) = 0).
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import assert_same

#: A bias that saturates a sigmoid in float64 even with |x W + h W| up to 40:
#: 1 - sigma(60) = e^-60 ~ 1e-26, far below the spacing of doubles near 1 (1.1e-16).
SATURATE = 100.0
#: The one-line cell's own finite differences: the error budget of rnnnum's checks.
FD_STEP, FD_RTOL, FD_ATOL = rnnnum.FD_STEP, rnnnum.FD_RTOL, rnnnum.FD_ATOL


def one_line_loss(Wxg, Whg, bg, Wyh, by, X, h0, targets):
    """sum_t L_t (cross-entropy) of h_t = tanh(tanh(x_t W_xg + h_{t-1} W_hg + b_g))."""
    h, total = h0, 0.0
    for t in range(X.shape[1]):
        h = np.tanh(np.tanh(X[:, t] @ Wxg + h @ Whg + bg))
        y = h @ Wyh + by
        logp = y - y.max(axis=1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
        total -= logp[np.arange(len(y)), targets[:, t]].sum()
    return total


def fd(args: dict, name: str) -> np.ndarray:
    grad = np.zeros_like(args[name])
    for idx in np.ndindex(grad.shape):
        up, down = {**args, name: args[name].copy()}, {**args, name: args[name].copy()}
        up[name][idx] += FD_STEP
        down[name][idx] -= FD_STEP
        grad[idx] = (one_line_loss(**up) - one_line_loss(**down)) / (2 * FD_STEP)
    return grad


@pytest.mark.parametrize("T", [1, 5])
def test_a_saturated_lstm_is_the_one_line_cell(rng, T):
    N, D, H, V = 2, 3, 4, 3
    params = rnnnum.init_lstm(D, H, V, rng)
    b = 0.3 * rng.standard_normal(4 * H)
    b[:H], b[H : 2 * H], b[2 * H : 3 * H] = SATURATE, -SATURATE, SATURATE  # i, f, o
    params = params.replace(b=b, by=0.3 * rng.standard_normal(V))
    X, h0 = rng.standard_normal((N, T, D)), 0.5 * rng.standard_normal((N, H))
    c0 = rng.standard_normal((N, H))  # forgotten at once: f = 0
    targets = rng.integers(0, V, size=(N, T))
    cache = rnnnum.forward(params, X, targets, h0=h0, c0=c0)
    np.testing.assert_array_equal(cache.i, 1.0)
    np.testing.assert_array_equal(cache.o, 1.0)
    np.testing.assert_array_equal(cache.f, 0.0)
    args = {"Wxg": params.Wxg.copy(), "Whg": params.Whg.copy(), "bg": params.bg.copy(),
            "Wyh": params.Wyh.copy(), "by": params.by.copy(), "X": X, "h0": h0,
            "targets": targets}  # fmt: skip
    h = h0
    for t in range(T):
        h = np.tanh(np.tanh(X[:, t] @ args["Wxg"] + h @ args["Whg"] + args["bg"]))
        assert_same(cache.h[:, t], h, f"h_{t + 1}")
    assert_same(cache.c, np.arctanh(cache.h), "c_t = g_t")
    assert cache.loss == pytest.approx(one_line_loss(**args), rel=1e-13)

    grads = rnnnum.bptt(params, cache)
    g_block = slice(3 * H, 4 * H)
    for ours, theirs in (
        (grads.Wx[:, g_block], "Wxg"), (grads.Wh[:, g_block], "Whg"), (grads.b[g_block], "bg"),
        (grads.Wyh, "Wyh"), (grads.by, "by"), (grads.X, "X"), (grads.h0, "h0"),
    ):  # fmt: skip
        np.testing.assert_allclose(ours, fd(args, theirs), rtol=FD_RTOL, atol=FD_ATOL,
                                   err_msg=theirs)  # fmt: skip
    for saturated in (grads.Wx[:, : 3 * H], grads.Wh[:, : 3 * H], grads.b[: 3 * H], grads.c0):
        np.testing.assert_array_equal(saturated, 0.0)
