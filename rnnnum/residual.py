r"""The residual-through-time cell: the vanilla step plus a skip from $h_{t-1}$ to $h_t$.

For $t = 1, \dots, T$ (row vectors, batch first; the read-out and the loss are the
vanilla RNN's):

$$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\quad h_t = h_{t-1} + f(a_t),\quad
y_t = h_t W_{yh} + b_y,\quad L = \sum_{t=1}^{T} L_t(y_t).$$

Local derivatives (one equation each): $\partial h_t/\partial h_{t-1} = I$ (the
skip), $\partial h_t/\partial a_t = \mathrm{diag}(f'(a_t))$,
$\partial a_t/\partial h_{t-1} = W_{hh}$. The one-step Jacobian is total, the sum of
both paths from $h_{t-1}$ to $h_t$ (row convention, the matrix that multiplies a
row vector):

$$\frac{\mathrm{d} h_t}{\mathrm{d} h_{t-1}} = I + W_{hh}\,\mathrm{diag}(f'(a_t)).$$

So the reverse sweep carries the skip as well:
$\mathrm{d}L/\mathrm{d}h_{t-1} = \partial L_{t-1}/\partial y_{t-1}\, W_{yh}^\top
+ \mathrm{d}L/\mathrm{d}h_t + \mathrm{d}L/\mathrm{d}a_t\, W_{hh}^\top$ with
$\mathrm{d}L/\mathrm{d}a_t = \mathrm{d}L/\mathrm{d}h_t \odot f'(a_t)$; the
gradients of the parameters are then the vanilla sums over steps of $x_t^\top$,
$h_{t-1}^\top$ (or 1) times $\mathrm{d}L/\mathrm{d}a_t$.

This module holds the cell's loops on plain arrays; `rnnnum.forward` with
``residual=True`` runs them and records ``cache.residual``, which `rnnnum.bptt`,
`rnnnum.components`, `rnnnum.jacobian_products` and `rnnnum.truncated_bptt` follow.
Its reverse sweep `state_sweep` serves the vanilla cell too (the skip is one flag).
The training cell ``rnnnum.VanillaCell(residual=True)`` is a separate implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from rnnnum._checks import FloatArray, describe
from rnnnum._overflow import OverflowGuard, largest
from rnnnum.errors import CellMismatchError, DTypeError

__all__ = ["check_residual", "residual_signals", "residual_states", "state_sweep"]


def check_residual(residual: Any, params: Any) -> bool:
    """`residual` as a bool; only the vanilla cell (`rnnnum.RNNParams`) takes True."""
    if not isinstance(residual, bool | np.bool_):
        raise DTypeError(
            f"residual must be True or False; got {describe(residual)}. Pass residual=True "
            "for the residual cell h_t = h_{t-1} + f(a_t), residual=False for the vanilla one."
        )
    if residual and getattr(params, "cell", None) != "vanilla":
        raise CellMismatchError(
            "residual applies to the vanilla cell only (RNNParams: h_t = h_{t-1} + f(a_t)); "
            f"got residual=True with {type(params).__name__}, whose cell keeps its own state "
            "update. Drop the argument, or pass RNNParams."
        )
    return bool(residual)


def residual_states(
    X: FloatArray,
    Wxh: FloatArray,
    Whh: FloatArray,
    bh: FloatArray,
    h0: FloatArray,
    act: Callable[[FloatArray], FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """Pre-activations a_1..a_T and states h_1..h_T, both (N, T, H), from X (N, T, D), h0 (N, H)."""
    N, T, _ = X.shape
    a = np.matmul(X, Wxh)  # x_t W_xh for every step in one product, (N, T, H)
    h = np.empty_like(a)
    hw = np.empty((N, Whh.shape[0]))
    h_prev = h0
    for t in range(T):
        a_t = a[:, t]
        np.dot(h_prev, Whh, out=hw)
        a_t += hw  # a_t = x_t W_xh + h_{t-1} W_hh + b_h, (N, H); ∂a_t/∂h_{t-1} = W_hh
        a_t += bh
        h_t = h[:, t]
        h_t[...] = act(a_t)  # f(a_t); ∂h_t/∂a_t = diag(f'(a_t))
        h_t += h_prev  # h_t = h_{t-1} + f(a_t); ∂h_t/∂h_{t-1} = I
        h_prev = h_t
    return a, h


def state_sweep(
    Whh: FloatArray,
    direct: FloatArray,
    fprime_at: Callable[[int, FloatArray], FloatArray],
    residual: bool,
    guard: OverflowGuard | None,
) -> tuple[FloatArray, FloatArray]:
    """dL/da_t (N, T, H) and dL/dh_0 (N, H) of the vanilla or the residual cell.

    `direct` (N, T, H) is ∂L_t/∂y_t W_yhᵀ, what L_t sends into h_t; ``fprime_at(t, buf)``
    gives f'(a_t) (N, H) of the 0-based step t, possibly written into the scratch `buf`.
    The residual cell's dL/dh_{t-1} also receives dL/dh_t itself (the skip). With a
    `guard`, stop at the first inf/NaN of dL/dh_{t-1} and name the step.
    """
    N, T, H = direct.shape
    WhhT = Whh.T
    dA = np.empty((N, T, H))
    dh = np.empty((N, H))
    scratch = np.empty((N, H))
    dh_next = np.zeros((N, H))  # dL/dh_t through h_{t+1}; nothing comes after h_T
    for t in reversed(range(T)):
        np.add(direct[:, t], dh_next, out=dh)  # dL/dh_t: via y_t, plus via h_{t+1}
        dA_t = dA[:, t]
        np.multiply(dh, fprime_at(t, scratch), out=dA_t)  # dL/da_t = dL/dh_t diag(f'(a_t))
        np.dot(dA_t, WhhT, out=dh_next)  # dL/dh_{t-1}: via a_t (∂a_t/∂h_{t-1} = W_hh) ...
        if residual:
            dh_next += dh  # ... plus via the skip (∂h_t/∂h_{t-1} = I)
        if guard is not None:
            guard.check(
                dh_next,
                f"dL/dh_{t}",
                t + 1,
                T,
                lambda: f"; largest |dL/dh_{t + 1}| was {largest(dh)}",  # noqa: B023 (called at once)
            )
    return dA, dh_next


def residual_signals(
    Whh: FloatArray, fprime: FloatArray, direct: FloatArray, window: int
) -> Iterator[tuple[int, FloatArray, FloatArray]]:
    """Yield ``(t, S, G)`` for t = T-1 down to 0 (0-based; step k = t + 1), losses within `window`.

    ``S[j] = dL_{k+j}/da_k`` and ``G[j] = dL_{k+j}/dh_k``, both (I, N, H) with
    I = min(T - t, window): what every loss that reaches step k sends into a_k and
    h_k. ``direct`` (N, T, H) is ∂L_i/∂y_i W_yhᵀ, what L_i sends into h_i. Each step
    carries all losses back at once: dL_i/dh_k = dL_i/dh_{k+1} + dL_i/da_{k+1} W_hhᵀ,
    dL_i/da_k = dL_i/dh_k ⊙ f'(a_k). ``S`` and ``G`` are views that the next
    iteration overwrites: copy them to keep them.
    """
    N, T, H = fprime.shape
    WhhT = np.ascontiguousarray(Whh.T)
    buf = np.empty((T, N, H))  # buf[i] holds dL_{i+1}/da_{t+1} for the current t
    held = np.empty((T, N, H))  # held[i] holds dL_{i+1}/dh_{t+1}
    carried = np.empty((T * N, H))  # scratch for the product, so no step allocates
    for t in reversed(range(T)):
        end = min(T, t + window)  # losses i < end reach step t
        if end > t + 1:  # carry the older signals back one step
            older, states = buf[t + 1 : end], held[t + 1 : end]
            out = carried[: older.shape[0] * N]
            np.matmul(older.reshape(-1, H), WhhT, out=out)  # via a_{t+1}: delta W_hh^T
            states += out.reshape(older.shape)  # plus via the skip: dL_i/dh_{t+1} itself
            np.multiply(states, fprime[None, :, t], out=older)  # dL_i/da_t
        held[t] = direct[:, t]  # the new loss L_t enters: dL_t/dh_t
        np.multiply(direct[:, t], fprime[:, t], out=buf[t])  # dL_t/da_t
        yield t, buf[t:end], held[t:end]
