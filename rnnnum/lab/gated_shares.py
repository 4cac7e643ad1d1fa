r"""Where each loss's gradient comes from, for any cell: the shares of `rnnnum.lab.shares`, general.

For loss $L_i$ the gradient of an input-weight matrix is a sum of components
$c_{i,k}$, one per step $k \le i$, for the vanilla cell ($W_{xh}$) as for the gated
ones (the LSTM's stacked $W_x$ or one gate's block such as $W_{xf}$, the GRU's $W_x$):

$$\frac{dL_i}{dW_x} = \sum_{k=1}^{i} c_{i,k},\qquad
\mathrm{share}_{i,k} = \frac{\lVert c_{i,k}\rVert}{\sum_{k'=1}^{i}\lVert c_{i,k'}\rVert}.$$

`cell_shares` forms the components with `rnnnum.components` (any cell) and takes
their norms, a different route from the Gram identity behind `gradient_shares`; for
the vanilla cell the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnnum._checks import FloatArray, choice, positive_int
from rnnnum._terms import row_norms
from rnnnum.bptt import bptt
from rnnnum.components import components
from rnnnum.errors import CellMismatchError, OutOfRangeError
from rnnnum.forward import AnyCache, AnyParams
from rnnnum.lab.gated import gated_problem
from rnnnum.lab.shares import Shares, distance_profile, gradient_reach, problem
from rnnnum.params import RNNParams

__all__ = [
    "FAR_DISTANCES",
    "SHARE_CASES",
    "ShareRow",
    "cell_shares",
    "far_share",
    "gate_columns",
    "shares_beside",
]

#: The distances of the "share from d or more steps back" columns.
FAR_DISTANCES = (10, 20)
#: The networks of `shares_beside`: key -> (label, cell, options). ``cell`` is
#: ``"vanilla"`` (options go to `rnnnum.lab.problem`) or one of `GATED_CELLS`.
SHARE_CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "vanilla": ("vanilla, Xavier", "vanilla", {"kind": "xavier"}),
    "orthogonal": ("vanilla, orthogonal", "vanilla", {"kind": "orthogonal", "gain": 1.0}),
    "lstm0": ("LSTM, b_f = 0", "lstm", {"forget_bias": 0.0}),
    "lstm1": ("LSTM, b_f = 1", "lstm", {"forget_bias": 1.0}),
    "gru": ("GRU, reset after", "gru", {"reset": "after"}),
}
#: Default quantity per cell: the input weights, stacked for the gated cells.
_INPUT_WEIGHTS = {"vanilla": "Wxh", "lstm": "Wx", "gru": "Wx"}


def _shares(norms: FloatArray) -> Shares:
    """`Shares` from a (T, T) table of component norms (the arithmetic of `gradient_shares`)."""
    totals = norms.sum(axis=1, keepdims=True)
    share = np.divide(norms, totals, out=np.zeros_like(norms), where=totals > 0)
    T = norms.shape[0]
    by_distance = np.array([np.mean(np.diagonal(share, offset=-d)) for d in range(T)])
    return Shares(norms=norms, share=share, by_distance=by_distance)


def gate_columns(params: AnyParams, wrt: str, gate: str) -> slice:
    """The columns of `gate`'s block in the stacked array `wrt` of a gated cell: H*g .. H*(g+1)."""
    if isinstance(params, RNNParams):
        raise CellMismatchError(
            f"gate={gate!r} picks one gate's block of a gated cell's stacked array; the "
            "vanilla cell has no gates. Pass gate=None."
        )
    if wrt not in ("Wx", "Wh", "b", "bx", "bh"):
        raise CellMismatchError(
            f"gate picks a block of a stacked array (Wx, Wh, or a bias); got wrt={wrt!r}, "
            "which has no gate blocks. Pass gate=None."
        )
    g = params.gates.index(choice(gate, "gate", params.gates))
    return slice(g * params.H, (g + 1) * params.H)


def cell_shares(params: AnyParams, cache: AnyCache, wrt: str, *, gate: str | None = None) -> Shares:
    """Sizes and shares of every (i, k) component of dL/d`wrt`, for any cell.

    Args:
        params, cache: any cell's parameters and `rnnnum.forward` cache.
        wrt: one of the cell's gradient names, e.g. ``"Wxh"`` or ``"Wx"``.
        gate: for a stacked array of a gated cell, one gate's block alone (``"f"`` reads
            the LSTM's W_xf = Wx[:, H:2H]); None for the whole array.

    Memory O(T^2) times the size of `wrt` (the components are formed): T = 120 with a
    (4, 128) W_x is 60 MB.
    """
    terms = components(params, cache, wrt).terms  # (T, T, *shape)
    if gate is not None:
        terms = terms[..., gate_columns(params, wrt, gate)]
    T = terms.shape[0]
    return _shares(row_norms(terms.reshape(T * T, -1)).reshape(T, T))


def far_share(shares: Shares, distance: int) -> float:
    """Mean over the losses L_i with i > `distance` of the share from `distance` or more back."""
    d = positive_int(distance, "distance")
    T = shares.share.shape[0]
    if d >= T:
        raise OutOfRangeError(
            f"distance must be below the sequence length T = {T}; got {d}: no loss has "
            "a step that far back. Use a shorter distance or a longer sequence."
        )
    return float(np.mean([shares.share[i, : i - d + 1].sum() for i in range(d, T)]))


@dataclass(frozen=True, eq=False)
class ShareRow:
    """One network of `shares_beside`.

    Attributes:
        key, label, cell, wrt: the case and the quantity whose gradient is split.
        shares: the `Shares` of dL/d`wrt`.
        own: mean share from the loss's own step (``shares.by_distance[0]``).
        far: share from d or more steps back for each d of `FAR_DISTANCES`.
        reach: `gradient_reach` of the median distance profile.
        total: ||dL/d`wrt`|| (of the gate's block with `gate`) from `rnnnum.bptt`.
    """

    key: str
    label: str
    cell: str
    wrt: str
    shares: Shares = field(repr=False)
    own: float
    far: Mapping[int, float]
    reach: int
    total: float


def _reach(norms: FloatArray) -> int:
    """`gradient_reach` of the distance profile. A gate block can have a zero own-step
    component (W_xf at step 1, where c_0 = 0): its row's ratios are 0/0, NaN, and
    only the median at d = 0 sees them, so they are silenced rather than avoided."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return gradient_reach(distance_profile(norms))


def _network(
    cell: str, T: int, H: int, seed: int, options: dict[str, Any]
) -> tuple[AnyParams, AnyCache]:
    params: AnyParams
    cache: AnyCache
    if cell == "vanilla":
        params, _, _, cache = problem(T, H=H, seed=seed, **options)
    else:
        params, _, _, cache = gated_problem(cell, T, H=H, seed=seed, **options)
    return params, cache


def shares_beside(
    cases: Mapping[str, tuple[str, str, dict[str, Any]]] = SHARE_CASES,
    *,
    T: int = 120,
    H: int = 32,
    seed: int = 2013,
    gate: str | None = None,
) -> dict[str, ShareRow]:
    """The shares of dL/d(input weights) for every case, on the same input sequence.

    The vanilla cells split dL/dW_xh, the gated ones dL/dW_x (or one gate's block with
    `gate`, gated cases only). The defaults are the sizes of the gradient-shares page.
    """
    rows = {}
    for key, (label, cell, options) in cases.items():
        params, cache = _network(cell, T, H, seed, options)
        wrt, block = _INPUT_WEIGHTS[cell], None if cell == "vanilla" else gate
        result = cell_shares(params, cache, wrt, gate=block)
        total = getattr(bptt(params, cache), wrt)
        if block is not None:
            total = total[..., gate_columns(params, wrt, block)]
        rows[key] = ShareRow(
            key=key,
            label=label,
            cell=cell,
            wrt=wrt if block is None else f"{wrt}[{block}]",
            shares=result,
            own=float(result.by_distance[0]),
            far={d: far_share(result, d) for d in FAR_DISTANCES if d < T},
            reach=_reach(result.norms),
            total=float(np.linalg.norm(total)),
        )
    return rows
