"""The built site in Debian's Chromium: every page's math drawn once, offline, visible.

Every formula is drawn while the site builds (docs/hooks/mathjax_svg.py). For every
page, at a desktop width with the page's scripts running and at a phone width with
them blocked: count the drawn formulas, and assert no MathJax error, no formula
without its drawing or with two, no invisible glyph, no client MathJax, no TeX shown
as text, no console error and no request to any host but 127.0.0.1. Then follow
navigation links (Material's instant navigation replaces the page without reloading
it) and check the math of each page reached.

Without Chromium the test is skipped with how to install it; with
UNROLLED_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser is a failure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import (
    CHROMIUM,
    INSTALL_HINT,
    PHONE,
    REQUIRE_ENV,
    browser,
    serve,
    wait_for_math,
)

#: Pages whose formulas are the point of the page: each must show at least this many.
MATH_PAGES = {
    "model/": 3,
    "local-derivatives/": 10,
    "paths/": 5,
    "expanded-sum/": 10,
    "expanded-sum/Wxh/": 5,
    "how-fast/": 5,
    "gradient-shares/": 1,
    "exploding/": 3,
    "remedies/": 5,
    "column-convention/": 2,
    "gated/lstm/": 15,
    "gated/lstm/Wxf/": 8,
    "gated/gru/": 10,
    "gated/cell-state-path/": 2,
    "gated/gru-resets/": 3,
}
#: Navigation links followed from the home page, by their text in the side bar.
NAV_TRAIL = {
    "Paths through time": "paths/",
    "Wxh: input-to-hidden weights": "expanded-sum/Wxh/",
    "The heat map": "notebooks/heat-map/",
    "How fast, and when": "how-fast/",
    "Remedies": "remedies/",
    "The model, unrolled": "model/",
}
_H1 = "() => document.querySelector('article h1')?.textContent"


def _require_browser() -> None:
    missing = None
    if not CHROMIUM.is_file():
        missing = INSTALL_HINT
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed: pip install -e '.[tests]' (or make test)."
    if missing:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{missing} ({REQUIRE_ENV}=1 makes this a failure, not a skip)")
        pytest.skip(missing)


def _pages(site: Path) -> list[str]:
    paths = sorted(str(p.parent.relative_to(site)) for p in site.rglob("index.html"))
    return ["" if p == "." else p + "/" for p in paths]


def test_every_page_renders_its_math_offline(built_site):
    """Each page twice: at 1280 px with its scripts, at 390 px with them blocked (what
    it shows without JavaScript: the drawings, the scroll cue, no TeX)."""
    _require_browser()
    pages = _pages(built_site)
    assert len(pages) >= 20, pages
    counts, drawn_without_scripts = {}, {}
    with serve(built_site) as base:
        with browser() as (page, traffic):
            for path in pages:
                page.goto(base + path)
                report = wait_for_math(page)
                assert not report.problems(), f"{path}: {report.problems()}"
                counts[path] = report.formulas
            assert not traffic.console_errors, traffic.console_errors
            assert not traffic.outside_requests, traffic.outside_requests
        with browser(javascript=False) as (page, traffic):
            page.set_viewport_size(PHONE)
            for path in pages:
                page.goto(base + path)
                report = wait_for_math(page)
                assert not report.problems(fit=False), f"{path} on a phone, no scripts: {report}"
                drawn_without_scripts[path] = report.formulas
            assert not traffic.outside_requests, traffic.outside_requests
    assert drawn_without_scripts == counts
    for path, least in MATH_PAGES.items():
        assert counts[path] >= least, f"{path}: {counts[path]} formulas, expected >= {least}"
    assert sum(counts.values()) > 150


def test_math_renders_after_instant_navigation(built_site):
    _require_browser()
    with serve(built_site) as base, browser() as (page, traffic):
        page.goto(base)
        wait_for_math(page)
        for text, path in NAV_TRAIL.items():
            before = page.evaluate("() => window.performance.getEntriesByType('navigation').length")
            title = page.evaluate(_H1)
            page.locator("nav.md-nav--primary").get_by_role("link", name=text, exact=True).click()
            page.wait_for_url(base + path)
            page.wait_for_function(f"(old) => ({_H1})() && ({_H1})() !== old", arg=title)
            report = wait_for_math(page)
            assert not report.problems(), f"after clicking {text!r}: {report.problems()}"
            assert report.formulas > 0 or "heat-map" in report.url, (text, report)
            # instant navigation: the document was replaced, not reloaded
            after = page.evaluate("() => window.performance.getEntriesByType('navigation').length")
            assert after == before
        assert not traffic.console_errors, traffic.console_errors
        assert not traffic.outside_requests, traffic.outside_requests


#: A page whose written-out sum holds folded terms (more products than OPEN_PATHS).
FOLDED_PAGE = "gated/lstm/h0/"
_FOLDED_JS = """() => Array.from(document.querySelectorAll('details.folded-term')).map(d => [
  d.querySelector('summary').textContent, d.open,
  d.querySelectorAll('div.arithmatex > mjx-container > :is(svg, .mjx-image)').length])"""
_SHOWN_JS = """(id) => {
  const svg = document.querySelector(
    `details#${id} div.arithmatex > mjx-container > :is(svg, .mjx-image)`);
  return svg.checkVisibility() ? svg.getBoundingClientRect().width : 0;
}"""


def test_folded_terms_arrive_drawn_and_show_when_opened(built_site):
    """A folded term is closed on arrival and its formula is drawn already: opening it by
    its summary shows the drawing at once, with nothing left to typeset."""
    _require_browser()
    with serve(built_site) as base, browser() as (page, traffic):
        page.goto(base + FOLDED_PAGE)
        arrived = wait_for_math(page, open_all=False)
        assert not arrived.problems(), arrived.problems()
        folded = page.evaluate(_FOLDED_JS)
        assert folded and all(" products" in s for s, _, _ in folded), folded
        assert all(not opened and drawn == 1 for _, opened, drawn in folded), folded
        block_id = page.evaluate("() => document.querySelector('details.folded-term').id")
        assert block_id and page.evaluate(_SHOWN_JS, block_id) == 0  # closed: not shown
        page.locator(f"details#{block_id} > summary").click()
        page.wait_for_function(f"() => document.querySelector('details#{block_id}').open")
        assert page.evaluate(_SHOWN_JS, block_id) > 100
        opened = wait_for_math(page, open_all=False)
        assert not opened.problems(), opened.problems()
        assert opened.formulas == arrived.formulas  # nothing was added: it was there
        assert not traffic.console_errors, traffic.console_errors


def _glued_blocks_html() -> str:
    """What arithmatex makes of two display blocks written back to back (the old renderer)."""
    import markdown

    glued = "$$\na = b\n$$\n$$\nc = d\n$$"
    config = {"pymdownx.arithmatex": {"generic": True}}
    return markdown.markdown(glued, extensions=["pymdownx.arithmatex"], extension_configs=config)


def _drawn(html: str, tag: str) -> str:
    """`html` with its arithmatex formulas drawn as the build draws them, the ids of their
    glyphs marked with `tag` (unique beside the page's own, which are numbered alike)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "hooks"))
    import mathjax_svg
    from mathjax_cache import FormulaCache, cache_salt
    from mathjax_renderer import Renderer

    renderer = Renderer(FormulaCache(salt=cache_salt()))
    try:
        drawn = mathjax_svg.typeset_page(html, "the faults", renderer)
        return drawn.replace('id="MJX-', f'id="MJX-{tag}').replace(
            'href="#MJX-', f'href="#MJX-{tag}'
        )
    finally:
        renderer.close()


def _broken_images(site: Path) -> str:
    """Two formula boxes gone wrong: one masked by an image whose file is missing, one by
    a copy of a real image with the shape of one of its glyphs taken away."""
    import re

    folder = site / "assets" / "formulas"
    real = min(folder.glob("*.svg"))  # any image the build wrote
    svg = real.read_text()
    glyph = re.search(r'<path id="MJX-unrolled-([^"]+)"', svg)
    assert glyph, real
    used = f'xlink:href="#MJX-unrolled-{glyph[1]}"'
    assert used in svg
    (folder / "gone-glyph.svg").write_text(svg.replace(used, 'xlink:href="#MJX-unrolled-gone"', 1))
    box = (
        '<p><span class="arithmatex"><mjx-container class="MathJax" jax="SVG">'
        '<span class="mjx-image" style="width: 9ex; height: 2ex; mask-image: '
        'url(../../assets/formulas/{})"></span></mjx-container>'
        '<span class="arithmatex-tex">\\(x\\)</span></span></p>'
    )
    return box.format("missing.svg") + box.format("gone-glyph.svg")


def test_report_catches_glued_and_overwide_formulas(built_site, tmp_path):
    """The checks above can fail: a page with the faults readers found is reported (glued
    formulas, a formula wider than the desktop column, a wide one with no scroll cue)."""
    _require_browser()
    import shutil

    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    target = site / "expanded-sum" / "Wxh" / "index.html"
    chain = r"\,".join([r"W_{hh}^\top\,\operatorname{diag}(1 - h_{3}^{2})"] * 12)
    faults = _glued_blocks_html() + f'<div class="arithmatex">\\[{chain}\\]</div>'
    # the same width with the scroll cue taken off its box: scrolls, but nothing shows it
    bare = chain.replace("h_{3}", "h_{2}")
    faults += f'<div class="arithmatex" style="background: none">\\[{bare}\\]</div>'
    faults = _drawn(faults, "f")
    # and the faults of drawings: a glyph whose shape is gone, a formula never drawn
    faults += (
        _drawn('<p><span class="arithmatex">\\(x + y\\)</span></p>', "g").replace(
            'id="MJX-gglyph-TEX-I-1D466"', 'id="gone"'
        )
        + '<p><span class="arithmatex">\\(\\frac{a}{b}\\)</span></p>'
    )
    # its TeX left in sight, and a page that typesets in the browser again
    faults += _drawn('<p><span class="arithmatex">\\(q_t\\)</span></p>', "h").replace(
        '<span class="arithmatex-tex">', '<span class="arithmatex-tex" style="width: auto">'
    )
    faults += '<script src="../../assets/mathjax/tex-chtml.js"></script>'
    faults += _broken_images(site)
    html = target.read_text()
    marker = '<h1 id="the-gradient-with-respect-to-wxh'
    assert marker in html
    target.write_text(html.replace(marker, faults + marker, 1))
    with serve(site) as base, browser() as (page, _):
        page.goto(base + "expanded-sum/Wxh/")
        report = wait_for_math(page)
        found = " | ".join(report.problems())
        assert "math delimiters inside a typeset formula" in found, found
        assert "$$" in " ".join(report.delimited), report.delimited
        assert "wider than the text column at 1280 px" in found, found
        assert "glyphs are invisible" in found and "#MJX-gglyph-TEX-I-1D466" in found, found
        assert "1 of " in found and "formulas arrived without a drawing" in found, found
        assert r"raw TeX left in the text: ['\\(\\frac{a}{b}\\)']" in found, found
        assert r"the TeX kept beside a drawing is visible: ['\\(q_t\\)']" in found, found
        assert "the page loads or defines MathJax" in found, found
        assert "1 of " in found and "glyphs of formula images are invisible" in found, found
        assert "#MJX-unrolled-gone" in found, found
        assert "formula images did not load" in found and "missing.svg" in found, found
        page.set_viewport_size(PHONE)
        page.reload()
        phone = wait_for_math(page)
        assert phone.wide and not phone.unscrollable and phone.pageOverflow <= 0, phone
        # the bare formula is reported, the cued one (and the page's own) are not
        assert len(phone.uncued) == 1 and "h_{2}" in phone.uncued[0], phone.uncued
        assert "no cue at the cut edge" in " | ".join(phone.problems(fit=False))
