"""Drive Debian's Chromium (never a downloaded browser) over a built site, with Playwright.

`serve(site_dir)` serves a built site on 127.0.0.1; `Browser` opens pages in headless
Chromium, records console errors and every request that leaves loopback (and
aborts it), and `math_report(page)` inspects the typeset math of the page shown.
Used by tests/test_site_browser.py and by the benchmark of the site.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Debian's Chromium (apt-get install chromium); override with UNROLLED_CHROMIUM.
CHROMIUM = Path(os.environ.get("UNROLLED_CHROMIUM", "/usr/bin/chromium"))
#: Set to 1 (as .ci/run does) to turn a missing browser into a failure, not a skip.
REQUIRE_ENV = "UNROLLED_REQUIRE_BROWSER"
INSTALL_HINT = (
    f"Chromium not found at {CHROMIUM}. Install Debian's package (apt-get install chromium) "
    f"or point UNROLLED_CHROMIUM at a Chromium binary; the tests never download a browser."
)
#: Flags for a headless Chromium on a machine without network: without the
#: background-networking ones it keeps trying to reach Google's hosts.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: How long MathJax may take to typeset one page (the largest page has ~3000 glyphs).
TYPESET_TIMEOUT_MS = 60_000
#: The viewports a reader brings: the desktop every formula must fit (its text column
#: is 688 px wide), and a phone, where a formula may scroll but the page may not.
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """Serve `site_dir` on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Traffic:
    """What the open pages did: console errors and requests that left loopback."""

    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


# One function in the page does the whole inspection, so that the report is taken
# at one instant. `raw` looks for TeX left untypeset outside code, `invisible`
# for CHTML glyphs whose ::before has no content (the glyph lost its CSS).
_REPORT_JS = r"""
() => {
  const containers = Array.from(document.querySelectorAll('mjx-container'));
  const sources = Array.from(document.querySelectorAll('.arithmatex'));
  const untypeset = sources.filter(el => !el.querySelector('mjx-container'));
  const doubled = sources.filter(el => el.querySelectorAll(':scope > mjx-container').length > 1);
  const errors = Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
    .map(el => el.getAttribute('data-mjx-error') || el.textContent);
  const glyphs = Array.from(document.querySelectorAll('mjx-container mjx-c'));
  const invisible = glyphs.filter(el => getComputedStyle(el, '::before').content === 'none')
    .map(el => el.className);
  const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'MJX-CONTAINER', 'TEXTAREA']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el; el = el.parentElement) {
        if (skip.has(el.tagName)) return NodeFilter.FILTER_REJECT;
        // a folded term, still closed: its TeX waits for the reader to open it
        if (el.classList.contains('arithmatex-deferred')) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    }
  });
  const raw = [];
  const delimiters = /\\\(|\\\)|\\\[|\\\]|\$\$|\\frac|\\begin\{|\\partial|\\operatorname/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (delimiters.test(node.textContent)) raw.push(node.textContent.trim().slice(0, 120));
  }
  // Inside the math: the TeX of every item MathJax typeset, read token by token
  // (a control sequence is a backslash and one non-letter or a run of letters, so
  // the row break "\\[4pt]" is not mistaken for "\["). A "$", "\(", "\)", "\[" or
  // "\]" there means two formulas were glued into one (or one was cut open).
  const delimited = [];
  for (const item of MathJax.startup.document.math) {
    const tex = item.math;
    for (let i = 0; i < tex.length; i++) {
      const c = tex[i];
      if (c === '\\') {
        const next = tex[i + 1] || '';
        if ('()[]'.includes(next)) { delimited.push(tex.trim().slice(0, 160)); break; }
        if (/[A-Za-z]/.test(next)) { while (/[A-Za-z]/.test(tex[i + 1] || '')) i++; } else { i++; }
      } else if (c === '$') { delimited.push(tex.trim().slice(0, 160)); break; }
    }
  }
  // Width: every display formula against the text column, with the blocks of
  // every tab set shown at once (a hidden tab has no width to measure).
  const reveal = document.createElement('style');
  reveal.textContent =
    '.tabbed-set > .tabbed-content > .tabbed-block { display: block !important; }';
  document.head.appendChild(reveal);
  const column = document.querySelector('article.md-content__inner');
  const box = column.getBoundingClientRect();
  const style = getComputedStyle(column);
  const columnWidth = box.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const texOf = new Map();
  for (const item of MathJax.startup.document.math) texOf.set(item.typesetRoot, item.math);
  const wide = [];
  const unscrollable = [];
  const uncued = [];
  // The scroll cue (docs/stylesheets/site.css): background layers of the formula's own
  // box, at least one gradient that scrolls with the formula (attachment local: the
  // cover that hides the shadow at an end in view) and one fixed to the box (attachment
  // scroll: the shadow at the cut edge). Top-level commas separate the layers.
  const layers = (value) => {
    const out = []; let depth = 0, start = 0;
    for (let i = 0; i < value.length; i++) {
      if (value[i] === '(') depth++;
      else if (value[i] === ')') depth--;
      else if (value[i] === ',' && depth === 0) {
        out.push(value.slice(start, i).trim());
        start = i + 1;
      }
    }
    out.push(value.slice(start).trim());
    return out;
  };
  const cued = (el) => {
    const s = getComputedStyle(el);
    const images = layers(s.backgroundImage);
    const attachments = layers(s.backgroundAttachment);
    const kinds = new Set(images.map((image, i) => /gradient\(/.test(image)
      ? attachments[i % attachments.length] : 'none'));
    return kinds.has('local') && kinds.has('scroll');
  };
  // A formula inside a box (a folded term, an admonition) must fit that box's content.
  const contentWidth = (el) => {
    const s = getComputedStyle(el);
    return el.getBoundingClientRect().width - parseFloat(s.paddingLeft)
      - parseFloat(s.paddingRight) - parseFloat(s.borderLeftWidth) - parseFloat(s.borderRightWidth);
  };
  for (const c of document.querySelectorAll('mjx-container[display="true"]')) {
    const width = c.querySelector('mjx-math').getBoundingClientRect().width;
    const holder = c.closest('.arithmatex');
    const room = holder && holder.parentElement && holder.parentElement !== column
      ? Math.min(columnWidth, contentWidth(holder.parentElement)) : columnWidth;
    if (width > room + 0.5) {
      const tex = (texOf.get(c) || '').trim().slice(0, 100);
      wide.push(`${Math.round(width)} px > ${Math.round(room)} px: ${tex}`);
      const overflow = holder ? getComputedStyle(holder).overflowX : 'visible';
      if (!['auto', 'scroll'].includes(overflow)) unscrollable.push(tex);
      else if (!cued(holder)) uncued.push(tex);
    }
  }
  reveal.remove();
  return {
    url: location.href, title: document.title, formulas: containers.length,
    sources: sources.length, untypeset: untypeset.length, doubled: doubled.length,
    errors, glyphs: glyphs.length, invisible: invisible.slice(0, 10),
    invisibleCount: invisible.length, raw: raw.slice(0, 10),
    delimited: delimited.slice(0, 5), wide, unscrollable, uncued,
    pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
    viewport: window.innerWidth,
  };
}
"""

_TYPESET_DONE_JS = r"""
(keepFolded) => {
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return false;
  if (!keepFolded && document.querySelector('.arithmatex-deferred')) return false;
  const sources = Array.from(document.querySelectorAll('.arithmatex'));
  return sources.every(el => el.querySelector('mjx-container'));
}
"""
#: Opens every closed block of the page (folded terms, collapsible admonitions); the
#: site's toggle handler then typesets the folded formulas.
_OPEN_ALL_JS = """() => document.querySelectorAll('details:not([open])')
  .forEach(d => { d.open = true; })"""


@dataclass(frozen=True)
class MathReport:
    """The state of the math on one page, as `_REPORT_JS` found it."""

    url: str
    title: str
    formulas: int
    sources: int
    untypeset: int
    doubled: int
    errors: list[str]
    glyphs: int
    invisible: list[str]
    invisibleCount: int
    raw: list[str]
    delimited: list[str]
    wide: list[str]
    unscrollable: list[str]
    uncued: list[str]
    pageOverflow: int
    viewport: int

    def problems(self, *, fit: bool = True) -> list[str]:
        """Everything wrong with the math of this page, in words; empty when all is well.

        With `fit` (a desktop viewport) every display formula must fit the text column;
        without it (a phone) a wider one must scroll inside its own box and show that it
        does (the scroll cue of docs/stylesheets/site.css, read from the box's computed
        background). Either way the page itself must not become wider than the viewport.
        """
        found = []
        if self.untypeset:
            found.append(f"{self.untypeset} of {self.sources} formulas were never typeset")
        if self.doubled:
            found.append(f"{self.doubled} formulas were typeset twice")
        if self.errors:
            found.append(f"MathJax errors: {self.errors[:5]}")
        if self.invisibleCount:
            found.append(
                f"{self.invisibleCount} of {self.glyphs} glyphs are invisible (::before content "
                f"none), e.g. {self.invisible[:3]}"
            )
        if self.raw:
            found.append(f"raw TeX left in the text: {self.raw[:3]}")
        if self.delimited:
            found.append(f"math delimiters inside a typeset formula: {self.delimited[:3]}")
        if fit and self.wide:
            found.append(
                f"{len(self.wide)} display formulas wider than the text column at "
                f"{self.viewport} px: {self.wide[:3]}"
            )
        if self.unscrollable:
            found.append(f"wide formulas that cannot scroll in their box: {self.unscrollable[:3]}")
        if self.uncued:
            found.append(
                f"wide formulas that scroll with no cue at the cut edge (a local and a scroll "
                f"gradient on their box, docs/stylesheets/site.css): {self.uncued[:3]}"
            )
        if self.pageOverflow > 0:
            found.append(
                f"the page is {self.pageOverflow} px wider than the {self.viewport}-px viewport"
            )
        return found


def wait_for_math(page: Any, *, open_all: bool = True) -> MathReport:
    """Wait until MathJax has typeset every formula of the page shown, then report.

    With `open_all`, every closed block is opened first, so the folded terms (typeset
    when opened) are typeset and checked too; without it, the page as it arrives: its
    folded terms must still be waiting, untypeset.
    """
    if open_all:
        page.evaluate(_OPEN_ALL_JS)
    page.wait_for_function(_TYPESET_DONE_JS, arg=not open_all, timeout=TYPESET_TIMEOUT_MS)
    page.evaluate("() => MathJax.startup.promise")
    return MathReport(**page.evaluate(_REPORT_JS))


@contextlib.contextmanager
def browser() -> Iterator[tuple[Any, Traffic]]:
    """A headless Chromium page that aborts and records every non-loopback request."""
    from playwright.sync_api import sync_playwright

    traffic = Traffic()

    def route(route: Any) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host in LOOPBACK:
            route.continue_()
        else:
            traffic.outside_requests.append(url)
            route.abort()

    def console(message: Any) -> None:
        if message.type == "error":
            traffic.console_errors.append(f"{message.text} ({message.location.get('url')})")

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport=dict(DESKTOP))
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", console)
            page.on(
                "pageerror", lambda error: traffic.console_errors.append(f"page error: {error}")
            )
            yield page, traffic
        finally:
            chromium.close()
