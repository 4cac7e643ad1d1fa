"""The one table of generator jobs (docs/hooks/jobs.py): its process groups, and the
producer it names for each ``{{ name }}`` placeholder of the hand-written pages.

That every declared entry is made by its job in a real build is in tests/test_site.py.
"""

from __future__ import annotations

import re
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import gen_cell_prose as prose
import jobs

FRAGMENT = re.compile(r"\{\{\s*([A-Za-z][\w.\-]*)\s*\}\}")


#: What mkdocs.yml's exclude_docs keeps out of the site: the hooks, and the prose
#: snippets whose own placeholders the generator fills (gen_cell_prose.py).
NOT_PAGES = ("docs/hooks/", f"{prose.FOLDER}/")


def page_placeholders() -> dict[str, str]:
    """Every placeholder name of the hand-written pages (docs/**/*.md) -> a page using it."""
    out = {}
    for page in sorted((ROOT / "docs").rglob("*.md")):
        where = page.relative_to(ROOT).as_posix()
        if where.startswith(NOT_PAGES):
            continue
        for name in FRAGMENT.findall(page.read_text(encoding="utf-8")):
            out.setdefault(name, where)
    return out


def test_the_pages_scanned_are_those_mkdocs_builds():
    excluded = (ROOT / "mkdocs.yml").read_text().split("exclude_docs: |\n", 1)[1]
    listed = {line.strip() for line in excluded.split("\n\n", 1)[0].splitlines()}
    assert {f"docs/{entry}" for entry in listed} == set(NOT_PAGES)


def test_the_process_groups_are_the_cached_ones():
    # the cache files (.cache/generated/<jobs joined by +>.json) and the build's log
    # name these groups: the table keeps them as they were
    assert jobs.processes() == (
        ("checks", "proofs", "activations"), ("pages",), ("figures",), ("lab",),
        ("cell-checks",), ("cell-pages",),
    )  # fmt: skip


def test_no_entry_is_declared_by_two_jobs():
    """So the longest entry covering a name is one job's: each name has one producer."""
    seen: dict[str, str] = {}
    for job in jobs.JOBS:
        for entry in job.fragments:
            assert entry not in seen, f"{entry!r} is declared by {seen[entry]!r} and {job.name!r}"
            seen[entry] = job.name


def test_every_placeholder_of_the_pages_has_a_declared_producer():
    placeholders = page_placeholders()
    assert len(placeholders) > 200
    orphans = {n: page for n, page in placeholders.items() if jobs.producer(n) is None}
    assert not orphans, f"placeholders no job of docs/hooks/jobs.py declares: {orphans}"


def test_the_longest_entry_decides():
    assert jobs.producer("sym.h.t-1") is jobs.BY_NAME["pages"]
    assert jobs.producer("sym.lstm.c") is jobs.BY_NAME["cell-pages"]
    assert jobs.producer("sym.gru-before.z") is jobs.BY_NAME["cell-pages"]
    assert jobs.producer("eq.residual") is jobs.BY_NAME["pages"]  # the lab's statement
    assert jobs.producer("symbol") is None  # a prefix covers whole names only
    assert jobs.producer("nothing.here") is None


def test_a_job_that_makes_a_fragment_it_does_not_declare_is_refused():
    lab = jobs.BY_NAME["lab"]
    assert jobs.misplaced(lab, ["tuned.runs", "gated.path.H"]) == []
    assert jobs.misplaced(lab, ["sym.h", "new.thing"]) == [
        "new.thing (declared by no job)",
        "sym.h (declared by the job 'pages')",
    ]


@pytest.mark.parametrize("job", jobs.JOBS, ids=lambda job: job.name)
def test_each_job_names_a_function_of_a_hook_module(job):
    source = (ROOT / "docs" / "hooks" / f"{job.module}.py").read_text(encoding="utf-8")
    assert f"def {job.function}(" in source
