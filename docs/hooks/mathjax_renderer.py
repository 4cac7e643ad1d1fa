"""The Node process that draws the formulas: `Renderer`, fed whole pages at a time.

The third stage of drawing the formulas (``mathjax_svg.py`` is the hook): one Node
process (``mathjax_svg.js``, npm ``mathjax-full`` pinned in package.json) per build, or
per ``mkdocs serve`` session, started on the first formula missing from the cache.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from mathjax_cache import CONFIG, NODE_HINT, ROOT, SCRIPT, FormulaCache
from mathjax_tex import TexError

Result = dict[str, Any]


@dataclass
class Renderer:
    """The Node process, started on the first formula missing from the cache.

    Requests are written as they come (`prefetch`: a page's formulas, as soon as its
    Markdown is HTML) and answered in order; a reader thread files each answer, and
    `draw` waits only for what is not in yet. So Node draws while MkDocs goes on
    rendering the other pages and running the notebooks.
    """

    cache: FormulaCache
    process: subprocess.Popen[str] | None = None
    drawn: int = 0
    reused: int = 0
    #: Seconds the Node process spent drawing (its own count), this build.
    seconds: float = 0.0
    #: Seconds on_post_page spent (waiting for drawings, reading the cache, rewriting).
    page_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[str, Future[Result]] = field(default_factory=dict)
    waiting: deque[list[Future[Result]]] = field(default_factory=deque)

    def _start(self) -> subprocess.Popen[str]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                ["node", str(SCRIPT), json.dumps(CONFIG)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                encoding="utf-8",
            )  # fmt: skip
            assert self.process.stdout is not None
            hello = json.loads(self.process.stdout.readline() or "{}")
            if hello.get("ready") is not True:
                raise TexError(f"the MathJax process did not start ({hello}). {NODE_HINT}")
            reader = threading.Thread(target=self._read, args=(self.process,), daemon=True)
            reader.start()
        return self.process

    def _read(self, process: subprocess.Popen[str]) -> None:
        """File each answer line with the futures of its request, in order."""
        assert process.stdout is not None
        for line in process.stdout:
            answer = json.loads(line)
            with self.lock:
                futures = self.waiting.popleft()
                self.seconds += float(answer.get("ms", 0)) / 1000
            results = answer.get("results", [answer])
            if len(results) != len(futures):
                results = [{"error": f"the MathJax process answered {answer!r:.300}"}] * len(
                    futures
                )
            for future, result in zip(futures, results, strict=True):
                future.set_result(result)
        with self.lock:  # the process ended: nothing more will come
            ended = TexError(
                f"the MathJax process ({SCRIPT.name}) ended (exit {process.poll()}); its "
                f"error is printed above. {NODE_HINT}"
            )
            while self.waiting:
                for future in self.waiting.popleft():
                    future.set_exception(ended)

    def _send(self, request: dict[str, Any], futures: list[Future[Result]]) -> None:
        """Write one request; its answer resolves `futures` (call with the lock held)."""
        process = self._start()
        assert process.stdin is not None
        self.waiting.append(futures)
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()

    def prefetch(self, formulas: list[tuple[str, bool]]) -> None:
        """Ask Node for every formula not cached nor asked for yet; return at once."""
        asked: dict[str, tuple[str, bool]] = {}
        for tex, display in formulas:
            key = self.cache.key(tex, display)
            if key not in self.pending and key not in asked and not self.cache.has(key):
                asked[key] = (tex, display)
        if not asked:
            return
        with self.lock:
            futures = [self.pending.setdefault(key, Future()) for key in asked]
            wanted = [{"tex": tex, "display": display} for tex, display in asked.values()]
            self._send({"formulas": wanted}, futures)
            self.drawn += len(asked)

    def stylesheet(self) -> str:
        """MathJax's CSS for its SVG output (cached like a formula)."""
        key = self.cache.key("<stylesheet>", True)
        css = self.cache.get(key)
        if css is None:
            future: Future[Result] = Future()
            with self.lock:
                self._send({"stylesheet": True}, [future])
            css = str(future.result()["css"])
            self.cache.put(key, css)
        return css

    def draw(self, formulas: list[tuple[str, bool]], where: str) -> list[str]:
        """The drawing of each (TeX, display) formula, from the cache or drawn now."""
        self.prefetch(formulas)
        keys = [self.cache.key(tex, display) for tex, display in formulas]
        found: dict[str, str] = {}
        for key, (tex, display) in zip(keys, formulas, strict=True):
            if key in found:
                continue
            future = self.pending.get(key)
            if future is None:
                cached = self.cache.get(key)
                assert cached is not None, "neither cached nor asked for"
                found[key] = cached
                self.reused += 1
                continue
            result = future.result()
            if "error" in result:
                shown = tex if len(tex) <= 300 else tex[:300] + " ..."
                raise TexError(
                    f"{where}: TeX error in the {'display' if display else 'inline'} "
                    f"formula {shown!r}: {result['error']}. Fix the formula's source "
                    f"(its generator in derivations/ or docs/hooks/, or the page)."
                )
            found[key] = str(result["html"])
            self.cache.put(key, found[key])
            del self.pending[key]
        return [found[key] for key in keys]

    def close(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()
