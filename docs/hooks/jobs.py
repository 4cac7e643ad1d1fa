"""The generator jobs, in one table: what each runs, and in which process.

`JOBS` is read by ``site.py`` (which starts one process per group, `processes`) and by
``generate.py`` (which runs a job's function in that process).

Nothing here imports the project: ``site.py`` reads this table in the MkDocs process.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    """One generator job: ``module.function()`` returns its pages, files and fragments.

    ``process`` names the group of jobs run in one process (and cached as one): each
    process pays ~0.4 s to import SymPy and NumPy, but each group is cached on its own,
    so a job that does not import an edited module is not rerun.
    """

    name: str
    module: str
    function: str
    process: str


#: Every job, grouped by process in this order (the jobs a common edit touches, the
#: vanilla pages: derivations/render.py, sit in small groups of their own).
JOBS = (
    Job("checks", "gen_checks", "checks_job", "checks"),
    Job("proofs", "gen_checks", "proofs_job", "checks"),
    Job("activations", "gen_activations", "activations_job", "checks"),
    Job("pages", "gen_pages", "pages_job", "pages"),
    Job("figures", "gen_figures", "figures_job", "figures"),
    Job("lab", "gen_lab", "lab_job", "lab"),
    Job("cell-checks", "gen_cell_checks", "cell_checks_job", "cell-checks"),
    Job("cell-pages", "gen_cell_pages", "cell_pages_job", "cell-pages"),
)
BY_NAME = {job.name: job for job in JOBS}


def processes(jobs: tuple[Job, ...] = JOBS) -> tuple[tuple[str, ...], ...]:
    """The job names of each process, the groups in their order of first appearance."""
    groups: dict[str, list[str]] = {}
    for job in jobs:
        groups.setdefault(job.process, []).append(job.name)
    return tuple(tuple(names) for names in groups.values())
