"""The gated chapter's plots, drawn from the results of `rnnnum.lab` (never recomputed here).

Each function takes what an experiment returned and gives SVG text, in the style of
the laboratory's figures (`gen_lab`): the same colours, sizes and, for the heat maps,
the same colour scale as the gradient-shares page, so the two pages compare by eye.
This module reads `rnnnum` only (no `derivations`, no SymPy): the lab job's cache
depends on what it imports.

- `cell_path_figure`: the LSTM's cell-state path, full dc/dc and dh/dh against the
  distance for b_f = 0 and 1, beside the vanilla dh/dh (`lab.lstm_regimes`);
- `regimes_figure`: the same curves for every case, where the gates close and where
  the full block explodes while the cell path stays below 1;
- `shares_figure`, `shares_by_distance_figure`: the gradient shares of LSTM and GRU
  beside the vanilla ones at the same T and H (`lab.shares_beside`);
- `resets_figure`: how far the GRU's two reset placements differ (`lab.reset_difference`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from gen_plot import GREY, readable, svg_text
from matplotlib.axes import Axes

from rnnnum import lab

__all__ = [
    "CURVES",
    "SHARE_KEYS",
    "cell_path_figure",
    "label",
    "regimes_figure",
    "resets_figure",
    "shares_by_distance_figure",
    "shares_figure",
]

COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd")
#: The curves of a `lab.CellPathCurves`, with their legend labels and line styles.
CURVES: dict[str, tuple[str, str, str]] = {
    "cell_path": (
        r"cell-state path $\Vert \mathrm{d} c_i / \mathrm{d} c_k \Vert$, h held fixed",
        COLOURS[1],
        "-",
    ),
    "cell_cell": (r"$\Vert \mathrm{d} c_i / \mathrm{d} c_k \Vert$, all paths", COLOURS[0], "-"),
    "hidden": (r"$\Vert \mathrm{d} h_i / \mathrm{d} h_k \Vert$, LSTM", COLOURS[2], "-"),
    "vanilla": (r"$\Vert \mathrm{d} h_i / \mathrm{d} h_k \Vert$, vanilla RNN", GREY, "--"),
}
#: The networks of the heat maps, keys of `lab.SHARE_CASES`.
SHARE_KEYS = ("vanilla", "lstm0", "lstm1", "gru")
#: The shares page's colour scale: log10 of the share, clipped at 1e-12 (`gen_lab._heatmaps`).
SHARE_VMIN, SHARE_VMAX = -12, 0
#: Below this a median norm is drawn at the floor (an underflowed product is 0).
FLOOR = 1e-300
_SUBSCRIPT = re.compile(r"(?<![\\$\w])([A-Za-z])_([A-Za-z0-9]+)\b")
_DISTANCE = "distance d = i − k"
_MEDIAN = "median norm over pairs (i, k) and seeds"


def label(text: str) -> str:
    """A lab label for matplotlib: ``b_f = 1`` -> ``$b_{f}$ = 1``, ``W_h`` -> ``$W_{h}$``."""
    return _SUBSCRIPT.sub(r"$\1_{\2}$", text)


def _curve(ax: Axes, values: np.ndarray, **style: object) -> None:
    d = np.arange(values.size)
    ax.semilogy(d, np.maximum(values, FLOOR), lw=2, **style)


@readable
def cell_path_figure(
    regimes: Mapping[str, lab.CellPathCurves], keys: Sequence[str] = ("bias0", "bias1")
) -> str:
    """One panel per case (default b_f = 0 and 1): the four curves of `CURVES` against d.

    The y axes are shared, so the gain of b_f = 1 over b_f = 0 reads across the panels.
    """
    # panels stacked, 5.4 in wide like the laboratory's plots: legible on a phone too
    fig, axes = plt.subplots(
        len(keys), 1, figsize=(5.4, 2.7 * len(keys) + 1.6), sharex=True, sharey=True
    )
    axes = np.atleast_1d(axes)
    for ax, key in zip(axes, keys, strict=True):
        curves = regimes[key]
        for name, (text, colour, ls) in CURVES.items():
            _curve(ax, getattr(curves, name), color=colour, ls=ls, label=text)
        ax.axhline(1.0, color=GREY, lw=1)
        ax.set_title(f"LSTM, {label(curves.label)}")
        ax.set_ylabel("median norm")
    axes[-1].set_xlabel(_DISTANCE + "  (median over pairs (i, k) and seeds)")
    _floor(axes, [regimes[k] for k in keys])
    handles, texts = axes[0].get_legend_handles_labels()
    fig.legend(handles, texts, loc="lower center", ncol=1, frameon=False)
    size = regimes[keys[0]]
    fig.suptitle(f"H = {_hidden(size)}, T = {size.T}, {len(size.seeds)} seeds")
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    return svg_text(fig)


def _hidden(curves: lab.CellPathCurves) -> int:
    return int(curves.unit_rates.shape[1])


def _floor(axes: np.ndarray, cases: Sequence[lab.CellPathCurves]) -> None:
    """Bottom of the log axis: the smallest positive value drawn, or the floor."""
    values = np.concatenate([getattr(c, n) for c in cases for n in CURVES])
    positive = values[values > 0]
    axes[0].set_ylim(bottom=max(FLOOR, positive.min() / 3) if positive.size else FLOOR)


@readable
def regimes_figure(regimes: Mapping[str, lab.CellPathCurves]) -> str:
    """Top: the cell-state path of every case; below: the full ||dc_i/dc_k|| of every case.

    The closing gates (b_f = -3) vanish on both sides; the large recurrent weights
    leave the cell path below 1 while the full block grows past it.
    """
    # separate y axes: the closing gates fall by tens of decades, the explosion is a few
    fig, (left, right) = plt.subplots(2, 1, figsize=(5.4, 7.4), sharex=True)
    for curves, colour in zip(regimes.values(), COLOURS, strict=False):
        for ax, name in ((left, "cell_path"), (right, "cell_cell")):
            _curve(ax, getattr(curves, name), color=colour, label=label(curves.label))
    for ax, name in ((left, "cell_path"), (right, "cell_cell")):
        ax.axhline(1.0, color=GREY, lw=1)
        ax.set_ylabel("median norm")
        ax.set_title(CURVES[name][0][0].upper() + CURVES[name][0][1:], fontsize=11)
    right.set_xlabel(_DISTANCE + "  (median over pairs (i, k) and seeds)")
    left.set_ylim(top=10.0)  # the cell path never exceeds 1
    handles, texts = left.get_legend_handles_labels()
    fig.legend(handles, texts, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return svg_text(fig)


@readable
def shares_figure(
    rows: Mapping[str, lab.ShareRow], keys: Sequence[str] = SHARE_KEYS, columns: int = 2
) -> str:
    """Heat maps of log10 share_{i,k} (loss i down, input step k across), one per network.

    Drawn as `gen_lab._heatmaps` draws the vanilla regimes: viridis from 1e-12 to 1,
    the upper triangle (k > i) left blank, one colour bar for all.
    """
    T = rows[keys[0]].shares.share.shape[0]
    if any(rows[k].shares.share.shape[0] != T for k in keys):
        raise ValueError(
            "the heat maps compare networks on one sequence; got lengths "
            f"{[rows[k].shares.share.shape[0] for k in keys]}. Use one shares_beside call."
        )
    n_rows = -(-len(keys) // columns)
    fig, axes = plt.subplots(
        n_rows, columns, figsize=(5.6, 2.7 * n_rows), sharex=True, sharey=True, squeeze=False
    )
    upper = np.triu(np.ones((T, T), dtype=bool), 1)
    image = None
    for ax, key in zip(axes.flat, keys, strict=False):
        with np.errstate(divide="ignore"):
            logs = np.log10(np.where(upper, 1.0, rows[key].shares.share))
        shown = np.ma.masked_array(np.maximum(logs, SHARE_VMIN), mask=upper)
        image = ax.imshow(
            shown,
            cmap="viridis",
            vmin=SHARE_VMIN,
            vmax=SHARE_VMAX,
            extent=(0.5, T + 0.5, T + 0.5, 0.5),
        )
        ax.set_title(f"{label(rows[key].label)}: {_weight(rows[key].wrt)}", fontsize=11)
    for ax in axes.flat[len(keys) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("input step k")
    for ax in axes[:, 0]:
        ax.set_ylabel("loss i")
    if image is None:  # no panel drawn: a bug in the caller, not a figure
        raise ValueError("a share figure needs at least one panel")
    fig.colorbar(image, ax=axes, label="log10 share of loss i's gradient", shrink=0.8)
    return svg_text(fig)


def _weight(wrt: str) -> str:
    """``Wxh`` -> ``$W_{xh}$``, ``Wx`` -> ``$W_{x}$``, ``Wx[f]`` -> ``$W_{xf}$``."""
    match = re.fullmatch(r"W([a-z]+)(?:\[([a-z])\])?", wrt)
    if match is None:
        return wrt
    return f"$W_{{{match[1]}{match[2] or ''}}}$"


@readable
def shares_by_distance_figure(
    rows: Mapping[str, lab.ShareRow], keys: Sequence[str] = SHARE_KEYS
) -> str:
    """Mean share of a loss's gradient against the distance i - k, one line per network."""
    fig, ax = plt.subplots(figsize=(5.4, 3.6))
    for key, colour in zip(keys, COLOURS, strict=False):
        by = rows[key].shares.by_distance
        ax.semilogy(
            np.arange(by.size),
            np.maximum(by, 1e-30),
            color=colour,
            lw=2,
            label=f"{label(rows[key].label)}: {_weight(rows[key].wrt)}",
        )
    ax.set_xlabel("distance i − k")
    ax.set_ylabel("mean share of a loss's gradient")
    ax.set_ylim(1e-30, 1.5)
    ax.legend(frameon=False)
    fig.tight_layout()
    return svg_text(fig)


@readable
def resets_figure(
    difference: lab.ResetDifference, open_reset: lab.ResetDifference | None = None
) -> str:
    """Relative difference between reset "after" and "before", quantity by quantity.

    Bars: the states, the one-step Jacobians (median over steps), the whole gradient
    and each parameter's. With `open_reset` (r = 1 everywhere) its largest difference
    is written under the bars: there the two placements are one network.
    """
    names = [
        ("states h_t", difference.state),
        ("dh_t/dh_{t-1} (median over steps)", difference.jacobian),
        ("whole gradient", difference.gradient),
        *((f"gradient of {n}", v) for n, v in difference.gradient_by_name.items()),
    ]
    fig, ax = plt.subplots(figsize=(5.4, 0.36 * len(names) + 1.4))
    y = np.arange(len(names))[::-1]
    ax.barh(y, [v for _, v in names], color=COLOURS[0], height=0.6)
    ax.set_yticks(y, [_quantity(n) for n, _ in names])
    ax.set_xlabel("relative difference, reset after against before")
    ax.set_title(f"GRU, mean reset gate r = {difference.mean_r:.2f}", fontsize=11)
    if open_reset is not None:
        worst = max(
            open_reset.state,
            open_reset.jacobian,
            open_reset.gradient,
            *open_reset.gradient_by_name.values(),
        )
        # under the axis label, off the bars and their names
        ax.annotate(
            f"with r = 1 everywhere: at most {worst:.1g}",
            (1.0, 0.0),
            xycoords="axes fraction",
            xytext=(0.0, -44.0),
            textcoords="offset points",
            ha="right",
            va="top",
            color=GREY,
            fontsize=11,
        )
    fig.tight_layout()
    return svg_text(fig)


def _quantity(name: str) -> str:
    """Axis text with the site's notation: total derivatives with an upright d."""
    if name.startswith("dh_t/dh_{t-1}"):
        rest = name[len("dh_t/dh_{t-1}") :]
        return r"$\Vert \mathrm{d} h_t / \mathrm{d} h_{t-1} \Vert$" + rest
    match = re.fullmatch(r"gradient of ([Wb])([a-z]+)", name)
    if match:
        return rf"$\mathrm{{d}} L / \mathrm{{d}} {match[1]}_{{{match[2]}}}$"
    return label(name)
