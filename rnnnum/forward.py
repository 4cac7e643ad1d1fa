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

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from rnnnum._arith import all_finite, frozen_record, pick_flat, rows
from rnnnum._checks import FloatArray, describe
from rnnnum._inputs import check_h0, check_targets, check_X
from rnnnum._overflow import OnOverflow, OverflowGuard, largest
from rnnnum.activations import get_activation
from rnnnum.errors import CellMismatchError, DTypeError
from rnnnum.gated import GRUCache, LSTMCache
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.gru import gru_forward
from rnnnum.losses import Loss, get_loss, log_softmax_and_probabilities
from rnnnum.lstm import lstm_forward
from rnnnum.params import RNNParams
from rnnnum.residual import check_residual, residual_states

__all__ = ["AnyCache", "AnyParams", "ForwardCache", "forward"]

#: Any of the three kinds of parameters `forward` accepts.
AnyParams = RNNParams | LSTMParams | GRUParams
_PARAM_TYPES = (RNNParams, LSTMParams, GRUParams)


@dataclass(frozen=True, eq=False)
class ForwardCache:
    r"""Everything the forward pass computed, kept for `rnnnum.bptt`.

    Time index: position ``t - 1`` of a (N, T, ...) array holds step t, so
    ``h[:, 0]`` is $h_1$; $h_0$ is the separate field ``h0``.

    Attributes:
        params: the parameters used (checked again by `bptt`).
        X: inputs, (N, T, D).
        targets: class indices (N, T) for cross-entropy, real vectors (N, T, V) for mse.
        h0: initial state, (N, H).
        activation: name of $f$.
        loss_name: name of the per-step loss.
        residual: True for the residual cell $h_t = h_{t-1} + f(a_t)$ (`rnnnum.residual`),
            False for the vanilla $h_t = f(a_t)$.
        a: pre-activations $a_1, \dots, a_T$, (N, T, H).
        h: hidden states $h_1, \dots, h_T$, (N, T, H).
        y: outputs (logits) $y_1, \dots, y_T$, (N, T, V).
        p: softmax probabilities (N, T, V) for cross-entropy; None for mse.
        losses: $L_1, \dots, L_T$, each summed over the batch, (T,).
        loss: $L$, the sum of `losses`.
    """

    params: RNNParams = field(repr=False)
    X: FloatArray = field(repr=False)
    targets: NDArray[Any] = field(repr=False)
    h0: FloatArray = field(repr=False)
    activation: str
    residual: bool
    loss_name: str
    a: FloatArray = field(repr=False)
    h: FloatArray = field(repr=False)
    y: FloatArray = field(repr=False)
    p: FloatArray | None = field(repr=False)
    losses: FloatArray = field(repr=False)
    loss: float

    @property
    def N(self) -> int:
        """Batch size."""
        return int(self.X.shape[0])

    @property
    def T(self) -> int:
        """Sequence length."""
        return int(self.X.shape[1])

    @cached_property
    def h_prev(self) -> FloatArray:
        r"""$h_0, \dots, h_{T-1}$: the state each step reads, (N, T, H); computed once,
        read-only."""
        return _read_only(np.concatenate([self.h0[:, None, :], self.h[:, :-1, :]], axis=1))

    @cached_property
    def fprime(self) -> FloatArray:
        r"""$f'(a_t)$ at every step, (N, T, H): the diagonal of $\partial h_t/\partial a_t$;
        computed once, read-only."""
        f = get_activation(self.activation)
        # The derivative reads f(a_t): h_t itself, except in the residual cell (h_{t-1} + f(a_t)).
        return _read_only(f.derivative(self.a, f.forward(self.a) if self.residual else self.h))


def _read_only(arr: FloatArray) -> FloatArray:
    arr.setflags(write=False)
    return arr


def _readout(
    params: AnyParams, h: FloatArray, targets: NDArray[Any], loss_fn: Loss
) -> tuple[FloatArray, FloatArray | None, FloatArray]:
    """y_t = h_t W_yh + b_y for every step (N, T, V), p_t for cross-entropy, and L_1..L_T (T,).

    One matrix product over all N T rows: each row's arithmetic is its own, so a step
    gets the same y_t whatever T (as long as BLAS takes the same path for every row count).
    """
    N, T, _ = h.shape
    y = np.empty((N, T, params.V))
    np.dot(rows(h), params.Wyh, out=rows(y))  # y_t = h_t W_yh + b_y; ∂y_t/∂h_t = W_yh
    if not loss_fn.class_targets:
        y += params.by
        sq = (y - targets) ** 2  # L_t = ½ sum_n ||y_t - r_t||², summed per step as one block
        return y, None, 0.5 * np.ascontiguousarray(sq.transpose(1, 0, 2)).reshape(T, -1).sum(1)
    logp, p = log_softmax_and_probabilities(y, bias=params.by)  # y += b_y on the way
    flat, index = pick_flat(logp, targets)
    picked = flat[index].reshape(N, T)  # log p_t[n, target_t[n]]
    return y, p, -np.ascontiguousarray(picked.T).sum(axis=1)


def _forward_gated(
    params: LSTMParams | GRUParams,
    X: FloatArray,
    targets: NDArray[Any],
    h0: FloatArray,
    c0: Any,
    loss_fn: Loss,
    guard: OverflowGuard,
) -> LSTMCache | GRUCache:
    """The gated cells' forward pass: the cell module's loop, then the vanilla read-out."""
    N, T, _ = X.shape
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(params, LSTMParams):
            c0 = check_h0(c0, N, params.H, "c0")
            tape: Any = lstm_forward(params.Wx, params.Wh, params.b, X, h0, c0)
            state, name = tape.c[:, 1:], "the cell state c_{t}"
        else:
            if c0 is not None:
                raise CellMismatchError(
                    "c0 is the LSTM's cell state; a GRU has the state h only; got c0 with "
                    "GRUParams. Pass the initial state as h0."
                )
            tape = gru_forward(params.Wx, params.Wh, params.bx, params.bh, X, h0, params.reset)
            state, name = tape.h[:, 1:], "the state h_{t}"
        y, p, losses = _readout(params, tape.h[:, 1:], targets, loss_fn)
    loss_total = float(losses.sum())  # finite only if every L_t is
    if not (math.isfinite(loss_total) and all_finite(state)):  # report the first bad step
        bad_state = ~np.isfinite(state).all(axis=(0, 2))
        t = int(np.argmax(bad_state | ~np.isfinite(losses)))
        if bad_state[t]:
            guard.check(state[:, t], name.format(t=t + 1), t + 1, T)
        guard.check(losses[t : t + 1], f"the loss L_{t + 1}", t + 1, T)
    common: dict[str, Any] = {
        "X": X, "targets": targets, "h0": h0, "loss_name": loss_fn.name,
        "y": y, "p": p, "losses": losses, "loss": loss_total,
    }  # fmt: skip
    if isinstance(params, LSTMParams):
        return frozen_record(LSTMCache, params=params, c0=c0, tape=tape, **common)
    return frozen_record(GRUCache, params=params, tape=tape, **common)


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
    if not isinstance(params, _PARAM_TYPES):
        raise DTypeError(
            f"params must be an RNNParams, LSTMParams or GRUParams; got {describe(params)}. "
            "Build one with rnnnum.init_params(...), rnnnum.init_lstm(...) or rnnnum.init_gru(...)."
        )
    if residual is not False:  # the common case costs one identity test
        residual = check_residual(residual, params)
    gated = not isinstance(params, RNNParams)
    if gated and activation is not None:
        raise CellMismatchError(
            f"activation applies to the vanilla cell only; the {params.cell} fixes its own "
            f"(sigmoid gates, tanh candidate); got activation={activation!r}. Drop the argument."
        )
    if not gated and c0 is not None:
        raise CellMismatchError(
            "c0 is the LSTM's cell state; the vanilla RNN has the state h only; got c0 with "
            "RNNParams. Pass the initial state as h0."
        )
    f = get_activation("tanh" if activation is None else activation)
    loss_fn = get_loss(loss)
    X = check_X(X, params)
    N, T, _ = X.shape
    targets = check_targets(targets, loss, N, T, params.V)
    h0 = check_h0(h0, N, params.H)
    if gated:
        assert isinstance(params, LSTMParams | GRUParams)
        guard = OverflowGuard(on_overflow, "forward", "Scale the inputs or weights down.")
        return _forward_gated(params, X, targets, h0, c0, loss_fn, guard)
    assert isinstance(params, RNNParams)
    guard = OverflowGuard(
        on_overflow,
        "forward",
        "Use a bounded activation (tanh, sigmoid) or a smaller recurrent matrix, e.g. "
        "rnnnum.init_spectral(..., sigma_max=0.9).",
    )

    Whh, bh, act = params.Whh, params.bh, f.forward
    with np.errstate(over="ignore", invalid="ignore"):  # the guard reports instead of NumPy
        if residual:  # h_t = h_{t-1} + f(a_t): the loop of rnnnum.residual
            a, h = residual_states(X, params.Wxh, Whh, bh, h0, act)
        else:
            ufunc = act if isinstance(act, np.ufunc) else None  # tanh: written into h_t
            a = np.empty((N, T, params.H))
            h = np.empty((N, T, params.H))
            hw = np.empty((N, params.H))
            h_prev = h0
            np.dot(rows(X), params.Wxh, out=rows(a))  # x_t W_xh, all steps in one product
            for t in range(T):
                a_t = a[:, t]
                np.dot(h_prev, Whh, out=hw)
                a_t += hw  # a_t = x_t W_xh + h_{t-1} W_hh + b_h, (N, H)
                a_t += bh
                h_prev = h[:, t]
                if ufunc is not None:  # (N, H); local derivative: ∂h_t/∂a_t = diag(f'(a_t))
                    ufunc(a_t, out=h_prev)
                else:
                    h_prev[...] = act(a_t)
        y, p, losses = _readout(params, h, targets, loss_fn)  # ∂L_t/∂y_t in losses.py
    loss_total = float(losses.sum())  # finite only if every L_t is
    if not (math.isfinite(loss_total) and all_finite(a)):  # report the first step that overflowed
        bad_a, bad_loss = ~np.isfinite(a).all(axis=(0, 2)), ~np.isfinite(losses)
        t = int(np.argmax(bad_a | bad_loss))
        states = np.concatenate([h0[:, None], h], axis=1)
        context = f"; largest |h_{t}| was {largest(states[:, t])}"
        guard.check(a[:, t], f"the pre-activation a_{t + 1}", t + 1, T, lambda: context)
        guard.check(losses[t : t + 1], f"the loss L_{t + 1}", t + 1, T)

    return frozen_record(
        ForwardCache,
        params=params,
        X=X,
        targets=targets,
        h0=h0,
        activation=f.name,
        residual=residual,
        loss_name=loss_fn.name,
        a=a,
        h=h,
        y=y,
        p=p,
        losses=losses,
        loss=loss_total,
    )
