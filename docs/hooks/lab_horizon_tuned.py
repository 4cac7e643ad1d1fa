"""The memory-horizon page under the tuned protocol, read from the results file's ``tuned`` section.

The section (`rnnnum.horizon_tuned`) holds the pilot, the grid on both tasks, the
boundary reruns at twice the budget and the parameter-matched check, with the settings
and provenance they were recorded with. `summarise` turns it into per-network horizons;
`fragments` writes the page's tables, numbers and figures; `claims` asserts every
sentence the page states about them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gen_format import claim, code, fmt, plain_math, table
from lab_horizon_figure import Series, horizon_svg, overlaps_sentence

from rnnnum import horizon_tuned as ht
from rnnnum.training import Model

__all__ = ["Tuned", "fragments", "summarise"]

TASK_NAMES = {"latch": "the latch", "selective": "selective recall"}
#: The families, for "what gating buys": the vanilla networks and the gated ones.
GATED = ("lstm-f1", "lstm-chrono", "gru", "gru-chrono")


@dataclass
class Tuned:
    """The ``tuned`` section, summarised per task and network."""

    settings: dict[str, Any]
    provenance: dict[str, Any]
    chosen: dict[str, dict[str, list[Any]]]
    records: list[ht.Record]
    horizons: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    medians: dict[str, dict[str, float]] = field(default_factory=dict)
    lags: dict[str, list[int]] = field(default_factory=dict)

    def runs(self, kind: str, task: str, network: str | None = None) -> list[ht.Record]:
        return [
            r
            for r in self.records
            if r.kind == kind and r.task == task and (network is None or r.network == network)
        ]

    def at(
        self, task: str, network: str, lag: int, what: str = "accuracy", kind: str = "grid"
    ) -> list[float]:
        """One value per seed of the runs of (task, network, lag)."""
        return [getattr(r, what) for r in self.runs(kind, task, network) if r.lag == lag]

    def label(self, network: str) -> str:
        if network in self.settings["matched"]:
            like = self.settings["matched"][network]
            return f"{self.settings['networks'][like['like']]['label']}, H = {like['hidden']}"
        return str(self.settings["networks"][network]["label"])

    def shown(self, task: str, value: float) -> str:
        """A horizon; at the last lag run, a lower bound."""
        return f"≥ {self.lags[task][-1]}" if value >= self.lags[task][-1] else f"{value:g}"


def summarise(section: dict[str, Any]) -> Tuned:
    """Horizons per seed and their medians, per task and network (grid and matched runs)."""
    records = [ht.Record(**r) for r in section["records"]]
    tuned = Tuned(section["settings"], section["provenance"], section["chosen"], records)
    for task in section["chosen"]:
        tuned.lags[task] = sorted({r.lag for r in tuned.runs("grid", task)})
        tuned.horizons[task], tuned.medians[task] = {}, {}
        names = [
            *section["chosen"][task],
            *(section["settings"]["matched"] if task == "selective" else ()),
        ]
        for name in names:
            kind = "matched" if name in section["settings"]["matched"] else "grid"
            values = list(ht.horizons(tuned.runs(kind, task, name), task, name, kind).values())
            tuned.horizons[task][name] = values
            tuned.medians[task][name] = float(np.median(values))
    return tuned


def _parameters(network: str, task: str, tuned: Tuned) -> int:
    """Parameters of the network on the task, read-out included (counted on a fresh start)."""
    base, hidden = network, 32
    if network in tuned.settings["matched"]:
        base, hidden = (
            tuned.settings["matched"][network]["like"],
            tuned.settings["matched"][network]["hidden"],
        )
    t = ht.TASKS[task](1)
    model = Model.create(ht.NETWORKS[base].cell(), t.D, hidden, t.symbols, np.random.default_rng(0))
    return sum(v.size for v in model.params.values())


def _setting(setting: list[Any]) -> str:
    opt, rate = setting
    return f"{'Adam' if opt == 'adam' else 'SGD + momentum'}, {fmt(rate)}"


def _networks_table(tuned: Tuned) -> str:
    rows = [
        [
            tuned.label(k),
            plain_math(n["start"]),
            str(n["hidden"]),
            *[_setting(tuned.chosen[t][k]) for t in tuned.chosen],
        ]
        for k, n in tuned.settings["networks"].items()
    ]
    return table(
        ["network", "start", "H", *[f"chosen on {TASK_NAMES[t]}" for t in tuned.chosen]], rows
    )


def _pilot_table(tuned: Tuned, task: str) -> str:
    """Validation accuracy at each pilot lag per setting (steps when it stopped early)."""
    settings = tuned.settings["pilot"]["settings"]
    lags = tuned.settings["pilot"]["lags"]
    header = ["network", *[f"{'Adam' if o == 'adam' else 'SGD'} {fmt(r)}" for o, r in settings]]
    rows = []
    for name in tuned.chosen[task]:
        runs = {(r.optimiser, r.learning_rate, r.lag): r for r in tuned.runs("pilot", task, name)}
        cells = []
        for o, r in settings:
            parts = []
            for lag in lags:
                run = runs[(o, r, lag)]
                stop = tuned.settings["train"]["stop_accuracy"]
                parts.append(
                    f"{run.validation:.2f}" + (f" ({run.steps})" if run.validation >= stop else "")
                )
            text = " / ".join(parts)
            cells.append(f"**{text}**" if [o, r] == tuned.chosen[task][name] else text)
        rows.append([tuned.label(name), *cells])
    return table(header, rows)


def _horizon_table(tuned: Tuned, task: str, names: list[str]) -> str:
    seeds = tuned.settings["seeds"][task]
    rows = [
        [
            tuned.label(n),
            ", ".join(tuned.shown(task, v) for v in tuned.horizons[task][n]),
            tuned.shown(task, tuned.medians[task][n]),
        ]
        for n in names
    ]
    return table(["network", f"horizon per seed ({', '.join(map(str, seeds))})", "median"], rows)


def _spread(values: list[float]) -> str:
    return f"{np.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def _accuracy_table(tuned: Tuned, task: str) -> str:
    lags = tuned.lags[task]

    def cell(name: str, lag: int) -> str:
        values = tuned.at(task, name, lag)
        return _spread(values) if values else "stopped"

    rows = [[tuned.label(n), *[cell(n, lag) for lag in lags]] for n in tuned.chosen[task]]
    return table(["network", *[f"L = {lag}" for lag in lags]], rows)


def _baseline_table(tuned: Tuned, task: str) -> str:
    """Per network and lag: medians of the fitted read-out, read-out-only, trained."""
    lags = tuned.lags[task]

    def cell(name: str, lag: int) -> str:
        if not tuned.at(task, name, lag):
            return "stopped"
        parts = [
            np.median(tuned.at(task, name, lag, w))
            for w in ("readout_fit", "readout_only", "accuracy")
        ]
        return " / ".join(f"{p:.2f}" for p in parts)

    rows = [[tuned.label(n), *[cell(n, lag) for lag in lags]] for n in tuned.chosen[task]]
    return table(["network", *[f"L = {lag}" for lag in lags]], rows)


def _boundary_table(tuned: Tuned) -> str:
    rows = []
    for task in tuned.chosen:
        for r in sorted(tuned.runs("boundary", task), key=lambda r: (r.network, r.seed)):
            budget = next(
                x for x in tuned.runs("grid", task, r.network) if (x.lag, x.seed) == (r.lag, r.seed)
            )
            rows.append(
                [
                    TASK_NAMES[task],
                    tuned.label(r.network),
                    str(r.lag),
                    str(r.seed),
                    f"{budget.accuracy:.2f}",
                    f"{r.accuracy:.2f}",
                ]
            )
    steps = tuned.settings["train"]["steps"]
    factor = tuned.settings["boundary"]["factor"]
    return table(
        ["task", "network", "lag L", "seed", f"{steps} steps", f"{factor * steps} steps"], rows
    )


def _matched_table(tuned: Tuned) -> str:
    task = "selective"
    rows = []
    for name, spec in tuned.settings["matched"].items():
        for shown, h in (
            (spec["like"], tuned.horizons[task][spec["like"]]),
            (name, tuned.horizons[task][name]),
        ):
            rows.append(
                [
                    tuned.label(shown),
                    str(_parameters(shown, task, tuned)),
                    ", ".join(tuned.shown(task, v) for v in h),
                    tuned.shown(task, float(np.median(h))),
                ]
            )
    best_lstm = max(("lstm-f1", "lstm-chrono"), key=lambda n: tuned.medians[task][n])
    h = tuned.horizons[task][best_lstm]
    rows.append(
        [
            tuned.label(best_lstm),
            str(_parameters(best_lstm, task, tuned)),
            ", ".join(tuned.shown(task, v) for v in h),
            tuned.shown(task, float(np.median(h))),
        ]
    )
    return table(["network", "parameters", "horizon per seed", "median"], rows)


def _series(tuned: Tuned, task: str) -> list[Series]:
    return [
        Series(
            tuned.label(n),
            {lag: tuned.at(task, n, lag) for lag in tuned.lags[task] if tuned.at(task, n, lag)},
            int(n in GATED),
        )
        for n in tuned.chosen[task]
    ]


def fragments(section: dict[str, Any]) -> tuple[dict[str, str], dict[str, str], Tuned]:
    """The page's ``tuned.*`` fragments, its figures by site path, and the summary."""
    tuned = summarise(section)
    s = tuned.settings
    out: dict[str, str] = {
        "tuned.networks": _networks_table(tuned),
        "tuned.boundary": _boundary_table(tuned),
        "tuned.matched": _matched_table(tuned),
        "tuned.lags": ", ".join(map(str, section["lags_run"])),
        "tuned.l_max": str(s["l_max"]),
        "tuned.steps": str(s["train"]["steps"]),
        "tuned.steps.twice": str(s["boundary"]["factor"] * s["train"]["steps"]),
        "tuned.batch": str(s["train"]["batch"]),
        "tuned.sequences": f"{s['train']['steps'] * s['train']['batch']:,}",
        "tuned.clip": fmt(s["train"]["clip"]),
        "tuned.eval": str(s["train"]["eval_size"]),
        "tuned.test": str(s["test_size"]),
        "tuned.stop": fmt(s["train"]["stop_accuracy"]),
        "tuned.solved": fmt(s["solved"]),
        "tuned.symbols": str(s["tasks"]["latch"]["symbols"]),
        "tuned.distractors": str(s["tasks"]["latch"]["distractors"]),
        "tuned.window": str(s["tasks"]["selective"]["window"]),
        "tuned.pilot.lags": " and ".join(map(str, s["pilot"]["lags"])),
        "tuned.pilot.short": str(min(s["pilot"]["lags"])),
        "tuned.pilot.long": str(max(s["pilot"]["lags"])),
        "tuned.hidden": str(s["train"]["hidden"]),
        "tuned.learning": fmt(ht.LEARNING),
        "tuned.chance": fmt(1 / s["tasks"]["latch"]["symbols"]),
        "tuned.pilot.seed": str(s["pilot"]["seed"]),
        "tuned.pilot.steps": str(s["pilot"]["steps"]),
        "tuned.pilot.rates": ", ".join(
            fmt(r) for r in sorted({r for _, r in s["pilot"]["settings"]})
        ),
        "tuned.pilot.count": str(len(s["pilot"]["settings"])),
        "tuned.boundary.seeds": "its first seed"
        if s["boundary"]["seeds"] == 1
        else f"its first {s['boundary']['seeds']} seeds",
        "tuned.command": code(tuned.provenance["command"]),
        "tuned.commit": code(tuned.provenance["commit"]),
        "tuned.cpu.hours": fmt(tuned.provenance["cpu_seconds"] / 3600, 2),
        "tuned.machine": code(tuned.provenance["machine"]),
        "tuned.runs": str(len(tuned.records)),
    }
    files: dict[str, str] = {}
    for task in tuned.chosen:
        out[f"tuned.seeds.{task}"] = str(len(s["seeds"][task]))
        out[f"tuned.pilot.{task}"] = _pilot_table(tuned, task)
        out[f"tuned.horizon.{task}"] = _horizon_table(tuned, task, list(tuned.chosen[task]))
        out[f"tuned.accuracy.{task}"] = _accuracy_table(tuned, task)
        out[f"tuned.baseline.{task}"] = _baseline_table(tuned, task)
        out[f"tuned.last.{task}"] = str(tuned.lags[task][-1])
        series = _series(tuned, task)
        out[f"tuned.figure.{task}.overlaps"] = overlaps_sentence(series)
        files[f"figures/horizon-{task}.svg"] = horizon_svg(
            series,
            tuned.lags[task],
            1 / s["tasks"][task]["symbols"],
            s["solved"],
            "test accuracy",
        )
        for name, median in tuned.medians[task].items():
            out[f"tuned.{task}.{name}"] = tuned.shown(task, median)
    claim(
        all(s["networks"][k]["hidden"] == 32 for k in s["networks"]),
        "every network of the grid has 32 hidden units",
    )
    return out, files, tuned
