"""The generator jobs, in one table: what each runs, in which process, and what it makes.

`JOBS` is read by ``site.py`` (which starts one process per group, `processes`) and by
``generate.py`` (which runs a job's function in that process). Each job declares the
``{{ name }}`` fragments it produces (`Job.fragments`): an entry covers the name itself
and every name under it (``tuned`` covers ``tuned.runs`` and ``tuned.pilot.lr``); a
name belongs to the job with its longest entry (`producer`), so ``sym`` (the vanilla
pages) and ``sym.lstm`` (the gated chapter) can both be declared. ``generate.py`` fails
a job that produces a fragment declared by another job or by none, and ``site.py``
names the job that should have produced a placeholder it cannot fill.

Nothing here imports the project: ``site.py`` reads this table in the MkDocs process.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    """One generator job: ``module.function()`` returns its pages, files and fragments.

    ``process`` names the group of jobs run in one process (and cached as one): each
    process pays ~0.4 s to import SymPy and NumPy, but each group is cached on its own,
    so a job that does not import an edited module is not rerun. ``fragments`` are the
    names and name prefixes of the fragments it produces.
    """

    name: str
    module: str
    function: str
    process: str
    fragments: tuple[str, ...] = ()


#: Every job, grouped by process in this order (the jobs a common edit touches, the
#: pages: derivations/render/, sit in small groups of their own).
JOBS = (
    Job("checks", "gen_checks", "checks_job", "checks", ("checks",)),
    Job("proofs", "gen_checks", "proofs_job", "checks", ("proofs",)),
    Job("activations", "gen_activations", "activations_job", "checks",
        ("gamma", "table.activations")),
    Job("pages", "gen_pages", "pages_job", "pages",
        ("sym", "d", "p", "eq", "rule", "tabs", "num", "code", "column", "vanish", "gd", "bound",
         "residual.factor", "table.notation", "table.termcounts", "table.updates",
         "table.loopmap", "table.vanish")),
    Job("figures", "gen_figures", "figures_job", "figures"),
    Job("lab", "gen_lab", "lab_job", "lab",
        ("gated", "tuned", "earlier", "horizon", "shares", "trunc", "step", "overflow", "reach",
         "nonnormal", "linear", "criterion", "clip", "residual", "num.pow", "num.steps",
         "eq.clip", "table.clipping", "table.criterion", "table.overflow", "table.reach",
         "table.remedy", "table.shares", "table.step", "table.truncation")),
    Job("cell-checks", "gen_cell_checks", "cell_checks_job", "cell-checks", ("cellchecks",)),
    Job("cell-pages", "gen_cell_pages", "cell_pages_job", "cell-pages",
        ("sym.lstm", "sym.gru", "sym.gru-before", "sym.residual",
         "d.lstm", "d.gru", "d.gru-before", "d.residual",
         "eq.lstm", "eq.gru", "eq.gru-before", "eq.residual.a", "eq.residual.h",
         "gated.block", "gated.gru", "gated.rule",
         "gated.path.entry", "gated.path.formula", "gated.path.ftj", "gated.path.logf")),
)  # fmt: skip
BY_NAME = {job.name: job for job in JOBS}


def processes(jobs: tuple[Job, ...] = JOBS) -> tuple[tuple[str, ...], ...]:
    """The job names of each process, the groups in their order of first appearance."""
    groups: dict[str, list[str]] = {}
    for job in jobs:
        groups.setdefault(job.process, []).append(job.name)
    return tuple(tuple(names) for names in groups.values())


def covers(entry: str, name: str) -> bool:
    """Whether a declared `entry` covers the fragment `name`: itself or a name under it."""
    return name == entry or name.startswith(entry + ".")


def producer(name: str, jobs: tuple[Job, ...] = JOBS) -> Job | None:
    """The job whose longest declared entry covers `name`, or None if no entry does."""
    found = [(len(entry), job) for job in jobs for entry in job.fragments if covers(entry, name)]
    return max(found, key=lambda pair: pair[0])[1] if found else None


def misplaced(job: Job, names: list[str]) -> list[str]:
    """The fragments among `names` (made by `job`) that `job` does not declare, each with
    the job that does (or none): what generate.py fails the job on."""
    out = []
    for name in sorted(names):
        owner = producer(name)
        if owner is not job:
            where = f"declared by the job {owner.name!r}" if owner else "declared by no job"
            out.append(f"{name} ({where})")
    return out
