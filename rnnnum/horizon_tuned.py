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

Every finished run is appended to a log beside the results file, so the grid resumes
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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rnnnum import horizon_results
from rnnnum.cells import Cell
from rnnnum.gated_cells import GRUCell, LSTMCell
from rnnnum.horizon import VARIANTS
from rnnnum.optimisers import make_optimiser
from rnnnum.readout import fitted_readout_accuracy
from rnnnum.tasks import RecallTask, SelectiveRecallTask
from rnnnum.training import Task, TrainConfig, TrainResult, accuracy, train

__all__ = [
    "CONFIG",
    "LAGS",
    "L_MAX",
    "MATCHED",
    "NETWORKS",
    "PILOT_LAGS",
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
]

#: The lags, shortest first; 400 is the end of the grid (see the module's note on cost).
LAGS = (10, 30, 100, 200, 400)
#: T_max of the chrono starts: the longest lag the grid asks for.
L_MAX = LAGS[-1]
#: Reported seeds per task: five on the latch, three on the costlier selective task.
SEEDS = {"latch": (0, 1, 2, 3, 4), "selective": (0, 1, 2)}
#: A lag is solved when test accuracy reaches this (chance is 1/4).
SOLVED = 0.9
#: Training for every network: batches of 32, at most 4000 steps (128,000 sequences),
#: gradient clipped at norm 1, early stop at 0.99 on 1000 validation sequences.
CONFIG = TrainConfig(steps=4000, eval_every=100, stop_accuracy=0.99)
#: Test sequences per run, drawn apart from the validation set.
TEST_SIZE = 1000
#: The boundary lag is rerun with this many times the budget.
BOUNDARY_FACTOR = 2
#: Seeds of the boundary reruns (the first of each task's seeds): one, for cost: a rerun
#: at twice the budget of a lag that fails takes the whole budget, up to 10 CPU minutes.
BOUNDARY_SEEDS = 1
#: The pilot: two lags, one seed that is never reported, a log grid of rates per optimiser.
#: At L = 30 most settings solve the latch by the first evaluation and cannot be told
#: apart; at L = 100 some networks learn nothing with any setting, and their accuracies
#: differ only by noise. `choose` reads L = 100 first and falls back on L = 30.
PILOT_LAGS = (30, 100)
#: Validation accuracy above this is learning, not noise: chance (1/4) plus three binomial
#: standard errors at chance over 1000 sequences (0.014 each), rounded up.
LEARNING = 0.3
PILOT_SEED = 100
PILOT_STEPS = 2000
RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
PILOT_SETTINGS = tuple((opt, rate) for opt in ("sgd", "adam") for rate in RATES)

#: The two tasks, by the lag: 4 symbols; the latch has 4 distractors, selective recall
#: a window of 10 steps for the flag.
TASKS: dict[str, Callable[[int], Task]] = {
    "latch": lambda lag: RecallTask(lag, 4, 4),
    "selective": lambda lag: SelectiveRecallTask(lag, 4, 10),
}


@dataclass(frozen=True)
class Network:
    """A network to train: a label for the page, its cell, its hidden size, its start."""

    label: str
    cell: Callable[[], Cell[Any]]
    start: str
    hidden: int = 32


_VANILLA_STARTS = {
    "normal-tanh": "W ~ N(0, 0.01²): the classic small start",
    "xavier-tanh": "Xavier (Glorot) uniform",
    "orthogonal-tanh": "random orthogonal W_hh",
    "irnn-relu": "identity W_hh, zero bias (Le et al. 2015)",
    "residual-tanh": "small N(0, 0.01²) weights and the identity path",
}
NETWORKS: dict[str, Network] = {
    **{k: Network(v.label, v.cell, _VANILLA_STARTS[k]) for k, v in VARIANTS.items()},
    "lstm-f1": Network(
        "LSTM, forget-gate bias 1",
        lambda: LSTMCell("orthogonal", 1.0),
        "orthogonal blocks, b_f = 1 (Gers et al. 2000)",
    ),
    "lstm-chrono": Network(
        "LSTM, chrono start",
        lambda: LSTMCell("orthogonal", chrono=L_MAX),
        f"orthogonal blocks, b_f ~ log U(1, {L_MAX - 1}), b_i = -b_f (Tallec and Ollivier 2018)",
    ),
    "gru": Network(
        "GRU, zero biases",
        lambda: GRUCell("orthogonal", "after"),
        "orthogonal blocks, zero biases (PyTorch's default placement)",
    ),
    "gru-chrono": Network(
        "GRU, chrono start",
        lambda: GRUCell("orthogonal", "after", chrono=L_MAX),
        f"orthogonal blocks, b_z ~ log U(1, {L_MAX - 1}) (Tallec and Ollivier 2018)",
    ),
}
#: The parameter-matched check: about 4,600 parameters each (H = 32 for the LSTM is
#: the grid's own). Each takes the start and setting of its family's network named here.
MATCHED: dict[str, tuple[str, int]] = {
    "vanilla-64": ("irnn-relu", 64),
    "gru-37": ("gru-chrono", 37),
}


@dataclass(frozen=True)
class Record:
    """One training run of the protocol.

    ``kind`` is ``pilot``, ``grid``, ``boundary`` or ``matched``. ``accuracy`` is test
    accuracy (validation accuracy for the pilot, which has no test set); ``to_solved``
    the sequences seen when validation accuracy first reached `SOLVED` (None: never).
    """

    kind: str
    task: str
    network: str
    lag: int
    seed: int
    optimiser: str
    learning_rate: float
    budget: int
    accuracy: float
    validation: float
    steps: int
    to_solved: int | None
    readout_fit: float | None
    readout_only: float | None
    diverged: bool
    seconds: float

    @property
    def key(self) -> str:
        return (
            f"{self.kind}|{self.task}|{self.network}|{self.lag}|{self.seed}|"
            f"{self.optimiser}|{self.learning_rate}|{self.budget}"
        )


Job = tuple[str, str, str, int, int, str, float, int]  # the fields of Record.key


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


def choose(pilot: Sequence[Record]) -> tuple[str, float]:
    """The pilot's winner among the settings, each run at both `PILOT_LAGS`: in order,

    1. the fewest steps to `stop_accuracy` at the longer lag;
    2. else the best validation accuracy there, if above `LEARNING`;
    3. else the fewest steps to `stop_accuracy` at the shorter lag;
    4. else the best validation accuracy there;

    then the smaller rate, then SGD before Adam.
    """
    short, long = min(r.lag for r in pilot), max(r.lag for r in pilot)
    runs = {(r.optimiser, r.learning_rate, r.lag): r for r in pilot}

    def stopped(r: Record) -> bool:
        return r.validation >= CONFIG.stop_accuracy and not r.diverged

    def score(setting: tuple[str, float]) -> tuple[int, float, float, bool]:
        at_long, at_short = runs[(*setting, long)], runs[(*setting, short)]
        if stopped(at_long):
            tier = (0, float(at_long.steps))
        elif at_long.validation > LEARNING and not at_long.diverged:
            tier = (1, -at_long.validation)
        elif stopped(at_short):
            tier = (2, float(at_short.steps))
        else:
            tier = (3, -at_short.validation)
        return (*tier, setting[1], setting[0] != "sgd")

    return min({(r.optimiser, r.learning_rate) for r in pilot}, key=score)


def horizons(
    records: Sequence[Record], task: str, network: str, kind: str = "grid"
) -> dict[int, int]:
    """Per seed: the largest lag with every lag up to it solved (0 if the first is not),
    among the runs of `kind` (``grid``, or ``matched`` for the parameter-matched check)."""
    out: dict[int, int] = {}
    runs = sorted(
        (r for r in records if r.kind == kind and r.task == task and r.network == network),
        key=lambda r: r.lag,
    )
    for seed in sorted({r.seed for r in runs}):
        horizon, failed = 0, False
        for r in (r for r in runs if r.seed == seed):
            failed = failed or r.accuracy < SOLVED
            horizon = horizon if failed else r.lag
        out[seed] = horizon
    return out


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


def settings() -> dict[str, Any]:
    """The protocol as recorded in the results file."""
    return {
        "protocol": "tuned",
        "tasks": {
            "latch": asdict(RecallTask(1, 4, 4)) | {"lag": None},
            "selective": asdict(SelectiveRecallTask(1, 4, 10)) | {"lag": None},
        },
        "networks": {
            k: {"label": n.label, "start": n.start, "hidden": n.hidden} for k, n in NETWORKS.items()
        },
        "matched": {k: {"like": b, "hidden": h} for k, (b, h) in MATCHED.items()},
        "train": asdict(CONFIG),
        "test_size": TEST_SIZE,
        "lags": list(LAGS),
        "l_max": L_MAX,
        "seeds": {k: list(v) for k, v in SEEDS.items()},
        "solved": SOLVED,
        "pilot": {
            "lags": list(PILOT_LAGS),
            "seed": PILOT_SEED,
            "steps": PILOT_STEPS,
            "settings": [list(s) for s in PILOT_SETTINGS],
        },
        "boundary": {"factor": BOUNDARY_FACTOR, "seeds": BOUNDARY_SEEDS},
    }


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
