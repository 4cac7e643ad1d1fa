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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import overload

import numpy as np

from rnnnum._arith import all_finite, contract_steps, frozen_record, pick_flat, rows_times
from rnnnum._checks import FloatArray, describe
from rnnnum._overflow import BACKWARD_REMEDY, OnOverflow, OverflowGuard
from rnnnum.activations import get_activation
from rnnnum.errors import DTypeError, MismatchedCacheError
from rnnnum.forward import AnyCache, AnyParams, ForwardCache
from rnnnum.gated import GRUCache, GRUGradients, LSTMCache, LSTMGradients, gated_gradients
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.gru import gru_backward
from rnnnum.losses import get_loss
from rnnnum.lstm import lstm_backward
from rnnnum.params import GRADIENT_NAMES, PARAM_NAMES, RNNParams
from rnnnum.residual import state_sweep

__all__ = ["AnyGradients", "Gradients", "bptt", "direct_hidden_signals", "output_signals"]


@dataclass(frozen=True, eq=False)
class Gradients:
    """Gradients of the total loss $L$, one array per quantity, each shaped like it.

    Attributes:
        Wxh (D, H), Whh (H, H), Wyh (H, V), bh (H,), by (V,): parameter gradients.
        X (N, T, D): gradient with respect to every input $x_t$.
        h0 (N, H): gradient with respect to the initial state.
    """

    Wxh: FloatArray = field(repr=False)
    Whh: FloatArray = field(repr=False)
    Wyh: FloatArray = field(repr=False)
    bh: FloatArray = field(repr=False)
    by: FloatArray = field(repr=False)
    X: FloatArray = field(repr=False)
    h0: FloatArray = field(repr=False)

    def as_dict(self) -> dict[str, FloatArray]:
        """All seven arrays by name, in `GRADIENT_NAMES` order."""
        return {name: getattr(self, name) for name in GRADIENT_NAMES}

    def parameters(self) -> dict[str, FloatArray]:
        """The five parameter gradients by name (what an optimiser updates)."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    def __repr__(self) -> str:
        norms = ", ".join(f"|{k}|={np.linalg.norm(v):.3g}" for k, v in self.as_dict().items())
        return f"Gradients({norms})"


#: What `bptt` returns for each kind of parameters.
AnyGradients = Gradients | LSTMGradients | GRUGradients
_CACHE_TYPES: dict[type, type] = {
    RNNParams: ForwardCache,
    LSTMParams: LSTMCache,
    GRUParams: GRUCache,
}


def check_cache(params: AnyParams, cache: AnyCache) -> None:
    """Raise unless `cache` is what `forward` returned for these `params`."""
    if type(params) not in _CACHE_TYPES:
        raise DTypeError(
            f"params must be an RNNParams, LSTMParams or GRUParams; got {describe(params)}."
        )
    want = _CACHE_TYPES[type(params)]
    if not isinstance(cache, want):
        raise DTypeError(
            f"cache must be the {want.__name__} returned by rnnnum.forward for "
            f"{type(params).__name__}; got {describe(cache)}."
        )
    other: AnyParams = cache.params
    if params is not other and not params.same_as(other):  # type: ignore[arg-type]
        gru = isinstance(params, GRUParams) and isinstance(other, GRUParams)
        if gru and params.reset != other.reset:  # type: ignore[union-attr]
            raise MismatchedCacheError(
                f"the cache comes from a GRU with reset={other.reset!r}, these parameters "  # type: ignore[union-attr]
                f"have reset={params.reset!r}. Call rnnnum.forward(params, ...) again."  # type: ignore[union-attr]
            )
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


def output_signals(cache: AnyCache) -> FloatArray:
    """∂L_t/∂y_t for every step, (N, T, V): ``p_t - onehot`` or ``y_t - r_t``.

    For cross-entropy p_t is taken from the cache, not computed again.
    """
    if cache.p is None:
        return get_loss(cache.loss_name).gradient(cache.y, cache.targets)
    dY = cache.p.copy()
    flat, index = pick_flat(dY, cache.targets)
    flat[index] -= 1.0  # p_t - onehot(target_t), the arithmetic of rnnnum.losses
    return dY


def direct_hidden_signals(params: AnyParams, cache: AnyCache) -> FloatArray:
    """What L_t sends into h_t through y_t only (not through later states), (N, T, H):
    ∂L_t/∂y_t W_yhᵀ (∂y_t/∂h_t = W_yh)."""
    return rows_times(output_signals(cache), params.Wyh.T)


def gradients_from_signals(
    params: RNNParams, cache: ForwardCache, dY: FloatArray, dA: FloatArray, dh0: FloatArray
) -> Gradients:
    """Assemble every gradient from ∂L_t/∂y_t (N, T, V), dL/da_t (N, T, H) and dL/dh_0 (N, H).

    Each line is a sum over steps t (and the batch) of a local derivative times a signal.
    """
    return frozen_record(
        Gradients,
        Wxh=contract_steps(cache.X, dA),  # sum_t x_t^T dL/da_t                  (D, H)
        Whh=contract_steps(cache.h_prev, dA),  # sum_t h_{t-1}^T dL/da_t          (H, H)
        Wyh=contract_steps(cache.h, dY),  # sum_t h_t^T ∂L_t/∂y_t                 (H, V)
        bh=dA.sum(axis=(0, 1)),  # sum_t dL/da_t                                  (H,)
        by=dY.sum(axis=(0, 1)),  # sum_t ∂L_t/∂y_t                                (V,)
        X=rows_times(dA, params.Wxh.T),  # dL/dx_t = dL/da_t W_xh^T           (N, T, D)
        h0=dh0,  # dL/dh_0 = dL/da_1 W_hh^T                                       (N, H)
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
    check_cache(params, cache)
    guard = OverflowGuard(on_overflow, "bptt", BACKWARD_REMEDY)
    if not isinstance(params, RNNParams):
        assert isinstance(cache, LSTMCache | GRUCache)
        return _bptt_gated(params, cache, guard)
    assert isinstance(cache, ForwardCache)
    dY = output_signals(cache)  # ∂L_t/∂y_t, (N, T, V)
    with np.errstate(over="ignore", invalid="ignore"):
        dA, dh0 = _sweep(params, cache, dY, None)
        grads = gradients_from_signals(params, cache, dY, dA, dh0)
        # One check of every result: b_h sums dL/da_t and h0 is dL/dh_0, so finite
        # gradients mean finite signals too; only a failure looks closer.
        if all_finite(*grads.as_dict().values()):
            return grads
        if not (np.isfinite(dA).all() and np.isfinite(dh0).all()):
            dA, dh0 = _sweep(params, cache, dY, guard)  # again, to say where
            grads = gradients_from_signals(params, cache, dY, dA, dh0)
    return checked_gradients(guard, grads)


def _fprime_at(cache: ForwardCache) -> Callable[[int, FloatArray], FloatArray]:
    """f'(a_t) of one 0-based step, (N, H): the cached array's slice if `cache.fprime` was
    computed, else computed for that step alone (the same arithmetic, element by element)."""
    if "fprime" in cache.__dict__:  # the cached_property has run
        fprime = cache.fprime
        return lambda t, _: fprime[:, t]
    h = cache.h
    if cache.activation == "tanh" and not cache.residual:

        def tanh_prime(t: int, buf: FloatArray) -> FloatArray:
            np.multiply(h[:, t], h[:, t], out=buf)  # 1 - h_t², as activations.py writes it
            return np.subtract(1.0, buf, out=buf)

        return tanh_prime
    f, a = get_activation(cache.activation), cache.a
    if cache.residual:  # f reads f(a_t), not h_t = h_{t-1} + f(a_t)
        return lambda t, _: f.derivative(a[:, t], f.forward(a[:, t]))
    return lambda t, _: f.derivative(a[:, t], h[:, t])


def _sweep(
    params: RNNParams, cache: ForwardCache, dY: FloatArray, guard: OverflowGuard | None
) -> tuple[FloatArray, FloatArray]:
    """dL/da_t (N, T, H) and dL/dh_0 (N, H); with a `guard`, stop at the first inf/NaN.

    The loop runs without checks first (one test of the result afterwards); only a
    result that overflowed is swept again with the guard, to name the step.
    """
    direct = rows_times(dY, params.Wyh.T)  # ∂L_t/∂y_t W_yhᵀ (∂y_t/∂h_t = W_yh), all steps
    return state_sweep(params.Whh, direct, _fprime_at(cache), cache.residual, guard)


def _bptt_gated(
    params: LSTMParams | GRUParams, cache: LSTMCache | GRUCache, guard: OverflowGuard
) -> LSTMGradients | GRUGradients:
    """The gated cells' reverse sweep (`rnnnum.lstm`, `rnnnum.gru`), then every gradient."""
    dY = output_signals(cache)  # ∂L_t/∂y_t, (N, T, V)
    with np.errstate(over="ignore", invalid="ignore"):
        direct = rows_times(dY, params.Wyh.T)  # ∂L_t/∂y_t W_yhᵀ, (N, T, H)
        dc0 = None
        if isinstance(cache, LSTMCache):
            dU, dh0, dc0 = lstm_backward(params.Wh, cache.tape, direct)
            dV = dU  # one pre-activation a_t: δ_t = dL/da_t
        else:
            dU, dV, dh0 = gru_backward(params.Wh, cache.tape, direct)
        grads = gated_gradients(params, cache.tape, dY, dU, dV, dh0, dc0)
        # One check of every result: the biases sum dL/du_t and dL/dv_t (the LSTM's
        # dV is dU), so finite gradients mean finite signals; only a failure looks closer.
        if all_finite(*grads.as_dict().values()):
            return grads
        bad = ~(np.isfinite(dU).all(axis=(0, 2)) & np.isfinite(dV).all(axis=(0, 2)))
        if bad.any():  # the last bad step is where the backward sweep first overflowed
            t = int(np.flatnonzero(bad)[-1])
            guard.check(dU[:, t] * dV[:, t], f"dL/da_{t + 1}", t + 1, cache.T)
    return checked_gradients(guard, grads)
