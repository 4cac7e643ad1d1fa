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
from rnnnum.gated import GRUCache, LSTMCache
from rnnnum.gated_components import gated_component_norms, gated_components
from rnnnum.jacobians import jacobian_signals
from rnnnum.params import GRADIENT_NAMES, RNNParams
from rnnnum.residual import residual_signals

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


def backward_signals(
    params: RNNParams, cache: ForwardCache, *, window: int | None = None
) -> Iterator[tuple[int, FloatArray]]:
    """Yield ``(t, S)`` for t = T-1 down to 0 (0-based; step k = t + 1).

    ``S`` has shape (I, N, H) and ``S[j] = dL_{k+j}/da_k``: the signal of loss
    L_{k+j} at step k, for every loss that step k reaches, j = 0..I-1, where
    I = min(T - t, window). All losses travel back together, as one
    (I*N, H) @ (H, H) product per step: O(T^2 N H^2) work in total, O(T N H)
    memory. ``S`` is a view that the next iteration overwrites: copy it to keep it.
    A residual cache (``cache.residual``) is carried by `rnnnum.residual.residual_signals`.
    """
    check_cache(params, cache)
    if not isinstance(params, RNNParams):
        raise CellMismatchError(
            f"backward_signals yields the vanilla cell's dL_i/da_k; got {type(params).__name__}. "
            "For the gated cells use rnnnum.gated.gated_signals (or rnnnum.components)."
        )
    N, T, H = cache.N, cache.T, params.H
    w = T if window is None else min(positive_int(window, "window"), T)
    fprime = cache.fprime  # (N, T, H)
    g = direct_hidden_signals(params, cache)  # ∂L_i/∂y_i W_yhᵀ: what L_i sends into h_i, (N, T, H)
    if cache.residual:
        for t, S, _ in residual_signals(params.Whh, fprime, g, w):
            yield t, S
        return
    WhhT = np.ascontiguousarray(params.Whh.T)
    buf = np.empty((T, N, H))  # buf[i] holds dL_{i+1}/da_{t+1} for the current t
    carried = np.empty((T * N, H))  # scratch for the product, so no step allocates
    for t in reversed(range(T)):
        end = min(T, t + w)  # losses i < end reach step t
        if end > t + 1:  # carry the older signals back one step: delta W_hh^T * f'(a_t)
            older = buf[t + 1 : end]
            out = carried[: older.shape[0] * N]
            np.matmul(older.reshape(-1, H), WhhT, out=out)
            np.multiply(out.reshape(older.shape), fprime[None, :, t], out=older)
        np.multiply(g[:, t], fprime[:, t], out=buf[t])  # the new loss L_t enters: dL_t/da_t
        yield t, buf[t:end]


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


def _step_terms(
    wrt: str,
    t: int,
    S: FloatArray,
    cache: ForwardCache,
    params: RNNParams,
    G: FloatArray | None = None,
) -> FloatArray:
    """Components (i, t+1) for the rows of S, (I, *shape), for quantities used in step t+1.

    ``G`` (I, N, H) is dL_i/dh_1, needed for h0 in the residual cell only.
    """
    if wrt == "Wxh":
        return np.matmul(cache.X[:, t].T, S)  # x_k^T delta_{i,k}, (I, D, H)
    if wrt == "Whh":
        return np.matmul(cache.h_prev[:, t].T, S)  # h_{k-1}^T delta_{i,k}, (I, H, H)
    if wrt == "bh":
        return S.sum(axis=1)  # sum over the batch, (I, H)
    if wrt == "X":
        return S @ params.Wxh.T  # dL_i/dx_k, (I, N, D)
    through_a = S @ params.Whh.T  # h0 (t = 0 only): dL_i/dh_0 through a_1, (I, N, H)
    if cache.residual:
        assert G is not None
        return through_a + G  # ... and through the skip of h_1 = h_0 + f(a_1)
    return through_a


def signal_stream(
    params: RNNParams, cache: ForwardCache, method: str, window: int | None = None
) -> Iterator[tuple[int, FloatArray, FloatArray | None]]:
    """``(t, S, G)``: S as `backward_signals`; G[j] = dL_{k+j}/dh_k, or None where unneeded.

    G is what the residual cell's h0 component needs; vanilla's recursion gives None.
    `window` truncates the recursion (``method="recursive"`` only, as `truncated_bptt`).
    """
    method = choice(method, "method", METHODS)
    if method == "jacobian":
        return jacobian_signals(params, cache)
    if cache.residual:
        w = cache.T if window is None else min(positive_int(window, "window"), cache.T)
        g = direct_hidden_signals(params, cache)  # ∂L_i/∂y_i W_yhᵀ, (N, T, H)
        return residual_signals(params.Whh, cache.fprime, g, w)
    return ((t, S, None) for t, S in backward_signals(params, cache, window=window))


def _check_wrt(wrt: str, params: AnyParams | None = None) -> str:
    return choice(wrt, "wrt", GRADIENT_NAMES if params is None else params.gradient_names)


def _gated_method(method: str) -> None:
    """The gated cells have the recursion only; say so for the vanilla-only reference."""
    if choice(method, "method", METHODS) != "recursive":
        raise CellMismatchError(
            "method='jacobian' (explicit products of the vanilla cell's Jacobians) exists for "
            "RNNParams only; got it with a gated cell. Use method='recursive', or "
            "rnnnum.jacobian_products for the gated cells' block Jacobians."
        )


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
    check_cache(params, cache)
    wrt = _check_wrt(wrt, params)
    guard = OverflowGuard(on_overflow, "components", BACKWARD_REMEDY)
    if not isinstance(params, RNNParams):
        _gated_method(method)
        assert isinstance(cache, LSTMCache | GRUCache)
        with np.errstate(over="ignore", invalid="ignore"):
            gated = gated_components(params, cache, wrt)
        guard.check_pairs(gated, f"the component of dL/d{wrt} for loss L_i through step k")
        return Components(wrt, gated)
    assert isinstance(cache, ForwardCache)
    T = cache.T
    D, H, N, V = params.D, params.H, cache.N, params.V
    shape = {"Wxh": (D, H), "Whh": (H, H), "Wyh": (H, V), "bh": (H,), "by": (V,),
             "X": (N, D), "h0": (N, H)}[wrt]  # fmt: skip
    terms = np.zeros((T, T, *shape))
    with np.errstate(over="ignore", invalid="ignore"):
        if wrt in ("Wyh", "by"):
            terms[np.arange(T), np.arange(T)] = readout_terms(wrt, cache)
        else:
            for t, S, G in signal_stream(params, cache, method):
                if wrt != "h0" or t == 0:  # h0 is read by step 1 only
                    terms[t : t + len(S), t] = _step_terms(wrt, t, S, cache, params, G)
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
    check_cache(params, cache)
    names = [_check_wrt(w, params) for w in (params.gradient_names if wrt is None else wrt)]
    guard = OverflowGuard(on_overflow, "component_norms", BACKWARD_REMEDY)
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(params, RNNParams):
            assert isinstance(cache, ForwardCache)
            out = _norm_tables(params, cache, names, method)
        else:
            _gated_method(method)
            assert isinstance(cache, LSTMCache | GRUCache)
            out = gated_component_norms(params, cache, names)
    for name, table in out.items():
        guard.check_pairs(table, f"the norm of the (i, k) component of dL/d{name}")
    return out


def _norm_tables(
    params: RNNParams, cache: ForwardCache, names: list[str], method: str
) -> dict[str, FloatArray]:
    T = cache.T
    out = {name: np.zeros((T, T)) for name in names}
    diagonal = np.arange(T)
    for name in {"Wyh", "by"}.intersection(names):
        out[name][diagonal, diagonal] = row_norms(readout_terms(name, cache))
    per_step = [n for n in names if n not in ("Wyh", "by")]
    if not per_step:
        return out
    h_prev = cache.h_prev
    x_norms = row_norms(cache.X.transpose(1, 0, 2))  # ||x_k||_F over the batch, (T,)
    h_norms = row_norms(h_prev.transpose(1, 0, 2))  # ||h_{k-1}||_F, (T,)
    for t, S, G in signal_stream(params, cache, method):
        rows = slice(t, t + len(S))
        d_norms = row_norms(S)  # ||dL_i/da_k||_F over the batch
        for name in per_step:
            if name == "Wxh":
                out[name][rows, t] = outer_norms(cache.X[:, t], x_norms[t], S, d_norms)
            elif name == "Whh":
                out[name][rows, t] = outer_norms(h_prev[:, t], h_norms[t], S, d_norms)
            elif name == "bh":
                out[name][rows, t] = d_norms if cache.N == 1 else row_norms(S.sum(axis=1))
            elif name != "h0" or t == 0:  # X, and h0 at step 1
                out[name][rows, t] = row_norms(_step_terms(name, t, S, cache, params, G))
    return out


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
