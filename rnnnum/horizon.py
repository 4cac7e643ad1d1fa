r"""The memory horizon: how far back can a trained network recall, measured.

For each variant (a cell with or without a remedy), lag L and seed, train on
`rnnnum.RecallTask` with `rnnnum.train` and record the held-out accuracy. A run
*solves* its lag when the accuracy reaches `SOLVED`; a seed's horizon is the
largest lag of the grid below which every lag was solved. Each (variant, lag,
seed) is trained with every rate in `LEARNING_RATES` and the better one counts,
so no variant loses for want of a suitable step size.

The full grid takes minutes, so it is not run by the site build: this module's
command line writes a results file with its command, seeds, configuration and
package versions; the site plots from that file, and the tests rerun a slice of
it and compare.

The gated networks (`GATED_VARIANTS`: the LSTM with forget-gate bias 0 and 1, the GRU)
are expected to remember longer, so their grid extends the lags (`GATED_LAGS`, up to
L = 500) and stops for a network once its median accuracy over the seeds has fallen to
chance: lags are then run in rounds, shortest first. They are kept apart from
`VARIANTS`, the networks of the recorded vanilla run, so that each group of the results
file stays what its provenance says it is.

The results of every network live in one file, the one the site's memory-horizon page
is drawn from (layout in `rnnnum.horizon_results`): one group per run of the grid, each
with its own provenance. ``python -m rnnnum.horizon --merge-into docs/results/memory-horizon.json``
reruns the vanilla networks and puts their group in place; ``--variants lstm-f0 lstm-f1
gru`` does the same for the gated ones (gated variants get `GATED_LAGS` unless
``--lags`` is given); ``--merge-into FILE --add OTHER.json`` copies the groups of an
already recorded file without running anything. ``--out FILE`` writes one run alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnnum import horizon_results
from rnnnum.cells import Cell, VanillaCell
from rnnnum.gated_cells import GRUCell, LSTMCell
from rnnnum.horizon_results import MergeError, ResultGroup, Run, load_results, write_merged
from rnnnum.tasks import RecallTask
from rnnnum.training import TrainConfig, train

__all__ = [
    "CHANCE_MARGIN",
    "GATED_LAGS",
    "GATED_VARIANTS",
    "LAGS",
    "LEARNING_RATES",
    "NETWORKS",
    "SEEDS",
    "SOLVED",
    "VARIANTS",
    "Run",
    "Variant",
    "load_results",
    "main",
    "run_grid",
    "run_one",
    "seed_horizons",
]

#: The lags of the issue (the claim "10 to 20 steps" sits in the middle of them), plus 75
#: and 100: a first run solved L = 50 with three of the remedies, so the grid goes on
#: until they fail too and their horizon is measured, not cut off at the grid's end.
LAGS = (2, 5, 10, 15, 20, 30, 50, 75, 100)
#: Five seeds: enough to see the spread, small enough for a few minutes of CPU.
SEEDS = (0, 1, 2, 3, 4)
#: Each run is trained with both; the better held-out accuracy counts.
LEARNING_RATES = (0.05, 0.01)
#: A lag is solved when held-out accuracy reaches this (chance is 1/4 with 4 symbols).
SOLVED = 0.9
#: Three binomial standard errors of an accuracy at chance (p = 1/4) on 1000 held-out
#: sequences: sqrt(p (1 - p) / 1000) = 0.0137. Closer to 1/4 than this is "at chance".
CHANCE_MARGIN = 3 * float(np.sqrt(0.25 * 0.75 / 1000))
#: Everything else about training, fixed for every variant.
CONFIG = TrainConfig()
#: The task's alphabet sizes (the lag varies).
SYMBOLS, DISTRACTORS = 4, 4


@dataclass(frozen=True)
class Variant:
    """A network to train: a label for the page and a factory for its cell."""

    label: str
    cell: Callable[[], Cell[Any]]


#: key -> variant. The first has no remedy: tanh with the small N(0, 0.01^2) weights of
#: the classic examples. Each of the others changes one thing.
VARIANTS: dict[str, Variant] = {
    "normal-tanh": Variant(
        "tanh, scaled normal (no remedy)", lambda: VanillaCell("tanh", "normal")
    ),
    "xavier-tanh": Variant("tanh, Xavier", lambda: VanillaCell("tanh", "xavier")),
    "orthogonal-tanh": Variant("tanh, orthogonal", lambda: VanillaCell("tanh", "orthogonal")),
    "irnn-relu": Variant("ReLU, identity (IRNN)", lambda: VanillaCell("relu", "identity")),
    "residual-tanh": Variant(
        "residual tanh, scaled normal", lambda: VanillaCell("tanh", "normal", residual=True)
    ),
}

#: The gated networks, orthogonal recurrent blocks: forget-gate bias 0 against the usual
#: remedy 1 (Gers, Schmidhuber and Cummins 2000; Jozefowicz et al. 2015), and the GRU with
#: PyTorch's reset placement.
GATED_VARIANTS: dict[str, Variant] = {
    "lstm-f0": Variant("LSTM, forget-gate bias 0", lambda: LSTMCell("orthogonal", 0.0)),
    "lstm-f1": Variant("LSTM, forget-gate bias 1", lambda: LSTMCell("orthogonal", 1.0)),
    "gru": Variant("GRU (reset after)", lambda: GRUCell("orthogonal", "after")),
}
#: Every network the runner knows.
NETWORKS: dict[str, Variant] = {**VARIANTS, **GATED_VARIANTS}
#: The vanilla lags, then on to L = 500 for the gated networks: the grid runs them
#: shortest first and stops for a network once its median accuracy is at chance.
GATED_LAGS = (*LAGS, 150, 200, 300, 500)


def run_one(variant: str, lag: int, seed: int, config: TrainConfig = CONFIG) -> Run:
    """Train one variant at one lag from one seed, with every learning rate."""
    if variant not in NETWORKS:
        raise KeyError(f"variant must be one of {', '.join(map(repr, NETWORKS))}; got {variant!r}")
    start = time.perf_counter()
    task = RecallTask(lag, SYMBOLS, DISTRACTORS)
    results = []
    for rate in LEARNING_RATES:
        cfg = TrainConfig(**{**asdict(config), "learning_rate": rate})
        _, result = train(NETWORKS[variant].cell(), task, cfg, seed)
        results.append((rate, result))
    best_rate, best = max(results, key=lambda r: r[1].accuracy)
    return Run(
        variant=variant,
        lag=lag,
        seed=seed,
        accuracy=best.accuracy,
        learning_rate=best_rate,
        steps=best.steps,
        accuracies=tuple(r.accuracy for _, r in results),
        seconds=time.perf_counter() - start,
    )


def _run_args(args: tuple[str, int, int]) -> Run:
    return run_one(*args)


Work = tuple[str, int, int]  # (variant, lag, seed)


class Progress:
    """A log of finished runs, one JSON line each, so a grid stopped part-way can resume.

    The first line holds the grid's settings and a hash of rnnnum's sources: a log made
    by other code or for another grid is refused, never mixed in. Without a path it
    only remembers in memory.
    """

    def __init__(self, path: Path | None, settings: dict[str, Any]) -> None:
        self.path, self.done = path, {}
        for r in horizon_results.open_log(path, {"settings": settings, "code": _code_hash()}):
            run = Run(**{**r, "accuracies": tuple(r["accuracies"])})
            self.done[(run.variant, run.lag, run.seed)] = run

    def record(self, run: Run) -> Run:
        self.done[(run.variant, run.lag, run.seed)] = run
        if self.path is not None:
            with self.path.open("a") as log:
                log.write(json.dumps(asdict(run)) + "\n")
        return run


def _code_hash() -> str:
    """sha256 of every rnnnum source file: a resumed grid must run the same code."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.relative_to(Path(__file__).parent).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run_all(work: list[Work], jobs: int, progress: Progress | None = None) -> list[Run]:
    progress = progress or Progress(None, {})
    todo = [w for w in work if w not in progress.done]
    for run in horizon_results.each_result(_run_args, todo, jobs):
        progress.record(run)
    return [progress.done[w] for w in work]


def at_chance(runs: Sequence[Run], variant: str, lag: int) -> bool:
    """True if the median accuracy of `variant` at `lag` is within `CHANCE_MARGIN` of chance."""
    accuracies = [r.accuracy for r in runs if r.variant == variant and r.lag == lag]
    return bool(accuracies) and float(np.median(accuracies)) < 1 / SYMBOLS + CHANCE_MARGIN


def run_grid(
    variants: Sequence[str] = tuple(VARIANTS),
    lags: Sequence[int] = LAGS,
    seeds: Sequence[int] = SEEDS,
    jobs: int = 1,
    *,
    until_chance: bool = False,
    progress: Progress | None = None,
) -> list[Run]:
    """Every (variant, lag, seed), longest lags first so the workers finish together.

    With `until_chance`, the lags run in rounds, shortest first, and a variant stops
    after the first lag at which its median accuracy is at chance (`at_chance`): the
    longer lags cannot be solved and would cost the most. With `progress`, runs it
    already holds are not run again and every new one is logged as it finishes.
    """
    if until_chance:
        runs: list[Run] = []
        active = list(variants)
        for lag in sorted(lags):
            runs += _run_all([(v, lag, s) for v in active for s in seeds], jobs, progress)
            active = [v for v in active if not at_chance(runs, v, lag)]
            if not active:
                break
    else:
        work = sorted(
            ((v, lag, s) for v in variants for lag in lags for s in seeds), key=lambda w: -w[1]
        )
        runs = _run_all(work, jobs, progress)
    order = {v: i for i, v in enumerate(variants)}
    return sorted(runs, key=lambda r: (order[r.variant], r.lag, r.seed))


def seed_horizons(runs: Sequence[Run], variant: str) -> dict[int, int]:
    """Per seed: the largest lag with every lag up to it solved (0 if the first is not)."""
    out = {}
    for seed in sorted({r.seed for r in runs if r.variant == variant}):
        horizon = 0
        for run in sorted((r for r in runs if r.variant == variant and r.seed == seed),
                          key=lambda r: r.lag):  # fmt: skip
            if run.accuracy < SOLVED:
                break
            horizon = run.lag
        out[seed] = horizon
    return out


def _settings(
    variants: Sequence[str], lags: Sequence[int], seeds: Sequence[int], until_chance: bool
) -> dict[str, Any]:
    extra = {"until_chance": True} if until_chance else {}
    return {
        **extra,
        "task": {"name": "RecallTask", "symbols": SYMBOLS, "distractors": DISTRACTORS},
        "train": asdict(CONFIG),
        "learning_rates": list(LEARNING_RATES),
        "solved": SOLVED,
        "chance": 1 / SYMBOLS,
        "chance_margin": CHANCE_MARGIN,
        "variants": {v: NETWORKS[v].label for v in variants},
        "lags": list(lags),
        "seeds": list(seeds),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rnnnum.horizon", description=__doc__)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", help="write this run alone to a results file (JSON)")
    where.add_argument(
        "--merge-into", metavar="FILE",
        help="put this run's group into FILE, replacing the group of the same networks "
        "(FILE's other groups stay; settings of another grid design are refused)",
    )  # fmt: skip
    parser.add_argument(
        "--add", nargs="+", metavar="RESULTS", default=None,
        help="with --merge-into: copy the groups of these recorded files into FILE, "
        "provenance unchanged, without running the grid",
    )  # fmt: skip
    parser.add_argument("--variants", nargs="+", choices=list(NETWORKS), default=None)
    parser.add_argument(
        "--lags", nargs="+", type=int, default=None,
        help="default: LAGS, or GATED_LAGS run until chance when every variant is gated",
    )  # fmt: skip
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=None, help="default: the number of cores")
    parser.add_argument(
        "--resume", action="store_true",
        help="log each finished run to a .partial.jsonl file beside the results and skip "
        "the runs already logged there (same settings and rnnnum code only), so a long "
        "grid can stop and go on",
    )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the grid (or part of it) and write or merge its results."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.add is not None:
        if args.merge_into is None:
            parser.error("--add copies recorded groups into a file: give it with --merge-into")
        given = [f"--{k}" for k in ("variants", "lags", "seeds", "jobs") if getattr(args, k)]
        if given or args.resume:
            parser.error(
                "--add runs nothing, so it takes no grid options; got "
                f"{', '.join(given + ['--resume'] * args.resume)}. Drop them."
            )
        return horizon_results.add_recorded(args.merge_into, args.add, argv)
    variants = args.variants or list(VARIANTS)
    seeds = args.seeds or list(SEEDS)
    jobs = (os.cpu_count() or 1) if args.jobs is None else args.jobs
    if jobs < 1:
        parser.error(f"--jobs must be at least 1; got {jobs}")
    bad = [lag for lag in args.lags or () if lag < 1]
    if bad:
        parser.error(f"--lags must be at least 1 (the distractors between symbol and answer); "
                     f"got {bad}")  # fmt: skip
    gated = all(v in GATED_VARIANTS for v in variants)
    until_chance = gated and args.lags is None
    lags = list(GATED_LAGS if until_chance else LAGS) if args.lags is None else args.lags
    settings = _settings(variants, lags, seeds, until_chance)
    target = args.out or args.merge_into
    if args.merge_into is not None and Path(target).exists():  # refuse before hours of work
        try:
            horizon_results.merge_groups(
                horizon_results.load_groups(target)[1], [ResultGroup({}, settings, ())]
            )
        except MergeError as exc:
            raise SystemExit(f"{target}: {exc}") from exc
    suffix = "" if args.out else "." + "+".join(variants)
    log = Path(f"{target}{suffix}.partial.jsonl") if args.resume else None
    progress = Progress(log, settings)
    earlier = sum(r.seconds for r in progress.done.values()) / jobs  # an estimate
    start = time.perf_counter()
    runs = run_grid(variants, lags, seeds, jobs, until_chance=until_chance, progress=progress)
    seconds = time.perf_counter() - start + earlier
    group = ResultGroup(horizon_results.provenance(argv, seconds, jobs), settings, tuple(runs))
    if args.out:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps(group.as_json(), indent=1) + "\n")
    else:
        merge = {"command": group.provenance["command"], "commit": group.provenance["commit"]}
        try:
            write_merged(target, [group], merge)
        except MergeError as exc:  # the file changed while the grid ran
            raise SystemExit(f"{target}: {exc}") from exc
    if log is not None:
        log.unlink()  # the results file now holds every run
    for variant in variants:
        horizons = seed_horizons(runs, variant)
        print(
            f"{NETWORKS[variant].label:34s} horizon per seed {list(horizons.values())}",
            file=sys.stderr,
        )
    print(f"{len(runs)} runs in {seconds:.0f} s -> {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
