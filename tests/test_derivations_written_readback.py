"""Reading written-out sums back from what readers see: true ones pass, false ones are named."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from vanilla_reference.readback import expected_vanilla
from vanilla_reference.render import derivation_markdown

from derivations import ModelSpec
from derivations.check.readback import (
    expected_cell,
    read_written,
    written_errors,
)
from derivations.core.cells import BUILTIN_CELLS, lstm
from derivations.render.page import cell_derivation_markdown, cell_derive_latex

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "hooks"))

#: Two equations in the layout of `cell_written_out_latex` (tags at the row ends).
ROWS = (
    "$$\n\\begin{aligned}\\frac{\\mathrm{d} L}{\\mathrm{d} x_{1}} &= A \\qquad && (i=1,\\ k=1) "
    "\\\\ &\\quad + B \\qquad && (i=2,\\ k=1) \\\\[4pt] "
    "\\frac{\\mathrm{d} L}{\\mathrm{d} x_{2}} &= C \\qquad && (i=2,\\ k=2)\\end{aligned}\n$$"
)
EXPECTED = {"x_{1}": {(1, 1), (2, 1)}, "x_{2}": {(2, 2)}}


def _heading(i: int, k: int, lhs: str | None) -> str:
    """One term in the layout of the gated pages: a heading row, then the left side."""
    head = f"\\frac{{\\mathrm{{d}} L}}{{\\mathrm{{d}} {lhs}}} " if lhs else ""
    tag = f"&\\text{{term }}(i={i},\\ k={k}):\\\\ "
    return f"\n\n$$\n\\begin{{aligned}}{tag}{head}&= P\\end{{aligned}}\n$$\n"


def _errors(text: str, expected: dict) -> list[str]:
    found, problems = read_written(text)
    return written_errors(found, expected, problems)


def test_a_true_sum_reads_back_in_both_layouts() -> None:
    found, problems = read_written(ROWS)
    assert [(e.target, e.terms) for e in found] == [
        ("x_{1}", [(1, 1), (2, 1)]),
        ("x_{2}", [(2, 2)]),
    ]
    assert problems == [] and written_errors(found, EXPECTED) == []
    gated = _heading(1, 1, "x_{1}") + _heading(2, 1, None) + _heading(2, 2, "x_{2}")
    assert _errors(gated, EXPECTED) == []


def test_a_folded_term_is_read_from_its_escaped_formula() -> None:
    folded = (
        '\n\n<details class="abstract folded-term" id="term-2-1">\n<summary>Term</summary>\n'
        '<div class="arithmatex">\\[\\begin{aligned}&amp;\\text{term }(i=2,\\ k=1):'
        "\\\\ &amp;\\quad P\\end{aligned}\\]</div>\n</details>\n\n"
    )
    text = _heading(1, 1, "x_{1}") + folded + _heading(2, 2, "x_{2}")
    assert _errors(text, EXPECTED) == []
    wrong_id = text.replace('id="term-2-1"', 'id="term-3-1"')
    assert _errors(wrong_id, EXPECTED) == ["the folded block term-3-1 holds term (2, 1)"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # the old gated X page: dL/dx_1 restarted after dL/dx_2
        (
            _heading(1, 1, "x_{1}") + _heading(2, 2, "x_{2}") + _heading(2, 1, "x_{1}"),
            "dL/dx_{1} is a left-hand side 2 times (once expected)",
        ),
        (ROWS.replace("(i=2,\\ k=1)", "(i=1,\\ k=1)"), "term (1, 1) is written 2 times"),
        (ROWS.replace("(i=2,\\ k=2)", "(i=2,\\ k=1)"), "term (2, 1) is under dL/dx_{2} but"),
        (ROWS.replace(" \\\\ &\\quad + B \\qquad && (i=2,\\ k=1)", ""), "the terms [(2, 1)]"),
        (ROWS.replace("x_{2}", "x_{3}"), "dL/dx_{3} is not a left-hand side"),
        (ROWS.replace("(i=2,\\ k=2)", "(i=9,\\ k=9)"), "(9, 9) under dL/dx_{2} is not a term"),
        ("no math here", "no written-out sum found"),
        (_heading(1, 1, None), "term (i=1, k=1) comes before any left-hand side"),
    ],
)
def test_a_false_sum_is_named(text: str, message: str) -> None:
    errors = _errors(text, EXPECTED)
    assert any(message in e for e in errors), errors


def test_displays_without_tags_are_not_sums() -> None:
    compact = "$$\n\\frac{\\mathrm{d} L}{\\mathrm{d} x_{k}} = \\sum_{i=k}^{3} P\n$$"
    assert read_written(compact + ROWS) == read_written(ROWS)


@pytest.mark.parametrize("name", ["Wxh", "X", "h0", "Wyh"])
def test_the_vanilla_pages_and_cli_read_back_true(name: str) -> None:
    for T in (1, 3, 4):
        text = derivation_markdown(name, ModelSpec(T=T))
        assert _errors(text, expected_vanilla(name, T)) == [], (name, T)


@pytest.mark.parametrize("key", sorted(BUILTIN_CELLS))
def test_the_cells_cli_markdown_and_latex_read_back_true(key: str) -> None:
    cell = BUILTIN_CELLS[key]()
    for wrt in ("X", cell.param_names[0]):
        expected = expected_cell(cell, wrt, 3)
        assert _errors(cell_derivation_markdown(cell, wrt, 3), expected) == [], wrt
        blocks = cell_derive_latex(cell, wrt, 3).split("\n\n")  # compact, written out
        assert _errors("".join(f"$$\n{b}\n$$" for b in blocks), expected) == [], wrt


def test_the_gated_pages_read_back_true_and_the_hook_names_a_false_one() -> None:
    from gen_cell_sums import sum_page
    from gen_format import ChecksFailed
    from gen_readback import check_written_sums

    cell = lstm()
    page = sum_page("lstm", cell, "X", "LSTM")
    expected = {"gated/lstm/X.md": expected_cell(cell, "X", 3)}
    check_written_sums({"gated/lstm/X.md": page}, expected)
    swapped = page.replace("(i=3,\\ k=3)", "(i=3,\\ k=1)", 1)
    with pytest.raises(
        ChecksFailed,
        match=r"gated/lstm/X.md: term \(3, 1\) is under dL/dx_\{3\} but belongs to dL/dx_\{1\}",
    ):
        check_written_sums({"gated/lstm/X.md": swapped}, expected)
    with pytest.raises(ChecksFailed, match="that no derivation is read against"):
        check_written_sums({"gated/lstm/X.md": page}, {})
    with pytest.raises(ChecksFailed, match="expected a written-out sum, but no such text"):
        check_written_sums({}, expected)
