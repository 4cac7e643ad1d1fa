"""A warm parent for the generator jobs under ``mkdocs serve``: fork, do not start afresh.

A generator job run as ``python generate.py JOB`` spends most of a rebuild importing
SymPy, NumPy and Matplotlib (~0.7 s of the vanilla pages' ~1.2 s). Under ``mkdocs
serve``, docs/hooks/site.py starts this process once: it imports those third-party
packages and nothing of the checkout, then forks one child per request. Each child is
a fresh process as far as the project goes: it imports ``generate`` and the project's
modules anew, so an edited module is always read from disk, exactly as in a new
interpreter (same environment, PYTHONHASHSEED included, set when this process starts).

Protocol, one JSON object per line. Request on stdin: ``{"jobs": [...], "out": path,
"err": path, "code": path}``. The server forks and answers ``{"pid": n}`` at once;
the child writes the job's stdout to ``out``, its stderr to ``err`` and, last, its exit
code to ``code`` (written to a temporary name and renamed, so a reader never sees it
half-written). The server ends when stdin closes (mkdocs serve has stopped).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path

HOOKS = Path(__file__).resolve().parent
ROOT = HOOKS.parent.parent

import matplotlib  # noqa: E402 - after the paths: the imports are this process's point

matplotlib.use("svg")
import matplotlib.pyplot  # noqa: E402
import numpy  # noqa: E402, F401
import sympy  # noqa: E402, F401


def _project_modules() -> list[str]:
    """Modules of the checkout loaded here (must stay none but this file)."""
    mine = Path(__file__).resolve()
    out = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file or file.startswith((sys.base_prefix, sys.prefix)):
            continue
        path = Path(file).resolve()
        if path.is_relative_to(ROOT) and ".venv" not in path.parts and path != mine:
            out.append(name)
    return out


def _child(request: dict[str, object]) -> None:
    """Run the jobs as ``python generate.py JOB...`` would, then exit without returning."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server's setting is not the job's
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the requests are the server's to read
        out = os.open(str(request["out"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(str(request["err"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.argv = [str(HOOKS / "generate.py"), *map(str, request["jobs"])]  # type: ignore[call-overload]
        sys.path.insert(0, str(HOOKS))
        import generate  # noqa: PLC0415 - imported anew in every child, never in the server

        code = generate.main(sys.argv[1:])
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        done = Path(str(request["code"]))
        partial = done.with_suffix(".partial")
        partial.write_text(str(code))
        partial.rename(done)
        os._exit(code)


def main() -> int:
    loaded = _project_modules()
    if loaded:
        print(json.dumps({"error": f"project modules loaded in the server: {loaded}"}))
        return 1
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
