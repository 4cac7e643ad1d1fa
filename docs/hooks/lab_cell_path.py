"""Page ``gated/cell-state-path.md``: the LSTM's cell-state path measured, and the gated shares.

Its fragments ``gated.regime.<key>`` are the labels of `rnnnum.lab.LSTM_REGIMES` with
their symbols as math (``gated.regime.bias1`` reads b_f = 1), for the prose;
``gated.regime.<key>.bias`` is the forget-gate bias alone (b_f = -3).

The experiments are `rnnnum.lab.lstm_regimes` (the cell path, the full dc/dc and dh/dh
and the vanilla dh/dh against distance, for four LSTMs) and `rnnnum.lab.shares_beside`
(the gradient shares of LSTM and GRU beside the vanilla ones, at the gradient-shares
page's T and H); the figures are drawn by `gen_gated_plots`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gen_gated_plots as plots
import numpy as np
from gen_format import claim, code, fmt, fragment, plain_math, table
from lab_common import SHARES_SIZE, LabPage

from rnnnum import lab
from rnnnum.lab.gated import PATH_SEEDS, TABLE_DISTANCE

#: The LSTMs of the curves, (H, T): T = 40 rather than the experiment's default 60,
#: which costs about twice as much (the products and norms grow as T^2) for a page
#: whose table reads distance 20 and whose fit spans d = 1..T/2.
PATH_SIZE = (16, 40)
#: How far the norm's fitted decay (per step) may lie from the slowest unit's mean
#: log f: the norm follows the slowest unit only asymptotically, and the fit spans
#: short distances too (tests/test_lab_gated.py, SLOWEST_UNIT_ATOL).
SLOWEST_UNIT_TOL = 0.05
#: The two forget-gate biases compared, keys of `rnnnum.lab.LSTM_REGIMES`.
BIASES = ("bias0", "bias1")


def _curves(out: dict[str, str], regimes: dict[str, lab.CellPathCurves]) -> None:
    d = TABLE_DISTANCE
    for key, c in regimes.items():
        out[f"gated.path.rate.{key}"] = fmt(c.rates["cell_path"], 2)
        out[f"gated.path.factor.{key}"] = fmt(float(np.exp(c.rates["cell_path"])), 2)
        out[f"gated.path.slowest.{key}"] = fmt(c.slowest_unit_rate, 2)
        out[f"gated.path.meanlogf.{key}"] = fmt(c.mean_log_f, 2)
        out[f"gated.path.meanf.{key}"] = fmt(c.mean_f, 2)
        out[f"gated.path.at.{key}"] = fmt(float(c.cell_path[d]))
        out[f"gated.cc.at.{key}"] = fmt(float(c.cell_cell[d]))
        out[f"gated.hh.at.{key}"] = fmt(float(c.hidden[d]))
        out[f"gated.hh.rate.{key}"] = fmt(c.rates["hidden"], 2)
        out[f"gated.path.max.{key}"] = fmt(c.max_cell_path)
    for key, c in regimes.items():
        out[f"gated.regime.{key}"] = plain_math(c.label)
        out[f"gated.regime.{key}.bias"] = plain_math(f"b_f = {c.options['forget_bias']:g}")
    vanilla = regimes["bias0"]
    out["gated.vanilla.rate"] = fmt(vanilla.rates["vanilla"], 2)
    out["gated.vanilla.at"] = fmt(float(vanilla.vanilla[d]))
    out["gated.exploding.max"] = fmt(regimes["exploding"].max_cell_cell)
    out["gated.path.gain"] = fmt(
        float(regimes["bias1"].cell_path[d] / regimes["bias0"].cell_path[d]), 4
    )
    for key in BIASES:
        c = regimes[key]
        claim(
            abs(c.rates["cell_path"] - c.slowest_unit_rate) < SLOWEST_UNIT_TOL
            and c.rates["cell_path"] > c.mean_log_f,
            f"the cell path's norm decays at the slowest unit's mean log f, slower than the "
            f"mean log f of all units ({c.label})",
        )
        claim(
            c.rates["cell_cell"] > c.rates["cell_path"]
            and bool(np.all(c.cell_cell[1:] >= c.cell_path[1:])),
            f"the full dc_i/dc_k lies above the cell path at every distance ({c.label})",
        )
    b0, b1 = regimes["bias0"], regimes["bias1"]
    claim(
        b1.rates["cell_path"] > b0.rates["cell_path"]
        and b1.cell_path[d] > b0.cell_path[d]
        and b1.mean_f > b0.mean_f,
        "with b_f = 1 the forget gates start more open and the cell path decays slower than "
        "with b_f = 0",
    )
    claim(
        b0.rates["cell_path"] < min(b0.rates["vanilla"], b0.rates["hidden"], b0.rates["cell_cell"])
        and b0.rates["hidden"] < b0.rates["vanilla"],
        "with b_f = 0 the cell path falls fastest of the four curves, and the LSTM's dh/dh "
        "decays faster than the vanilla product",
    )
    claim(
        b1.rates["hidden"] > b1.rates["vanilla"] and b1.rates["cell_cell"] > b1.rates["vanilla"],
        "with b_f = 1 the LSTM's dh/dh and full dc/dc decay slower than the vanilla product",
    )
    claim(
        all(c.max_cell_path < 1 for c in regimes.values()),
        "the cell path never exceeds 1, in any case",
    )
    closing, exploding = regimes["closing"], regimes["exploding"]
    claim(
        closing.cell_path[d] < 1e-20 and closing.cell_cell[d] < 1e-10 and closing.hidden[d] < 1e-10,
        "with closing gates the cell path and both full blocks vanish (below 1e-10 at d = 20)",
    )
    claim(
        exploding.cell_cell[d] > 1 and exploding.max_cell_cell > 10 and exploding.max_cell_path < 1,
        "with large W_h the full dc/dc grows past 1 while the cell path stays below 1",
    )
    out["gated.table.decay"] = table(
        [
            "LSTM",
            f"mean {fragment('sym.lstm.f')}",
            f"mean log {fragment('sym.lstm.f')}",
            f"slowest unit's mean log {fragment('sym.lstm.f')}",
            "fitted decay per step, cell path",
            "factor per step",
            f"cell path at d = {d}",
        ],
        [
            [
                plain_math(c.label),
                fmt(c.mean_f, 2),
                fmt(c.mean_log_f, 2),
                fmt(c.slowest_unit_rate, 2),
                fmt(c.rates["cell_path"], 2),
                fmt(float(np.exp(c.rates["cell_path"])), 2),
                fmt(float(c.cell_path[d])),
            ]
            for c in (b0, b1)
        ],
    )
    out["gated.table.regimes"] = table(
        [
            "LSTM",
            f"mean {fragment('sym.lstm.f')}",
            f"cell path at d = {d}",
            f"norm of the full {fragment('d.lstm.c_i.c_k')} at d = {d}",
            f"norm of {fragment('d.lstm.h_i.h_k')} at d = {d}",
            "largest cell path",
            f"full {fragment('d.lstm.c_i.c_k')} above 1?",
        ],
        [
            [
                plain_math(row.label),
                fmt(row.mean_f, 2),
                fmt(row.cell_path),
                fmt(row.cell_cell),
                fmt(row.hidden),
                fmt(row.max_cell_path),
                "yes" if row.grows else "no",
            ]
            for row in lab.regime_table(regimes, d)
        ],
    )


def _shares(out: dict[str, str], rows: dict[str, lab.ShareRow]) -> None:
    far = {key: row.far[20] for key, row in rows.items()}
    for key, row in rows.items():
        out[f"gated.shares.far20.{key}"] = fmt(row.far[20])
        out[f"gated.shares.own.{key}"] = fmt(row.own)
    claim(
        far["lstm1"] > max(far["vanilla"], far["orthogonal"]),
        "the LSTM with b_f = 1 draws more of its gradient from 20 or more steps back than "
        "either vanilla network",
    )
    claim(
        max(far["lstm0"], far["gru"]) < min(far["vanilla"], far["orthogonal"]),
        "the LSTM with b_f = 0 and the GRU draw less from 20 or more steps back than the "
        "vanilla networks",
    )
    out["gated.shares.ratio"] = fmt(far["lstm1"] / far["vanilla"], 2)
    out["gated.table.shares"] = table(
        [
            "network",
            "gradient of (`rnnnum` name)",
            "share from the loss's own step",
            "share from 10 or more steps back",
            "share from 20 or more steps back",
            "reach (1 %)",
        ],
        [
            [
                plain_math(row.label),
                code(row.wrt),
                fmt(row.own),
                fmt(row.far[10]),
                fmt(row.far[20]),
                str(row.reach),
            ]
            for row in rows.values()
        ],
    )


def page() -> LabPage:
    """The fragments and figures of ``gated/cell-state-path.md``."""
    out: dict[str, str] = {}
    H, T = PATH_SIZE
    regimes = lab.lstm_regimes(T=T, H=H, seeds=PATH_SEEDS)
    _curves(out, regimes)
    options: Mapping[str, Any] = regimes["exploding"].options
    out.update(
        {
            "gated.path.H": str(H),
            "gated.path.T": str(T),
            "gated.path.seeds": str(len(PATH_SEEDS)),
            "gated.path.distance": str(TABLE_DISTANCE),
            "gated.path.tol": fmt(SLOWEST_UNIT_TOL),
            "gated.exploding.gain": fmt(float(options["gain"])),
        }
    )
    H, T = SHARES_SIZE
    rows = lab.shares_beside(T=T, H=H)
    _shares(out, rows)
    out["gated.shares.H"], out["gated.shares.T"] = str(H), str(T)
    files = {
        "figures/gated-cell-path.svg": plots.cell_path_figure(regimes),
        "figures/gated-regimes.svg": plots.regimes_figure(regimes),
        "figures/gated-shares.svg": plots.shares_figure(rows),
    }
    return LabPage(out, files)
