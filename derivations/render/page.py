r"""One gradient of any cell as a Markdown section: the sum, its terms, the loop, the entries.

Pure assembly of what `derivations.render.sums` (the expanded sum over (loss i,
step k), each term a sum over paths through the states), `derivations.gradient.loop`
(which (i, k) terms each iteration of the backward loop adds) and
`derivations.render.loop` (the listing and the element-wise form) print from the
cell's equations; nothing here restates the cell.
"""

from __future__ import annotations

from typing import Any

from derivations.core.cell import Cell
from derivations.gradient.loop import cell_loop_map
from derivations.gradient.sums import cell_expanded_sum, cell_pairs
from derivations.render.loop import cell_elementwise_latex, cell_loop_code
from derivations.render.sums import (
    cell_compact_latex,
    cell_derivation_json,
    cell_written_out_latex,
    gradient_lhs,
)

__all__ = ["ELEMENTWISE_STEPS", "cell_derivation_markdown", "cell_derive_json", "cell_derive_latex"]

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


def cell_derivation_markdown(
    cell: Cell, wrt: str, T: int, *, form: str = "full", level: int = 2
) -> str:
    """A Markdown section: compact sum, written-out terms, the loop and its map, entries."""
    h = "#" * level
    lhs = gradient_lhs(cell, wrt)
    parts = [
        f"{h} ${lhs}$ ({cell.name} cell, {T} steps)",
        "",
        "As a sum over losses $L_i$ and steps $k$:",
        "",
        f"$$\n{cell_compact_latex(cell, wrt, T)}\n$$",
    ]
    if form == "full":
        terms = cell_expanded_sum(cell, wrt, T)
        paths = sum(t.path_count() for t in terms)
        parts += [
            "",
            f"Written out for T = {T} ({len(cell_pairs(cell, wrt, T))} terms, {paths} products):",
            "",
            f"$$\n{cell_written_out_latex(cell, wrt, T)}\n$$",
            "",
            f"{h}# The backward loop",
            "",
            "```python",
            cell_loop_code(cell, (wrt,)),
            "```",
            "",
            "| iteration t | terms (i, k) it adds |",
            "| --- | --- |",
        ]
        parts += [
            f"| {t} | {', '.join(f'({i}, {k})' for i, k in added)} |"
            for t, added in cell_loop_map(cell, wrt, T).items()
            if added
        ]
        if T <= ELEMENTWISE_STEPS:
            parts += [
                "",
                f"{h}# Element-wise",
                "",
                f"$$\n{cell_elementwise_latex(cell, wrt, T)}\n$$",
            ]
    return "\n".join(parts) + "\n"
