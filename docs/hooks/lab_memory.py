"""Page ``memory-horizon.md``: the trained memory horizon, read from its recorded results file.

The file holds one group of runs per run of the grid (`rnnnum.horizon_results`): the
vanilla networks (`rnnnum.horizon.VARIANTS`) and the gated ones
(`rnnnum.horizon.GATED_VARIANTS`), each with its own provenance. The page shows both.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gen_format import claim, code, fmt, table
from lab_common import ROOT, LabPage
from lab_horizon_figure import Series, horizon_svg, overlaps_sentence

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


def _accuracy_table(group: Group, lags: list[int]) -> str:
    def cell(a: dict[int, list[float]], lag: int) -> str:
        if lag not in a:
            return "not run"
        return f"{np.median(a[lag]):.2f} ({min(a[lag]):.2f}–{max(a[lag]):.2f})"

    return table(
        ["lag L", *group.settings["variants"].values()],
        [[str(lag), *[cell(a, lag) for a in group.accuracies.values()]] for lag in lags],
    )


def _vanilla_claims(group: Group, out: dict[str, str]) -> None:
    medians, first_chance, lags = group.medians, group.first_chance, group.settings["lags"]
    top = max(lags)
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


def _gated_claims(vanilla: Group, gated: Group, out: dict[str, str]) -> None:
    v, g = vanilla.medians, gated.medians
    claim(
        all(vanilla.settings[k] == gated.settings[k] for k in horizon_results.SHARED_SETTINGS),
        "the gated networks were trained exactly as the vanilla ones (task, training, rates, "
        "thresholds)",
    )
    claim(
        gated.settings.get("until_chance") is True
        and all(gated.first_chance[key] is not None for key in g),
        "every gated network was run until its median accuracy was at chance",
    )
    claim(
        all(min(h) == max(h) for h in gated.horizons.values()),
        "every seed of a gated network has the same horizon",
    )
    claim(g["lstm-f1"] > g["lstm-f0"], "the forget-gate bias 1 lengthens the LSTM's horizon")
    claim(
        g["lstm-f0"] == g["gru"] and g["lstm-f0"] > v["normal-tanh"],
        "the LSTM with b_f = 0 and the GRU reach the same horizon, beyond the no-remedy network",
    )
    claim(
        g["lstm-f1"] == v["orthogonal-tanh"]
        and max(g.values()) < min(v["xavier-tanh"], v["residual-tanh"])
        and max(g["lstm-f0"], g["gru"]) < v["irnn-relu"],
        "the LSTM with b_f = 1 matches the orthogonal vanilla network, no gated network "
        "reaches the Xavier one, and b_f = 0 and the GRU stay below even the IRNN",
    )
    out["horizon.gated.gain"] = fmt(g["lstm-f1"] - g["lstm-f0"])
    out["horizon.gated.seeds"] = str(len(gated.settings["seeds"]))


def _provenance(own: dict[str, Any], vanilla: Group, gated: Group, out: dict[str, str]) -> None:
    """Which command wrote which group into the file: asserted from the file itself."""
    v_args, g_args = (shlex.split(x.provenance["command"]) for x in (vanilla, gated))
    gated_out = g_args[g_args.index("--out") + 1]
    names = sorted(gated.settings["variants"])
    merges = [m for m in own.get("merges", []) if names in [sorted(a) for a in m["added"]]]
    claim(
        v_args[v_args.index("--out") + 1] == RESULTS_PATH,
        "the vanilla group was written into this file by its own command",
    )
    claim(
        len(merges) == 1
        and gated_out in merges[0]["from"]
        and shlex.split(merges[0]["command"])[-4:]
        == ["--merge-into", RESULTS_PATH, "--add", gated_out],
        "the gated group was written to its own file and copied into this one by the merge",
    )
    keys = list(vanilla.provenance)
    out["horizon.provenance"] = table(
        ["recorded", "vanilla networks", "gated networks"],
        [[k, code(str(vanilla.provenance[k])), code(str(gated.provenance.get(k)))] for k in keys],
    )
    out["horizon.gated.out"] = code(gated_out)
    out["horizon.merge.command"] = code(merges[0]["command"])
    out["horizon.merge.commit"] = code(merges[0]["commit"])


def page() -> LabPage:
    """The fragments and figures of ``memory-horizon.md``."""
    out: dict[str, str] = {}
    own, _ = horizon_results.load_groups(HORIZON_RESULTS)
    vanilla = _summarise(*horizon.load_results(HORIZON_RESULTS, horizon.VARIANTS), out)
    gated = _summarise(*horizon.load_results(HORIZON_RESULTS, horizon.GATED_VARIANTS), out)
    settings = vanilla.settings
    claim(
        settings["solved"] == horizon.SOLVED
        and list(settings["variants"]) == list(horizon.VARIANTS)
        and list(gated.settings["variants"]) == list(horizon.GATED_VARIANTS),
        "the results file was made with the variants and threshold of rnnnum.horizon",
    )
    _vanilla_claims(vanilla, out)
    _gated_claims(vanilla, gated, out)
    _provenance(own, vanilla, gated, out)
    lags = settings["lags"]
    seeds = settings["seeds"]
    header = [
        "network",
        f"horizon per seed (seeds {', '.join(map(str, seeds))})",
        "median",
        "range",
        "first L at chance (median)",
    ]
    out["table.horizon"] = table(header, vanilla.rows)
    out["table.horizon.gated"] = table(header, gated.rows)
    out["table.horizon.accuracy"] = _accuracy_table(vanilla, lags)
    gated_lags = sorted({r.lag for r in gated.runs})
    out["table.horizon.accuracy.gated"] = _accuracy_table(gated, gated_lags)
    train = settings["train"]
    out.update(
        {
            "horizon.lags": ", ".join(map(str, lags)),
            "horizon.gated.lags": ", ".join(map(str, gated.settings["lags"])),
            "horizon.gated.last": str(max(gated_lags)),
            "horizon.seeds": str(len(seeds)),
            "horizon.symbols": str(settings["task"]["symbols"]),
            "horizon.distractors": str(settings["task"]["distractors"]),
            "horizon.chance": fmt(settings["chance"]),
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
            "horizon.runs": str(len(vanilla.runs) + len(gated.runs)),
            "horizon.runs.vanilla": str(len(vanilla.runs)),
            "horizon.runs.gated": str(len(gated.runs)),
            "horizon.command": code(vanilla.provenance["command"]),
            "horizon.gated.command": code(gated.provenance["command"]),
        }
    )
    series = _series([vanilla, gated])
    out["horizon.figure.overlaps"] = overlaps_sentence(series)
    figure = horizon_svg(series, lags, settings["chance"], settings["solved"])
    files = {"figures/horizon.svg": figure}
    return LabPage(out, files, (RESULTS_PATH,))


def _series(groups: list[Group]) -> list[Series]:
    """Every network of the groups, in the file's order, each group its own line style."""
    return [
        Series(label, group.accuracies[key], n)
        for n, group in enumerate(groups)
        for key, label in group.settings["variants"].items()
    ]
