r"""Jacobians of hidden states with respect to earlier hidden states, and their products.

In the row convention a perturbation of $h_{t-1}$ moves $h_t$ by
$dh_t = dh_{t-1}\, W_{hh}\, \mathrm{diag}(f'(a_t))$, so the one-step Jacobian
(as the matrix that multiplies a row vector) is

$$M_t = \frac{dh_t}{dh_{t-1}} = W_{hh}\,\mathrm{diag}(f'(a_t)),
\qquad \frac{dh_i}{dh_k} = M_{k+1} M_{k+2} \cdots M_i \quad (i \ge k).$$

The residual cell ($h_t = h_{t-1} + f(a_t)$, ``forward(..., residual=True)``) adds the
skip to every step: $M_t = \mathrm{d}h_t/\mathrm{d}h_{t-1} = I + W_{hh}\,\mathrm{diag}(f'(a_t))$
(`rnnnum.residual` names its local factors).

The column convention ($h_t = f(W h_{t-1} + \dots)$, Pascanu et al. 2013) writes the
transpose, $\mathrm{diag}(f'(a_t))\, W_{hh}^\top$; norms and singular values agree.
A gradient travels back with the transpose: $dL/dh_k = dL/dh_i\,(dh_i/dh_k)^\top$.
M_t and the products are total derivatives: h_t reaches h_{t-1} through a_t (two
equations), with the local factors $\partial h_t/\partial a_t = \mathrm{diag}(f'(a_t))$
and $\partial a_t/\partial h_{t-1} = W_{hh}$.

The gated cells have the same structure with their own state: the GRU's is h, the
LSTM's is the pair s_t = (h_t, c_t), whose one-step Jacobian is a 2x2 block matrix
(`rnnnum.lstm.lstm_step_jacobians`) and whose products ds_i/ds_k hold the four blocks
dh_i/dh_k, dc_i/dh_k, dh_i/dc_k, dc_i/dc_k. The *cell-state path* alone, dc_i/dc_k
with h held fixed, is the product of the forget gates diag(f_{k+1}) ... diag(f_i):
the constant error carousel of Hochreiter and Schmidhuber (1997) (`cell_state_path`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnnum._checks import FloatArray, choice
from rnnnum._overflow import OnOverflow, OverflowGuard
from rnnnum.bptt import check_cache
from rnnnum.errors import CellMismatchError, OutOfRangeError
from rnnnum.forward import AnyCache, AnyParams

__all__ = [
    "MAX_JACOBIAN_BYTES",
    "JacobianProducts",
    "cell_state_path",
    "jacobian_products",
    "step_jacobians",
]

#: Refuse to materialise all products beyond this size (N (T+1)^2 H^2 float64 values);
#: 2 GiB leaves room for the SVD's workspace on a 24 GiB machine.
MAX_JACOBIAN_BYTES = 2 * 1024**3


def step_jacobians(params: AnyParams, cache: AnyCache) -> FloatArray:
    r"""One-step Jacobians $M_t$ of the state, (N, T, n, n) with $n = H$ (LSTM: $2H$);
    ``[:, t-1]`` holds $M_t$.

    Vanilla: $M_t = \mathrm{d}h_t/\mathrm{d}h_{t-1}$, which is
    $W_{hh}\,\mathrm{diag}(f'(a_t))$;
    residual (``cache.residual``): $I + W_{hh}\,\mathrm{diag}(f'(a_t))$. GRU:
    $\mathrm{d}h_t/\mathrm{d}h_{t-1}$ through the gates and the copy $z_t \odot h_{t-1}$
    (`rnnnum.gru.gru_step_jacobians`). LSTM: the block matrix of $(h_t, c_t)$ against
    $(h_{t-1}, c_{t-1})$, rows $(h, c)$ of step $t-1$ and columns $(h, c)$ of step $t$
    (`rnnnum.lstm.lstm_step_jacobians`).
    """
    return check_cache(params, cache).step_jacobians(params, cache)


@dataclass(frozen=True, eq=False)
class JacobianProducts:
    r"""All products $\mathrm{d}s_i/\mathrm{d}s_k$ of the state $s$ for $0 \le k \le i \le T$,
    per example.

    The state is $h$ for the vanilla cell and the GRU, $(h, c)$ for the LSTM.

    Attributes:
        matrices: (N, T+1, T+1, n, n), n = H (LSTM: 2H); ``matrices[n, i, k]`` is
            $\mathrm{d}s_i/\mathrm{d}s_k$ for example n (row convention: rows index $s_k$,
            columns $s_i$), the identity when $i = k$, and zero when $k > i$ ($s_i$ does not
            depend on later states).
        singular_values: (N, T+1, T+1, n), descending.
        norms: (N, T+1, T+1), the spectral norm (largest singular value).
        states: the parts of the state, in the order of the blocks: ``("h",)`` or ``("h", "c")``.
        cell_path: LSTM only: the diagonal of $\mathrm{d}c_i/\mathrm{d}c_k$ with $h$ held
            fixed, (N, T+1, T+1, H): the product of the forget gates
            $f_{k+1} \odot \dots \odot f_i$ (see `cell_state_path`).
    """

    matrices: FloatArray = field(repr=False)
    singular_values: FloatArray = field(repr=False)
    norms: FloatArray = field(repr=False)
    states: tuple[str, ...] = ("h",)
    cell_path: FloatArray | None = field(default=None, repr=False)

    def block(self, of: str, wrt: str) -> FloatArray:
        r"""The block $\mathrm{d}u_i/\mathrm{d}v_k$ for every $i, k$, with $u$ the state `of` and
        $v$ the state `wrt`: (N, T+1, T+1, H, H), e.g. ``block("c", "c")``."""
        p = self.states.index(choice(of, "of", self.states))
        q = self.states.index(choice(wrt, "wrt", self.states))
        H = self.matrices.shape[-1] // len(self.states)
        return self.matrices[..., q * H : (q + 1) * H, p * H : (p + 1) * H]


def jacobian_products(
    params: AnyParams, cache: AnyCache, *, on_overflow: OnOverflow = "raise"
) -> JacobianProducts:
    r"""Every $\mathrm{d}s_i/\mathrm{d}s_k$ (including $s_0$) for every example, with norms and
    singular values.

    s is h, or (h, c) for the LSTM (then ``.block(of, wrt)`` picks one of the four
    blocks and ``.cell_path`` holds the forget-gate products beside them).
    Cost $O(N T^2 n^3)$ time and $O(N T^2 n^2)$ memory ($n = H$, or $2H$): meant for small T
    and H. For long sequences use `rnnnum.component_norms`, which never forms these.
    """
    kernel = check_cache(params, cache)
    M = kernel.step_jacobians(params, cache)  # (N, T, n, n)
    N, T, H = cache.N, cache.T, M.shape[-1]
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
    extra: dict[str, Any] = {}
    if "c" in kernel.states:  # the LSTM: the blocks of (h, c), and the cell-state path beside
        extra = {"states": kernel.states, "cell_path": cell_state_path(params, cache)}
    P = np.zeros((N, T + 1, T + 1, H, H))
    P[:, np.arange(T + 1), np.arange(T + 1)] = np.eye(H)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(1, T + 1):
            P[:, i, :i] = P[:, i - 1, :i] @ M[:, None, i - 1]  # dh_i/dh_k = (dh_{i-1}/dh_k) M_i
    guard.check_pairs(np.moveaxis(P, 0, 2), "the product dh_i/dh_k", first_index=0)
    if not np.isfinite(P).all():  # on_overflow="warn": SVD is undefined, report NaN
        s = np.full((N, T + 1, T + 1, H), np.nan)
        return JacobianProducts(matrices=P, singular_values=s, norms=s[..., 0], **extra)
    s = np.linalg.svd(P, compute_uv=False)
    return JacobianProducts(matrices=P, singular_values=s, norms=s[..., 0], **extra)


def cell_state_path(params: AnyParams, cache: AnyCache) -> FloatArray:
    r"""The LSTM's cell-state path: dc_i/dc_k with h held fixed, as diagonals (N, T+1, T+1, H).

    Holding every h_t fixed, c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t depends on c_{t-1} through
    diag(f_t) alone, so the path is $\mathrm{diag}(f_{k+1}) \cdots \mathrm{diag}(f_i)$:
    entry ``[n, i, k, j]`` is $\prod_{t=k+1}^{i} f_t[n, j]$ (1 when i = k, 0 when k > i).
    The full dc_i/dc_k (``jacobian_products(...).block("c", "c")``) adds the paths that
    leave the cell state through h and come back through the gates.
    """
    if "c" not in check_cache(params, cache).states:
        raise CellMismatchError(
            f"the cell-state path exists for the LSTM only; got {type(params).__name__}, "
            "whose state is h alone. Use rnnnum.jacobian_products for dh_i/dh_k."
        )
    f = cache.f  # type: ignore[union-attr]  # (N, T, H): the LSTM's forget gates
    N, T, H = f.shape
    P = np.zeros((N, T + 1, T + 1, H))
    P[:, np.arange(T + 1), np.arange(T + 1)] = 1.0
    for i in range(1, T + 1):
        P[:, i, :i] = P[:, i - 1, :i] * f[:, None, i - 1]  # ... diag(f_i)
    return P
