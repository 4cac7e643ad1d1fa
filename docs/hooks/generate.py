"""Run generator jobs and print their merged result as JSON: ``python generate.py JOB...``.

docs/hooks/site.py starts one fresh process per job on every build, so whatever is
on disk in ``derivations/`` and ``rnnnum/`` is what the site shows. A job returns
``{"pages": {uri: markdown}, "files": {uri: text}, "fragments": {name: markdown}}``
(any of the three may be missing), and may name data files it read under ``"inputs"``.
The jobs, their functions and the fragments each may make are the table of ``jobs.py``:
a job that makes a fragment it does not declare fails.
The merged output adds ``"sources"``: every file of the checkout the jobs imported or
read, so that site.py can reuse the output while none of them changes. Exit status 1
with a message on stderr means a check failed; 2 means the command was used wrongly.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gen_format import ChecksFailed
from jobs import BY_NAME, misplaced

#: The job names (the table: jobs.py); each process imports only its own jobs' modules.
JOB_NAMES = tuple(BY_NAME)
ROOT = Path(__file__).resolve().parents[2]


def _sources(inputs: set[str]) -> list[str]:
    """Paths (relative to the checkout) of every loaded module and input file inside it."""
    found = set(inputs)
    installed = (sys.base_prefix, sys.prefix)  # the standard library, the venv: never sources
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or file.startswith(installed):
            continue
        path = Path(file).resolve()
        if path.is_relative_to(ROOT) and ".venv" not in path.parts:
            found.add(path.relative_to(ROOT).as_posix())
    return sorted(found)


def _job(name: str) -> Callable[[], dict[str, Any]]:
    job = BY_NAME[name]
    return getattr(importlib.import_module(job.module), job.function)


def _run(name: str) -> dict[str, Any]:
    """The job's output; ChecksFailed if it makes a fragment it does not declare (jobs.py)."""
    output = _job(name)()
    wrong = misplaced(BY_NAME[name], list(output.get("fragments", {})))
    if wrong:
        raise ChecksFailed(
            f"the job {name!r} made fragments docs/hooks/jobs.py does not give it: "
            f"{', '.join(wrong)}. Declare each name (or a prefix of it) in its entry."
        )
    return output


def main(argv: list[str]) -> int:
    if not argv or any(name not in JOB_NAMES for name in argv):
        print(
            f"usage: generate.py JOB [JOB ...], each JOB one of {', '.join(JOB_NAMES)}; "
            f"got {argv!r}",
            file=sys.stderr,
        )
        return 2
    merged: dict[str, Any] = {}
    inputs: set[str] = set()
    try:
        for name in argv:
            for kind, items in _run(name).items():
                if kind == "inputs":
                    inputs.update(items)
                else:
                    merged.setdefault(kind, {}).update(items)
    except ChecksFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    merged["sources"] = _sources(inputs)
    json.dump(merged, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
