r"""One gradient of any cell as Markdown: the sum, its terms, the loop, the entries.

The one assembler of a gradient's derivation: ``unrolled derive --cell ... --format
markdown`` prints `cell_derivation_markdown`, and the site's page of the same gradient
is that text between its own title and its table of checks.
Pure assembly of what `derivations.render.terms` (the compact form and each term (i, k)
of the expanded sum, a sum over paths through the states), `derivations.gradient.loop`
(which (i, k) terms each iteration of the backward loop adds) and
`derivations.render.loop` (the listing and the element-wise form) print from the
cell's equations; nothing here restates the cell.
"""

from __future__ import annotations

from typing import Any

from derivations.core.cell import Cell
from derivations.gradient.loop import cell_loop_map
from derivations.gradient.sums import cell_expanded_sum
from derivations.render.loop import cell_elementwise_latex, cell_loop_code
from derivations.render.sums import (
    MAX_WRITTEN_PATHS,
    cell_compact_latex,
    cell_derivation_json,
    cell_written_out_latex,
)
from derivations.render.terms import OPEN_PATHS, broken_compact, repeated_note, written_terms

__all__ = [
    "ELEMENTWISE_STEPS",
    "cell_derivation_markdown",
    "cell_derive_json",
    "cell_derive_latex",
    "written_out",
]

#: The element-wise form is printed at T <= this: each entry is a sum over T iterations
#: and each adjoint a sum over the step's paths, already about 60 lines for the LSTM at 2.
ELEMENTWISE_STEPS = 2


def cell_derive_latex(cell: Cell, wrt: str, T: int, *, form: str = "full") -> str:
    """The compact sum (any T) and, for ``form="full"``, every term written out."""
    parts = [cell_compact_latex(cell, wrt, T)]
    if form == "full":
        parts.append(cell_written_out_latex(cell, wrt, T))
    return "\n\n".join(parts)


def cell_derive_json(cell: Cell, wrt: str, T: int, *, form: str = "full") -> dict[str, Any]:
    """The derivation as a JSON-ready dict, with the loop map for ``form="full"``."""
    if form != "full":
        return {
            "cell": cell.name,
            "param": wrt,
            "steps": T,
            "compact": cell_compact_latex(cell, wrt, T),
        }
    out = cell_derivation_json(cell, wrt, T)
    out["loop_map"] = [
        {"iteration": t, "adds": [list(p) for p in added]}
        for t, added in cell_loop_map(cell, wrt, T).items()
        if added
    ]
    return out


def written_out(cell: Cell, wrt: str, T: int) -> bool:
    """Whether the derivation of dL/d`wrt` writes its terms out (else the compact form
    only): at most `MAX_WRITTEN_PATHS` path products in all."""
    return sum(t.path_count() for t in cell_expanded_sum(cell, wrt, T)) <= MAX_WRITTEN_PATHS


def _written(cell: Cell, wrt: str, T: int) -> list[str]:
    """The written-out sum: what it holds, then each term's display."""
    terms = cell_expanded_sum(cell, wrt, T)
    paths = sum(t.path_count() for t in terms)
    if not written_out(cell, wrt, T):
        return [
            f"The {len(terms)} terms hold {paths} products, more than the "
            f"{MAX_WRITTEN_PATHS} a page can show readably: this gradient is shown in "
            "compact form only."
        ]
    folded = any(t.path_count() > OPEN_PATHS for t in terms)
    return [
        f"Every term (i, k) written out as the sum of its {paths} products in all, "
        "one for each path through the states and the step's equations"
        + repeated_note(cell)
        + (
            f". A term of more than {OPEN_PATHS} products is folded: open it to read it:"
            if folded
            else ":"
        ),
        *written_terms(cell, wrt, terms),
    ]


def _loop(cell: Cell, wrt: str, T: int, h: str) -> list[str]:
    """The backward loop of `wrt`, the terms each iteration adds, the entries at small T."""
    out = [
        f"{h}# The backward loop",
        "",
        "```python",
        cell_loop_code(cell, (wrt,)),
        "```",
        "",
        "| iteration t | terms (i, k) it adds |",
        "| --- | --- |",
    ]
    out += [
        f"| {t} | {', '.join(f'({i}, {k})' for i, k in added)} |"
        for t, added in cell_loop_map(cell, wrt, T).items()
        if added
    ]
    if T <= ELEMENTWISE_STEPS:
        out += ["", f"{h}# Element-wise", "", f"$$\n{cell_elementwise_latex(cell, wrt, T)}\n$$"]
    return [*out, ""]


def cell_derivation_markdown(
    cell: Cell, wrt: str, T: int, *, form: str = "full", level: int = 2
) -> str:
    """The derivation of dL/d`wrt` at T steps: the compact sum, then (``form="full"``) every
    term written out, the backward loop and its map, and the entries at small T.

    Sections at heading `level`; the text the site's page of the gradient shows.
    """
    h = "#" * level
    parts = [
        f"{h} The sum over losses and steps ({T} steps)",
        "",
        "For any T, with the one-step Jacobian of the stacked state as a block matrix:",
        broken_compact(cell, wrt, T),
    ]
    if form == "full":
        parts += [f"{h} Written out", "", *_written(cell, wrt, T), *_loop(cell, wrt, T, h)]
    return "\n".join(parts)
