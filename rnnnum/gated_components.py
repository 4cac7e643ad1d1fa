r"""The expanded sum for the gated cells: one term per loss $L_i$ and step $k \le i$.

As for the vanilla cell (`rnnnum.components`), component ``(i, k)`` is the derivative
of $L_i$ with respect to the copy of a quantity used at step k. Every weight and bias
of the cell enters step k through one of the two sides of the gates' pre-activation,
so each term is a local derivative times a signal of `rnnnum.gated.gated_signals`:

$$\frac{dL}{dW_x} = \sum_{i=1}^{T}\sum_{k=1}^{i} x_k^\top\,\frac{dL_i}{du_k},\qquad
\frac{dL}{dW_h} = \sum_{i}\sum_{k \le i} h_{k-1}^\top\,\frac{dL_i}{dv_k},$$

with $u_k = x_k W_x + b$ (LSTM: $dL_i/du_k = dL_i/dv_k = \delta_{i,k} = dL_i/da_k$),
and for the GRU with ``reset="before"`` the n block of $W_h$ multiplies
$r_k \odot h_{k-1}$ instead. ``h0`` (and the LSTM's ``c0``) are read by step 1 only;
``Wyh`` and ``by`` only by $y_i$, so they have (i, i) terms alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from rnnnum._checks import FloatArray
from rnnnum._terms import outer_norms, readout_terms, row_norms
from rnnnum.bptt import direct_hidden_signals
from rnnnum.gated import GRUCache, LSTMCache, StepSignals, gated_signals
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.gru import GRUTape, gru_wh_inputs

__all__ = ["gated_component_norms", "gated_components", "term_shape"]

GatedParams = LSTMParams | GRUParams
GatedCache = LSTMCache | GRUCache
_READOUT = ("Wyh", "by")


def term_shape(params: GatedParams, cache: GatedCache, wrt: str) -> tuple[int, ...]:
    """The shape of one component of dL/d`wrt`: the quantity's, or one step's slice of X."""
    if wrt == "X":
        return (cache.N, params.D)
    if wrt in ("h0", "c0"):
        return (cache.N, params.H)
    return tuple(getattr(params, wrt).shape)


def _wh_inputs(cache: GatedCache, t: int) -> tuple[FloatArray, FloatArray | None]:
    """What W_h multiplies at step t, (N, H), and for GRU "before" the n block's own input."""
    if isinstance(cache.tape, GRUTape) and cache.tape.reset == "before":
        u_rz, u_n = gru_wh_inputs(cache.tape)
        return u_rz[:, t], u_n[:, t]
    return cache.h_prev[:, t], None


def _step_terms(  # noqa: PLR0911 (one return per quantity: the list of local derivatives)
    wrt: str, t: int, S: StepSignals, cache: GatedCache, params: GatedParams
) -> FloatArray:
    """Components (i, t+1) for the losses of `S`, (I, *shape)."""
    if wrt == "Wx":
        return np.matmul(cache.X[:, t].T, S.u)  # x_kᵀ dL_i/du_k, (I, D, GH)
    if wrt == "Wh":
        u, u_n = _wh_inputs(cache, t)
        if u_n is None:
            return np.matmul(u.T, S.v)  # h_{k-1}ᵀ dL_i/dv_k, (I, H, GH)
        H = params.H
        return np.concatenate(
            [np.matmul(u.T, S.v[..., : 2 * H]), np.matmul(u_n.T, S.v[..., 2 * H :])], axis=-1
        )
    if wrt in ("b", "bx"):
        return S.u.sum(axis=1)
    if wrt == "bh":
        return S.v.sum(axis=1)
    if wrt == "X":
        return S.u @ params.Wx.T  # dL_i/dx_k, (I, N, D)
    if wrt == "h0":
        return S.h_prev  # dL_i/dh_0
    assert S.c_prev is not None
    return S.c_prev  # c0: dL_i/dc_0


def gated_components(params: GatedParams, cache: GatedCache, wrt: str) -> FloatArray:
    """All (i, k) components of dL/d`wrt`, (T, T, *shape); checks are the caller's."""
    T = cache.T
    terms = np.zeros((T, T, *term_shape(params, cache, wrt)))
    if wrt in _READOUT:
        terms[np.arange(T), np.arange(T)] = readout_terms(wrt, cache)
        return terms
    direct = direct_hidden_signals(params, cache)
    for t, S in gated_signals(params, cache.tape, direct):
        if wrt not in ("h0", "c0") or t == 0:  # the initial states are read by step 1 only
            terms[t : t + len(S), t] = _step_terms(wrt, t, S, cache, params)
    return terms


def gated_component_norms(
    params: GatedParams, cache: GatedCache, names: Iterable[str]
) -> dict[str, FloatArray]:
    """Frobenius norms of every (i, k) component, (T, T) per name, in one backward sweep.

    The outer products x_kᵀ dL_i/du_k and h_{k-1}ᵀ dL_i/dv_k are never formed when the
    Gram route of `rnnnum.components` is cheaper; memory O(T N H).
    """
    names = list(names)
    T = cache.T
    out = {name: np.zeros((T, T)) for name in names}
    diagonal = np.arange(T)
    for name in set(_READOUT).intersection(names):
        out[name][diagonal, diagonal] = row_norms(readout_terms(name, cache))
    per_step = [n for n in names if n not in _READOUT]
    if not per_step:
        return out
    X = cache.X
    x_norms = row_norms(X.transpose(1, 0, 2))  # ||x_k||_F over the batch, (T,)
    direct = direct_hidden_signals(params, cache)
    for t, S in gated_signals(params, cache.tape, direct):
        rows = slice(t, t + len(S))
        for name in per_step:
            if name == "Wx":
                out[name][rows, t] = outer_norms(X[:, t], x_norms[t], S.u, row_norms(S.u))
            elif name == "Wh":
                out[name][rows, t] = _wh_norms(cache, t, S, params.H)
            elif name in ("h0", "c0") and t != 0:
                continue
            else:
                out[name][rows, t] = row_norms(_step_terms(name, t, S, cache, params))
    return out


def _wh_norms(cache: GatedCache, t: int, S: StepSignals, H: int) -> FloatArray:
    """||(what W_h multiplies)ᵀ dL_i/dv_k||_F for every loss of `S`, (I,)."""
    u, u_n = _wh_inputs(cache, t)
    if u_n is None:
        return outer_norms(u, float(np.linalg.norm(u)), S.v, row_norms(S.v))
    rz, n = S.v[..., : 2 * H], S.v[..., 2 * H :]
    first = outer_norms(u, float(np.linalg.norm(u)), rz, row_norms(rz))
    second = outer_norms(u_n, float(np.linalg.norm(u_n)), n, row_norms(n))
    return np.hypot(first, second)
