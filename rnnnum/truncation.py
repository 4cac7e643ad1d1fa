r"""Truncated BPTT: each loss sends its gradient back at most `window` steps.

With a window of $w$ steps, loss $L_i$ contributes through steps
$k = i-w+1, \dots, i$ only; the terms of the expanded sum with $i - k \ge w$ are
dropped. ``window = 1`` keeps only the $k = i$ terms; ``window >= T`` is full BPTT. The
residual cell (``cache.residual``) is truncated the same way, term by term.
"""

from __future__ import annotations

from typing import overload

import numpy as np

from rnnnum._checks import positive_int
from rnnnum._overflow import BACKWARD_REMEDY, OnOverflow, OverflowGuard
from rnnnum.bptt import (
    AnyGradients,
    Gradients,
    check_cache,
    checked_gradients,
    direct_hidden_signals,
    gradients_from_signals,
    output_signals,
)
from rnnnum.components import signal_stream
from rnnnum.forward import AnyCache, AnyParams, ForwardCache
from rnnnum.gated import (
    GRUCache,
    GRUGradients,
    LSTMCache,
    LSTMGradients,
    gated_gradients,
    gated_signals,
)
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.params import RNNParams

__all__ = ["truncated_bptt"]


@overload
def truncated_bptt(
    params: RNNParams, cache: ForwardCache, window: int, *, on_overflow: OnOverflow = ...
) -> Gradients: ...
@overload
def truncated_bptt(
    params: LSTMParams, cache: LSTMCache, window: int, *, on_overflow: OnOverflow = ...
) -> LSTMGradients: ...
@overload
def truncated_bptt(
    params: GRUParams, cache: GRUCache, window: int, *, on_overflow: OnOverflow = ...
) -> GRUGradients: ...
@overload
def truncated_bptt(
    params: AnyParams, cache: AnyCache, window: int, *, on_overflow: OnOverflow = ...
) -> AnyGradients: ...
def truncated_bptt(
    params: AnyParams, cache: AnyCache, window: int, *, on_overflow: OnOverflow = "raise"
) -> AnyGradients:
    """Gradients keeping only the (i, k) terms with i - k < `window`; O(T * window) steps of work.

    Args:
        params: as for `rnnnum.bptt` (any cell).
        cache: as for `rnnnum.bptt`.
        window: how many steps back (counting step i itself) each loss L_i reaches; >= 1.
        on_overflow: as for `rnnnum.bptt`.
    """
    check_cache(params, cache)
    window = positive_int(window, "window")
    guard = OverflowGuard(on_overflow, "truncated_bptt", BACKWARD_REMEDY)
    if not isinstance(params, RNNParams):
        assert isinstance(cache, LSTMCache | GRUCache)
        return _truncated_gated(params, cache, window, guard)
    assert isinstance(cache, ForwardCache)
    dA = np.empty((cache.N, cache.T, params.H))
    dh0 = np.zeros((cache.N, params.H))
    with np.errstate(over="ignore", invalid="ignore"):
        for t, S, G in signal_stream(params, cache, "recursive", window):
            dA[:, t] = S.sum(axis=0)  # dL/da_t restricted to the losses within the window
            guard.check(dA[:, t], f"dL/da_{t + 1}", t + 1, cache.T)
            if t == 0:
                dh0 = dA[:, 0] @ params.Whh.T  # through a_1
                if G is not None:  # the residual cell: and through the skip of h_1
                    dh0 += G.sum(axis=0)
        grads = gradients_from_signals(params, cache, output_signals(cache), dA, dh0)
    return checked_gradients(guard, grads)


def _truncated_gated(
    params: LSTMParams | GRUParams, cache: LSTMCache | GRUCache, window: int, guard: OverflowGuard
) -> LSTMGradients | GRUGradients:
    """The gated cells: every loss within the window carried back by the cell's step function."""
    N, T, GH = cache.N, cache.T, params.Wx.shape[1]
    dU, dV = np.empty((N, T, GH)), np.empty((N, T, GH))
    dh0, dc0 = np.zeros((N, params.H)), np.zeros((N, params.H))
    with np.errstate(over="ignore", invalid="ignore"):
        direct = direct_hidden_signals(params, cache)
        for t, S in gated_signals(params, cache.tape, direct, window=window):
            dU[:, t], dV[:, t] = S.u.sum(axis=0), S.v.sum(axis=0)  # the losses in the window
            guard.check(dU[:, t], f"dL/du_{t + 1}", t + 1, T)
            if t == 0:
                dh0 = S.h_prev.sum(axis=0)
                if S.c_prev is not None:
                    dc0 = S.c_prev.sum(axis=0)
        grads = gated_gradients(
            params, cache.tape, output_signals(cache), dU, dV, dh0,
            dc0 if isinstance(params, LSTMParams) else None,
        )  # fmt: skip
    return checked_gradients(guard, grads)
