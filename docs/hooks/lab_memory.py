"""Page ``memory-horizon.md``: the trained memory horizon, read from its recorded results file.

The file holds the tuned protocol's section (`rnnnum.horizon_tuned`, drawn by
`lab_horizon_tuned`), which the page reports, and the groups of the earlier protocol
(`rnnnum.horizon_results`): the vanilla networks (`rnnnum.horizon.VARIANTS`) and the
gated ones (`rnnnum.horizon.GATED_VARIANTS`), of which the page keeps one sentence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import lab_horizon_say
import lab_horizon_tuned
import numpy as np
from gen_format import claim, code, fmt
from lab_common import ROOT, LabPage
from lab_horizon_figure import Series

from rnnnum import horizon, horizon_results

#: The recorded memory-horizon runs (see `rnnnum.horizon`).
HORIZON_RESULTS = ROOT / "docs" / "results" / "memory-horizon.json"
RESULTS_PATH = HORIZON_RESULTS.relative_to(ROOT).as_posix()


@dataclass
class Group:
    """One group of the file, summarised per network: what the tables and claims read."""

    settings: dict[str, Any]
    provenance: dict[str, Any]
    runs: list[horizon_results.Run]
    rows: list[list[str]] = field(default_factory=list)
    accuracies: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    horizons: dict[str, list[int]] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    first_chance: dict[str, int | None] = field(default_factory=dict)


def _summarise(
    header: dict[str, Any], runs: list[horizon_results.Run], out: dict[str, str]
) -> Group:
    """Per network of the group: horizons per seed, median, range, first lag at chance."""
    group = Group(header["settings"], header["provenance"], runs)
    settings = group.settings
    for key, label in settings["variants"].items():
        lags = sorted({r.lag for r in runs if r.variant == key})  # the gated grid stops early
        top = max(lags)

        def shown(value: float, top: int = top) -> str:  # a horizon at the end: a lower bound
            return f"≥ {top}" if value >= top else fmt(value)

        values = list(horizon.seed_horizons(runs, key).values())
        median = float(np.median(values))
        acc = {lag: [r.accuracy for r in runs if r.variant == key and r.lag == lag] for lag in lags}
        at_chance = [
            lag
            for lag in lags
            if np.median(acc[lag]) < settings["chance"] + settings["chance_margin"]
        ]
        spread = f"{shown(min(values))} to {shown(max(values))}"
        group.rows.append(
            [
                label,
                ", ".join(shown(v) for v in values),
                shown(median),
                spread,
                str(at_chance[0]) if at_chance else f"not within L ≤ {top}",
            ]
        )
        group.accuracies[key], group.horizons[key], group.medians[key] = acc, values, median
        group.first_chance[key] = at_chance[0] if at_chance else None
        out[f"horizon.{key}.median"] = shown(median)
        out[f"horizon.{key}.range"] = spread
        out[f"horizon.{key}.chance"] = str(at_chance[0]) if at_chance else "never"
    return group


def _earlier(vanilla: Group, gated: Group, out: dict[str, str]) -> None:
    """The earlier protocol's result, for the one sentence the page keeps of it."""
    v, g = vanilla.medians, gated.medians
    best_vanilla = max(v, key=lambda k: v[k])
    claim(
        max(g.values()) < max(v[k] for k in ("xavier-tanh", "residual-tanh")),
        "under the earlier protocol no gated network beat a well-initialised vanilla RNN",
    )
    claim(
        vanilla.settings["learning_rates"] == gated.settings["learning_rates"]
        and len(vanilla.settings["learning_rates"]) == 2
        and vanilla.settings["train"]["momentum"] > 0,
        "the earlier protocol tried two learning rates of momentum SGD",
    )
    out.update(
        {
            "earlier.rates": " and ".join(fmt(r) for r in vanilla.settings["learning_rates"]),
            "earlier.steps": str(vanilla.settings["train"]["steps"]),
            "earlier.best": vanilla.settings["variants"][best_vanilla],
            "earlier.command": code(vanilla.provenance["command"]),
            "earlier.gated.command": code(gated.provenance["command"]),
        }
    )


def page() -> LabPage:
    """The fragments and figures of ``memory-horizon.md``."""
    out: dict[str, str] = {}
    vanilla = _summarise(*horizon.load_results(HORIZON_RESULTS, horizon.VARIANTS), out)
    gated = _summarise(*horizon.load_results(HORIZON_RESULTS, horizon.GATED_VARIANTS), out)
    claim(
        vanilla.settings["solved"] == horizon.SOLVED
        and list(vanilla.settings["variants"]) == list(horizon.VARIANTS)
        and list(gated.settings["variants"]) == list(horizon.GATED_VARIANTS),
        "the results file was made with the variants and threshold of rnnnum.horizon",
    )
    _earlier(vanilla, gated, out)
    section = json.loads(HORIZON_RESULTS.read_text())["tuned"]
    tuned_out, files, tuned = lab_horizon_tuned.fragments(section)
    out.update(tuned_out)
    lab_horizon_say.claims(tuned, gated.medians, out)
    return LabPage(out, files, (RESULTS_PATH,))


def _series(groups: list[Group]) -> list[Series]:
    """Every network of the groups, in the file's order, each group its own line style."""
    return [
        Series(label, group.accuracies[key], n)
        for n, group in enumerate(groups)
        for key, label in group.settings["variants"].items()
    ]
