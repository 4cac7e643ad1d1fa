r"""Jacobians of hidden states with respect to earlier hidden states, and their products.

In the row convention a perturbation of $h_{t-1}$ moves $h_t$ by
$dh_t = dh_{t-1}\, W_{hh}\, \mathrm{diag}(f'(a_t))$, so the one-step Jacobian
(as the matrix that multiplies a row vector) is

$$M_t = \frac{\partial h_t}{\partial h_{t-1}} = W_{hh}\,\mathrm{diag}(f'(a_t)),
\qquad \frac{\partial h_i}{\partial h_k} = M_{k+1} M_{k+2} \cdots M_i \quad (i \ge k).$$

The column convention ($h_t = f(W h_{t-1} + \dots)$, Pascanu et al. 2013) writes the
transpose, $\mathrm{diag}(f'(a_t))\, W_{hh}^\top$; norms and singular values agree.
A gradient travels back with the transpose: $dL/dh_k = dL/dh_i\,(\partial h_i/\partial h_k)^\top$.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from rnnnum._checks import FloatArray
from rnnnum._overflow import OnOverflow, OverflowGuard
from rnnnum.bptt import check_cache, direct_hidden_signals
from rnnnum.errors import OutOfRangeError
from rnnnum.forward import ForwardCache
from rnnnum.params import RNNParams

__all__ = ["MAX_JACOBIAN_BYTES", "JacobianProducts", "jacobian_products", "step_jacobians"]

#: Refuse to materialise all products beyond this size (N (T+1)^2 H^2 float64 values);
#: 2 GiB leaves room for the SVD's workspace on a 24 GiB machine.
MAX_JACOBIAN_BYTES = 2 * 1024**3


def step_jacobians(params: RNNParams, cache: ForwardCache) -> FloatArray:
    """One-step Jacobians M_t = dh_t/dh_{t-1} = W_hh diag(f'(a_t)), (N, T, H, H); [:, t-1] = M_t."""
    check_cache(params, cache)
    fprime = cache.fprime  # (N, T, H)
    return params.Whh[None, None, :, :] * fprime[:, :, None, :]  # scales column j by f'(a_t)_j


@dataclass(frozen=True, eq=False)
class JacobianProducts:
    """All products dh_i/dh_k for 0 <= k <= i <= T, per example.

    Attributes:
        matrices: (N, T+1, T+1, H, H); ``matrices[n, i, k]`` is dh_i/dh_k for
            example n (row convention), the identity when i = k, and zero when
            k > i (h_i does not depend on later states).
        singular_values: (N, T+1, T+1, H), descending.
        norms: (N, T+1, T+1), the spectral norm (largest singular value).
    """

    matrices: FloatArray = field(repr=False)
    singular_values: FloatArray = field(repr=False)
    norms: FloatArray = field(repr=False)


def jacobian_products(
    params: RNNParams, cache: ForwardCache, *, on_overflow: OnOverflow = "raise"
) -> JacobianProducts:
    """Every dh_i/dh_k (including h_0) for every example, with norms and singular values.

    Cost O(N T^2 H^3) time and O(N T^2 H^2) memory: meant for small T and H.
    For long sequences use `rnnnum.component_norms`, which never forms these matrices.
    """
    M = step_jacobians(params, cache)  # (N, T, H, H)
    N, T, H = cache.N, cache.T, params.H
    size = N * (T + 1) ** 2 * H * H * 8
    if size > MAX_JACOBIAN_BYTES:
        raise OutOfRangeError(
            f"jacobian_products needs N (T+1)^2 H^2 float64 values = {size / 2**30:.1f} GiB for "
            f"N={N}, T={T}, H={H}, more than the {MAX_JACOBIAN_BYTES / 2**30:.0f} GiB limit. "
            "Pass a smaller batch (forward on X[:1]) or a shorter sequence, or use "
            "rnnnum.component_norms, which needs only O(N T H) memory."
        )
    guard = OverflowGuard(
        on_overflow, "jacobian_products", "Shrink W_hh or use a shorter sequence."
    )
    P = np.zeros((N, T + 1, T + 1, H, H))
    P[:, np.arange(T + 1), np.arange(T + 1)] = np.eye(H)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(1, T + 1):
            P[:, i, :i] = P[:, i - 1, :i] @ M[:, None, i - 1]  # dh_i/dh_k = (dh_{i-1}/dh_k) M_i
    guard.check_pairs(np.moveaxis(P, 0, 2), "the product dh_i/dh_k", first_index=0)
    if not np.isfinite(P).all():  # on_overflow="warn": SVD is undefined, report NaN
        s = np.full((N, T + 1, T + 1, H), np.nan)
        return JacobianProducts(matrices=P, singular_values=s, norms=s[..., 0])
    s = np.linalg.svd(P, compute_uv=False)
    return JacobianProducts(matrices=P, singular_values=s, norms=s[..., 0])


def jacobian_signals(params: RNNParams, cache: ForwardCache) -> Iterator[tuple[int, FloatArray]]:
    """dL_i/da_k for all i >= k, formed naively from explicit Jacobian products.

    Yields ``(t, D)`` for each 0-based step t, with ``D[j] = dL_{t+j+1}/da_{t+1}``
    of shape (T - t, N, H): the same stream as `rnnnum.components.backward_signals`
    but at O(N T^2 H^3) cost instead of O(N T^2 H^2). Kept as the independent
    reference and the benchmark baseline.
    """
    check_cache(params, cache)
    M = step_jacobians(params, cache)  # (N, T, H, H)
    fprime = cache.fprime  # (N, T, H)
    g = direct_hidden_signals(params, cache)  # dL_i/dh_i through y_i only, (N, T, H)
    N, T, H = cache.N, cache.T, params.H
    for t in reversed(range(T)):
        P = np.broadcast_to(np.eye(H), (N, H, H))  # dh_t/dh_t
        rows = np.empty((T - t, N, H))
        for i in range(t, T):
            if i > t:
                P = P @ M[:, i]  # dh_i/dh_t
            dh = np.einsum("nba,na->nb", P, g[:, i])  # dL_i/dh_t = dL_i/dh_i (dh_i/dh_t)^T
            rows[i - t] = dh * fprime[:, t]  # dL_i/da_t
        yield t, rows
