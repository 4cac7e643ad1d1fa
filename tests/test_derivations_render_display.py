"""What a notebook shows: a cell as its equations, a derived gradient as its expanded sum,
a term as its formula, and short reprs.

Each display is compared with what another renderer writes for the reader: the
gradient's LaTeX and Markdown with the ``unrolled derive`` command line's own output
(`main`, captured), a term's formula with its display in ``--format markdown``, and a
cell's equations with the site's cell page (`gen_cell_pages._equations`) and with rows
written here by hand for the vanilla cell.
"""

from __future__ import annotations

import contextlib
import html
import io

import pytest
from site_hooks_loader import load_hook

import derivations
from derivations.cli import main
from derivations.core.cells import load_cell
from derivations.render.display import Derivation, ShownTerm, derive
from derivations.render.terms import OPEN_PATHS

#: The longest one-line repr a reader should have to scan (the LSTM's is 170 characters).
MAX_REPR = 200


def cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


@pytest.mark.parametrize(
    ("cell", "wrt", "T"), [("lstm", "Wxf", 2), ("gru", "X", 2), ("residual", "h0", 3)]
)
def test_a_derivation_displays_what_derive_prints(cell: str, wrt: str, T: int) -> None:
    derived = derive(cell, wrt, T)
    printed = cli("derive", "--cell", cell, "--param", wrt, "--steps", str(T))
    blocks = printed.rstrip("\n").split("\n\n")
    assert derived._repr_latex_() == "\n".join(f"$${b}$$" for b in blocks)
    markdown = cli(
        "derive", "--cell", cell, "--param", wrt, "--steps", str(T), "--format", "markdown"
    )
    assert derived._repr_markdown_() + "\n" == markdown


def test_each_term_displays_its_formula_as_the_markdown_writes_it() -> None:
    derived = derive("gru", "X", 2)  # X: one equation per x_k, so two terms open one
    markdown = cli(
        "derive", "--cell", "gru", "--param", "X", "--steps", "2", "--format", "markdown"
    )
    assert [(t.loss, t.step) for t in derived] == [(1, 1), (2, 1), (2, 2)]
    for term in derived:
        assert isinstance(term, ShownTerm)
        formula = term._repr_markdown_()
        assert formula.startswith("$$\n")
        if term.path_count() <= OPEN_PATHS:
            assert formula in markdown
        else:  # folded on the page: the same formula, escaped inside a closed block
            assert html.escape(rf"\[{term.formula()}\]", quote=False) in markdown
        assert term._repr_latex_() == f"$${term.formula()}$$"
        assert rf"\text{{term }}(i={term.loss},\ k={term.step}):" in formula
    # a first term of its equation names the left-hand side, x_1's and x_2's
    assert [t.first for t in derived] == [True, False, True]
    assert r"\frac{\mathrm{d} L}{\mathrm{d} x_{2}}" in derived[2].formula()


def test_a_derivation_is_a_sequence_of_the_expanded_sums_terms() -> None:
    derived = derive(load_cell("lstm"), "c0", 3, form="compact")
    assert isinstance(derived, Derivation) and len(derived) == 3
    assert [(t.loss, t.step) for t in derived] == [(1, 1), (2, 1), (3, 1)]
    # the compact form and the loss's local derivative: two blocks
    assert derived._repr_latex_().count("$$") == 4
    # the paths from h_i back to c_0: 1 for i = 1, then as sums.MAX_TERM_PATHS's comment counts
    products = sum(t.path_count() for t in derived)
    assert (
        repr(derived)
        == f"Derivation(dL/dc0 of the lstm cell, T=3: 3 terms, {products} path products)"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("lstm", "Wxh", 2), "Wxi, Whi, bi"),
        (("lstm", "Wxf", 2), "form must be one of full, compact"),
    ],
)
def test_bad_arguments_say_what_to_do(args: tuple[str, str, int], said: str) -> None:
    form = "all" if said.startswith("form") else "full"
    with pytest.raises(derivations.DerivationError, match=said):
        derive(*args, form=form)


def test_a_cell_displays_its_equations() -> None:
    cell = load_cell("vanilla")
    expected = (  # written by hand from the README's notation
        r"$$\begin{aligned}a_{t} &= x_{t} W_{xh} + h_{t-1} W_{hh} + b_h \\ "
        r"h_{t} &= \tanh(a_{t})\end{aligned}$$"
    )
    assert cell._repr_latex_() == expected
    assert expected.strip("$") in cell._repr_markdown_()


@pytest.mark.parametrize("name", ["lstm", "gru", "gru-before", "residual"])
def test_a_cell_displays_what_its_site_page_shows(name: str) -> None:
    pages = load_hook("gen_cell_pages")
    cell = load_cell(name)
    assert cell._repr_latex_().strip("$") in pages._equations(cell)


def test_a_cells_repr_is_short_and_names_what_it_holds() -> None:
    assert repr(load_cell("vanilla", activation="relu")) == (
        "Cell('vanilla', relu; states h; params Wxh (D, H), Whh (H, H), bh (H,); "
        "equations a, h; twin rnnnum.RNNParams)"
    )
    lstm = repr(load_cell("lstm"))
    assert len(lstm) <= MAX_REPR, lstm
    assert lstm.startswith(
        "Cell('lstm'; states h, c; params Wxi (D, H), "
    )  # no activation of its choice
    assert "... 6 more" in lstm and "equations ai, af, ao, ag, i, f, o, g, c, h" in lstm
