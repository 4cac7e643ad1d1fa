r"""A derived gradient as a notebook shows it: `derive` and its `Derivation`.

``derive(cell, "Wxf", T=3)`` is the Python side of ``unrolled derive``: a `Derivation`
holds the expanded sum's terms (each a `ShownTerm`, a `CellTerm` that displays its own
formula), and in Jupyter displays the sum as the CLI prints it (``_repr_latex_``: the
blocks of ``--format latex``; ``_repr_markdown_``: the text of ``--format markdown``).
A term displays itself as the Markdown derivation writes it, $\text{term }(i, k)$
with its path products. Nothing here renders anything of its own: every string comes
from `derivations.render.page` and `derivations.render.terms`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

from derivations.core.cell import Cell
from derivations.core.cells import load_cell
from derivations.core.spec import ModelSpec, check_choice
from derivations.gradient.sums import CellTerm, cell_expanded_sum
from derivations.render.page import cell_derivation_markdown, cell_derive_latex
from derivations.render.sums import written_groups
from derivations.render.terms import display, term_latex

__all__ = ["FORMS", "Derivation", "ShownTerm", "derive"]

#: The forms `derive` writes, as ``unrolled derive --form`` takes them.
FORMS = ("full", "compact")


@dataclass(frozen=True)
class ShownTerm(CellTerm):
    r"""A term (i, k) of a derived gradient that displays its formula in Jupyter.

    ``lhs`` and ``first``: the gradient's left-hand side, written on the first term of
    its equation only (the others continue the sum), as the derivation writes them.
    """

    lhs: str = field(default="", repr=False)
    first: bool = field(default=False, repr=False)

    def __repr__(self) -> str:
        return f"ShownTerm(i={self.loss}, k={self.step} of dL/d{self.wrt}, {self.cell.name} cell)"

    def formula(self) -> str:
        """The term's ``aligned`` LaTeX block: its tag, then each path product on a row."""
        return term_latex(self, self.lhs, self.first)

    def _repr_latex_(self) -> str:
        return f"$${self.formula()}$$"

    def _repr_markdown_(self) -> str:
        return display(self.formula()).strip("\n") + "\n"


@dataclass(frozen=True, eq=False)
class Derivation(Sequence[ShownTerm]):
    r"""The expanded sum of $\mathrm{d}L/\mathrm{d}w$ (w: ``wrt``) for ``cell`` at T steps.

    A sequence of its terms, ordered as `cell_expanded_sum` orders them; `latex` and
    `markdown` are what ``unrolled derive --format latex|markdown`` prints.
    """

    cell: Cell
    wrt: str
    T: int
    form: str
    terms: tuple[ShownTerm, ...] = field(repr=False)

    def latex(self) -> str:
        """The compact sum and, for the full form, every term written out (blank-line apart)."""
        return cell_derive_latex(self.cell, self.wrt, self.T, form=self.form)

    def markdown(self) -> str:
        """The derivation as Markdown: sections, the terms, the loop."""
        return cell_derivation_markdown(self.cell, self.wrt, self.T, form=self.form)

    def _repr_latex_(self) -> str:
        return "\n".join(f"$${block}$$" for block in self.latex().split("\n\n"))

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __repr__(self) -> str:
        products = sum(t.path_count() for t in self.terms)
        return (
            f"Derivation(dL/d{self.wrt} of the {self.cell.name} cell, T={self.T}: "
            f"{len(self.terms)} terms, {products} path products)"
        )

    @overload
    def __getitem__(self, index: int) -> ShownTerm: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[ShownTerm]: ...
    def __getitem__(self, index: int | slice) -> ShownTerm | Sequence[ShownTerm]:
        return self.terms[index]

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self) -> Iterator[ShownTerm]:
        return iter(self.terms)


def derive(cell: Cell | str, wrt: str, T: int = 3, *, form: str = "full") -> Derivation:
    """The expanded sum of dL/d`wrt` for `cell` (a `Cell`, or a spec `load_cell` takes).

    `T` from 1 to `derivations.core.spec.MAX_STEPS`; `form` one of `FORMS`. In Jupyter
    the result displays itself; iterate it for the terms (each a `ShownTerm`).
    """
    chosen = load_cell(cell) if isinstance(cell, str) else cell
    ModelSpec(T=T)  # the limits on T every derivation has (at most MAX_STEPS)
    check_choice(form, "form", FORMS)
    terms = cell_expanded_sum(chosen, wrt, T)
    shown = tuple(
        ShownTerm(term.gradient, term.loss, term.step, lhs, n == 0)
        for lhs, group in written_groups(chosen, wrt, terms)
        for n, term in enumerate(group)
    )
    order = {(t.loss, t.step): n for n, t in enumerate(terms)}
    return Derivation(
        chosen, wrt, T, form, tuple(sorted(shown, key=lambda t: order[t.loss, t.step]))
    )
