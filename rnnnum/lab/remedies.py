r"""Remedies measured in the gradient itself: residual paths and truncated BPTT.

- Residual through time, $h_t = h_{t-1} + f(a_t)$: the one-step Jacobian becomes
  $I + W_{hh}\,\mathrm{diag}(f'(a_t))$, and the identity keeps the product from
  collapsing.
- Truncated BPTT with a window of w steps keeps the terms (i, k) with i - k < w
  and drops the rest of the expanded sum; how much of the full gradient's
  direction survives is the cosine between the two.

Initialisation and activation are compared with `rnnnum.lab.shares.gradient_reach`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rnnnum._checks import FloatArray, positive_int
from rnnnum.bptt import Gradients, bptt
from rnnnum.cells import VanillaCell
from rnnnum.forward import ForwardCache
from rnnnum.lab._vectors import cosine, flat
from rnnnum.params import RNNParams
from rnnnum.truncation import chunked_bptt, truncated_bptt

__all__ = [
    "TruncationPoint",
    "chunk_dropped_pairs",
    "chunked_curve",
    "dropped_pairs",
    "residual_jacobian_norms",
    "truncation_curve",
]


def residual_jacobian_norms(
    *, T: int = 60, H: int = 16, D: int = 4, scheme: str = "xavier", seed: int = 2013
) -> dict[str, FloatArray]:
    r"""$\lVert \mathrm{d}h_T/\mathrm{d}h_{T-d} \rVert$ for $d = 0, \dots, T$, vanilla and
    residual tanh cells with the same weights.

    Returns ``{"vanilla": (T+1,), "residual": (T+1,)}``; entry d is the spectral norm of
    the product of the last d one-step Jacobians on one random input sequence.
    """
    rng = np.random.default_rng(seed)
    params = VanillaCell("tanh", scheme).init(D, H, rng)
    X = rng.standard_normal((1, positive_int(T, "T"), D))
    out = {}
    for name, residual in (("vanilla", False), ("residual", True)):
        cell = VanillaCell("tanh", scheme, residual=residual)
        _, tape = cell.forward(params, X)
        M = cell.step_jacobians(params, tape)[0]  # (T, H, H)
        product, norms = np.eye(H), [1.0]
        for t in reversed(range(T)):  # dh_T/dh_{t} = M_{t+1} ... M_T, grown from the right
            product = M[t] @ product
            norms.append(float(np.linalg.norm(product, 2)))
        out[name] = np.array(norms)
    return out


def dropped_pairs(T: int, window: int) -> list[tuple[int, int]]:
    r"""The (loss $i$, step $k$) pairs, 1-based, that a window of `window` drops:
    $i - k \ge$ `window`."""
    T, window = positive_int(T, "T"), positive_int(window, "window")
    return [(i, k) for i in range(1, T + 1) for k in range(1, i + 1) if i - k >= window]


def chunk_dropped_pairs(T: int, every: int) -> list[tuple[int, int]]:
    """The (loss i, step k) pairs, 1-based, that detaching the state every `every` steps
    drops (`rnnnum.chunked_bptt`): k lies in an earlier chunk than i."""
    T, every = positive_int(T, "T"), positive_int(every, "every")
    return [
        (i, k)
        for i in range(1, T + 1)
        for k in range(1, i + 1)
        if (i - 1) // every != (k - 1) // every
    ]


@dataclass(frozen=True)
class TruncationPoint:
    """Truncated against full BPTT at one window.

    Attributes:
        window: w.
        dropped: how many (i, k) pairs are dropped, of T (T+1) / 2.
        cosine: between the truncated and the full gradient (all parameters together).
        relative_error: ||truncated - full|| / ||full||.
    """

    window: int
    dropped: int
    cosine: float
    relative_error: float


def truncation_curve(
    params: RNNParams, cache: ForwardCache, windows: Sequence[int]
) -> list[TruncationPoint]:
    """Cosine and error of `rnnnum.truncated_bptt` against `rnnnum.bptt` for each window."""
    return _curve(params, cache, windows, truncated_bptt, dropped_pairs)


def chunked_curve(
    params: RNNParams, cache: ForwardCache, everys: Sequence[int]
) -> list[TruncationPoint]:
    """`truncation_curve` for `rnnnum.chunked_bptt`: the state detached every w steps."""
    return _curve(params, cache, everys, chunked_bptt, chunk_dropped_pairs)


def _curve(
    params: RNNParams,
    cache: ForwardCache,
    lengths: Sequence[int],
    truncated: Callable[[RNNParams, ForwardCache, int], Gradients],
    dropped: Callable[[int, int], list[tuple[int, int]]],
) -> list[TruncationPoint]:
    """One `TruncationPoint` per length w: `truncated`'s gradient against `rnnnum.bptt`."""
    full = flat(bptt(params, cache))
    points = []
    for w in lengths:
        cut = flat(truncated(params, cache, w))
        error = float(np.linalg.norm(cut - full) / np.linalg.norm(full))
        points.append(TruncationPoint(w, len(dropped(cache.T, w)), cosine(cut, full), error))
    return points
