r"""Backpropagation through time: the usual reverse loop that carries ``dh_next``.

Walking back from $t = T$ to $1$, the total derivative of $L$ with respect to
$h_t$ has two parts, the direct one through $y_t$ and the one through $h_{t+1}$:

$$\frac{dL}{dh_t} = \frac{\partial L_t}{\partial y_t} W_{yh}^\top
  + \frac{dL}{da_{t+1}} W_{hh}^\top ,\qquad
  \frac{dL}{da_t} = \frac{dL}{dh_t} \odot f'(a_t).$$

The residual cell ($h_t = h_{t-1} + f(a_t)$, ``forward(..., residual=True)``) adds
the skip to the second part, $\mathrm{d}L/\mathrm{d}h_{t+1}$ itself
(`rnnnum.residual`); every formula below is the same for both cells.

Every parameter gradient is then a sum over steps of the local derivative of
$a_t$ (or $y_t$) times these signals, e.g.
$dL/dW_{xh} = \sum_t x_t^\top \, dL/da_t$.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np

from rnnnum._arith import (
    all_finite,
    contract_steps,
    frozen_record,
    pick_flat,
    rows_times,
    tape_copy,
)
from rnnnum._checks import FloatArray, describe
from rnnnum._overflow import BACKWARD_REMEDY, OnOverflow, OverflowGuard
from rnnnum.errors import DTypeError, MismatchedCacheError
from rnnnum.forward import AnyCache, AnyParams, ForwardCache
from rnnnum.gated import GRUCache, GRUGradients, LSTMCache, LSTMGradients
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.kernel.protocol import Kernel, Signals
from rnnnum.kernel.registry import kernel_for
from rnnnum.losses import get_loss
from rnnnum.params import RNNParams
from rnnnum.vanilla import Gradients

__all__ = ["AnyGradients", "Gradients", "bptt", "direct_hidden_signals", "output_signals"]


#: What `bptt` returns for each kind of parameters.
AnyGradients = Gradients | LSTMGradients | GRUGradients


def check_cache(params: AnyParams, cache: AnyCache) -> Kernel:
    """The kernel of `params`; raise unless `cache` is what `forward` returned for them."""
    try:
        kernel = kernel_for(params)
    except DTypeError:
        raise DTypeError(
            f"params must be an RNNParams, LSTMParams or GRUParams; got {describe(params)}."
        ) from None
    if not isinstance(cache, kernel.cache_type):
        raise DTypeError(
            f"cache must be the {kernel.cache_type.__name__} returned by rnnnum.forward for "
            f"{type(params).__name__}; got {describe(cache)}."
        )
    other: Any = cache.params
    if params is not other and not params.same_as(other):
        why = kernel.mismatch(params, other)
        if why is not None:
            raise MismatchedCacheError(why)
        changed = [
            name
            for name, (a, b) in zip(
                params.param_names,
                zip(params.as_dict().values(), other.as_dict().values(), strict=True),
                strict=True,
            )
            if a.shape != b.shape or not np.array_equal(a, b)
        ]
        raise MismatchedCacheError(
            "the cache must come from forward() with the same parameters; these differ: "
            f"{', '.join(changed)}. Call rnnnum.forward(params, ...) again with the new parameters."
        )
    return kernel


def output_signals(cache: AnyCache) -> FloatArray:
    """∂L_t/∂y_t for every step, (N, T, V): ``p_t - onehot`` or ``y_t - r_t``.

    For cross-entropy p_t is taken from the cache, not computed again.
    """
    if cache.p is None:
        return get_loss(cache.loss_name).gradient(cache.y, cache.targets)
    dY = tape_copy(cache.p)  # the layout of p: a step tape stays one
    flat, index = pick_flat(dY, cache.targets)
    flat[index] -= 1.0  # p_t - onehot(target_t), the arithmetic of rnnnum.losses
    return dY


def direct_hidden_signals(params: AnyParams, cache: AnyCache) -> FloatArray:
    """What L_t sends into h_t through y_t only (not through later states), (N, T, H):
    ∂L_t/∂y_t W_yhᵀ (∂y_t/∂h_t = W_yh)."""
    return rows_times(output_signals(cache), params.Wyh.T)


def gradients_from_signals(
    kernel: Kernel, params: AnyParams, cache: AnyCache, dY: FloatArray, signals: Signals
) -> AnyGradients:
    """Assemble every gradient from ∂L_t/∂y_t (N, T, V) and the sweep's signals.

    Each line is a sum over steps t (and the batch) of a local derivative times a signal;
    the cell's own parameters are its kernel's.
    """
    return frozen_record(
        kernel.gradients_type,
        **kernel.gradients(params, cache, signals),
        Wyh=contract_steps(cache.h, dY),  # sum_t h_t^T ∂L_t/∂y_t                 (H, V)
        by=dY.sum(axis=(0, 1)),  # sum_t ∂L_t/∂y_t                                (V,)
        X=rows_times(signals.u, getattr(params, kernel.input_weight).T),  # dL/du_t W_x^T
        **signals.initial,  # dL/dh_0 (and dL/dc_0)                               (N, H)
    )


def checked_gradients[G: AnyGradients](guard: OverflowGuard, grads: G) -> G:
    """`grads` after reporting any gradient that overflowed in its sum over steps."""
    for name, value in grads.as_dict().items():
        guard.check_total(value, f"the gradient dL/d{name}")
    return grads


@overload
def bptt(params: RNNParams, cache: ForwardCache, *, on_overflow: OnOverflow = ...) -> Gradients: ...
@overload
def bptt(
    params: LSTMParams, cache: LSTMCache, *, on_overflow: OnOverflow = ...
) -> LSTMGradients: ...
@overload
def bptt(params: GRUParams, cache: GRUCache, *, on_overflow: OnOverflow = ...) -> GRUGradients: ...
@overload
def bptt(params: AnyParams, cache: AnyCache, *, on_overflow: OnOverflow = ...) -> AnyGradients: ...
def bptt(params: AnyParams, cache: AnyCache, *, on_overflow: OnOverflow = "raise") -> AnyGradients:
    r"""Gradients of $L = \sum_t L_t$ for every parameter, every input and `h0`, in one reverse
    sweep.

    Args:
        params: the parameters given to `rnnnum.forward` (checked): `RNNParams`,
            `LSTMParams` or `GRUParams`.
        cache: what `rnnnum.forward` returned.
        on_overflow: ``"raise"`` stops at the first inf/NaN signal with
            `NumericalOverflowError`; ``"warn"`` warns and carries on.

    Returns:
        `Gradients` with fields ``Wxh, Whh, Wyh, bh, by, X, h0`` for the vanilla cell
        (residual or not, as ``cache.residual`` says);
        `LSTMGradients` (``Wx, Wh, b, Wyh, by, X, h0, c0``) or `GRUGradients`
        (``Wx, Wh, bx, bh, Wyh, by, X, h0``) for the gated cells.
    """
    kernel = check_cache(params, cache)
    guard = OverflowGuard(on_overflow, "bptt", BACKWARD_REMEDY)
    dY = output_signals(cache)  # ∂L_t/∂y_t, (N, T, V)
    WyhT = params.Wyh.T
    with np.errstate(over="ignore", invalid="ignore"):
        # ∂L_t/∂y_t W_yhᵀ (∂y_t/∂h_t = W_yh), all steps: the sweep may write over it
        signals = kernel.sweep(params, cache, rows_times(dY, WyhT), None)
        grads = gradients_from_signals(kernel, params, cache, dY, signals)
        # One check of every result: the biases sum the signals and h0 is dL/dh_0, so
        # finite gradients mean finite signals too; only a failure looks closer.
        if all_finite(*grads.as_dict().values()):
            return grads
        if not signals.finite():  # again, to say where
            signals = kernel.sweep(params, cache, rows_times(dY, WyhT), guard)
            grads = gradients_from_signals(kernel, params, cache, dY, signals)
    return checked_gradients(guard, grads)
