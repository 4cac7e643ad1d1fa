"""The warm job server of `mkdocs serve` (docs/hooks/job_server.py) changes nothing but time.

Its children must produce exactly what ``python generate.py JOB`` produces (same
pages, fragments and figures, byte for byte), must read an edited module anew on
the next request, and must report a failing job as failed, with its message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import ROOT
from test_site import _copy_checkout

#: How long a job may take in these tests (the figures job takes ~2 s here).
JOB_TIMEOUT_S = 120


def _env(root: Path) -> dict[str, str]:
    """The environment docs/hooks/site.py gives its jobs."""
    return {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "svg", "PYTHONHASHSEED": "0"}


class Server:
    def __init__(self, root: Path, folder: Path) -> None:
        self.root, self.folder, self.count = root, folder, 0
        self.process = subprocess.Popen(
            [sys.executable, str(root / "docs" / "hooks" / "job_server.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root,
            env=_env(root),
        )  # fmt: skip
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def run(self, *jobs: str) -> tuple[int, str, str]:
        self.count += 1
        paths = {k: str(self.folder / f"job{self.count}.{k}") for k in ("out", "err", "code")}
        self.process.stdin.write(json.dumps({"jobs": list(jobs), **paths}) + "\n")
        self.process.stdin.flush()
        assert "pid" in json.loads(self.process.stdout.readline())
        done, deadline = Path(paths["code"]), time.monotonic() + JOB_TIMEOUT_S
        while not done.exists():
            assert time.monotonic() < deadline, f"no exit code for {jobs}"
            time.sleep(0.01)
        return (int(done.read_text()), *(Path(paths[k]).read_text() for k in ("out", "err")))

    def close(self) -> None:
        self.process.stdin.close()  # the server ends when its requests do
        self.process.wait(timeout=30)
        self.process.stdout.close()


def _fresh(root: Path, *jobs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "docs" / "hooks" / "generate.py"), *jobs],
        capture_output=True, text=True, cwd=root, env=_env(root), check=False,
    )  # fmt: skip


def _without_sources(output: str) -> dict[str, Any]:
    data = json.loads(output)
    data.pop("sources")
    return data


def test_a_forked_job_gives_what_a_new_process_gives(tmp_path):
    server = Server(ROOT, tmp_path)
    try:
        for jobs in (("pages", "activations"), ("figures",)):
            code, out, err = server.run(*jobs)
            fresh = _fresh(ROOT, *jobs)
            assert (code, fresh.returncode) == (0, 0), (err, fresh.stderr)
            assert _without_sources(out) == _without_sources(fresh.stdout), jobs
            # the same project files are read (the server's own script aside)
            forked_sources = set(json.loads(out)["sources"]) - {"docs/hooks/job_server.py"}
            assert forked_sources == set(json.loads(fresh.stdout)["sources"])
    finally:
        server.close()


def test_an_edited_module_is_read_anew_by_the_next_child(tmp_path):
    checkout = _copy_checkout(tmp_path / "checkout")
    server = Server(checkout, tmp_path)
    try:
        code, before, _ = server.run("pages")
        assert code == 0 and "with the local derivative of the loss" in before
        render = checkout / "derivations" / "render" / "page.py"
        render.write_text(
            render.read_text().replace(
                "with the local derivative of the loss", "and the local derivative of the loss", 1
            )
        )
        code, after, _ = server.run("pages")
        assert code == 0
        assert (
            "and the local derivative of the loss" in after
            and "with the local derivative of the loss" not in after
        )
    finally:
        server.close()


def test_a_failing_job_is_reported_with_its_message(tmp_path):
    server = Server(ROOT, tmp_path)
    try:
        code, out, err = server.run("no-such-job")
        assert code == 2 and out == ""
        assert "usage: generate.py JOB" in err and "no-such-job" in err
    finally:
        server.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(lines: list[str], text: str, after: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for n, line in enumerate(lines[after:], start=after):
            if text in line:
                return n + 1
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} within {timeout} s; the log ends: {lines[-10:]}")


def test_serve_rebuilds_fork_their_jobs_and_serve_the_edit(tmp_path):
    """`mkdocs serve` end to end: the rebuild after an edit forks its job from the warm
    server, and the page served afterwards holds the edit."""
    import shutil
    import threading
    import urllib.request

    checkout = _copy_checkout(tmp_path / "checkout")
    if (ROOT / ".cache").is_dir():  # warm caches: only the job the edit touches reruns
        shutil.copytree(
            ROOT / ".cache",
            checkout / ".cache",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("mathjax-svg"),
        )  # the drawings: shared already (_copy_checkout)
    port = _free_port()
    mkdocs = Path(sys.executable).with_name("mkdocs")
    serve = subprocess.Popen(
        [str(mkdocs), "serve", "--strict", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=checkout, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(serve.stderr), daemon=True)
    reader.start()
    try:
        seen = _wait_for(lines, "Serving on", 0, 300)
        time.sleep(1.0)  # let the watcher settle
        render = checkout / "derivations" / "render" / "page.py"
        render.write_text(
            render.read_text().replace(
                "with the local derivative of the loss", "and the local derivative of the loss", 1
            )
        )
        seen = _wait_for(lines, "Documentation built in", seen, 120)
        rebuilt = "".join(lines)
        assert "generated pages in" in rebuilt and "(forked from the warm job server)" in rebuilt
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/expanded-sum/Wxh/", timeout=30)
        assert "and the local derivative of the loss" in page.read().decode()
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        reader.join(timeout=10)
        serve.stderr.close()
