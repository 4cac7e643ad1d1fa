"""Helpers shared by the per-(loss, step) terms of every cell: read-out terms and safe norms."""

from __future__ import annotations

import numpy as np

from rnnnum._checks import FloatArray
from rnnnum.bptt import output_signals
from rnnnum.forward import AnyCache

__all__ = ["outer_norms", "readout_terms", "row_norms"]


def readout_terms(wrt: str, cache: AnyCache) -> FloatArray:
    """Components (i, i) of Wyh or by, (T, *shape): only y_i reads the copy used at step i."""
    dY = output_signals(cache)  # (N, T, V)
    if wrt == "Wyh":
        return np.einsum("nth,ntv->thv", cache.h, dY)  # h_iᵀ ∂L_i/∂y_i
    return dY.sum(axis=0)


#: Below this, a sum of squares has lost precision to underflow (subnormal numbers begin
#: at 2.2e-308; 2**52 times that keeps all 53 bits of the mantissa).
_SMALLEST_SAFE_SQUARE = np.finfo(np.float64).tiny * 2.0**52


def _scaled_row_norms(flat: FloatArray) -> FloatArray:
    """Row norms computed as m sqrt(sum((x/m)^2)), m = max |x|: no overflow, no underflow."""
    m = np.abs(flat).max(axis=1)
    safe = np.where((m > 0) & np.isfinite(m), m, 1.0)
    scaled = flat / safe[:, None]
    return np.where((m > 0) & np.isfinite(m), safe * np.sqrt(np.sum(scaled * scaled, 1)), m)


def row_norms(S: FloatArray) -> FloatArray:
    """Frobenius norm of each S[j], (I,), exact even where squares would over- or underflow.

    The fast sum of squares is used where it is safe; the few rows where it is not
    (entries beyond ~1e154 or below ~1e-146, the exploding and vanishing extremes)
    are recomputed with scaling.
    """
    flat = S.reshape(S.shape[0], -1)
    sq = np.einsum("ij,ij->i", flat, flat)
    out = np.sqrt(sq)
    if sq.size and not _SMALLEST_SAFE_SQUARE <= sq.min() <= sq.max() < np.inf:  # NaN fails too
        suspect = ~np.isfinite(sq) | (sq < _SMALLEST_SAFE_SQUARE)
        out[suspect] = _scaled_row_norms(flat[suspect])
    return out


def outer_norms(A: FloatArray, a_norm: float, S: FloatArray, d_norms: FloatArray) -> FloatArray:
    """||A^T S[j]||_F for every j; A (N, P), S (I, N, H), a_norm = ||A||_F, d_norms = row_norms(S).

    One example: rank one, ||a^T d|| = ||a|| ||d||. Several: the cheaper of the
    Gram route, ||A^T d||_F^2 = sum_{n,m} (A A^T)_{nm} (d d^T)_{nm} (cost N^2 H per j),
    and forming the (P, H) product (cost N P H per j). A and each S[j] are divided
    by their norms first so the squares stay in range; the norms are multiplied back.
    """
    N, P = A.shape
    if N == 1 or a_norm == 0.0:
        return a_norm * d_norms
    rows, _, H = S.shape
    scale = a_norm * np.where((d_norms > 0) & np.isfinite(d_norms), d_norms, 1.0)
    A = A / a_norm
    wide = S.transpose(1, 0, 2).reshape(N, rows * H) / np.repeat(scale / a_norm, H)
    if N < P:  # one GEMM for all rows instead of one per row
        GD = (A @ A.T) @ wide  # (N, rows*H)
        sq = np.einsum("nih,nih->i", GD.reshape(N, rows, H), wide.reshape(N, rows, H))
        return scale * np.sqrt(np.maximum(sq, 0.0))
    prod = (A.T @ wide).reshape(P, rows, H)
    return scale * np.sqrt(np.einsum("pih,pih->i", prod, prod))
