"""Site build times (a cold `make docs`, a rebuild under `mkdocs serve`) and typesetting.

Cold: the notebook cache is emptied, then `mkdocs build --strict` runs everything
(the generator jobs, both notebooks executed, the API reference). Serve: `mkdocs
serve` is started, a line is appended to a derivation module (a real edit, so the
module's content changes), and the time from that write to the log line announcing
the finished rebuild is measured; the module is then restored. Typesetting: every page
of the cold build is opened in Debian's Chromium from a loopback server, and the time
from navigation until MathJax has typeset every formula is measured; the slowest page
is reported against its target. A folded term (a long term of a gated cell's
written-out sum, typeset when the reader opens it) is not typeset on arrival: each is
opened by a click and the time until it is typeset is reported beside.
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


TYPESET_TARGET_S = 1.5
CHROMIUM = Path("/usr/bin/chromium")
#: The flags of tests/browser.py: headless, and no background traffic off the machine.
CHROMIUM_ARGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
)  # fmt: skip
#: True once MathJax has started and every formula of the page holds its typeset output.
TYPESET_DONE_JS = """() => window.MathJax && MathJax.startup && MathJax.startup.promise &&
  Array.from(document.querySelectorAll('.arithmatex'))
    .every(e => e.querySelector('mjx-container'))"""


def cold_build(site_dir: Path) -> float:
    for cached in ("mkdocs-jupyter", "generated"):  # cold: nothing executed or generated before
        shutil.rmtree(ROOT / ".cache" / cached, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT, capture_output=True, text=True, env=ENV, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"mkdocs build failed:\n{done.stderr[-3000:]}")
    return elapsed


#: The slowest pages of the first pass, measured again `repeats` times: one visit
#: alone is noisy on a shared 2-core machine (the same page: 1.0 s, then 2.1 s).
RECHECKED_PAGES = 5
#: A folded term's block with its formula typeset, after a click on its summary.
FOLDED_DONE_JS = """(n) => {
  const block = document.querySelectorAll('details.folded-term')[n];
  return !block.querySelector('.arithmatex-deferred') && block.querySelector('mjx-container')
    && MathJax.startup.promise;
}"""


def _visit(page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(TYPESET_DONE_JS, timeout=60_000, polling=10)
    page.evaluate("() => MathJax.startup.promise")
    return time.perf_counter() - started


def _open_folded(page) -> list[tuple[float, str]]:
    """(seconds from a click on its summary to its formula typeset, block id) per folded term."""
    out = []
    summaries = page.locator("details.folded-term > summary")
    for n in range(summaries.count()):
        summary = summaries.nth(n)
        summary.scroll_into_view_if_needed()
        started = time.perf_counter()
        summary.click()
        page.wait_for_function(FOLDED_DONE_JS, arg=n, timeout=60_000, polling=10)
        page.evaluate("() => MathJax.startup.promise")
        out.append((time.perf_counter() - started, summary.evaluate("s => s.parentElement.id")))
    return out


def typeset_times(
    site_dir: Path, repeats: int = 3, folded_pages: int | None = None
) -> tuple[list[tuple[float, str, int]], list[tuple[float, str, str]]]:
    """Arrival: (median seconds from navigation until every formula shown is typeset,
    page, formulas) per page. Folded: (seconds from opening a folded term until it is
    typeset, page, term) for the folded terms of the first `folded_pages` pages that
    have any (all when None)."""
    import functools
    import http.server
    import statistics

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    pages = sorted(p.parent.relative_to(site_dir).as_posix() for p in site_dir.rglob("index.html"))
    url = {rel: base + ("" if rel == "." else rel + "/") for rel in pages}
    samples: dict[str, list[float]] = {}
    formulas: dict[str, int] = {}
    folded: list[tuple[float, str, str]] = []
    with_folds = 0
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            for rel in pages:
                samples[rel] = [_visit(page, url[rel])]
                formulas[rel] = page.evaluate(
                    "() => document.querySelectorAll('mjx-container').length"
                )
                if folded_pages is None or with_folds < folded_pages:
                    opened = _open_folded(page)
                    with_folds += bool(opened)
                    folded += [(t, rel, summary) for t, summary in opened]
            for rel in sorted(pages, key=lambda r: samples[r][0])[-RECHECKED_PAGES:]:
                samples[rel] += [_visit(page, url[rel]) for _ in range(repeats)]
            chromium.close()
    finally:
        server.shutdown()
        server.server_close()
    arrival = [(statistics.median(samples[rel]), rel, int(formulas[rel])) for rel in pages]
    return arrival, folded


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
    with tempfile.TemporaryDirectory() as tmp:
        site_dir = Path(tmp) / "site"
        cold = cold_build(site_dir)
        row("cold mkdocs build --strict, lab included, no cache", seconds(cold),
            f"< {COLD_TARGET_S:.0f} s", verdict(cold < COLD_TARGET_S))  # fmt: skip
        if CHROMIUM.exists():
            times, folded = typeset_times(
                site_dir, repeats=1 if quick else 3, folded_pages=1 if quick else None
            )
            slowest, page, formulas = max(times)
            row(f"Chromium: navigation -> typeset, slowest of {len(times)} pages (median)",
                seconds(slowest), f"< {TYPESET_TARGET_S} s",
                f"{verdict(slowest < TYPESET_TARGET_S)} ({page}, {formulas} formulas)")  # fmt: skip
            heaviest = max(times, key=lambda t: t[2])
            row(f"  the page with most formulas ({heaviest[1]}, {heaviest[2]})",
                seconds(heaviest[0]), "(reported)")  # fmt: skip
            if folded:
                worst = max(folded)
                row(f"  open a folded term -> typeset, slowest of {len(folded)}",
                    seconds(worst[0]), "(reported)", f"({worst[1]}: {worst[2]})")  # fmt: skip
        else:
            row("Chromium: navigation -> typeset", "skipped", f"< {TYPESET_TARGET_S} s",
                f"no {CHROMIUM}: apt-get install chromium")  # fmt: skip
    if quick:
        return
    times = serve_rebuilds(3)
    best, worst = min(times), max(times)
    median = sorted(times)[len(times) // 2]
    row("serve: edit derivations/render.py -> rebuilt, median", seconds(median),
        f"< {REBUILD_TARGET_S:.0f} s",
        f"{verdict(median < REBUILD_TARGET_S)} ({len(times)} edits: {seconds(best)} to "
        f"{seconds(worst)})")  # fmt: skip
