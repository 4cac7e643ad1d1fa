r"""The forward pass, one step at a time, with each step's local derivatives named beside it.

For $t = 1, \dots, T$ (row vectors, batch first):

$$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\quad h_t = f(a_t),\quad
y_t = h_t W_{yh} + b_y,\quad L = \sum_{t=1}^{T} L_t(y_t).$$

With ``residual=True`` the state update is $h_t = h_{t-1} + f(a_t)$ instead (the
residual-through-time cell, `rnnnum.residual`); everything else is the same.

Local derivatives used by `rnnnum.bptt` (row convention: a row-vector gradient
is multiplied on the right):

- $\partial L_t / \partial y_t$: `rnnnum.losses` (``p_t - onehot`` or ``y_t - r_t``);
- $\partial y_t / \partial h_t$: multiply by $W_{yh}^\top$;
- $\partial h_t / \partial a_t = \mathrm{diag}(f'(a_t))$: multiply element-wise;
- $\partial a_t / \partial h_{t-1}$: multiply by $W_{hh}^\top$;
- $\partial a_t / \partial W_{xh}$, $\partial a_t / \partial W_{hh}$: outer products
  with $x_t$ and $h_{t-1}$.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from rnnnum._arith import (
    as_step_tape,
    frozen_record,
    memory_rows,
    step_rows,
    step_tape,
    with_cached,
)
from rnnnum._checks import FloatArray
from rnnnum._inputs import check_h0, check_targets, check_X
from rnnnum._overflow import OnOverflow, OverflowGuard
from rnnnum.gated import GRUCache, LSTMCache
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.kernel.registry import kernel_for
from rnnnum.losses import Loss, get_loss, probabilities_and_picked
from rnnnum.params import RNNParams
from rnnnum.vanilla import ForwardCache

__all__ = ["AnyCache", "AnyParams", "ForwardCache", "forward"]

#: Any of the three kinds of parameters `forward` accepts.
AnyParams = RNNParams | LSTMParams | GRUParams


def _readout(
    params: AnyParams, h: FloatArray, targets: NDArray[Any], loss_fn: Loss
) -> tuple[FloatArray, FloatArray | None, FloatArray]:
    """y_t = h_t W_yh + b_y for every step (N, T, V), p_t for cross-entropy, and L_1..L_T (T,).

    One matrix product over all N T rows: each row's arithmetic is its own, so a step
    gets the same y_t whatever T (as long as BLAS takes the same path for every row count).
    """
    N, T, _ = h.shape
    y = step_tape(N, T, params.V)  # step by step in memory, like the states' tape
    np.dot(step_rows(h), params.Wyh, out=memory_rows(y))  # y_t = h_t W_yh + b_y; ∂y_t/∂h_t = W_yh
    if not loss_fn.class_targets:
        y += params.by
        # L_t = ½ sum_n ||y_t - r_t||², summed per step as one block
        sq = (y.swapaxes(0, 1) - targets.swapaxes(0, 1)) ** 2
        return y, None, 0.5 * sq.reshape(T, -1).sum(1)
    p, picked = probabilities_and_picked(y, targets, bias=params.by)  # y += b_y on the way
    return y, p, -picked.reshape(T, N).sum(axis=1)  # log p_t[n, target], rows step by step


#: What `forward` returns for each kind of parameters.
AnyCache = ForwardCache | LSTMCache | GRUCache


@overload
def forward(
    params: RNNParams,
    X: Any,
    targets: Any,
    *,
    h0: Any = ...,
    c0: Any = ...,
    activation: str | None = ...,
    residual: bool = ...,
    loss: str = ...,
    on_overflow: OnOverflow = ...,
) -> ForwardCache: ...
@overload
def forward(
    params: LSTMParams,
    X: Any,
    targets: Any,
    *,
    h0: Any = ...,
    c0: Any = ...,
    activation: str | None = ...,
    residual: bool = ...,
    loss: str = ...,
    on_overflow: OnOverflow = ...,
) -> LSTMCache: ...
@overload
def forward(
    params: GRUParams,
    X: Any,
    targets: Any,
    *,
    h0: Any = ...,
    c0: Any = ...,
    activation: str | None = ...,
    residual: bool = ...,
    loss: str = ...,
    on_overflow: OnOverflow = ...,
) -> GRUCache: ...
@overload
def forward(
    params: AnyParams,
    X: Any,
    targets: Any,
    *,
    h0: Any = ...,
    c0: Any = ...,
    activation: str | None = ...,
    residual: bool = ...,
    loss: str = ...,
    on_overflow: OnOverflow = ...,
) -> AnyCache: ...
def forward(
    params: AnyParams,
    X: Any,
    targets: Any,
    *,
    h0: Any = None,
    c0: Any = None,
    activation: str | None = None,
    residual: bool = False,
    loss: str = "cross_entropy",
    on_overflow: OnOverflow = "raise",
) -> AnyCache:
    r"""Run the network over every step and keep what backpropagation needs.

    Args:
        params: `RNNParams` (vanilla), `LSTMParams` or `GRUParams`.
        X: inputs, (N, T, D), real.
        targets: integer class indices (N, T) for ``loss="cross_entropy"``; real
            vectors (N, T, V) for ``loss="mse"``.
        h0: initial state (N, H); zeros if None.
        c0: the LSTM's initial cell state (N, H); zeros if None. LSTM only.
        activation: the vanilla cell's $f$, one of ``tanh`` (the default, also for None),
            ``sigmoid``, ``relu``, ``leaky_relu``, ``identity``. The gated cells fix
            their own (sigmoid gates, tanh candidate), so passing one with them is an error.
        residual: if True, the residual-through-time cell $h_t = h_{t-1} + f(a_t)$
            (`rnnnum.residual`), recorded as ``cache.residual`` for every later stage.
            Vanilla cell only: True with `LSTMParams` or `GRUParams` raises
            `CellMismatchError`; anything but a bool raises `DTypeError`.
        loss: ``cross_entropy`` or ``mse``.
        on_overflow: ``"raise"`` (default) stops at the first inf/NaN with
            `NumericalOverflowError`; ``"warn"`` issues `NumericalOverflowWarning`
            and returns the non-finite values.

    Returns:
        A `ForwardCache` (vanilla), `LSTMCache` or `GRUCache`; ``cache.losses[t-1]`` is
        $L_t$ summed over the batch and ``cache.loss`` their sum.
    """
    kernel = kernel_for(params)
    options = kernel.configure(params, activation=activation, residual=residual, c0=c0)
    loss_fn = get_loss(loss)
    X = as_step_tape(check_X(X, params, kernel.input_weight))  # x_t: one block per step
    N, T, _ = X.shape
    targets = check_targets(targets, loss, N, T, params.V)
    initial = kernel.initial(params, check_h0(h0, N, params.H), c0, N)
    guard = OverflowGuard(on_overflow, "forward", kernel.forward_remedy)
    fields = kernel.forward(
        params, X, initial, options, lambda h: _readout(params, h, targets, loss_fn), guard
    )
    cached = fields.pop("cached", {})  # derived arrays the loop made on the way (h_prev)
    record: AnyCache = frozen_record(
        kernel.cache_type, params=params, X=X, targets=targets, loss_name=loss_fn.name, **fields
    )
    return with_cached(record, cached)
