"""The laboratory's generator modules and the gated chapter's numeric pages in the built site.

- every ``{{ name }}`` of the new pages is a fragment the build made, and each short
  plain one (a number, a size) is printed in the page;
- every figure of the site, shown at phone width, has no text smaller than
  `figure_size.MIN_TEXT_PX`;
- the laboratory's modules import neither `derivations` nor SymPy (in a fresh process),
  so editing a derivation never reruns the laboratory.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT
from figure_size import MIN_TEXT_PX, svg_smallest_text_px

HOOKS = ROOT / "docs" / "hooks"
#: The gated chapter's numeric pages (source under docs/) and the figures each shows.
NEW_PAGES = {
    "gated/cell-state-path.md": ("gated-cell-path.svg", "gated-regimes.svg", "gated-shares.svg"),
    "gated/gru-resets.md": ("gated-resets.svg",),
    "memory-horizon.md": ("horizon-latch.svg", "horizon-selective.svg"),
}
#: The laboratory job's modules: the job, the shared helpers, one module per page.
LAB_MODULES = ["gen_lab", "lab_common", *sorted(p.stem for p in HOOKS.glob("lab_*.py"))]
FRAGMENT = re.compile(r"\{\{\s*([A-Za-z][\w.\-]*)\s*\}\}")
#: A fragment printed as it is: no Markdown, HTML or LaTeX markup in it.
PLAIN = re.compile(r"[^|`\\$<>*\n]+")


def _fragments() -> dict[str, str]:
    """The fragments of the last build of this checkout, as its generator cache holds them."""
    merged: dict[str, str] = {}
    for cache in (ROOT / ".cache" / "generated").glob("*.json"):
        merged.update(json.loads(cache.read_text())["result"].get("fragments", {}))
    return merged


@pytest.mark.parametrize("source", list(NEW_PAGES))
def test_each_new_page_has_its_fragments_filled_and_its_figures(built_site, source):
    page = built_site / source.removesuffix(".md") / "index.html"
    text = page.read_text()
    article = html.unescape(re.sub(r"<[^>]+>", "", text[text.index("<article") :]))
    names = FRAGMENT.findall((ROOT / "docs" / source).read_text())
    fragments = _fragments()
    assert names, source
    assert "{{" not in text, source
    missing = [n for n in names if n not in fragments]
    assert not missing, f"{source} uses fragments no job made: {missing}"
    shown = [n for n in names if PLAIN.fullmatch(fragments[n])]
    assert len(shown) > 5, f"{source}: too few plain fragments to check ({shown})"
    absent = [n for n in shown if fragments[n] not in article]
    assert not absent, f"{source}: fragments not printed in the page: {absent}"
    for figure in NEW_PAGES[source]:
        assert f"figures/{figure}" in text, (source, figure)
        assert (built_site / "figures" / figure).read_text().lstrip().startswith("<?xml"), figure


def test_every_figure_is_readable_on_a_phone(built_site):
    figures = sorted((built_site / "figures").glob("*.svg"))
    assert len(figures) >= 20, figures
    small = {
        f.name: round(px, 1)
        for f in figures
        if (px := svg_smallest_text_px(f.read_text())) < MIN_TEXT_PX
    }
    assert not small, f"figures with text under {MIN_TEXT_PX} px on a 390 px phone: {small}"


def test_lab_modules_import_neither_derivations_nor_sympy():
    code = (
        f"import sys; sys.path.insert(0, {str(HOOKS)!r}); "
        f"import {', '.join(LAB_MODULES)}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sympy', 'derivations'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
        env={"PYTHONPATH": str(ROOT), "MPLBACKEND": "svg"},
    )  # fmt: skip
    assert len(LAB_MODULES) >= 9, LAB_MODULES  # gen_lab, lab_common and seven pages
    assert done.stdout.strip() == "[]", f"the laboratory imports {done.stdout.strip()}"
