r"""The vanilla model's backward loop as a reader sees it: listing, update lines, entries.

The listing, each gradient's update line and which (i, k) terms each iteration adds are
printed from the vanilla cell (`derivations.core.cells.vanilla`) through the cell
engine's loop plan; the element-wise form by SymPy's LaTeX printer from the vanilla
pipeline's straight-line program and its backward loop.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derivations.core.cells import vanilla
from derivations.core.factors import Notation
from derivations.core.notation import QUANTITIES, signal_entry_latex, total_derivative
from derivations.core.spec import ModelSpec
from derivations.gradient.loop import (
    Adjoint,
    Negated,
    Pulled,
    Row,
    Signal,
    cell_loop_map,
    loop_plan,
)
from derivations.render.lines import (
    broken_sum,
)
from derivations.render.loop import cell_loop_code
from vanilla_reference.gradients import (
    RULES,
    backward_loop,
    check_gradient_name,
)
from vanilla_reference.lines import check_written
from vanilla_reference.unroll import unroll

__all__ = [
    "elementwise_latex",
    "loop_code",
    "loop_latex_names",
    "loop_map_rows",
    "loop_update_latex",
]


def loop_code(names: tuple[str, ...] | None = None, activation: str = "tanh") -> str:
    """The backward loop as NumPy code, updating the gradients in `names` (default: all).

    Printed from the vanilla cell's loop plan (`cell_loop_code`), the listing a test
    runs against `rnnnum.bptt`; f' is written out for `activation`.
    """
    chosen = tuple(check_gradient_name(n) for n in names) if names else None
    return cell_loop_code(vanilla(activation), chosen)


def _row_latex(row: Row, t: int | str, notation: Notation) -> str:
    r"""A row of the loop plan in LaTeX: $\bar a_{t}$, $\bar a_{t} W_{hh}^\top$, ..."""
    if isinstance(row, Adjoint):
        return rf"\bar {notation.at(row.name, t)}"
    if isinstance(row, Signal):
        mark = notation.latex[row.name] + (f",{row.index}" if row.index > 1 else "")
        return rf"\delta^{{{mark}}}_{{{t}}}"
    if isinstance(row, Pulled):
        return f"{_row_latex(row.row, t, notation)} {row.piece.transpose().latex(t, notation)}"
    if isinstance(row, Negated):
        return f"-{_row_latex(row.row, t, notation)}"
    raise AssertionError(row)  # pragma: no cover - the vanilla plan has no other rows


def loop_update_latex(name: str, activation: str = "tanh") -> str:
    r"""The backward loop's line for gradient `name` in LaTeX, from the vanilla cell's plan.

    ``\bar W_{xh} \mathrel{+}= x_{t}^\top \bar a_{t}`` for a parameter, ``\bar x_{t} = ...``
    for the input, ``\bar h_{0} = ...`` after t = 1; the read-out ($W_{yh}$, $b_y$) is shared.
    """
    name = check_gradient_name(name)
    cell = vanilla(activation)
    notation, plan = cell.notation, loop_plan(cell)

    def rows(parts: tuple[Row, ...], t: int | str) -> str:
        return " + ".join(_row_latex(r, t, notation) for r in parts).replace("+ -", "- ")

    g_t = QUANTITIES["g"].at("t")
    if name == "Wyh":
        return rf"\bar W_{{yh}} \mathrel{{+}}= {QUANTITIES['h'].at('t')}^\top {g_t}"
    if name == "by":
        return rf"\bar b_y \mathrel{{+}}= {g_t}"
    if name == "X":
        return rf"\bar {QUANTITIES['X'].at('t')} = {rows(plan.inputs, 't')}"
    if name == "h0":
        return rf"\bar {notation.at('h', 0)} = {rows(plan.carries['h'], 1)}"
    (update,) = (u for u in plan.updates if u.param == name)
    parts = [
        _row_latex(sig, "t", notation)
        if node is None
        else rf"{node.latex('t', notation)}^\top {_row_latex(sig, 't', notation)}"
        for node, sig in update.uses
    ]
    return rf"\bar {notation.latex[name]} \mathrel{{+}}= {' + '.join(parts)}"


def loop_map_rows(name: str, spec: ModelSpec) -> list[tuple[int, list[tuple[int, int]]]]:
    """(iteration t, the $(i, k)$ terms it adds to the gradient of `name`), from T down to 1
    (from the cell)."""
    rows = cell_loop_map(vanilla(spec.activation), check_gradient_name(name), spec.T)
    return [(t, added) for t, added in rows.items() if added]


def loop_latex_names(model: Any, loop: Any) -> dict[sp.Symbol, str]:
    r"""LaTeX of every symbol of the model and its backward loop ($\bar h_{t,j}$,
    $\delta_{t}[j]$)."""
    names = dict(model.latex_names)
    for family, symbol in ((loop.dh, r"\bar h"), (loop.carry, "c")):
        for t, row in family.items():
            for j, s in enumerate(row, start=1):
                names[s] = f"{symbol}_{{{t},{j}}}"
    for t, row in loop.delta.items():
        for j, s in enumerate(row, start=1):
            names[s] = signal_entry_latex(t, j)
    return names


def elementwise_latex(name: str, spec: ModelSpec) -> str:
    r"""The gradient entry by entry, in the loop's scalar signals, printed by SymPy.

    Lines: each entry of the gradient by `name`; then the signals $\delta_t[j]$ and
    $\bar h_{t,j}$ (total $\mathrm{d}L/\mathrm{d}h_t$) it uses; then the local derivatives
    $g_{t,v}$ and $f'(a_{t,j})$.
    """
    check_written(name, spec)
    model = unroll(spec)
    loop = backward_loop(model)
    names = loop_latex_names(model, loop)

    def tex(expr: Any) -> str:
        return broken_sum(expr, names)

    lines = []
    blocks = loop.gradients[name] if name != "X" else loop.gradients["X"]
    matrices = blocks if name == "X" else [blocks]
    for n, matrix in enumerate(matrices, start=1):
        for r in range(matrix.rows):
            for c in range(matrix.cols):
                index = (c + 1,) if matrix.rows == 1 else (r + 1, c + 1)
                base = QUANTITIES["X"].at(n) if name == "X" else QUANTITIES[name].latex
                sub = ",".join(str(i) for i in index)
                lhs = total_derivative("L", f"({base})_{{{sub}}}")
                lines.append(rf"{lhs} &= {tex(matrix[r, c])}")
    through_a = RULES[name].via == "a"  # W_yh and b_y need only g_t, not the signals
    definitions = dict(loop.assignments)
    for t in sorted(loop.delta, reverse=True) if through_a else ():
        for s in loop.delta[t]:
            lines.append(rf"{names[s]} &= {tex(definitions[s])}")
        for s in loop.dh[t]:
            lines.append(rf"{names[s]} &= {tex(definitions[s].xreplace(_carry_to_delta(loop)))}")
    forward = dict(model.assignments)
    for t in range(1, spec.T + 1):
        for s in (*model.g[t], *(model.d[t] if through_a else ())):
            lines.append(rf"{names[s]} &= {tex(forward[s])}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def _carry_to_delta(loop: Any) -> dict[sp.Symbol, Any]:
    """Show the carry c_{t+1} through its definition delta_{t+1} W_hh^T, entry-wise."""
    definitions = dict(loop.assignments)
    return {s: definitions[s] for row in loop.carry.values() for s in row}
