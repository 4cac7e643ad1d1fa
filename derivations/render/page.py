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

from derivations.core.cell import Cell, Func
from derivations.core.nodes import Node
from derivations.core.notation import LOSS_NAMES, local_derivative
from derivations.core.spec import LOSSES, check_choice
from derivations.gradient.loop import cell_loop_map
from derivations.gradient.sums import cell_expanded_sum
from derivations.render.jacobians import jacobian_spans, state_product_latex
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
    "MAX_ELEMENTWISE_LINES",
    "cell_derivation_markdown",
    "cell_derive_json",
    "cell_derive_latex",
    "written_out",
]

#: The element-wise form is tried at T <= this only: each entry is a sum over T
#: iterations and each adjoint a sum over the step's paths.
ELEMENTWISE_STEPS = 3
#: ... and printed when it takes at most this many lines: about two screens. The LSTM's
#: takes about 64 at T = 2 and 107 at T = 3, the vanilla cell's 15 to 44 at T = 3.
MAX_ELEMENTWISE_LINES = 70


def _nodes(node: Node) -> list[Node]:
    return [node, *(n for child in node.children() for n in _nodes(child))]


def uses_activation(cell: Cell) -> bool:
    """Whether the cell applies its chosen activation f (``Func("act", ...)``) anywhere."""
    return any(
        isinstance(n, Func) and n.kind == "act" for eq in cell.equations for n in _nodes(eq.expr)
    )


def setting(cell: Cell, T: int, loss: str) -> str:
    """``3 steps, tanh, cross-entropy``: what the derivation was made for."""
    parts = [f"{T} step" + ("s" if T != 1 else "")]
    if uses_activation(cell):
        parts.append(cell.activation.replace("_", " "))
    return ", ".join([*parts, loss.replace("_", "-")])


def loss_derivative_latex(loss: str) -> str:
    r"""$\partial L_t/\partial y_t$ of `loss`: the one local derivative not in the cell."""
    check_choice(loss, "loss", LOSS_NAMES)
    return f"{local_derivative('L_t', 'y_t')} = {LOSSES[loss].gradient_latex('t')}"


def cell_derive_latex(
    cell: Cell, wrt: str, T: int, *, form: str = "full", loss: str = "cross_entropy"
) -> str:
    """The compact sum (any T), the loss's local derivative and, for ``form="full"``,
    every term written out."""
    parts = [cell_compact_latex(cell, wrt, T), loss_derivative_latex(loss)]
    if form == "full":
        parts.append(cell_written_out_latex(cell, wrt, T))
    return "\n\n".join(parts)


def cell_derive_json(
    cell: Cell, wrt: str, T: int, *, form: str = "full", loss: str = "cross_entropy"
) -> dict[str, Any]:
    """The derivation as a JSON-ready dict (`cell_derivation_json`), with the activation
    when the cell uses one and, for ``form="full"``, the loop map."""
    out = cell_derivation_json(cell, wrt, T, loss, form=form)
    if uses_activation(cell):
        out = {**dict(list(out.items())[:3]), "activation": cell.activation, **out}
    if form == "full":
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
    """The written-out sum: what it holds, then each term's display (one equation when
    every term is one product), then the Jacobian products of a one-state cell."""
    terms = cell_expanded_sum(cell, wrt, T)
    paths = sum(t.path_count() for t in terms)
    if not written_out(cell, wrt, T):
        return [
            f"The {len(terms)} terms hold {paths} products, more than the "
            f"{MAX_WRITTEN_PATHS} a page can show readably: this gradient is shown in "
            "compact form only."
        ]
    if paths == len(terms):  # one product per term: one equation, a row per term
        out = [
            f"The {len(terms)} terms at T = {T}, each one product of local "
            f"derivatives{repeated_note(cell)}:",
            f"\n$$\n{cell_written_out_latex(cell, wrt, T)}\n$$\n",
        ]
    else:
        folded = any(t.path_count() > OPEN_PATHS for t in terms)
        out = [
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
    spans = jacobian_spans(cell, [(t.loss, t.step) for t in terms])
    if spans:
        # one display block per product, a blank line between: back to back, arithmatex
        # reads "$$ ... $$\n$$ ... $$" as one formula with "$$$$" inside
        out += ["The Jacobian products in these terms:", ""]
        out.append("\n\n".join(f"$$\n{state_product_latex(cell, i, k)}\n$$" for i, k in spans))
        out.append("")
    return out


def _elementwise(cell: Cell, wrt: str, T: int, loss: str) -> str | None:
    """The element-wise form at T <= `ELEMENTWISE_STEPS` when it fits
    `MAX_ELEMENTWISE_LINES` lines, else None."""
    if T > ELEMENTWISE_STEPS:
        return None
    latex = cell_elementwise_latex(cell, wrt, T, loss=loss)
    return latex if latex.count(r"\\") + 1 <= MAX_ELEMENTWISE_LINES else None


def _loop(cell: Cell, wrt: str, T: int, h: str, loss: str) -> list[str]:
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
    entries = _elementwise(cell, wrt, T, loss)
    if entries is not None:
        out += ["", f"{h}# Element-wise", "", f"$$\n{entries}\n$$"]
    return [*out, ""]


def cell_derivation_markdown(
    cell: Cell,
    wrt: str,
    T: int,
    *,
    form: str = "full",
    level: int = 2,
    loss: str = "cross_entropy",
) -> str:
    """The derivation of dL/d`wrt` at T steps: the compact sum and the loss's local
    derivative, then (``form="full"``) every term written out, the backward loop and its
    map, and the entries at small T.

    Sections at heading `level`; the text the site's page of the gradient shows.
    """
    h = "#" * level
    jacobian = (
        "the one-step Jacobian $J_t$"
        if len(cell.state_names) == 1
        else "the one-step Jacobian of the stacked state as a block matrix"
    )
    parts = [
        f"{h} The sum over losses and steps ({setting(cell, T, loss)})",
        "",
        f"For any T, with {jacobian}:",
        broken_compact(cell, wrt, T),
        "with the local derivative of the loss",
        f"\n$$\n{loss_derivative_latex(loss)}\n$$\n",
    ]
    if form == "full":
        parts += [f"{h} Written out", "", *_written(cell, wrt, T), *_loop(cell, wrt, T, h, loss)]
    return "\n".join(parts)
