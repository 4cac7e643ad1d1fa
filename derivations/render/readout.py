r"""A cell's own read-out in LaTeX: $\partial y_t/\partial s_t$ and the sums of its parameters.

Only for a cell that defines $y_t$ (`Cell.readout`); the default
$y_t = h_t W_{yh} + b_y$ keeps its own fixed wording in the pages that print it.
"""

from __future__ import annotations

from derivations.core.cell import Cell, Input, Prev, Ref
from derivations.core.notation import local_derivative
from derivations.gradient.links import sum_notation

__all__ = ["readout_jacobian_row", "readout_jacobian_symbol", "readout_param_sum"]

_DY = r"\frac{\partial L_{i}}{\partial y_{i}}"


def readout_jacobian_symbol(cell: Cell, t: str) -> str:
    r"""$\partial y_t/\partial h_t$, or $\partial y_t/\partial s_t$ for several states."""
    states = cell.state_names
    state = f"s_{{{t}}}" if len(states) > 1 else cell.notation.at(states[0], t)
    return local_derivative(f"y_{{{t}}}", state)


def readout_jacobian_row(cell: Cell) -> str:
    r"""The ``aligned`` row defining $\partial y_t/\partial s_t$ from the read-out's tree
    ((H, V) per state in the row convention; a column of blocks for several states)."""
    notation = sum_notation(cell)
    blocks = [cell.read_out.jacobian(s).latex("t", notation) for s in cell.state_names]
    body = (
        blocks[0]
        if len(blocks) == 1
        else r"\begin{pmatrix} " + r" \\ ".join(blocks) + r" \end{pmatrix}"
    )
    return rf"{readout_jacobian_symbol(cell, 't')} &= {body}"


def readout_param_sum(cell: Cell, wrt: str) -> str:
    r"""The summand of $\mathrm{d}L/\mathrm{d}w$ for a parameter w of the cell's own
    read-out: per use, its row transposed, $\partial L_i/\partial y_i$ and the use's path
    to $y_i$ transposed."""
    notation = sum_notation(cell)
    parts = []
    for use in cell.read_out.param_uses(wrt):
        close = ""
        if use.row is not None:
            text = use.row.latex("i", notation)
            bare = isinstance(use.row, Input | Prev | Ref)
            close = rf"{text}^\top\," if bare else rf"({text})^\top\,"
        for factor in use.path.terms:
            back = [p.latex("i", notation) for p in factor.transpose().pieces]
            text = r"\,".join([close + _DY, *(b for b in back if b)])
            parts.append(text if factor.sign == 1 else f"-{text}")
    return " + ".join(parts).replace("+ -", "- ")
