"""The one table of generator jobs (docs/hooks/jobs.py): its process groups and functions."""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import jobs


def test_the_process_groups_are_the_cached_ones():
    # the cache files (.cache/generated/<jobs joined by +>.json) and the build's log
    # name these groups: the table keeps them as they were
    assert jobs.processes() == (
        ("checks", "proofs", "activations"), ("pages",), ("figures",), ("lab",),
        ("cell-checks",), ("cell-pages",),
    )  # fmt: skip


@pytest.mark.parametrize("job", jobs.JOBS, ids=lambda job: job.name)
def test_each_job_names_a_function_of_a_hook_module(job):
    source = (ROOT / "docs" / "hooks" / f"{job.module}.py").read_text(encoding="utf-8")
    assert f"def {job.function}(" in source
