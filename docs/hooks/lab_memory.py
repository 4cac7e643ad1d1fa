"""Page ``memory-horizon.md``: the trained memory horizon, read from its recorded results file."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from gen_format import claim, code, fmt, table
from gen_plot import GREY, svg_text
from lab_common import COLOURS, ROOT, LabPage

from rnnnum import horizon

#: The recorded memory-horizon runs (see `rnnnum.horizon`); the page plots the group of
#: the vanilla networks (`rnnnum.horizon.VARIANTS`).
HORIZON_RESULTS = ROOT / "docs" / "results" / "memory-horizon.json"


def page() -> LabPage:
    """The fragments and figures of ``memory-horizon.md``."""
    out: dict[str, str] = {}
    files: dict[str, str] = {}
    header, runs = horizon.load_results(HORIZON_RESULTS, horizon.VARIANTS)
    settings, provenance = header["settings"], header["provenance"]
    variants, lags, chance = settings["variants"], settings["lags"], settings["chance"]
    claim(
        settings["solved"] == horizon.SOLVED and list(variants) == list(horizon.VARIANTS),
        "the results file was made with the variants and threshold of rnnnum.horizon",
    )
    top = max(lags)

    def shown(value: float) -> str:  # a horizon at the grid's end is only a lower bound
        return f"≥ {top}" if value >= top else fmt(value)

    rows, accuracies, medians, first_chance = [], {}, {}, {}
    for key, label in variants.items():
        values = list(horizon.seed_horizons(runs, key).values())
        median = float(np.median(values))
        medians[key] = median
        acc = {lag: [r.accuracy for r in runs if r.variant == key and r.lag == lag] for lag in lags}
        at_chance = [
            lag for lag in lags if np.median(acc[lag]) < chance + settings["chance_margin"]
        ]
        first_chance[key] = at_chance[0] if at_chance else None
        spread = f"{shown(min(values))} to {shown(max(values))}"
        rows.append(
            [
                label,
                ", ".join(shown(v) for v in values),
                shown(median),
                spread,
                str(at_chance[0]) if at_chance else f"not within L ≤ {top}",
            ]
        )
        accuracies[key] = acc
        out[f"horizon.{key}.median"] = shown(median)
        out[f"horizon.{key}.range"] = spread
        out[f"horizon.{key}.chance"] = str(at_chance[0]) if at_chance else "never"
    none = "normal-tanh"
    after = lags[lags.index(int(medians[none])) + 1] if medians[none] < top else None
    claim(
        medians[none] < 10 and first_chance[none] == after,
        "without a remedy the horizon is below 10 and the next lag is already at chance",
    )
    claim(
        min(medians["xavier-tanh"], medians["orthogonal-tanh"], medians["irnn-relu"]) > 20,
        "each remedy's horizon is beyond 20 steps",
    )
    claim(medians["residual-tanh"] >= top, "the residual network solved every lag of the grid")
    out["horizon.top"] = str(top)
    out["horizon.none.next"] = str(after)
    seeds = settings["seeds"]
    out["table.horizon"] = table(
        [
            "network",
            f"horizon per seed (seeds {', '.join(map(str, seeds))})",
            "median",
            "range",
            "first L at chance (median)",
        ],
        rows,
    )
    out["table.horizon.accuracy"] = table(
        ["lag L", *variants.values()],
        [
            [
                str(lag),
                *[
                    f"{np.median(a[lag]):.2f} ({min(a[lag]):.2f}–{max(a[lag]):.2f})"
                    for a in accuracies.values()
                ],
            ]
            for lag in lags
        ],
    )
    train = settings["train"]
    out.update(
        {
            "horizon.lags": ", ".join(map(str, lags)),
            "horizon.seeds": str(len(seeds)),
            "horizon.symbols": str(settings["task"]["symbols"]),
            "horizon.distractors": str(settings["task"]["distractors"]),
            "horizon.chance": fmt(chance),
            "horizon.margin": fmt(settings["chance_margin"]),
            "horizon.solved": fmt(settings["solved"]),
            "horizon.hidden": str(train["hidden"]),
            "horizon.steps": str(train["steps"]),
            "horizon.batch": str(train["batch"]),
            "horizon.momentum": fmt(train["momentum"]),
            "horizon.clip": fmt(train["clip"]),
            "horizon.rates": " and ".join(fmt(r) for r in settings["learning_rates"]),
            "horizon.eval": str(train["eval_size"]),
            "horizon.stop": fmt(train["stop_accuracy"]),
            "horizon.runs": str(len(runs)),
            "horizon.command": code(provenance["command"]),
            "horizon.provenance": table(
                ["recorded", "value"],
                [[k, code(str(v))] for k, v in provenance.items()],
            ),
        }
    )
    files["figures/horizon.svg"] = _horizon_figure(runs, variants, lags, settings)
    return LabPage(out, files, (HORIZON_RESULTS.relative_to(ROOT).as_posix(),))


def _horizon_figure(runs, variants, lags, settings) -> str:
    fig, ax = plt.subplots(figsize=(9.5, 4.2))
    for (key, label), colour in zip(variants.items(), COLOURS, strict=False):
        acc = np.array(
            [[r.accuracy for r in runs if r.variant == key and r.lag == lag] for lag in lags]
        )
        ax.fill_between(lags, acc.min(axis=1), acc.max(axis=1), color=colour, alpha=0.15, lw=0)
        ax.plot(lags, np.median(acc, axis=1), "o-", color=colour, lw=2, label=label)
    ax.axhline(settings["chance"], color=GREY, lw=1, ls="--")
    ax.text(lags[-1], settings["chance"] + 0.02, "chance", ha="right", color=GREY, fontsize=9)
    ax.axhline(settings["solved"], color=GREY, lw=1, ls=":")
    ax.text(lags[-1], settings["solved"] + 0.02, "solved", ha="right", color=GREY, fontsize=9)
    ax.set_xlabel("lag L (distractors between the symbol and the answer), log scale")
    ax.set_ylabel("held-out accuracy")
    ax.set_xscale("log")
    ax.set_xticks(lags, [str(lag) for lag in lags])
    ax.minorticks_off()
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return svg_text(fig)
