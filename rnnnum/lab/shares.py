r"""Where each loss's gradient comes from: the (loss i, step k) components over a long sequence.

For loss $L_i$ the gradient of $W_{xh}$ is a sum of components $c_{i,k}$, one per
input step $k \le i$ (`rnnnum.components`). The *share* of step k in loss i is
$\lVert c_{i,k}\rVert / \sum_{k'} \lVert c_{i,k'}\rVert$: how much of the sizes in
that loss's row comes from k steps back. (Norms of vectors do not add, so the
shares describe sizes, not the norm of the sum.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnnum._checks import FloatArray, positive_int
from rnnnum.components import component_norms
from rnnnum.forward import ForwardCache, forward
from rnnnum.init import init_params
from rnnnum.params import RNNParams

__all__ = ["Shares", "distance_profile", "gradient_reach", "gradient_shares", "problem"]

#: The level of `gradient_reach`: a component below 1 % of the loss's own is "not reached".
REACH_LEVEL = 0.01


def problem(
    T: int,
    *,
    H: int = 16,
    D: int = 4,
    V: int = 4,
    kind: str = "xavier",
    activation: str = "tanh",
    seed: int = 2013,
    on_overflow: Any = "raise",
    **options: float,
) -> tuple[RNNParams, FloatArray, Any, ForwardCache]:
    """A random one-sequence problem: params, inputs (1, T, D), class targets (1, T), cache.

    ``kind`` and ``options`` go to `rnnnum.init_params` (e.g. ``kind="spectral",
    sigma_max=0.9``); inputs are standard normal and targets uniform, all from `seed`.
    """
    rng = np.random.default_rng(seed)
    params = init_params(kind, D, H, V, rng, **options)
    X = rng.standard_normal((1, positive_int(T, "T"), D))
    targets = rng.integers(0, V, size=(1, T))
    cache = forward(params, X, targets, activation=activation, on_overflow=on_overflow)
    return params, X, targets, cache


@dataclass(frozen=True, eq=False)
class Shares:
    """The components of one gradient, as sizes and as shares.

    Attributes:
        norms: (T, T), ``norms[i-1, k-1]`` = ||c_{i,k}||; zero for k > i.
        share: (T, T), each row divided by its sum; rows sum to 1.
        by_distance: (T,), entry d = mean over losses i > d of share[i, i-d].
    """

    norms: FloatArray = field(repr=False)
    share: FloatArray = field(repr=False)
    by_distance: FloatArray = field(repr=False)


def gradient_shares(params: RNNParams, cache: ForwardCache, wrt: str = "Wxh") -> Shares:
    """Sizes and shares of every $(i, k)$ component of the gradient by `wrt`; $O(T^2 H^2)$ time,
    $O(TH)$ memory."""
    norms = component_norms(params, cache, wrt)
    totals = norms.sum(axis=1, keepdims=True)
    share = np.divide(norms, totals, out=np.zeros_like(norms), where=totals > 0)
    T = norms.shape[0]
    by_distance = np.array([np.mean(np.diagonal(share, offset=-d)) for d in range(T)])
    return Shares(norms=norms, share=share, by_distance=by_distance)


def distance_profile(norms: FloatArray) -> FloatArray:
    r"""Median over losses $i$ of $\lVert c_{i,i-d} \rVert / \lVert c_{i,i} \rVert$, for
    $d = 0, \dots, T-1$; (T,)."""
    T = norms.shape[0]
    ratio = np.divide(norms, np.diagonal(norms)[:, None])  # row i divided by its own step
    return np.array([np.median(np.diagonal(ratio, offset=-d)) for d in range(T)])


def gradient_reach(profile: FloatArray, level: float = REACH_LEVEL) -> int:
    """The first distance at which `profile` falls below `level` (its length if never)."""
    below = np.nonzero(profile < level)[0]
    return int(below[0]) if below.size else int(profile.size)
