"""Drive Debian's Chromium (never a downloaded browser) over a built site, with Playwright.

`serve(site_dir)` serves a built site on 127.0.0.1; `Browser` opens pages in headless
Chromium, records console errors and every request that leaves loopback (and
aborts it), and `wait_for_math(page)` inspects the drawn math of the page shown.
The formulas arrive drawn (SVG made by MathJax while the site builds, the TeX kept
beside each drawing): the report reads the drawings and that TeX, with or without the
page's scripts. Used by tests/test_site_browser.py.
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
#: How long one page may take to load (the heaviest holds ~20 000 drawn glyphs).
LOAD_TIMEOUT_MS = 60_000
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
    _IMAGES_READ.clear()  # another site: what was read of its images says nothing here
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
# at one instant. The formulas were drawn at build time: each .arithmatex element holds
# one <mjx-container> with its drawing (inline SVG, or for a large formula a box masked
# by an SVG file: docs/hooks/formula_images.py), and its TeX in a visually hidden
# .arithmatex-tex. `undrawn` counts elements without a drawing, `invisible` glyphs
# (<use>) whose shape is not defined in their own SVG nor on the page's glyph sheet in
# the article (drawn as nothing, or gone after instant navigation), `raw` TeX in
# the text outside code and the kept TeX, `delimited` math delimiters inside the TeX
# of one formula. The images are read by _IMAGES_JS.
_REPORT_JS = r"""
() => {
  const sources = Array.from(document.querySelectorAll('.arithmatex'));
  const containers = Array.from(document.querySelectorAll('.arithmatex > mjx-container'));
  const undrawn = sources.filter(el => !el.querySelector(
    ':scope > mjx-container > svg, :scope > mjx-container > .mjx-image'));
  const doubled = sources.filter(el => el.querySelectorAll(':scope > mjx-container').length > 1);
  const errors = Array.from(document.querySelectorAll(
    'mjx-container [data-mjx-error], mjx-container g[data-mml-node="merror"]'))
    .map(el => el.getAttribute('data-mjx-error') || el.textContent || 'merror');
  const glyphs = Array.from(document.querySelectorAll('.arithmatex > mjx-container > svg use'));
  // a glyph's shape: in its own drawing, or on the page's glyph sheet (glyph_sheet.py)
  const invisible = glyphs.filter(use => {
    const target = document.getElementById(use.href.baseVal.slice(1));
    const sheet = target && target.closest('svg');
    return !target || (sheet !== use.closest('mjx-container > svg')
      && !(sheet.matches('svg.mjx-glyphs') && sheet.closest('article')));
  }).map(use => use.href.baseVal);
  // typesetting in the browser: nothing may load or define MathJax any more
  const client = Boolean(window.MathJax) || Boolean(document.querySelector(
    'script[src*="mathjax" i], script[data-mkdocs-jupyter-mathjax]'));
  // the TeX kept beside each drawing: there, and out of sight
  const kept = sources.map(el => el.querySelector(':scope > .arithmatex-tex'));
  const untexed = kept.filter(k => !k).length;
  const shownTex = kept.filter(k => k && (k.getBoundingClientRect().width > 1
    || k.getBoundingClientRect().height > 1)).map(k => k.textContent.trim().slice(0, 80));
  const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'MJX-CONTAINER', 'TEXTAREA']);
  // (no filter callback: with the page's scripts disabled, the DOM cannot call one)
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const outside = (node) => {
    for (let el = node.parentElement; el; el = el.parentElement) {
      if (skip.has(el.tagName)) return false;
      // the TeX kept beside a drawing (out of sight: checked above)
      if (el.classList.contains('arithmatex-tex')) return false;
    }
    return true;
  };
  const raw = [];
  const delimiters = /\\\(|\\\)|\\\[|\\\]|\$\$|\\frac|\\begin\{|\\partial|\\operatorname/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (delimiters.test(node.textContent) && outside(node)) {
      raw.push(node.textContent.trim().slice(0, 120));
    }
  }
  // Inside the math: the TeX of every formula, its own delimiters taken off, read token
  // by token (a control sequence is a backslash and one non-letter or a run of letters,
  // so the row break "\\[4pt]" is not mistaken for "\["). A "$", "\(", "\)", "\[" or
  // "\]" there means two formulas were glued into one (or one was cut open).
  const texOf = new Map();
  for (const [n, el] of sources.entries()) {
    let tex = kept[n] ? kept[n].textContent.trim() : '';
    for (const [open, close] of [['\\(', '\\)'], ['\\[', '\\]'], ['$$', '$$']]) {
      if (tex.startsWith(open) && tex.endsWith(close) && tex.length >= open.length + close.length) {
        tex = tex.slice(open.length, tex.length - close.length);
        break;
      }
    }
    texOf.set(el, tex);
  }
  const delimited = [];
  for (const tex of texOf.values()) {
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
  for (const c of document.querySelectorAll('.arithmatex > mjx-container[display="true"]')) {
    const width = c.querySelector(':scope > svg, :scope > .mjx-image')
      .getBoundingClientRect().width;
    const holder = c.closest('.arithmatex');
    const room = holder && holder.parentElement && holder.parentElement !== column
      ? Math.min(columnWidth, contentWidth(holder.parentElement)) : columnWidth;
    if (width > room + 0.5) {
      const tex = (texOf.get(holder) || '').trim().slice(0, 100);
      wide.push(`${Math.round(width)} px > ${Math.round(room)} px: ${tex}`);
      const overflow = holder ? getComputedStyle(holder).overflowX : 'visible';
      if (!['auto', 'scroll'].includes(overflow)) unscrollable.push(tex);
      else if (!cued(holder)) uncued.push(tex);
    }
  }
  reveal.remove();
  return {
    url: location.href, title: document.title, formulas: containers.length,
    sources: sources.length, untypeset: undrawn.length, doubled: doubled.length,
    errors, glyphs: glyphs.length, invisible: invisible.slice(0, 10), client, untexed,
    shownTex: shownTex.slice(0, 5),
    invisibleCount: invisible.length, raw: raw.slice(0, 10),
    delimited: delimited.slice(0, 5), wide, unscrollable, uncued,
    pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
    viewport: window.innerWidth,
  };
}
"""

#: Every formula image of the page (the mask of a .mjx-image box) not read before (the
#: URLs in the argument), fetched and parsed as the browser parses it: per URL, why it
#: is broken (it does not load or is no SVG document; else null), its glyphs, and those
#: whose shape is not defined in their own file (drawn as nothing).
_IMAGES_JS = r"""
async (known) => {
  const urls = Array.from(document.querySelectorAll('.arithmatex > mjx-container > .mjx-image'))
    .map(box => getComputedStyle(box).maskImage)
    .map(mask => (mask.match(/^url\("(.*)"\)$/) || [null, `no mask image (${mask})`])[1]);
  const read = {};
  for (const url of new Set(urls)) {
    if (known.includes(url)) continue;
    const found = {broken: null, glyphs: 0, invisible: []};
    read[url] = found;
    try {
      if (url.startsWith('no mask image')) throw new Error(url);
      const answer = await fetch(url);
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      const svg = new DOMParser().parseFromString(await answer.text(), 'image/svg+xml');
      if (svg.documentElement.tagName !== 'svg' || svg.querySelector('parsererror')) {
        throw new Error('not an SVG document');
      }
      for (const use of svg.querySelectorAll('use')) {
        found.glyphs++;
        const href = use.getAttribute('xlink:href') || use.getAttribute('href') || '';
        if (!href.startsWith('#') || !svg.getElementById(href.slice(1))) found.invisible.push(href);
      }
    } catch (error) {
      found.broken = `${url}: ${error.message || error}`;
    }
  }
  return {urls, read};
}
"""
#: What _IMAGES_JS found of each image URL: a crawl reads each file once, not on every
#: page that shows it.
_IMAGES_READ: dict[str, dict[str, Any]] = {}


def _images(page: Any) -> dict[str, Any]:
    """The MathReport fields of the page's formula images."""
    found = page.evaluate(_IMAGES_JS, list(_IMAGES_READ))
    _IMAGES_READ.update(found["read"])
    shown = [_IMAGES_READ[url] for url in found["urls"]]
    return {
        "images": len(shown),
        "brokenImages": [i["broken"] for i in shown if i["broken"]],
        "imageGlyphs": sum(i["glyphs"] for i in shown),
        "imageInvisible": [href for i in shown for href in i["invisible"]],
    }


#: Opens every closed block of the page (folded terms, collapsible admonitions), so
#: their formulas are measured too (drawn already: there is nothing to typeset).
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
    client: bool
    untexed: int
    shownTex: list[str]
    raw: list[str]
    delimited: list[str]
    wide: list[str]
    unscrollable: list[str]
    uncued: list[str]
    pageOverflow: int
    viewport: int
    images: int = 0
    brokenImages: list[str] = field(default_factory=list)
    imageGlyphs: int = 0
    imageInvisible: list[str] = field(default_factory=list)

    def _drawing_problems(self) -> list[str]:
        """What is wrong with the drawings made at build time and the TeX kept beside."""
        found = []
        if self.client:
            found.append("the page loads or defines MathJax: no page should typeset itself")
        if self.untexed:
            found.append(f"{self.untexed} formulas lost their TeX (.arithmatex-tex)")
        if self.shownTex:
            found.append(f"the TeX kept beside a drawing is visible: {self.shownTex[:3]}")
        return found

    def problems(self, *, fit: bool = True) -> list[str]:
        """Everything wrong with the math of this page, in words; empty when all is well.

        With `fit` (a desktop viewport) every display formula must fit the text column;
        without it (a phone) a wider one must scroll inside its own box and show that it
        does (the scroll cue of docs/stylesheets/site.css, read from the box's computed
        background). Either way the page itself must not become wider than the viewport.
        """
        found = []
        if self.untypeset:
            found.append(f"{self.untypeset} of {self.sources} formulas arrived without a drawing")
        if self.doubled:
            found.append(f"{self.doubled} formulas hold two drawings")
        if self.errors:
            found.append(f"MathJax errors drawn: {self.errors[:5]}")
        if self.invisibleCount:
            found.append(
                f"{self.invisibleCount} of {self.glyphs} glyphs are invisible (a <use> whose "
                f"shape is not defined in its own SVG), e.g. {self.invisible[:3]}"
            )
        if self.imageInvisible:
            found.append(
                f"{len(self.imageInvisible)} of {self.imageGlyphs} glyphs of formula images are "
                f"invisible (not defined in their own file), e.g. {self.imageInvisible[:3]}"
            )
        if self.brokenImages:
            found.append(
                f"{len(self.brokenImages)} of {self.images} formula images did not load: "
                f"{self.brokenImages[:3]}"
            )
        found += self._drawing_problems()
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
    """Report on the math of the page shown, once it has loaded (it arrives drawn).

    With `open_all`, every closed block is opened first, so the formulas of the folded
    terms are measured too. Works with the page's scripts disabled as well.
    """
    page.wait_for_load_state("load", timeout=LOAD_TIMEOUT_MS)
    if open_all:
        page.evaluate(_OPEN_ALL_JS)
    return MathReport(**page.evaluate(_REPORT_JS), **_images(page))


@contextlib.contextmanager
def browser(*, javascript: bool = True) -> Iterator[tuple[Any, Traffic]]:
    """A headless Chromium page that aborts and records every non-loopback request;
    without `javascript`, the pages' own scripts do not run (Playwright's still do)."""
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
            context = chromium.new_context(viewport=dict(DESKTOP), java_script_enabled=javascript)
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", console)
            page.on(
                "pageerror", lambda error: traffic.console_errors.append(f"page error: {error}")
            )
            yield page, traffic
        finally:
            chromium.close()
