r"""The memory horizon under a tuned protocol: every network at its best, on two tasks.

The earlier protocol (`rnnnum.horizon`) gave the vanilla networks long-memory starts and
the gated ones default biases, tried two learning rates of momentum SGD on the very
sequences it reported, and used one task, a latch. This protocol:

- **Networks** (`NETWORKS`): the five vanilla variants of the earlier grid; the LSTM with
  forget-gate bias 1 and with the chrono start; the GRU with zero biases and with the
  chrono start (`rnnnum.gated_init.chrono_bias`, $T_{max}$ = `L_MAX`). Each gated family
  has its published long-memory start beside its default.
- **Optimiser and learning rate per network and task**, from a pilot (`pilot`): every
  (optimiser, rate) of `PILOT_SETTINGS` trains at each of `PILOT_LAGS` from `PILOT_SEED`,
  a seed the grid never reports, and is scored on that seed's held-out (validation) set
  by `choose`: the longer lag decides where it tells settings apart, the shorter where
  nothing learns the longer. The choice is then fixed across lags.
- **Two tasks** (`TASKS`): the latch (`rnnnum.RecallTask`) and selective recall
  (`rnnnum.SelectiveRecallTask`), where every step carries a symbol of the same alphabet.
- **Budget**: `CONFIG.steps` steps of `CONFIG.batch` sequences for everyone, early stop on
  the validation set; the accuracy reported is on a separate test set
  (``default_rng([seed, 3])``). Each network's *boundary* lag (the first its median seed
  does not solve) is rerun with twice the budget (`BOUNDARY_FACTOR`).
- **Lags** `LAGS`, shortest first; a network stops on a task after the first lag that no
  seed solves.
- **Baselines** per run: the best linear read-out of the untrained cell
  (`rnnnum.readout.fitted_readout_accuracy`) and read-out-only training (the cell frozen,
  same optimiser, rate, budget and batches).
- **Size**: H = 32 for all; a parameter-matched check (`MATCHED`) on the selective task.

The protocol's settings are in `rnnnum.horizon_tuned_protocol`, the reading of its runs
(the pilot's choice, the horizons) in `rnnnum.horizon_tuned_reading`; this module runs
it. Every finished run is appended to a log beside the results file, so the grid resumes
where it stopped (`--resume`); the log is refused if the training code changed.
``python -m rnnnum.horizon_tuned --merge-into docs/results/memory-horizon.json`` runs
everything and stores it as the file's ``tuned`` section, next to the earlier groups.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnnum import horizon_results
from rnnnum.horizon_tuned_protocol import (
    BOUNDARY_FACTOR,
    BOUNDARY_SEEDS,
    CONFIG,
    L_MAX,
    LAGS,
    LEARNING,
    MATCHED,
    NETWORKS,
    PILOT_LAGS,
    PILOT_SEED,
    PILOT_SETTINGS,
    PILOT_STEPS,
    SEEDS,
    SOLVED,
    TASKS,
    TEST_SIZE,
    Job,
    Network,
    Record,
    settings,
)
from rnnnum.horizon_tuned_reading import choose, horizons
from rnnnum.optimisers import make_optimiser
from rnnnum.readout import fitted_readout_accuracy
from rnnnum.training import TrainResult, accuracy, train

__all__ = [
    "BOUNDARY_SEEDS",
    "CONFIG",
    "LAGS",
    "LEARNING",
    "L_MAX",
    "MATCHED",
    "NETWORKS",
    "PILOT_LAGS",
    "PILOT_SEED",
    "PILOT_SETTINGS",
    "SEEDS",
    "SOLVED",
    "TASKS",
    "Network",
    "Record",
    "choose",
    "horizons",
    "main",
    "run_one",
    "settings",
]


def _network(name: str) -> Network:
    if name in MATCHED:
        base, hidden = MATCHED[name]
        return replace(NETWORKS[base], hidden=hidden)
    return NETWORKS[name]


def _to_solved(result: TrainResult, batch: int) -> int | None:
    return next((step * batch for step, _, acc in result.history if acc >= SOLVED), None)


def run_one(job: Job) -> Record:
    """Train one job: (kind, task, network, lag, seed, optimiser, rate, budget)."""
    kind, task_name, name, lag, seed, opt, rate, budget = job
    start = time.perf_counter()
    network, task = _network(name), TASKS[task_name](lag)
    config = replace(CONFIG, hidden=network.hidden, steps=budget)
    model, result = train(network.cell(), task, config, seed, make_optimiser(opt, rate))
    fit = only = None
    accuracy_ = result.accuracy
    if kind != "pilot":
        test = task.sample(TEST_SIZE, np.random.default_rng([seed, 3]))
        accuracy_ = accuracy(model, *test)
    if kind == "grid":
        fit = fitted_readout_accuracy(network.cell(), task, network.hidden, seed, test)
        frozen, _ = train(
            network.cell(), task, config, seed, make_optimiser(opt, rate), train_cell=False
        )
        only = accuracy(frozen, *test)
    return Record(
        kind,
        task_name,
        name,
        lag,
        seed,
        opt,
        rate,
        budget,
        accuracy_,
        result.accuracy,
        result.steps,
        _to_solved(result, config.batch),
        fit,
        only,
        result.diverged,
        round(time.perf_counter() - start, 2),
    )


#: The modules whose code decides a run's result: a log made by other code is refused.
_TRAINING_MODULES = (
    "activations",
    "cells",
    "clipping",
    "gated",
    "gated_cells",
    "gated_init",
    "gru",
    "init",
    "losses",
    "lstm",
    "optimisers",
    "readout",
    "tasks",
    "training",
)


def _code_hash() -> str:
    digest = hashlib.sha256()
    for name in _TRAINING_MODULES:
        digest.update((Path(__file__).parent / f"{name}.py").read_bytes())
    return digest.hexdigest()


class Log:
    """Finished runs, one JSON line each; the first line holds the settings and code hash."""

    def __init__(self, path: Path | None, settings: dict[str, Any]) -> None:
        self.path, self.done = path, {}
        for r in horizon_results.open_log(path, {"settings": settings, "code": _code_hash()}):
            record = Record(**r)
            self.done[record.key] = record

    def run(self, jobs: Sequence[Job], workers: int) -> list[Record]:
        """Every job, skipping the logged ones; longest sequences first."""
        keys = ["|".join(map(str, job)) for job in jobs]
        todo = sorted(
            {k: j for k, j in zip(keys, jobs, strict=True) if k not in self.done}.values(),
            key=lambda j: -j[3] * j[7],
        )
        for record in horizon_results.each_result(run_one, todo, workers):
            self._record(record)
        return [self.done[k] for k in keys]

    def _record(self, record: Record) -> None:
        self.done[record.key] = record
        print(
            f"  {record.kind} {record.task} {record.network} L={record.lag} "
            f"s={record.seed} {record.optimiser} {record.learning_rate:g}: "
            f"{record.accuracy:.3f} in {record.steps} steps, {record.seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        if self.path is not None:
            with self.path.open("a") as log:
                log.write(json.dumps(asdict(record)) + "\n")


def _grid_rounds(
    log: Log,
    plan: dict[str, dict[str, tuple[str, float]]],
    lags: Sequence[int],
    workers: int,
    kind: str = "grid",
) -> list[Record]:
    """`plan` maps task -> network -> (optimiser, rate). The lags run shortest first, both
    tasks in the same round; a network stops on a task after the first lag no seed solves."""
    records: list[Record] = []
    active = {(t, n) for t, networks in plan.items() for n in networks}
    for lag in lags:
        jobs = [
            (kind, t, n, lag, s, *networks[n], CONFIG.steps)
            for t, networks in plan.items()
            for n in networks
            if (t, n) in active
            for s in SEEDS[t]
        ]
        done = log.run(jobs, workers)
        records += done
        active = {(r.task, r.network) for r in done if r.accuracy >= SOLVED}
        if not active:
            break
    return records


def _boundary_jobs(
    records: Sequence[Record], task: str, chosen: dict[str, tuple[str, float]], lags: Sequence[int]
) -> list[Job]:
    """Each network's first lag that its median seed does not solve, with twice the budget."""
    jobs: list[Job] = []
    for name, setting in chosen.items():
        runs = [r for r in records if r.task == task and r.network == name and r.kind == "grid"]
        for lag in lags:
            at = [r.accuracy for r in runs if r.lag == lag]
            if at and float(np.median(at)) < SOLVED:
                jobs += [
                    ("boundary", task, name, lag, s, *setting, CONFIG.steps * BOUNDARY_FACTOR)
                    for s in SEEDS[task][:BOUNDARY_SEEDS]
                ]
                break
    return jobs


def run_protocol(
    workers: int, log: Log, tasks: Sequence[str] = tuple(TASKS), lags: Sequence[int] = LAGS
) -> dict[str, Any]:
    """Pilot, grid, boundary reruns and the matched check; the ``tuned`` section's body."""
    pilot_jobs = [
        ("pilot", t, n, lag, PILOT_SEED, o, r, PILOT_STEPS)
        for lag in reversed(PILOT_LAGS)
        for t in tasks
        for n in NETWORKS
        for o, r in PILOT_SETTINGS
    ]
    records = log.run(pilot_jobs, workers)
    chosen = {
        t: {n: choose([r for r in records if r.task == t and r.network == n]) for n in NETWORKS}
        for t in tasks
    }
    records += _grid_rounds(log, chosen, lags, workers)
    records += log.run(
        [j for t in tasks for j in _boundary_jobs(records, t, chosen[t], lags)], workers
    )
    if "selective" in tasks:
        like = {m: chosen["selective"][b] for m, (b, _) in MATCHED.items()}
        records += _grid_rounds(log, {"selective": like}, lags, workers, "matched")
    return {
        "chosen": {t: {n: list(c) for n, c in ch.items()} for t, ch in chosen.items()},
        "lags_run": list(lags),
        "records": [asdict(r) for r in records],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the protocol and store it as the results file's ``tuned`` section."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m rnnnum.horizon_tuned", description=__doc__)
    parser.add_argument(
        "--merge-into",
        metavar="FILE",
        required=True,
        help="the results file; its earlier groups stay as they are",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument(
        "--lags",
        nargs="+",
        type=int,
        default=list(LAGS),
        help="a prefix of LAGS (default: all): the grid's end, if time is short",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="log runs to FILE.tuned.partial.jsonl and skip those logged",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1; got {args.jobs}")
    if args.lags != list(LAGS[: len(args.lags)]):
        parser.error(f"--lags must be a prefix of {list(LAGS)}; got {args.lags}")
    target = Path(args.merge_into)
    if not target.exists():
        parser.error(f"--merge-into {target}: no such file; give the recorded results file")
    path = Path(f"{target}.tuned.partial.jsonl") if args.resume else None
    # the log's head: the settings that decide a logged run's result. The lags and the
    # boundary reruns' seeds only decide which runs there are, so a stopped grid may be
    # resumed with more lags, or fewer reruns.
    log = Log(path, {k: v for k, v in settings().items() if k not in ("lags", "boundary")})
    start = time.perf_counter()
    body = run_protocol(args.jobs, log, args.tasks, args.lags)
    cpu = sum(r.seconds for r in log.done.values())  # every run, resumed ones included
    wall = time.perf_counter() - start
    prov = horizon_results.provenance(argv, wall, args.jobs)
    prov["command"] = "python -m rnnnum.horizon_tuned " + " ".join(argv)
    prov["cpu_seconds"] = round(cpu, 1)
    data = json.loads(target.read_text())
    data["tuned"] = {"provenance": prov, "settings": settings(), **body}
    target.write_text(json.dumps(data, indent=1) + "\n")
    print(
        f"{len(body['records'])} runs, {cpu:.0f} CPU s, {wall:.0f} s wall -> {target}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
