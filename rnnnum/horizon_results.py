"""The memory-horizon results file: one group of runs per run of the grid, each with its provenance.

A file holds several networks' results (the vanilla ones, the gated ones) recorded by
different runs of ``python -m rnnnum.horizon``, possibly at different commits. Each run
is kept as one *group* exactly as it was recorded: its ``provenance`` (command, commit,
versions, machine, seconds), its ``settings`` (the grid it ran) and its ``runs``. The
groups of one file must share the design of the grid (`SHARED_SETTINGS`: task,
training, learning rates, thresholds), so that their rows can stand side by side;
networks, lags and seeds may differ between groups. Layout::

    {"note": "...", "merges": [{"command", "commit", "kept", "added", "replaced", ...}, ...],
     "groups": [{"provenance": {...}, "settings": {...}, "runs": [...]}, ...]}

A file written by ``--out`` holds one run in the older layout
``{"provenance", "settings", "runs"}``; it reads as a file of one group.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "SHARED_SETTINGS",
    "MergeError",
    "ResultGroup",
    "Run",
    "add_recorded",
    "commit",
    "load_groups",
    "load_results",
    "merge_groups",
    "open_log",
    "provenance",
    "write_merged",
]

#: The settings every group of one file shares: the design of the grid. Networks
#: (``variants``), ``lags``, ``seeds`` and ``until_chance`` belong to each group.
SHARED_SETTINGS = ("task", "train", "learning_rates", "solved", "chance", "chance_margin")

NOTE = (
    "One group per run of `python -m rnnnum.horizon`, each with the provenance (command, "
    "commit, versions, machine, seconds) and settings it was recorded with, unchanged. "
    "All groups share the grid's design (settings " + ", ".join(SHARED_SETTINGS) + "); "
    "networks, lags and seeds belong to each group. `merges` lists how groups came into "
    "this file: a run with --merge-into adds its group or replaces the group of the same "
    "networks; --merge-into with --add copies the groups of recorded files without "
    "running anything."
)


class MergeError(ValueError):
    """Groups that cannot share a file: another grid design, or overlapping networks."""


@dataclass(frozen=True)
class Run:
    """One (variant, lag, seed) with the better of the learning rates."""

    variant: str
    lag: int
    seed: int
    accuracy: float
    learning_rate: float
    steps: int
    accuracies: tuple[float, ...]  # per learning rate, in LEARNING_RATES order
    seconds: float


@dataclass(frozen=True)
class ResultGroup:
    """The runs of one run of the grid, with its provenance and settings as recorded."""

    provenance: dict[str, Any]
    settings: dict[str, Any]
    runs: tuple[Run, ...]

    @property
    def variants(self) -> tuple[str, ...]:
        """The networks of this group, in the order they ran."""
        return tuple(self.settings["variants"])

    def header(self) -> dict[str, Any]:
        """``{"provenance": ..., "settings": ...}``."""
        return {"provenance": self.provenance, "settings": self.settings}

    def as_json(self) -> dict[str, Any]:
        """The group as the file stores it."""
        return {**self.header(), "runs": [asdict(r) for r in self.runs]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResultGroup:
        """A group from its stored form."""
        runs = tuple(Run(**{**r, "accuracies": tuple(r["accuracies"])}) for r in data["runs"])
        return cls(data["provenance"], data["settings"], runs)


def load_groups(path: str | Path) -> tuple[dict[str, Any], list[ResultGroup]]:
    """The file's own fields (``note``, ``merges``; none for a one-run file) and its groups."""
    data = json.loads(Path(path).read_text())
    if "groups" not in data:  # one run, as --out writes it
        return {}, [ResultGroup.from_json(data)]
    own = {k: v for k, v in data.items() if k != "groups"}
    return own, [ResultGroup.from_json(g) for g in data["groups"]]


def load_results(
    path: str | Path, variants: Iterable[str] | None = None
) -> tuple[dict[str, Any], list[Run]]:
    """The header (provenance and settings) and the runs of one group of a results file.

    `variants` names the group by its networks (e.g. ``rnnnum.horizon.VARIANTS``);
    without it the file must hold one group.
    """
    _, groups = load_groups(path)
    if variants is None:
        if len(groups) != 1:
            raise MergeError(
                f"{path} holds {len(groups)} groups ({_names(groups)}); name one by its "
                "networks: load_results(path, variants)."
            )
        (group,) = groups
    else:
        wanted = tuple(variants)
        found = [g for g in groups if set(g.variants) == set(wanted)]
        if not found:
            raise MergeError(
                f"{path} has no group of the networks {', '.join(wanted)}; its groups: "
                f"{_names(groups)}."
            )
        (group,) = found
    return group.header(), list(group.runs)


def _names(groups: Sequence[ResultGroup]) -> str:
    return "; ".join(", ".join(g.variants) for g in groups)


def _design(group: ResultGroup) -> dict[str, Any]:
    return {k: group.settings.get(k) for k in SHARED_SETTINGS}


def merge_groups(
    existing: Sequence[ResultGroup], new: Sequence[ResultGroup]
) -> tuple[list[ResultGroup], list[list[str]], list[list[str]]]:
    """`existing` with each of `new` added, or put in place of the group of the same networks.

    Returns the groups and the networks of the groups added and of those replaced.
    Raises `MergeError` for a group of another grid design, or one whose networks
    overlap a group's without being the same.
    """
    groups, added, replaced = list(existing), [], []
    for group in new:
        for other in groups:
            if _design(group) != _design(other):
                differ = [k for k in SHARED_SETTINGS if _design(group)[k] != _design(other)[k]]
                raise MergeError(
                    f"the group of {', '.join(group.variants)} was run with other settings "
                    f"than the group of {', '.join(other.variants)} ({', '.join(differ)} "
                    "differ); one file holds one grid design. Write it to another file "
                    "with --out, or rerun it with the settings of rnnnum.horizon."
                )
        same = [i for i, g in enumerate(groups) if set(g.variants) == set(group.variants)]
        overlap = [g for g in groups if set(g.variants) & set(group.variants)]
        if same:
            groups[same[0]] = group
            replaced.append(list(group.variants))
        elif overlap:
            raise MergeError(
                f"the networks {', '.join(group.variants)} overlap the group "
                f"{', '.join(overlap[0].variants)} without being the same; a group is "
                "replaced whole. Run the grid for exactly that group's networks, or for "
                "networks the file does not hold yet."
            )
        else:
            groups.append(group)
            added.append(list(group.variants))
    return groups, added, replaced


def write_merged(
    path: str | Path, new: Sequence[ResultGroup], merge: dict[str, Any]
) -> tuple[list[list[str]], list[list[str]]]:
    """Merge `new` into the file at `path` (created if missing) and log `merge` in it.

    `merge` describes the step (its command and commit); the networks added and
    replaced are filled in. Nothing is written if the groups cannot be merged.
    """
    path = Path(path)
    own, existing = load_groups(path) if path.exists() else ({}, [])
    groups, added, replaced = merge_groups(existing, new)
    kept = [list(g.variants) for g in existing if list(g.variants) not in replaced]
    step = {**merge, "kept": kept, "added": added, "replaced": replaced}
    if existing and not own:  # a one-run file (as --out writes it) becomes the first group
        step["kept_from"] = "the one-run file at this path, now its first group"
    merges = [*own.get("merges", []), step]
    data = {"note": NOTE, "merges": merges, "groups": [g.as_json() for g in groups]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return added, replaced


def commit() -> str:
    """The git commit of the code that ran, marked if the work tree had changes."""
    here = Path(__file__).parent
    try:

        def git(*args: str) -> str:
            run = subprocess.run(["git", *args], cwd=here, capture_output=True, check=True)
            return run.stdout.decode().strip()

        sha, dirty = git("rev-parse", "HEAD"), git("status", "--porcelain", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return sha + (" with uncommitted changes to rnnnum" if dirty else "")


def provenance(argv: Sequence[str], seconds: float, jobs: int) -> dict[str, Any]:
    """What a group records about the run that made it: command, commit, versions, time."""
    return {
        "command": "python -m rnnnum.horizon " + " ".join(argv),
        "commit": commit(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {jobs} worker processes",
        "seconds": round(seconds, 1),
    }


def add_recorded(target: str, sources: Sequence[str], argv: Sequence[str]) -> int:
    """``--merge-into FILE --add RESULTS...``: merge recorded groups, running nothing."""
    groups: list[ResultGroup] = []
    for source in sources:
        try:
            groups += load_groups(source)[1]
        except (OSError, ValueError, KeyError) as exc:
            raise SystemExit(f"--add {source}: not a readable results file ({exc}).") from exc
    merge = {
        "command": "python -m rnnnum.horizon " + " ".join(argv),
        "commit": commit(),
        "from": list(sources),
    }
    try:
        added, replaced = write_merged(target, groups, merge)
    except MergeError as exc:
        raise SystemExit(f"{target}: {exc}") from exc
    print(f"{target}: added {added}, replaced {replaced}", file=sys.stderr)
    return 0


def open_log(path: Path | None, head: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs logged in `path` (one JSON object a line after its `head` line), or a new
    log holding only `head`. A log whose first line is not `head` was written by other code
    or for other settings: it is refused, never mixed in. Without a path: no runs."""
    if path is None:
        return []
    if not path.exists():
        path.write_text(json.dumps(head) + "\n")
        return []
    first, *lines = path.read_text().splitlines()
    if json.loads(first) != head:
        raise SystemExit(
            f"{path} was written for other settings or other code; it cannot be resumed. "
            "Delete it to start again, or run the code that wrote it."
        )
    return [json.loads(line) for line in lines]


def each_result[J, R](run: Callable[[J], R], work: Sequence[J], workers: int) -> Iterator[R]:
    """`run` of every item of `work`, in this process (``workers == 1``) in order, or in a
    pool of `workers` processes as each finishes (`run` must then be a module's function)."""
    if workers == 1:
        for item in work:
            yield run(item)
    elif work:
        with ProcessPoolExecutor(workers) as pool:
            for future in as_completed([pool.submit(run, item) for item in work]):
                yield future.result()
