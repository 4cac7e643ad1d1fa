"""Run one generator job and print its result as JSON: ``python generate.py JOB``.

docs/hooks/site.py starts one fresh process per job on every build, so whatever is
on disk in ``derivations/`` and ``rnnnum/`` is what the site shows. A job returns
``{"pages": {uri: markdown}, "files": {uri: text}, "fragments": {name: markdown}}``
(any of the three may be missing). Exit status 1 with a message on stderr means a
check failed; 2 means the command was used wrongly.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any


#: Job name -> (module, function); each process imports only its own job's module.
JOBS = {
    "pages": ("gen_pages", "pages_job"),
    "checks": ("gen_checks", "checks_job"),
    "proofs": ("gen_checks", "proofs_job"),
    "figures": ("gen_figures", "figures_job"),
}
JOB_NAMES = tuple(JOBS)


def _job(name: str) -> Callable[[], dict[str, Any]]:
    module, function = JOBS[name]
    return getattr(importlib.import_module(module), function)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in JOB_NAMES:
        print(
            f"usage: generate.py JOB, with JOB one of {', '.join(JOB_NAMES)}; got {argv!r}",
            file=sys.stderr,
        )
        return 2
    from gen_checks import ChecksFailed

    try:
        result = _job(argv[0])()
    except ChecksFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
