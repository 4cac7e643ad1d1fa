"""Site build times (a cold `make docs`, a rebuild under `mkdocs serve`) and the pages.

Cold: the caches of the notebooks, the generator jobs and the formula drawings are
emptied, then `mkdocs build --strict` runs everything (the generator jobs, the notebooks
executed, every formula drawn by MathJax in Node, the API reference). Serve: `mkdocs
serve` is started, a line is appended to a derivation module (a real edit, so the
module's content changes), and the time from that write to the log line announcing
the finished rebuild is measured; the module is then restored. Pages: the five
heaviest pages (most bytes of HTML) are opened in Debian's Chromium from a loopback
server, and the time from navigation until every formula shown is drawn and laid out
is measured (the median of a few visits). The formulas arrive drawn (at build time),
so a folded term (a long term of a gated cell's written-out sum) has nothing left to
typeset when opened: the largest one is opened and what it still lacks is counted.
The heaviest page's weight, gzipped, is reported beside.
"""

from __future__ import annotations

import gzip
import os
import re
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
COLD_TARGET_S = 90.0
REBUILD_TARGET_S = 5.0
#: The derivation module edited under `mkdocs serve`.
EDITED = ROOT / "derivations" / "render" / "page.py"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


ARRIVAL_TARGET_S = 0.5
CHROMIUM = Path("/usr/bin/chromium")
#: The flags of tests/browser.py: headless, and no background traffic off the machine.
CHROMIUM_ARGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
)  # fmt: skip
#: Every formula image among `formulas` (a box masked by an SVG file, for a large
#: formula: docs/hooks/formula_images.py) loaded by the page, as a promise: its
#: resource entry is there (the browser makes the image when the file is in, in the
#: same task), then two animation frames, so it has been painted.
_IMAGES_LOADED = """(formulas) => new Promise(loaded => {
  const urls = formulas.map(el => el.querySelector('mjx-container > .mjx-image'))
    .filter(Boolean).map(box => getComputedStyle(box).maskImage.slice(5, -2));
  const check = () => {
    if (urls.every(url => performance.getEntriesByName(url).length)) {
      requestAnimationFrame(() => requestAnimationFrame(loaded));
    } else {
      setTimeout(check, 5);
    }
  };
  check();
})"""
#: True once every formula outside a closed block is drawn and laid out (its SVG, or
#: the box of its image, has a size; each image loaded); then two animation frames,
#: so the drawing has been painted.
DRAWN_JS = """() => new Promise(done => {
  const loaded = IMAGES_LOADED;
  const check = () => {
    const shown = Array.from(document.querySelectorAll('.arithmatex'))
      .filter(el => !el.closest('details:not([open])'));
    const drawn = shown.every(el => {
      const svg = el.querySelector('mjx-container > :is(svg, .mjx-image)');
      return svg && svg.getBoundingClientRect().width > 0;
    });
    if (drawn && document.readyState === 'complete') {
      loaded(shown).then(() => requestAnimationFrame(() => requestAnimationFrame(
        () => done(shown.length))));
    } else {
      setTimeout(check, 5);
    }
  };
  check();
})""".replace("IMAGES_LOADED", _IMAGES_LOADED)
#: The largest folded term of the page, opened: (TeX characters, formulas in it not
#: drawn, ms from opening until its drawing has a size and its image is painted).
OPEN_LARGEST_JS = """() => new Promise(done => {
  const loaded = IMAGES_LOADED;
  const blocks = Array.from(document.querySelectorAll('details.folded-term'));
  if (!blocks.length) { done(null); return; }
  const size = b => (b.querySelector('div.arithmatex > .arithmatex-tex') || {textContent: ''})
    .textContent.length;
  const block = blocks.reduce((a, b) => (size(b) > size(a) ? b : a));
  const formulas = Array.from(block.querySelectorAll('.arithmatex'));
  const undrawn = formulas
    .filter(el => !el.querySelector('mjx-container > :is(svg, .mjx-image)')).length;
  const started = performance.now();
  block.open = true;
  loaded(formulas).then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
    const svg = block.querySelector('.arithmatex mjx-container > :is(svg, .mjx-image)');
    const shown = svg && svg.getBoundingClientRect().width > 0;
    done([size(block), undrawn, shown ? performance.now() - started : null]);
  })));
})""".replace("IMAGES_LOADED", _IMAGES_LOADED)
#: A formula image's URL in a page (docs/hooks/formula_images.py), and a drawing.
IMAGE_URL = re.compile(r"mask-image: url\(([^)]*)\)")
DRAWING = re.compile(
    r"(<mjx-container[^>]*>)(?:<svg.*?</svg>|<span class=\"mjx-image\"[^>]*></span>)"
    r"</mjx-container>",
    re.S,
)
#: Visits of each heavy page; the median is reported (a shared machine is noisy).
VISITS = 3
HEAVY_PAGES = 5


def cold_build(site_dir: Path, *, drawings: bool = True) -> float:
    """Seconds of a build with nothing made before; with `drawings` False the formula
    drawings are kept (--quick, which only checks that the benchmark runs)."""
    caches = ("mkdocs-jupyter", "generated", *(("mathjax-svg",) if drawings else ()))
    for cached in caches:
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


def heaviest_pages(site_dir: Path, n: int = HEAVY_PAGES) -> list[tuple[int, str]]:
    """(bytes, page) of the `n` largest pages of the built site, largest first."""
    sizes = [(p.stat().st_size, p.parent.relative_to(site_dir).as_posix())
             for p in site_dir.rglob("index.html")]  # fmt: skip
    return sorted(sizes, reverse=True)[:n]


def formula_images(page: Path) -> set[Path]:
    """The formula image files a built page shows (each once)."""
    html = page.read_text(encoding="utf-8")
    return {(page.parent / url).resolve() for url in IMAGE_URL.findall(html)}


def glyphs(page: Path) -> int:
    """The glyphs a built page draws: one <use> each, inline or in its formula images."""
    inline = page.read_text(encoding="utf-8").count("<use ")
    return inline + sum(image.read_text().count("<use ") for image in formula_images(page))


def most_math(site_dir: Path, n: int = HEAVY_PAGES) -> list[tuple[int, str]]:
    """(glyphs, page) of the `n` pages that draw the most glyphs, most first."""
    counts = [(glyphs(p), p.parent.relative_to(site_dir).as_posix())
              for p in site_dir.rglob("index.html")]  # fmt: skip
    return sorted(counts, reverse=True)[:n]


def without_math(site_dir: Path, rel: str) -> str:
    """A copy of page `rel` beside it with every drawing taken out (the TeX kept): the
    control that tells what the page costs the browser without its math."""
    html = (site_dir / rel / "index.html").read_text(encoding="utf-8")
    bare = DRAWING.sub(r'\1<svg width="1ex" height="1ex"></svg></mjx-container>', html)
    copy = f"{rel}-without-math"
    (site_dir / copy).mkdir()
    (site_dir / copy / "index.html").write_text(bare, encoding="utf-8")
    return copy


def page_times(
    site_dir: Path, pages: list[str], visits: int = VISITS
) -> tuple[list[tuple[float, str, int]], tuple[str, list[float]] | None]:
    """Arrival: (median seconds from navigation until every formula shown is drawn and
    painted, page, formulas shown) per page. Folded: (page, [TeX characters, formulas
    not drawn, ms until shown]) of the largest folded term of the first page with one."""
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
    arrival, folded = [], None
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            for rel in pages:
                times, shown = [], 0
                for _ in range(visits):
                    started = time.perf_counter()
                    page.goto(base + rel + "/", wait_until="commit")
                    shown = page.evaluate(DRAWN_JS)
                    times.append(time.perf_counter() - started)
                arrival.append((statistics.median(times), rel, int(shown)))
                if folded is None:
                    opened = page.evaluate(OPEN_LARGEST_JS)
                    folded = (rel, opened) if opened else None
            chromium.close()
    finally:
        server.shutdown()
        server.server_close()
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


def _arrivals(
    site_dir: Path, mathiest: list[tuple[int, str]], heavy: list[tuple[int, str]], visits: int
) -> None:
    """Navigation -> all math drawn on the pages with the most math and on the largest
    pages, and the control: of the largest pages, the one with the most formulas, its
    drawings taken out."""
    formulas = {rel: (site_dir / rel / "index.html").read_text().count("<mjx-container")
                for _, rel in heavy}  # fmt: skip
    most = max(formulas, key=lambda rel: formulas[rel])  # the control: what math costs there
    control = without_math(site_dir, most)
    pages = [rel for _, rel in mathiest] + [rel for _, rel in heavy] + [control]
    times, folded = page_times(site_dir, list(dict.fromkeys(pages)), visits=visits)
    by_page = {rel: (t, n) for t, rel, n in times}
    for title, chosen in (("with the most math", mathiest), ("largest (bytes of HTML)", heavy)):
        slowest, page = max((by_page[rel][0], rel) for _, rel in chosen)
        row(f"Chromium: navigation -> all math drawn, slowest of the {len(chosen)} pages "
            f"{title} (median)", seconds(slowest), f"< {ARRIVAL_TARGET_S} s",
            f"{verdict(slowest < ARRIVAL_TARGET_S)} ({page})")  # fmt: skip
        for weight, rel in chosen:
            t, n = by_page[rel]
            unit = "glyphs" if chosen is mathiest else "bytes"
            row(f"  {rel} ({n} formulas shown, {weight} {unit})", seconds(t), "(reported)")
    row(f"  control: {most} with its drawings taken out", seconds(by_page[control][0]),
        "(reported)")  # fmt: skip
    if folded:
        rel, (chars, undrawn, ms) = folded
        row(f"  open the largest folded term ({rel}, {chars} characters of TeX): "
            "formulas left to typeset", str(undrawn), "0",
            f"{verdict(undrawn == 0 and ms is not None)} (shown after "
            f"{'never' if ms is None else f'{ms:.0f} ms'})")  # fmt: skip


def main(quick: bool = False, built: Path | None = None) -> None:
    """With `built` (a site built already, --site) the cold build is not measured: its
    pages are, in a copy (the control page is written beside them)."""
    header("site: cold `make docs` (notebooks executed) and rebuild under `mkdocs serve`")
    with tempfile.TemporaryDirectory() as tmp:
        site_dir = Path(tmp) / "site"
        if built is None:
            cold = cold_build(site_dir, drawings=not quick)
            what = "formula drawings kept (--quick)" if quick else "no cache"
            row(f"cold mkdocs build --strict, lab included, {what}", seconds(cold),
                f"< {COLD_TARGET_S:.0f} s", verdict(cold < COLD_TARGET_S))  # fmt: skip
        else:
            shutil.copytree(built, site_dir)
            row("cold mkdocs build --strict", "skipped", f"< {COLD_TARGET_S:.0f} s",
                f"(--site: the pages of {built})")  # fmt: skip
        heavy = heaviest_pages(site_dir)
        size, heaviest = heavy[0]
        gzipped = len(gzip.compress((site_dir / heaviest / "index.html").read_bytes(), 9))
        row(f"heaviest page, gzipped ({heaviest}, {size / 1e6:.2f} MB raw)",
            f"{gzipped / 1e3:.0f} kB", "(reported)")  # fmt: skip
        mathiest = most_math(site_dir)
        page = site_dir / mathiest[0][1] / "index.html"
        images = formula_images(page)
        packed = sum(len(gzip.compress(p.read_bytes(), 9)) for p in (page, *images))
        row(f"page with the most math, gzipped, its {len(images)} formula images included "
            f"({mathiest[0][1]}, {mathiest[0][0]} glyphs)", f"{packed / 1e3:.0f} kB",
            "(reported)")  # fmt: skip
        if CHROMIUM.exists():
            _arrivals(site_dir, mathiest, heavy, visits=1 if quick else VISITS)
        else:
            row("Chromium: navigation -> all math drawn", "skipped", f"< {ARRIVAL_TARGET_S} s",
                f"no {CHROMIUM}: apt-get install chromium")  # fmt: skip
    if quick or built is not None:
        return
    times = serve_rebuilds(3)
    best, worst = min(times), max(times)
    median = sorted(times)[len(times) // 2]
    row("serve: edit derivations/render/page.py -> rebuilt, median", seconds(median),
        f"< {REBUILD_TARGET_S:.0f} s",
        f"{verdict(median < REBUILD_TARGET_S)} ({len(times)} edits: {seconds(best)} to "
        f"{seconds(worst)})")  # fmt: skip
