r"""The gradient as an expanded sum: one component per loss $L_i$ and step $k \le i$.

A parameter used at every step (``Wxh``, ``Whh``, ``bh``) receives, from loss
$L_i$, one contribution through each step $k \le i$:

$$\frac{dL}{dW_{xh}} = \sum_{i=1}^{T}\sum_{k=1}^{i} x_k^\top\,\delta_{i,k},\qquad
\delta_{i,k} = \frac{dL_i}{da_k}
 = \frac{\partial L_i}{\partial y_i} W_{yh}^\top\,
   \Big(\frac{dh_i}{dh_k}\Big)^{\!\top} \odot f'(a_k).$$

Component ``(i, k)`` is the derivative of $L_i$ with respect to the copy of the
quantity used at step $k$. So ``Wyh`` and ``by`` (used in $y_k$) have only
$k = i$ terms; ``X`` has one term per (i, k) for input $x_k$ (the gradient for
$x_k$ is $\sum_i$ of them); ``h0`` (read by step 1) has only $k = 1$ terms.
The $\delta_{i,k}$ follow from $\delta_{i,i} = (\partial L_i/\partial y_i)
W_{yh}^\top \odot f'(a_i)$ and $\delta_{i,k-1} = \delta_{i,k} W_{hh}^\top \odot f'(a_{k-1})$.

The residual cell (``forward(..., residual=True)``, `rnnnum.residual`) has the same
components; its signals travel back as $\mathrm{d}L_i/\mathrm{d}h_k$ too, since the skip
passes that on unchanged: $\mathrm{d}L_i/\mathrm{d}h_{k-1} = \mathrm{d}L_i/\mathrm{d}h_k
+ \delta_{i,k} W_{hh}^\top$, $\delta_{i,k-1} = \mathrm{d}L_i/\mathrm{d}h_{k-1} \odot
f'(a_{k-1})$; the ``h0`` component is $\mathrm{d}L_i/\mathrm{d}h_0$ through both paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from rnnnum._checks import FloatArray, choice, positive_int
from rnnnum._overflow import BACKWARD_REMEDY, OnOverflow, OverflowGuard
from rnnnum._terms import outer_norms, readout_terms, row_norms
from rnnnum.bptt import check_cache, direct_hidden_signals
from rnnnum.errors import CellMismatchError
from rnnnum.forward import AnyCache, AnyParams, ForwardCache
from rnnnum.kernel.protocol import Kernel, StepSignals
from rnnnum.params import GRADIENT_NAMES, RNNParams

__all__ = [
    "Components",
    "all_component_norms",
    "backward_signals",
    "component_norms",
    "components",
    "signal_stream",
]

#: Ways to obtain the signals dL_i/da_k: the O(T^2 H^2) vector recursion, or explicit
#: products of Jacobians (O(T^2 H^3), the naive reference).
METHODS = ("recursive", "jacobian")
#: The quantities read by the read-out y_i alone: (i, i) terms only.
_READOUT = ("Wyh", "by")


def backward_signals(
    params: RNNParams, cache: ForwardCache, *, window: int | None = None
) -> Iterator[tuple[int, FloatArray]]:
    """Yield ``(t, S)`` for t = T-1 down to 0 (0-based; step k = t + 1).

    ``S`` has shape (I, N, H) and ``S[j] = dL_{k+j}/da_k``: the signal of loss
    L_{k+j} at step k, for every loss that step k reaches, j = 0..I-1, where
    I = min(T - t, window). All losses travel back together, as one
    (I*N, H) @ (H, H) product per step: O(T^2 N H^2) work in total, O(T N H)
    memory. ``S`` is a view that the next iteration overwrites: copy it to keep it.
    A residual cache (``cache.residual``) carries the skip too: the step is the kernel's.
    """
    if not isinstance(params, RNNParams):
        raise CellMismatchError(
            f"backward_signals yields the vanilla cell's dL_i/da_k; got {type(params).__name__}. "
            "For the gated cells use rnnnum.components.signal_stream (or rnnnum.components)."
        )
    for t, S in signal_stream(params, cache, window=window):
        yield t, S.u


def signal_stream(
    params: AnyParams, cache: AnyCache, method: str = "recursive", window: int | None = None
) -> Iterator[tuple[int, StepSignals]]:
    """Yield ``(t, signals)`` for t = T-1 down to 0, every loss that reaches step t at once.

    Row j of the signals belongs to loss L_{t+1+j}; at most `window` losses per step
    (truncation, ``method="recursive"`` only). All losses travel back together through
    the cell's step (its kernel's stepper): O(T² N H²) work, O(T N H) memory.
    ``method="jacobian"`` forms explicit products of Jacobians instead (the naive
    reference, where the cell's kernel has one).
    """
    kernel = check_cache(params, cache)
    method = _check_method(kernel, method)
    direct = direct_hidden_signals(params, cache)  # ∂L_i/∂y_i W_yhᵀ: what L_i sends into h_i
    if method == "jacobian":
        return kernel.reference_signals(params, cache, direct)
    return _recursion(kernel, params, cache, direct, window)


def _recursion(
    kernel: Kernel, params: AnyParams, cache: AnyCache, direct: FloatArray, window: int | None
) -> Iterator[tuple[int, StepSignals]]:
    N, T, H = direct.shape
    w = T if window is None else min(positive_int(window, "window"), T)
    step = kernel.stepper(params, cache)
    dh_buf = np.empty((T, N, H))  # dL_i/dh_t for the rows still travelling
    dc_buf = np.zeros((T, N, H)) if "c" in kernel.states else None  # dL_i/dc_t via c_{t+1}
    for t in reversed(range(T)):
        end = min(T, t + w)  # losses i < end reach step t
        dh_buf[t] = direct[:, t]  # loss L_{t+1} enters at its own state
        if dc_buf is not None:
            dc_buf[t] = 0.0
        S = step(t, dh_buf[t:end], None if dc_buf is None else dc_buf[t:end])
        if dc_buf is not None and S.c_prev is not None:
            dc_buf[t:end] = S.c_prev
        if t > 0:
            dh_buf[t:end] = S.h_prev
        yield t, S


@dataclass(frozen=True, eq=False)
class Components:
    """All $(i, k)$ components of the gradient of $L$ with respect to one quantity.

    Attributes:
        wrt: the quantity (``Wxh``, ``Whh``, ``Wyh``, ``bh``, ``by``, ``X`` or ``h0``).
        terms: (T, T, *shape); ``terms[i-1, k-1]`` is the contribution of loss $L_i$
            through step $k$. Zero when $k > i$. ``shape`` is the quantity's shape,
            except for ``X`` and ``h0`` where it is one step's slice, (N, D) or (N, H).
    """

    wrt: str
    terms: FloatArray = field(repr=False)

    def total(self) -> FloatArray:
        """The sum of all components, shaped like the matching field of `rnnnum.Gradients`."""
        if self.wrt == "X":
            return np.moveaxis(self.terms.sum(axis=0), 0, 1)  # (T, N, D) -> (N, T, D)
        return self.terms.sum(axis=(0, 1))

    def norms(self) -> FloatArray:
        """Frobenius norm of every component, (T, T)."""
        T = self.terms.shape[0]
        return row_norms(self.terms.reshape(T * T, -1)).reshape(T, T)


def term_shape(params: AnyParams, cache: AnyCache, wrt: str) -> tuple[int, ...]:
    """The shape of one component of dL/d`wrt`: the quantity's, or one step's slice of X, h0, c0."""
    if wrt == "X":
        return (cache.N, params.D)
    if wrt in ("h0", "c0"):
        return (cache.N, params.H)
    return tuple(getattr(params, wrt).shape)


def _step_terms(  # noqa: PLR0911 (one return per role: the list of local derivatives)
    kernel: Kernel, wrt: str, t: int, S: StepSignals, cache: AnyCache, params: AnyParams
) -> FloatArray:
    """Components (i, t+1) for the losses of `S`, (I, *shape), for quantities used in step t+1."""
    role = kernel.roles.get(wrt)
    if role == "x":
        return np.matmul(cache.X[:, t].T, S.u)  # x_kᵀ dL_i/du_k, (I, D, gH)
    if role == "h":
        u, u_n = kernel.wh_inputs(cache, t)
        if u_n is None:
            return np.matmul(u.T, S.v)  # h_{k-1}ᵀ dL_i/dv_k, (I, H, gH)
        H = params.H  # the GRU with the reset before: the n block reads r_k ⊙ h_{k-1}
        return np.concatenate(
            [np.matmul(u.T, S.v[..., : 2 * H]), np.matmul(u_n.T, S.v[..., 2 * H :])], axis=-1
        )
    if role == "u":
        return S.u.sum(axis=1)  # a bias of the input side, summed over the batch
    if role == "v":
        return S.v.sum(axis=1)  # a bias of the hidden side
    if wrt == "X":
        return S.u @ getattr(params, kernel.input_weight).T  # dL_i/dx_k, (I, N, D)
    if wrt == "h0":
        return S.h_prev  # dL_i/dh_0, every path (the residual cell's skip too)
    assert S.c_prev is not None
    return S.c_prev  # c0: dL_i/dc_0


def _check_wrt(wrt: str, params: AnyParams | None = None) -> str:
    return choice(wrt, "wrt", GRADIENT_NAMES if params is None else params.gradient_names)


def _check_method(kernel: Kernel, method: str) -> str:
    """`method`, refused if it asks for a naive reference the cell does not have."""
    if choice(method, "method", METHODS) == "jacobian" and not kernel.reference:
        raise CellMismatchError(
            "method='jacobian' (explicit products of the vanilla cell's Jacobians) exists for "
            "RNNParams only; got it with a gated cell. Use method='recursive', or "
            "rnnnum.jacobian_products for the gated cells' block Jacobians."
        )
    return method


def components(
    params: AnyParams,
    cache: AnyCache,
    wrt: str,
    *,
    method: str = "recursive",
    on_overflow: OnOverflow = "raise",
) -> Components:
    """Every (loss $i$, step $k$) component of the gradient by `wrt`; they sum to
    `rnnnum.bptt`'s total.

    Works for every cell; `wrt` is one of the cell's gradient names (for the LSTM
    ``Wx, Wh, b, Wyh, by, X, h0, c0``; for the GRU ``Wx, Wh, bx, bh, Wyh, by, X, h0``).
    Memory is O(T^2) times the size of `wrt`: for long sequences use `component_norms`.
    A non-finite component raises `NumericalOverflowError` naming the first (i, k)
    pair that overflowed, unless ``on_overflow="warn"``.
    """
    kernel = check_cache(params, cache)
    wrt = _check_wrt(wrt, params)
    method = _check_method(kernel, method)
    guard = OverflowGuard(on_overflow, "components", BACKWARD_REMEDY)
    T = cache.T
    terms = np.zeros((T, T, *term_shape(params, cache, wrt)))
    with np.errstate(over="ignore", invalid="ignore"):
        if wrt in _READOUT:
            terms[np.arange(T), np.arange(T)] = readout_terms(wrt, cache)
        else:
            for t, S in signal_stream(params, cache, method):
                if wrt not in ("h0", "c0") or t == 0:  # the initial states: step 1 only
                    terms[t : t + len(S), t] = _step_terms(kernel, wrt, t, S, cache, params)
    guard.check_pairs(terms, f"the component of dL/d{wrt} for loss L_i through step k")
    return Components(wrt, terms)


def all_component_norms(
    params: AnyParams,
    cache: AnyCache,
    wrt: Iterable[str] | None = None,
    *,
    method: str = "recursive",
    on_overflow: OnOverflow = "raise",
) -> dict[str, FloatArray]:
    """Frobenius norms of every $(i, k)$ component, (T, T) per quantity, in one backward sweep.

    `wrt` defaults to every gradient name of the cell (``params.gradient_names``).
    Never holds more than one step's signals: $O(TNH)$ memory and $O(T^2 N H^2)$
    matrix-vector work (batched over losses), so T in the hundreds is fine.
    ``method="jacobian"`` forms the Jacobian products instead (slow; the reference;
    vanilla cell only).
    """
    kernel = check_cache(params, cache)
    names = [_check_wrt(w, params) for w in (params.gradient_names if wrt is None else wrt)]
    method = _check_method(kernel, method)
    guard = OverflowGuard(on_overflow, "component_norms", BACKWARD_REMEDY)
    with np.errstate(over="ignore", invalid="ignore"):
        out = _norm_tables(kernel, params, cache, names, method)
    for name, table in out.items():
        guard.check_pairs(table, f"the norm of the (i, k) component of dL/d{name}")
    return out


def _norm_tables(
    kernel: Kernel, params: AnyParams, cache: AnyCache, names: list[str], method: str
) -> dict[str, FloatArray]:
    """Norms of the (i, k) components of every name, one backward sweep; O(T N H) memory.

    The outer products x_kᵀ dL_i/du_k and h_{k-1}ᵀ dL_i/dv_k are never formed when the
    Gram route of `rnnnum._terms.outer_norms` is cheaper.
    """
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
    h_norms = row_norms(cache.h_prev.transpose(1, 0, 2))  # ||h_{k-1}||_F, (T,)
    for t, S in signal_stream(params, cache, method):
        rows = slice(t, t + len(S))
        for name in per_step:
            role = kernel.roles.get(name)
            if role == "x":
                out[name][rows, t] = outer_norms(X[:, t], x_norms[t], S.u, row_norms(S.u))
            elif role == "h":
                out[name][rows, t] = _wh_norms(kernel, cache, t, S, h_norms[t], params.H)
            elif name not in ("h0", "c0") or t == 0:  # the initial states: step 1 only
                out[name][rows, t] = row_norms(_step_terms(kernel, name, t, S, cache, params))
    return out


def _wh_norms(
    kernel: Kernel, cache: AnyCache, t: int, S: StepSignals, u_norm: float, H: int
) -> FloatArray:
    """||(what W_h multiplies)ᵀ dL_i/dv_k||_F for every loss of `S`, (I,)."""
    u, u_n = kernel.wh_inputs(cache, t)
    if u_n is None:
        return outer_norms(u, u_norm, S.v, row_norms(S.v))
    rz, n = S.v[..., : 2 * H], S.v[..., 2 * H :]
    first = outer_norms(u, u_norm, rz, row_norms(rz))
    second = outer_norms(u_n, float(row_norms(u_n[None])[0]), n, row_norms(n))
    return np.hypot(first, second)


def component_norms(
    params: AnyParams,
    cache: AnyCache,
    wrt: str,
    *,
    method: str = "recursive",
    on_overflow: OnOverflow = "raise",
) -> FloatArray:
    """Frobenius norms of the $(i, k)$ components of the gradient by `wrt`, (T, T), lower
    triangular.

    Equal to ``components(params, cache, wrt).norms()`` but never forms the
    components: see `all_component_norms`.
    """
    tables = all_component_norms(params, cache, (wrt,), method=method, on_overflow=on_overflow)
    return tables[_check_wrt(wrt, params)]
