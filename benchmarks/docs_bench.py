"""Site build times: a cold `make docs` and a rebuild under `mkdocs serve`.

Cold: the notebook cache is emptied, then `mkdocs build --strict` runs everything
(the generator jobs, both notebooks executed, the API reference). Serve: `mkdocs
serve` is started, a line is appended to a derivation module (a real edit, so the
module's content changes), and the time from that write to the log line announcing
the finished rebuild is measured; the module is then restored.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.report import header, row, seconds, verdict

ROOT = Path(__file__).resolve().parent.parent
MKDOCS = Path(sys.executable).with_name("mkdocs")
COLD_TARGET_S = 60.0
REBUILD_TARGET_S = 5.0
#: The derivation module edited under `mkdocs serve`.
EDITED = ROOT / "derivations" / "render.py"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def cold_build() -> float:
    for cached in ("mkdocs-jupyter", "generated"):  # cold: nothing executed or generated before
        shutil.rmtree(ROOT / ".cache" / cached, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = subprocess.run(
            [str(MKDOCS), "build", "--strict", "--site-dir", str(Path(tmp) / "site")],
            cwd=ROOT, capture_output=True, text=True, env=ENV, check=False,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"mkdocs build failed:\n{done.stderr[-3000:]}")
    return elapsed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Log:
    """The lines of a process's stderr, read in a thread, with their arrival times."""

    def __init__(self, stream) -> None:
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._lock:
                self.lines.append((time.perf_counter(), line))

    def wait_for(self, text: str, after: int, timeout: float) -> tuple[float, int]:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self._lock:
                for n, (when, line) in enumerate(self.lines[after:], start=after):
                    if text in line:
                        return when, n + 1
            time.sleep(0.02)
        tail = "".join(line for _, line in self.lines[-15:])
        raise SystemExit(f"mkdocs serve: no {text!r} within {timeout} s; its log ends:\n{tail}")


def serve_rebuilds(repeats: int) -> list[float]:
    port = _free_port()
    server = subprocess.Popen(
        [str(MKDOCS), "serve", "--strict", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=ENV,
    )  # fmt: skip
    original = EDITED.read_text()
    times = []
    try:
        log = _Log(server.stderr)
        _, seen = log.wait_for("Serving on", 0, 300)
        for n in range(repeats):
            time.sleep(1.0)  # let the watcher settle
            started = time.perf_counter()
            EDITED.write_text(original + f"\n# benchmark edit {n}\n")
            finished, seen = log.wait_for("Documentation built in", seen, 120)
            times.append(finished - started)
            EDITED.write_text(original)
            try:  # the rebuild for the restore; not measured
                _, seen = log.wait_for("Documentation built in", seen, 30)
            except SystemExit:
                seen = len(log.lines)
    finally:
        EDITED.write_text(original)
        server.terminate()
        server.wait(timeout=30)
    return times


def main(quick: bool = False) -> None:
    header("site: cold `make docs` (notebooks executed) and rebuild under `mkdocs serve`")
    cold = cold_build()
    row("cold mkdocs build --strict, lab included, no cache", seconds(cold),
        f"< {COLD_TARGET_S:.0f} s", verdict(cold < COLD_TARGET_S))  # fmt: skip
    if quick:
        return
    times = serve_rebuilds(3)
    best, worst = min(times), max(times)
    median = sorted(times)[len(times) // 2]
    row("serve: edit derivations/render.py -> rebuilt, median", seconds(median),
        f"< {REBUILD_TARGET_S:.0f} s",
        f"{verdict(median < REBUILD_TARGET_S)} ({len(times)} edits: {seconds(best)} to "
        f"{seconds(worst)})")  # fmt: skip
