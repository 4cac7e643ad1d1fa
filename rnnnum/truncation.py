r"""Truncated BPTT, in its two forms.

`truncated_bptt`, the per-loss window: with a window of $w$ steps, loss $L_i$
contributes through steps $k = i-w+1, \dots, i$ only; the terms of the expanded sum
with $i - k \ge w$ are dropped. ``window = 1`` keeps only the $k = i$ terms;
``window >= T`` is full BPTT. The residual cell (``cache.residual``) is truncated the
same way, term by term.

`chunked_bptt`, what frameworks do: the sequence is run in chunks of $k$ steps and the
state carried into the next chunk is detached (a constant there), so $L_i$ reaches
back only to the first step of its own chunk: 1 to $k$ steps depending on where $i$
falls in the chunk.
"""

from __future__ import annotations

from typing import overload

import numpy as np

from rnnnum._arith import step_tape
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
from rnnnum.gated import GRUCache, GRUGradients, LSTMCache, LSTMGradients
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.kernel.protocol import Signals
from rnnnum.params import RNNParams

__all__ = ["chunked_bptt", "truncated_bptt"]


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
        window: how many steps back (counting step $i$ itself) each loss $L_i$ reaches;
            at least 1.
        on_overflow: as for `rnnnum.bptt`.
    """
    kernel = check_cache(params, cache)
    window = positive_int(window, "window")
    guard = OverflowGuard(on_overflow, "truncated_bptt", BACKWARD_REMEDY)
    N, T, gH = cache.N, cache.T, getattr(params, kernel.input_weight).shape[1]
    dU = step_tape(N, T, gH)  # laid out as bptt's signals: the same sums, in the same order
    dV = dU  # one array where the cell has one pre-activation (vanilla, LSTM)
    initial = {f"{state}0": np.zeros((N, params.H)) for state in kernel.states}
    with np.errstate(over="ignore", invalid="ignore"):
        for t, S in signal_stream(params, cache, "recursive", window):
            dU[:, t] = S.u.sum(axis=0)  # the signal restricted to the losses within the window
            if S.v is not S.u:
                if dV is dU:
                    dV = step_tape(N, T, gH)
                dV[:, t] = S.v.sum(axis=0)
            guard.check(dU[:, t], f"dL/d{kernel.signal}_{t + 1}", t + 1, T)
            if t == 0:  # what reaches the initial states, through every path
                initial["h0"] = S.h_prev.sum(axis=0)
                if S.c_prev is not None:
                    initial["c0"] = S.c_prev.sum(axis=0)
        signals = Signals(dU, dV, initial)
        grads = gradients_from_signals(kernel, params, cache, output_signals(cache), signals)
    return checked_gradients(guard, grads)


@overload
def chunked_bptt(
    params: RNNParams, cache: ForwardCache, every: int, *, on_overflow: OnOverflow = ...
) -> Gradients: ...
@overload
def chunked_bptt(
    params: LSTMParams, cache: LSTMCache, every: int, *, on_overflow: OnOverflow = ...
) -> LSTMGradients: ...
@overload
def chunked_bptt(
    params: GRUParams, cache: GRUCache, every: int, *, on_overflow: OnOverflow = ...
) -> GRUGradients: ...
@overload
def chunked_bptt(
    params: AnyParams, cache: AnyCache, every: int, *, on_overflow: OnOverflow = ...
) -> AnyGradients: ...
def chunked_bptt(
    params: AnyParams, cache: AnyCache, every: int, *, on_overflow: OnOverflow = "raise"
) -> AnyGradients:
    r"""Gradients when the state is detached every `every` steps, as frameworks truncate.

    The forward pass runs in chunks of $k$ = `every` steps, $[1, k], [k+1, 2k], \dots$;
    the state that enters chunk $m + 1$ ($h$, and the LSTM's $c$) is held constant there
    (in PyTorch, ``h = h.detach()`` between chunks). Each chunk is then an ordinary BPTT
    problem, and the gradients of all chunks are summed. In terms of the expanded sum,
    the term $(i, k')$ is kept when steps $i$ and $k'$ lie in the same chunk: loss $L_i$
    reaches back $1$ to $k$ steps, depending on its place in the chunk, where
    `truncated_bptt` with ``window = k`` lets every loss reach back $k$ steps. In the
    row convention of `rnnnum.bptt`, the reverse sweep is the usual one, e.g. for the
    vanilla cell

    $$\frac{dL}{dh_t} = \frac{\partial L_t}{\partial y_t} W_{yh}^\top
      + \frac{dL}{da_{t+1}} W_{hh}^\top, \qquad
      \frac{dL}{da_t} = \frac{dL}{dh_t} \operatorname{diag}(f'(a_t)),$$

    with everything that reaches the state of step $t$ through step $t+1$ dropped when
    $t$ is the last step of a chunk (the second term above, the residual cell's skip,
    the LSTM's $\mathrm{d}L/\mathrm{d}c_t$ through $c_{t+1}$). Every cell takes the same
    sweep, through its kernel's step back. ``every = 1`` keeps only the $k' = i$ terms;
    ``every >= T`` is full BPTT. The initial states enter the first chunk, so
    ``grads.h0`` (and ``c0``) is their gradient through that chunk.

    Args:
        params: as for `rnnnum.bptt` (any cell).
        cache: what `rnnnum.forward` returned for `params`; ``X`` is (N, T, D).
        every: the chunk length k, an integer >= 1.
        on_overflow: as for `rnnnum.bptt`.

    Returns:
        The gradients `rnnnum.bptt` returns for this cell, with the chunks' terms only.
    """
    kernel = check_cache(params, cache)
    every = positive_int(every, "every")
    guard = OverflowGuard(on_overflow, "chunked_bptt", BACKWARD_REMEDY)
    N, T, H, gH = cache.N, cache.T, params.H, getattr(params, kernel.input_weight).shape[1]
    dU = step_tape(N, T, gH)  # laid out as bptt's signals: the same sums, in the same order
    dV = dU  # one array where the cell has one pre-activation (vanilla, LSTM)
    step = kernel.stepper(params, cache)
    with np.errstate(over="ignore", invalid="ignore"):
        direct = direct_hidden_signals(params, cache)  # what L_t sends into h_t through y_t
        dh_next = np.zeros((1, N, H))  # dL/dh_t through step t+1 (one row: all losses)
        dc_next = np.zeros((1, N, H)) if "c" in kernel.states else None  # ... dL/dc_t
        for t in reversed(range(T)):
            if (t + 1) % every == 0:  # h_{t+1} starts a chunk: it holds the state fixed
                dh_next = np.zeros_like(dh_next)
                dc_next = None if dc_next is None else np.zeros_like(dc_next)
            S = step(t, direct[None, :, t] + dh_next, dc_next)
            dU[:, t] = S.u[0]
            if S.v is not S.u:
                if dV is dU:
                    dV = step_tape(N, T, gH)
                dV[:, t] = S.v[0]
            guard.check(dU[:, t], f"dL/d{kernel.signal}_{t + 1}", t + 1, T)
            dh_next, dc_next = S.h_prev, S.c_prev
        initial = {"h0": dh_next[0]}
        if dc_next is not None:
            initial["c0"] = dc_next[0]
        signals = Signals(dU, dV, initial)
        grads = gradients_from_signals(kernel, params, cache, output_signals(cache), signals)
    return checked_gradients(guard, grads)
