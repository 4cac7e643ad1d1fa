"""The site build: generated content, its gate, its determinism, and its hooks.

The browser checks of the built pages are in tests/test_site_browser.py.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT, build_site

sys.path.insert(0, str(ROOT / "docs" / "hooks"))


GENERATED = [f"expanded-sum/{n}/index.html" for n in ("Wxh", "Whh", "Wyh", "bh", "by", "X", "h0")]


def test_generated_pages_hold_every_term_and_their_checks(built_site):
    html = (built_site / "expanded-sum/Whh/index.html").read_text()
    assert "Generated page" in html
    assert html.count("(i=") == 6  # the six (i, k) terms of dL/dW_hh at T = 3
    assert "terms vs rnnnum.components" in html
    assert "FAILED" not in html
    # every fragment was filled: no placeholder survives anywhere
    for page in built_site.rglob("*.html"):
        assert "{{" not in page.read_text().replace("{{{", ""), page


def test_each_vanilla_page_is_the_command_it_quotes(built_site):
    """The command a vanilla gradient's page quotes runs and prints the page's derivation,
    byte for byte: the CLI and the site share one assembler."""
    import contextlib
    import io

    from gen_pages import gradient_page

    from derivations.cli import main
    from derivations.core.cells import vanilla

    for name in vanilla().gradient_names:
        html = (built_site / "expanded-sum" / name / "index.html").read_text()
        command = f"unrolled derive --param {name} --steps 3 --format markdown"
        assert command in re.sub(r"<[^>]+>", "", html), name
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(command.split()[1:]) == 0, name
        page = gradient_page(name, vanilla())
        assert printed.getvalue() == page[page.index("## The sum over") : page.index("## Checks")]


def test_the_own_cell_page_shows_its_cells_as_math_and_their_checks_passed(built_site):
    """The executed notebook of section 12: each cell displayed as its equations (drawn
    math, not LaTeX source), the checks run and passed, the shell's commands run."""
    html = (built_site / "notebooks" / "your-own-cell" / "index.html").read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    # mgu, mi_rnn and squashed at T = 1..3, both losses, and mgu from the shell
    assert len(re.findall(r"\d+ checks, 0 failed: PASSED", text)) == 4
    assert "FAILED" not in text
    assert "checks run: loop vs finite differences, terms vs finite differences" in text
    assert "mgu: 10 of 10 gradients proven" in text and "mi_rnn: 8 of 8" in text
    assert "$ unrolled verify --cell mycells:mgu" in text
    assert html.count("<svg") + html.count("formula-image") >= 5  # the displays, drawn


#: The laboratory's pages and the figures each must show.
LAB_PAGES = {
    "how-fast": ("distance.svg", "bound.svg"),
    "gradient-shares": ("shares-heatmaps.svg", "shares-by-distance.svg"),
    "exploding": ("exploding.svg",),
    "remedies": ("residual.svg", "truncation.svg"),
    "memory-horizon": ("horizon-latch.svg", "horizon-selective.svg"),
    "gated/cell-state-path": ("gated-cell-path.svg", "gated-regimes.svg", "gated-shares.svg"),
    "gated/gru-resets": ("gated-resets.svg",),
}


def test_generated_files_are_not_in_the_repository():
    for name in ("Wxh", "h0"):
        assert not (ROOT / "docs" / "expanded-sum" / f"{name}.md").exists()
    assert not (ROOT / "docs" / "figures").exists()


def test_two_builds_give_byte_identical_generated_pages(built_site, tmp_path):
    again = tmp_path / "again"
    result = build_site(again, fresh=True)  # regenerate everything, reuse nothing
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reused" not in result.stderr
    # every formula drawn anew by MathJax too, none read from .cache/mathjax-svg
    assert re.search(r"formulas: [1-9]\d+ drawn by MathJax in .*, 0 from the cache", result.stderr)
    outputs = [*GENERATED, "checks/index.html", "loop/index.html", "how-fast/index.html"]
    outputs += [f"{page}/index.html" for page in LAB_PAGES]
    # the gated chapter: every generated page of it (printed from the cells)
    outputs += sorted(p.relative_to(built_site).as_posix()
                      for p in (built_site / "gated").rglob("index.html"))  # fmt: skip
    outputs += [f"figures/{p.name}" for p in (built_site / "figures").glob("*.svg")]
    outputs += ["reference/derivations/index.html", "assets/stylesheets/mathjax-svg.css"]
    assert len(outputs) > len(GENERATED) + 3, "no figures were generated"
    for path in outputs:
        assert (built_site / path).read_bytes() == (again / path).read_bytes(), path


def _copy_checkout(target: Path) -> Path:
    for part in ("derivations", "rnnnum", "docs"):
        shutil.copytree(ROOT / part, target / part,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    (target / "node_modules").symlink_to(ROOT / "node_modules")  # MathJax, from npm ci
    # the formula drawings, keyed by what makes them: shared, not drawn again per copy
    drawings = ROOT / ".cache" / "mathjax-svg"
    drawings.mkdir(parents=True, exist_ok=True)
    (target / ".cache").mkdir()
    (target / ".cache" / "mathjax-svg").symlink_to(drawings)
    return target


def test_a_dropped_term_fails_the_build(tmp_path):
    checkout = _copy_checkout(tmp_path / "checkout")
    gradients = checkout / "derivations" / "gradient" / "sums.py"
    text = gradients.read_text()
    original = "        return [(i, k) for i in range(1, T + 1) for k in range(1, i + 1)]"
    assert text.count(original) == 1
    # the fault: the term of the last loss from the first step goes missing, in every cell
    broken = original + " if (i, k) != (T, 1)]"
    broken = broken.replace("1)] if", "1) if")
    gradients.write_text(text.replace(original, broken))
    result = build_site(tmp_path / "site", root=checkout)
    assert result.returncode != 0
    assert "terms vs rnnnum.components" in result.stderr
    assert "nothing is published until it passes" in result.stderr
    assert not (tmp_path / "site" / "index.html").exists()


def test_an_unknown_fragment_is_an_error_and_indentation_is_kept():
    from mkdocs.exceptions import PluginError
    from site_hooks_loader import load_site_hooks

    hooks = load_site_hooks()
    fragments = {"eq.x": "\n\n$$\na\n$$\n\n"}
    filled = hooks.fill('=== "tab"\n\n    {{ eq.x }}\n', fragments, "page.md")
    assert "\n    $$\n    a\n    $$" in filled
    with pytest.raises(PluginError, match=r"no generated fragment named 'eq\.y'.*eq\.x"):
        hooks.fill("{{ eq.y }}", fragments, "page.md")
    # the error names the job that declares the name (docs/hooks/jobs.py), or says none does
    with pytest.raises(PluginError, match=r"'eq\.y': the job 'pages' \(gen_pages\.pages_job\)"):
        hooks.fill("{{ eq.y }}", fragments, "page.md")
    with pytest.raises(PluginError, match=r"'nothing\.here': no job of docs/hooks/jobs\.py"):
        hooks.fill("{{ nothing.here }}", fragments, "page.md")


def test_a_fragment_may_name_other_fragments_but_not_itself():
    from mkdocs.exceptions import PluginError
    from site_hooks_loader import load_site_hooks

    hooks = load_site_hooks()
    fragments = {
        "sym.Whh": r"\(W_{hh}\)",
        "table.x": "| initialisation of {{ sym.Whh }} |",
        "loop.a": "{{ loop.b }}",
        "loop.b": "see {{ loop.a }}",
    }
    assert hooks.fill("{{ table.x }}", fragments, "p.md") == r"| initialisation of \(W_{hh}\) |"
    with pytest.raises(
        PluginError, match=r"'loop\.a' contains itself \(loop\.a -> loop\.b -> loop\.a\)"
    ):
        hooks.fill("{{ loop.a }}", fragments, "p.md")


def test_generated_output_is_reused_only_while_its_sources_are_unchanged(built_site, tmp_path):
    """A copy of the checkout with the session build's generator and notebook caches
    (their keys are paths relative to the checkout: the caches move with it).
    Unchanged sources: every group reused. (A build without the cache generates
    everything: the byte-identity test above runs one.)"""
    checkout = _copy_checkout(tmp_path / "checkout")
    for cache in ("generated", "mkdocs-jupyter"):  # the notebooks' cache, keyed alike
        shutil.copytree(ROOT / ".cache" / cache, checkout / ".cache" / cache)
    first = build_site(tmp_path / "one", root=checkout)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "unrolled: generated" not in first.stderr
    for group in ("pages", "lab", "figures", "cell-pages", "cell-checks",
                  "checks + proofs + activations"):  # fmt: skip
        assert f"reused {group}:" in first.stderr, group
    # a module only the vanilla pages' prose imports (the package imports its stages
    # lazily): the pages run again, every other job (the gated chapter included) is reused
    render = checkout / "derivations" / "render" / "model.py"
    render.write_text(render.read_text() + "\n# edited\n")
    second = build_site(tmp_path / "two", root=checkout)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "generated pages in" in second.stderr
    for group in ("lab", "figures", "cell-pages", "cell-checks", "checks + proofs + activations"):
        assert f"reused {group}:" in second.stderr, group
    # a snippet of the gated chapter's prose (docs/gated/cells, read by the job as an
    # input): the chapter runs again, the laboratory does not
    snippet = checkout / "docs" / "gated" / "cells" / "lstm" / "blocks.md"
    snippet.write_text(snippet.read_text() + "\n")
    prose = build_site(tmp_path / "prose", root=checkout)
    assert prose.returncode == 0, prose.stderr[-3000:]
    assert "generated cell-pages in" in prose.stderr
    for group in ("lab", "pages", "cell-checks"):
        assert f"reused {group}:" in prose.stderr, group
    # a module the laboratory imports, and its recorded results: it runs again
    for path in (checkout / "rnnnum" / "lab" / "shares.py", checkout / "docs" / "results"
                 / "memory-horizon.json"):  # fmt: skip
        path.write_text(path.read_text() + "\n")
        again = build_site(tmp_path / "three", root=checkout)
        assert again.returncode == 0, again.stderr[-3000:]
        assert "generated lab" in again.stderr, path


def test_lab_pages_show_their_figures_and_no_placeholder(built_site):
    for page, figures in LAB_PAGES.items():
        html = (built_site / page / "index.html").read_text()
        for figure in figures:
            assert f"figures/{figure}" in html, (page, figure)
            assert (built_site / "figures" / figure).stat().st_size > 5000, figure
        assert "{{" not in html, page
    assert (built_site / "results" / "memory-horizon.json").is_file()


def test_no_page_loads_mathjax_and_every_formula_is_drawn(built_site):
    """Pages arrive typeset: no MathJax script (the site's or mkdocs-jupyter's), no TeX
    left undrawn in an .arithmatex element, the hand-written, generated, notebook and
    API reference pages alike."""
    drawn = {}
    for page in built_site.rglob("*.html"):
        html = page.read_text()
        assert "tex-chtml" not in html and "data-mkdocs-jupyter-mathjax" not in html, page
        assert "arithmatex-deferred" not in html, page
        undrawn = re.findall(r'class="arithmatex">(?!<mjx-container)(.{0,80})', html)
        assert not undrawn, (page, undrawn[:3])
        drawn[page.relative_to(built_site).parent.as_posix()] = html.count("<mjx-container")
    assert not (built_site / "assets" / "mathjax").exists()
    # (the notebooks hold no math today: tests/test_mathjax_svg.py builds one that does)
    for path in ("local-derivatives", "reference/derivations", "gated/lstm/h0"):
        assert drawn[path] > 0, path


def test_the_search_index_holds_the_tex_of_formulas_not_their_drawing(built_site):
    index = json.loads((built_site / "search" / "search_index.json").read_text())
    text = " ".join(doc["text"] for doc in index["docs"])
    assert "<svg" not in text and "<path" not in text and "mjx-" not in text
    # the TeX of a formula, delimiters and all, where the page has it (not a code listing)
    page = next(doc["text"] for doc in index["docs"] if doc["location"] == "local-derivatives/")
    assert r"\[ \begin{aligned}\frac{\partial L_{t}}{\partial y_{t}}" in page, page[:500]


def test_every_declared_fragment_entry_is_made_and_every_placeholder_by_its_job(built_site):
    """The job table's declarations (docs/hooks/jobs.py) against the session build's
    output (.cache/generated, one file per process): each entry covers a fragment its
    job made, and each placeholder, of a hand-written page, a generated page or a
    fragment, names a fragment made by the process of the job that declares it."""
    import jobs
    from test_jobs import FRAGMENT, page_placeholders

    made: dict[str, str] = {}  # fragment -> the process (its jobs joined by +) that made it
    placeholders = set(page_placeholders())
    for path in (ROOT / ".cache" / "generated").glob("*.json"):
        result = json.loads(path.read_text())["result"]
        made.update(dict.fromkeys(result.get("fragments", {}), path.stem))
        for kind in ("pages", "fragments"):
            for text in result.get(kind, {}).values():
                placeholders |= set(FRAGMENT.findall(text))
    for name in sorted(placeholders):
        job = jobs.producer(name)
        assert job is not None and name in made, name
        assert job.name in made[name].split("+"), (name, job.name, made[name])
    unused = [
        (job.name, entry)
        for job in jobs.JOBS
        for entry in job.fragments
        if not any(jobs.covers(entry, n) and jobs.producer(n) is job for n in made)
    ]
    assert not unused, f"declared entries no job made a fragment of: {unused}"
