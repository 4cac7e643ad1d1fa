r"""The LSTM's cell-state path against distance: where it keeps the gradient, where it does not.

Holding every h fixed, $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ reaches $c_{t-1}$
through the forget gate alone, so the cell-state path is a product of forget gates
(the constant error carousel, Hochreiter and Schmidhuber 1997):

$$\Big(\frac{dc_i}{dc_k}\Big)_{h\ \text{fixed}} = \mathrm{diag}(f_{k+1}) \cdots
\mathrm{diag}(f_i),\qquad \log \prod_{t=k+1}^{i} f_{t,j} = \sum_{t=k+1}^{i} \log f_{t,j}
\le 0 .$$

Its norm (the largest entry) therefore decays per step at the rate of the slowest
unit, $\max_j$ of the mean of $\log f_{t,j}$, and can never exceed 1. The full blocks
dc_i/dc_k and dh_i/dh_k of the LSTM's state Jacobian (`rnnnum.jacobian_products`)
add the paths that leave c through h and come back through the gates: they vanish
when the gates close (a strongly negative forget bias) and can grow with distance
when the recurrent weights are large, although the pure cell path stays below 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnnum._checks import FloatArray, choice, positive_int
from rnnnum.errors import OutOfRangeError
from rnnnum.forward import AnyCache, AnyParams, forward
from rnnnum.gated import LSTMCache
from rnnnum.gated_init import init_gru, init_lstm
from rnnnum.jacobians import cell_state_path, step_jacobians
from rnnnum.lab.shares import problem

__all__ = [
    "GATED_CELLS",
    "LSTM_REGIMES",
    "CellPathCurves",
    "RegimeRow",
    "by_distance",
    "cell_path_curves",
    "gated_problem",
    "log_slope",
    "lstm_regimes",
    "regime_table",
]

#: The cells `gated_problem` builds.
GATED_CELLS = ("lstm", "gru")
#: The second entry of the seed of the gated weights' generator, so they never reuse
#: the stream that drew the vanilla problem's weights, inputs and targets.
CELL_STREAM = 14
#: Seeds of the cell-state-path curves: the median is taken over all of them.
PATH_SEEDS = (2013, 2014, 2015, 2016, 2017)
#: The distance at which `regime_table` reads the curves.
TABLE_DISTANCE = 20
#: The LSTM cases of the vanishing/exploding table: key -> (label, `gated_problem` options).
LSTM_REGIMES: dict[str, tuple[str, dict[str, Any]]] = {
    "bias0": ("b_f = 0", {"forget_bias": 0.0}),
    "bias1": ("b_f = 1", {"forget_bias": 1.0}),
    "closing": ("b_f = -3: gates close", {"forget_bias": -3.0}),
    "exploding": (
        "orthogonal W_h times 3, b_f = 1",
        {"scheme": "orthogonal", "gain": 3.0, "forget_bias": 1.0},
    ),
}


def gated_problem(
    cell: str,
    T: int,
    *,
    H: int = 16,
    D: int = 4,
    V: int = 4,
    scheme: str = "xavier",
    forget_bias: float = 0.0,
    reset: str = "after",
    gain: float = 1.0,
    seed: int = 2013,
) -> tuple[AnyParams, FloatArray, Any, AnyCache]:
    """An LSTM or GRU on the vanilla problem's sequence: params, X (1, T, D), targets (1, T), cache.

    X and the targets are those of ``rnnnum.lab.problem(T, H=H, D=D, V=V, seed=seed)``
    (Xavier), so every cell reads the same inputs; the gated weights come from
    `rnnnum.init_lstm` / `rnnnum.init_gru` with a generator seeded ``(seed, CELL_STREAM)``,
    and the recurrent weights W_h are then multiplied by `gain`.
    """
    cell = choice(cell, "cell", GATED_CELLS)
    _, X, targets, _ = problem(positive_int(T, "T"), H=H, D=D, V=V, seed=seed)
    rng = np.random.default_rng((seed, CELL_STREAM))
    params: AnyParams
    if cell == "lstm":
        params = init_lstm(D, H, V, rng, scheme=scheme, forget_bias=forget_bias)
    else:
        params = init_gru(D, H, V, rng, scheme=scheme, reset=reset)
    if gain != 1.0:
        params = params.replace(Wh=gain * params.Wh)
    return params, X, targets, forward(params, X, targets)


def by_distance(tables: FloatArray) -> FloatArray:
    """Median over every (i, k) pair with i - k = d and over the leading axis: (S, n, n) -> (n,)."""
    n = tables.shape[-1]
    return np.array(
        [np.median(np.diagonal(tables, offset=-d, axis1=-2, axis2=-1)) for d in range(n)]
    )


def log_slope(curve: FloatArray, distances: Iterable[int]) -> float:
    r"""Least-squares slope of $\log$ `curve` against the distance, over `distances`: per step."""
    d = np.asarray(list(distances))
    d = d[curve[d] > 0]  # an entry that underflowed to 0 has no logarithm
    return float(np.polyfit(d, np.log(curve[d]), 1)[0])


@dataclass(frozen=True, eq=False)
class CellPathCurves:
    """The LSTM's Jacobian products against the distance d = i - k, medians over pairs and seeds.

    Attributes:
        label, options: the case and its `gated_problem` options; seeds: the seeds.
        cell_path: (T+1,), median ||dc_i/dc_k|| with h held fixed (the forget-gate product).
        cell_cell: (T+1,), median ||dc_i/dc_k||, the full block.
        hidden: (T+1,), median ||dh_i/dh_k||, the LSTM's block.
        vanilla: (T+1,), median ||dh_i/dh_k|| of the vanilla Xavier problem, same T, H, seeds.
        rates: fitted log-slope per step of each curve over d = 1..T//2, keyed as the curves.
        step_rates: (T,), log(cell_path[d+1] / cell_path[d]), the local rate at each d.
        slowest_unit_rate: mean over seeds of max_j mean_t log f_{t,j}: what the cell path's
            norm decays at, read from the gate values alone.
        mean_log_f, mean_f: mean of log f and of f over seeds, steps and units.
        unit_rates: (S, H), log prod_{t=1}^{T} f_{t,j} / T read from the cell path
            (equal to the mean over t of log f_{t,j}).
        max_cell_path: the largest entry of every product over at least one step (below 1,
            each f being a sigmoid in (0, 1)).
        max_cell_cell, max_hidden: the largest ||dc_i/dc_k|| and ||dh_i/dh_k|| over all pairs.
    """

    label: str
    options: Mapping[str, Any]
    seeds: tuple[int, ...]
    cell_path: FloatArray = field(repr=False)
    cell_cell: FloatArray = field(repr=False)
    hidden: FloatArray = field(repr=False)
    vanilla: FloatArray = field(repr=False)
    rates: Mapping[str, float]
    step_rates: FloatArray = field(repr=False)
    slowest_unit_rate: float
    mean_log_f: float
    mean_f: float
    unit_rates: FloatArray = field(repr=False)
    max_cell_path: float
    max_cell_cell: float
    max_hidden: float

    @property
    def T(self) -> int:
        """Sequence length."""
        return int(self.cell_path.size - 1)


def _products(M: FloatArray) -> FloatArray:
    """ds_i/ds_k = M_{k+1} ... M_i for 0 <= k <= i <= T: (T, n, n) -> (T+1, T+1, n, n).

    The recursion of `rnnnum.jacobian_products`, without its SVD of every (n, n) product:
    the curves need the spectral norms of two (H, H) blocks, on and below the diagonal only.
    """
    T, n = M.shape[0], M.shape[-1]
    P = np.zeros((T + 1, T + 1, n, n))
    P[np.arange(T + 1), np.arange(T + 1)] = np.eye(n)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(1, T + 1):
            P[i, :i] = P[i - 1, :i] @ M[None, i - 1]  # ds_i/ds_k = (ds_{i-1}/ds_k) M_i
    if not np.isfinite(P).all():
        raise OutOfRangeError(
            f"a product ds_i/ds_k overflowed float64 over T = {T} steps; the curves need "
            "finite products. Use a shorter sequence or smaller recurrent weights (gain)."
        )
    return P


def _spectral_norms(
    P: FloatArray, rows: slice = slice(None), cols: slice = slice(None)
) -> FloatArray:
    """Largest singular value of the block ``[rows, cols]`` of each P[i, k], k <= i: (T+1, T+1).

    Above the diagonal (k > i) the products are zero, and so are their norms.
    """
    i, k = np.tril_indices(P.shape[0])
    out = np.zeros(P.shape[:2])
    out[i, k] = np.linalg.norm(P[i, k][..., rows, cols], 2, axis=(-2, -1))
    return out


def cell_path_curves(
    label: str = "",
    *,
    T: int = 60,
    H: int = 16,
    seeds: Iterable[int] = PATH_SEEDS,
    **options: Any,
) -> CellPathCurves:
    """The cell path, the full dc/dc and dh/dh and the vanilla dh/dh against distance.

    `options` go to `gated_problem` (``forget_bias``, ``scheme``, ``gain``). Cost per
    seed: the products of the LSTM's and the vanilla cell's one-step Jacobians
    (O(T^2 (2H)^3)) and three spectral norms of (H, H) blocks per pair k <= i;
    T = 60, H = 16 takes about 0.1 s.
    """
    seeds = tuple(seeds)
    path, cc, hh, van, unit_rates, log_f, f_mean, slowest = [], [], [], [], [], [], [], []
    for seed in seeds:
        params, _, _, cache = gated_problem("lstm", T, H=H, seed=seed, **options)
        assert isinstance(cache, LSTMCache)
        cell_path = cell_state_path(params, cache)[0]  # (T+1, T+1, H)
        path.append(np.max(np.abs(cell_path), axis=-1))  # ||diag(prod f)|| = max entry
        P = _products(step_jacobians(params, cache)[0])  # blocks: rows (h, c)_k, cols (h, c)_i
        h, c = slice(0, H), slice(H, 2 * H)
        cc.append(_spectral_norms(P, c, c))
        hh.append(_spectral_norms(P, h, h))
        v_params, _, _, v_cache = problem(T, H=H, seed=seed)
        van.append(_spectral_norms(_products(step_jacobians(v_params, v_cache)[0])))
        unit_rates.append(np.log(cell_path[T, 0]) / T)  # (H,)
        logs = np.log(cache.f[0])  # (T, H), f of every step and unit
        log_f.append(logs.mean())
        f_mean.append(cache.f.mean())
        slowest.append(logs.mean(axis=0).max())
    named = (("cell_path", path), ("cell_cell", cc), ("hidden", hh), ("vanilla", van))
    curves = {name: by_distance(np.stack(tables)) for name, tables in named}
    fit = range(1, T // 2 + 1)
    with np.errstate(divide="ignore"):
        step_rates = np.diff(np.log(curves["cell_path"]))
    return CellPathCurves(
        label=label,
        options=dict(options),
        seeds=seeds,
        **curves,
        rates={name: log_slope(c, fit) for name, c in curves.items()},
        step_rates=step_rates,
        slowest_unit_rate=float(np.mean(slowest)),
        mean_log_f=float(np.mean(log_f)),
        mean_f=float(np.mean(f_mean)),
        unit_rates=np.stack(unit_rates),
        max_cell_path=float(np.max([p[np.tril_indices(T + 1, -1)].max() for p in path])),
        max_cell_cell=float(np.max(cc)),
        max_hidden=float(np.max(hh)),
    )


def lstm_regimes(
    cases: Mapping[str, tuple[str, dict[str, Any]]] = LSTM_REGIMES,
    *,
    T: int = 60,
    H: int = 16,
    seeds: Iterable[int] = PATH_SEEDS,
) -> dict[str, CellPathCurves]:
    """`cell_path_curves` for every case, keyed as `cases`."""
    seeds = tuple(seeds)
    return {
        key: cell_path_curves(label, T=T, H=H, seeds=seeds, **options)
        for key, (label, options) in cases.items()
    }


@dataclass(frozen=True)
class RegimeRow:
    """One line of the vanishing/exploding table, read at distance `distance`.

    Attributes:
        key, label, distance: the case and where it is read.
        mean_f: mean forget gate.  cell_path_rate: fitted log-slope per step of the cell path.
        cell_path, cell_cell, hidden: the median norms at `distance`.
        max_cell_path: at most 1 in every case.
        grows: the median full ||dc_i/dc_k|| at `distance` exceeds 1.
    """

    key: str
    label: str
    distance: int
    mean_f: float
    cell_path_rate: float
    cell_path: float
    cell_cell: float
    hidden: float
    max_cell_path: float
    grows: bool


def regime_table(
    curves: Mapping[str, CellPathCurves], distance: int = TABLE_DISTANCE
) -> list[RegimeRow]:
    """The curves of `lstm_regimes` read at one distance, one row per case."""
    d = positive_int(distance, "distance")
    T = min(c.T for c in curves.values())
    if d > T:
        raise OutOfRangeError(
            f"distance must be at most the sequence length T = {T} of the curves; got {d}. "
            f"Read them at a shorter distance, e.g. {min(TABLE_DISTANCE, T)}."
        )
    return [
        RegimeRow(
            key=key,
            label=c.label,
            distance=d,
            mean_f=c.mean_f,
            cell_path_rate=c.rates["cell_path"],
            cell_path=float(c.cell_path[d]),
            cell_cell=float(c.cell_cell[d]),
            hidden=float(c.hidden[d]),
            max_cell_path=c.max_cell_path,
            grows=bool(c.cell_cell[d] > 1.0),
        )
        for key, c in curves.items()
    ]
