r"""Truncated BPTT: each loss sends its gradient back at most `window` steps.

With a window of $w$ steps, loss $L_i$ contributes through steps
$k = i-w+1, \dots, i$ only; the terms of the expanded sum with $i - k \ge w$ are
dropped. ``window = 1`` keeps only the $k = i$ terms; ``window >= T`` is full BPTT.
"""

from __future__ import annotations

import numpy as np

from rnnnum._checks import positive_int
from rnnnum._overflow import BACKWARD_REMEDY, OnOverflow, OverflowGuard
from rnnnum.bptt import (
    Gradients,
    check_cache,
    checked_gradients,
    gradients_from_signals,
    output_signals,
)
from rnnnum.components import backward_signals
from rnnnum.forward import ForwardCache
from rnnnum.params import RNNParams

__all__ = ["truncated_bptt"]


def truncated_bptt(
    params: RNNParams, cache: ForwardCache, window: int, *, on_overflow: OnOverflow = "raise"
) -> Gradients:
    """Gradients keeping only the (i, k) terms with i - k < `window`; O(T * window) steps of work.

    Args:
        params: as for `rnnnum.bptt`.
        cache: as for `rnnnum.bptt`.
        window: how many steps back (counting step i itself) each loss L_i reaches; >= 1.
        on_overflow: as for `rnnnum.bptt`.
    """
    check_cache(params, cache)
    window = positive_int(window, "window")
    guard = OverflowGuard(on_overflow, "truncated_bptt", BACKWARD_REMEDY)
    dA = np.empty((cache.N, cache.T, params.H))
    dh0 = np.zeros((cache.N, params.H))
    with np.errstate(over="ignore", invalid="ignore"):
        for t, D in backward_signals(params, cache, window=window):
            dA[:, t] = D.sum(axis=0)  # dL/da_t restricted to the losses within the window
            guard.check(dA[:, t], f"dL/da_{t + 1}", t + 1, cache.T)
            if t == 0:
                dh0 = dA[:, 0] @ params.Whh.T
        grads = gradients_from_signals(params, cache, output_signals(cache), dA, dh0)
    return checked_gradients(guard, grads)
