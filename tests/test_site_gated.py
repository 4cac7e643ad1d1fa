"""The gated chapter of the site: its generated pages, figures, navigation and gate.

The browser checks (math typeset, nothing raw, formulas within the column, phone
width) walk every built page, these included: tests/test_site_browser.py.
"""

from __future__ import annotations

import sys

from conftest import ROOT, build_site
from test_site import _copy_checkout

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

#: The cells with a page, and the figures each page must show.
CELL_FIGURES = {
    "lstm": ("unrolled", "routes-h", "routes-c"),
    "gru": ("unrolled", "routes-h"),
    "gru-before": ("unrolled", "routes-h"),
    "residual": ("unrolled", "routes-h"),
}
#: The hand-written pages of the chapter the navigation must list.
LAB_LINKS = ("gated/cell-state-path/", "gated/gru-resets/", "notebooks/lstm-example/")


def test_every_cell_page_shows_its_figures_and_links_every_gradient(built_site):
    from derivations.core.cells import BUILTIN_CELLS

    for key, figures in CELL_FIGURES.items():
        html = (built_site / "gated" / key / "index.html").read_text()
        for figure in figures:
            name = f"cell-{key}-{figure}.svg"
            assert f"figures/{name}" in html, (key, figure)
            assert (built_site / "figures" / name).stat().st_size > 5000, name
        for gradient in BUILTIN_CELLS[key]().gradient_names:
            page = built_site / "gated" / key / gradient / "index.html"
            text = page.read_text()
            assert "{{" not in text and "FAILED" not in text, page
            assert "terms vs" in text and "loop vs finite differences" in text, page
        assert "{{" not in html and "def " not in html.split("The backward loop")[0], key


def test_the_written_out_lstm_sum_has_a_display_per_term(built_site):
    html = (built_site / "gated/lstm/Wxf/index.html").read_text()
    assert html.count(r"\text{term }(i=") == 6  # the six (i, k) terms at T = 3


def test_the_navigation_is_generated_after_the_laboratory(built_site):
    html = (built_site / "gated/index.html").read_text()
    nav = html.split('class="md-nav md-nav--primary"', 1)[1]
    assert nav.index("The gradient laboratory") < nav.index("Gated cells, derived and measured")
    for link in LAB_LINKS:
        assert link in nav or link.removeprefix("gated/") in nav, link
    for key in CELL_FIGURES:
        assert f'href="{key}/"' in nav, key  # each cell's section, pruned to its link here
        own = (built_site / "gated" / key / "index.html").read_text()
        own_nav = own.split('class="md-nav md-nav--primary"', 1)[1]
        assert 'href="Wyh/"' in own_nav, key  # on the cell's own page, all its gradients


def test_a_dropped_cell_state_path_fails_the_build(tmp_path):
    checkout = _copy_checkout(tmp_path / "checkout")
    cell = checkout / "derivations" / "core" / "cell.py"
    text = cell.read_text()
    original = "                blocks[target, source] = totals.get(target, ZERO)"
    assert original in text
    # the fault: the LSTM's one-step block from c_{t-1} to c_t, diag(f_t), goes missing
    broken = (
        original
        + "\n                if (target, source) == ('c', 'c'):\n"
        + ("                    blocks[target, source] = ZERO")
    )
    cell.write_text(text.replace(original, broken))
    result = build_site(tmp_path / "site", root=checkout)
    assert result.returncode != 0
    assert "terms vs rnnnum.components for Wxf (lstm cell" in result.stderr
    assert "nothing is published until it passes" in result.stderr
    assert not (tmp_path / "site" / "index.html").exists()


def test_every_gradient_page_quotes_a_command_that_prints_its_derivation(built_site):
    """The command each generated page quotes is the one for its own cell and gradient,
    and it runs: for two gradients per cell, it prints the page's derivation exactly."""
    import contextlib
    import io
    import re

    from gen_cell_sums import sum_page

    from derivations.cli import main
    from derivations.core.cells import BUILTIN_CELLS

    quoted = r"unrolled derive --cell (\S+) --param (\S+) --steps 3 --format markdown"
    for key in CELL_FIGURES:
        for gradient in BUILTIN_CELLS[key]().gradient_names:
            html = (built_site / "gated" / key / gradient / "index.html").read_text()
            text = re.sub(r"<[^>]+>", "", html)  # the code block's highlighting spans
            assert re.findall(quoted, text) == [(key, gradient)], (key, gradient)
        cell = BUILTIN_CELLS[key]()
        for gradient in ("Wyh", cell.param_names[0]):
            argv = ["derive", "--cell", key, "--param", gradient, "--steps", "3"]
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):  # the command, run in this process
                assert main([*argv, "--format", "markdown"]) == 0, (key, gradient)
            # the page's derivation is the command's output, byte for byte (one assembler)
            page = sum_page(key, cell, gradient, key)
            derivation = page[page.index("## The sum over") : page.index("## Checks")]
            assert printed.getvalue() == derivation, (key, gradient)


def test_parameters_are_named_after_the_gate_or_candidate_they_feed(built_site):
    from derivations.core.cells import BUILTIN_CELLS, unit_of

    for key in CELL_FIGURES:
        cell = BUILTIN_CELLS[key]()
        for name in cell.param_names:
            html = (built_site / "gated" / key / name / "index.html").read_text()
            title = html.split("<title>", 1)[1].split("</title>", 1)[0]
            unit = " ".join(unit_of(cell, name)) if name[0] in "Wb" and key != "residual" else ""
            assert unit in title, (key, name, title)
    for page in ("gru/Whn", "gru-before/bxn", "lstm/Whg"):
        title = (built_site / "gated" / page / "index.html").read_text().split("</title>")[0]
        assert "candidate" in title and "gate" not in title.split("<title>")[1], (page, title)


def test_path_means_a_path_in_the_graph_and_products_are_counted_apart(built_site):
    gru = (built_site / "gated" / "gru" / "index.html").read_text()
    assert "4 paths, 5 products" in gru  # dh_t/dh_{t-1}: z's path gives two products
    assert "16 paths, 25 products in all" in gru  # h_3 back to h_1
    assert "5 paths" not in gru and "25 paths" not in gru
    lstm = (built_site / "gated" / "lstm" / "index.html").read_text()
    assert "products" not in lstm.split("The backward loop")[0]  # one product per path there
