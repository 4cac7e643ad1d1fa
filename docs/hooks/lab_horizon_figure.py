"""The memory-horizon figure: held-out accuracy against the lag, one line per network.

Drawn for any number of groups of networks (one line style per group) so that a rerun of
the grid with new groups needs no change here. Every series stays distinguishable:

- its own colour and marker (`MARKERS`), each group its own line style;
- a series whose medians coincide with an earlier one's at every lag (within
  `COINCIDE`) is drawn shifted to the right by `DODGE` per coinciding series before it,
  and `overlaps_sentence` says so in the caption;
- the "chance" and "solved" lines are labelled outside the axes, right of the plot,
  never on the data; the legend sits below the axes, in type sized for a phone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from gen_plot import GREY, svg_text
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

__all__ = [
    "COINCIDE",
    "DODGE",
    "Series",
    "coinciding",
    "horizon_figure",
    "horizon_svg",
    "overlaps_sentence",
    "shifts",
]

#: Ten colours that stay apart on white (matplotlib's tab10), given out in series order.
PALETTE = (
    "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
)  # fmt: skip
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
LINE_STYLES = ("-", "--", "-.", ":")
#: Two medians closer than this (accuracy) are drawn on top of each other: a marker is
#: about 3 % of the axis height tall at the figure's size.
COINCIDE = 0.03
#: Horizontal shift of a coinciding series, as a factor on the log-scaled lag axis (4 %:
#: a marker's width apart, far less than the gap between two lags of the grid).
DODGE = 1.04
#: Type sizes, points: the figure is about 5.8 in wide with its labels and shown about
#: 350 px wide on a 390 px phone, so a point is drawn at about 0.9 px there.
TICK_PT, LABEL_PT, LEGEND_PT = 11, 13, 12


@dataclass(frozen=True)
class Series:
    """One network: its legend label, accuracies per lag (one per seed) and its group
    (0 for the first group, 1 for the next ...: the line style)."""

    label: str
    accuracies: Mapping[int, Sequence[float]]
    group: int


def _medians(series: Series) -> dict[int, float]:
    return {lag: float(np.median(a)) for lag, a in series.accuracies.items()}


def coinciding(series: Sequence[Series]) -> dict[int, int]:
    """Index of each series whose medians equal an earlier series' (same lags, every
    median within `COINCIDE`) -> index of the first such earlier series."""
    medians = [_medians(s) for s in series]
    out: dict[int, int] = {}
    for j, mine in enumerate(medians):
        for i in range(j):
            other = medians[i]
            if other.keys() == mine.keys() and all(
                abs(other[lag] - mine[lag]) < COINCIDE for lag in mine
            ):
                out[j] = i
                break
    return out


def shifts(series: Sequence[Series]) -> dict[int, int]:
    """How many `DODGE` steps each coinciding series is drawn to the right: the first
    series of a coinciding set stays, the next ones step 1, 2, ... in order."""
    out: dict[int, int] = {}
    seen: dict[int, int] = {}
    for j, i in coinciding(series).items():
        seen[i] = seen.get(i, 0) + 1
        out[j] = seen[i]
    return out


def overlaps_sentence(series: Sequence[Series]) -> str:
    """What the caption says about coinciding series (empty when there are none)."""
    groups: dict[int, list[int]] = {}
    for j, i in coinciding(series).items():
        groups.setdefault(i, []).append(j)
    percent = round((DODGE - 1) * 100)
    parts = []
    for i, js in groups.items():
        names = [series[j].label for j in js]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        parts.append(
            f"The medians of {listed} differ from those of {series[i].label} by less than "
            f"{COINCIDE:g} at every lag; "
            + (f"its line is drawn {percent} % to the right" if len(js) == 1 else
               f"their lines are drawn {percent} % further to the right each, in this order,")
            + " so that all show."
        )  # fmt: skip
    return " ".join(parts)


def horizon_svg(
    series: Sequence[Series],
    lags: Sequence[int],
    chance: float,
    solved: float,
    ylabel: str = "held-out accuracy",
) -> str:
    """The figure (`horizon_figure`) as SVG text."""
    return svg_text(horizon_figure(series, lags, chance, solved, ylabel))


def horizon_figure(
    series: Sequence[Series],
    lags: Sequence[int],
    chance: float,
    solved: float,
    ylabel: str = "held-out accuracy",
) -> Figure:
    """The figure (module docstring): medians as lines with markers, the range over seeds
    as a band, the lags of `lags` as ticks."""
    if len(series) > len(PALETTE):
        raise ValueError(
            f"the horizon figure tells at most {len(PALETTE)} networks apart by colour; got "
            f"{len(series)}. Split the groups over two figures or extend PALETTE."
        )
    fig, ax = plt.subplots(figsize=(5.4, 3.4))
    steps = shifts(series)
    for j, s in enumerate(series):
        shown = sorted(s.accuracies)
        at = [lag * DODGE ** steps.get(j, 0) for lag in shown]
        acc = [s.accuracies[lag] for lag in shown]
        colour = PALETTE[j]
        ax.fill_between(at, [min(a) for a in acc], [max(a) for a in acc], color=colour,
                        alpha=0.12, lw=0)  # fmt: skip
        ax.plot(at, [np.median(a) for a in acc], marker=MARKERS[j], ms=6, mfc="white", mew=1.5,
                ls=LINE_STYLES[s.group % len(LINE_STYLES)], color=colour, lw=1.8,
                label=s.label)  # fmt: skip
    right = blended_transform_factory(ax.transAxes, ax.transData)
    for value, name, style in ((chance, "chance", "--"), (solved, "solved", ":")):
        ax.axhline(value, color=GREY, lw=1, ls=style, zorder=0)
        ax.text(1.01, value, name, transform=right, ha="left", va="center", color=GREY,
                fontsize=TICK_PT)  # fmt: skip
    ax.set_xlabel("lag L (distractors before the answer), log scale", fontsize=LABEL_PT)
    ax.set_ylabel(ylabel, fontsize=LABEL_PT)
    ax.set_xscale("log")
    ax.set_xticks(list(lags), [str(lag) for lag in lags])
    ax.minorticks_off()
    ax.tick_params(labelsize=TICK_PT)
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize=LEGEND_PT, loc="upper left",
              bbox_to_anchor=(-0.15, -0.22), handlelength=2.6)  # fmt: skip
    return fig
