r"""The terms of a read-out parameter w, and where $\partial L_i/\partial y_i$ enters the states.

A parameter of the read-out reaches $L_i$ through $y_i$ alone: its one term per loss is,
per place it enters $y_i$ (`Readout.param_uses`), the row it multiplies transposed,
$\partial L_i/\partial y_i$, and the transposed product that carries it to $y_i$ (empty
for $h_i W_{yh}$ and $b_y$). `readout_signal` is $\mathrm{d}L_i/\mathrm{d}s_i$ through
$\partial y_i/\partial s_i$ (`Readout.jacobian`), where the sums' backward sweeps start.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import sympy as sp

from derivations.core.cell import Cell
from derivations.core.factors import FloatArray
from derivations.gradient.links import Link, Path, full_scope
from derivations.program.unroll import UnrolledCell

__all__ = ["readout_paths", "readout_signal", "readout_term_matrix", "readout_term_value"]


def readout_paths(cell: Cell, wrt: str, i: int) -> Iterator[Path]:
    """The products of the term (i, i) of read-out parameter `wrt`, one per use and way."""
    for use in cell.read_out.param_uses(wrt):
        row = (Link(i, row=use.row),) if use.row is not None else ()
        for factor in use.path.terms:
            back = tuple(Link(i, piece=p) for p in factor.transpose().pieces)
            yield Path(factor.sign, (*row, Link(i), *back), (f"y_{i}",))


def readout_term_matrix(cell: Cell, wrt: str, program: UnrolledCell, i: int) -> sp.Matrix:
    """The term (i, i) of read-out parameter `wrt` in `program`'s symbols, shaped like it."""
    scope, V, total = program.step_scope(i), program.spec.V, None
    for use in cell.read_out.param_uses(wrt):
        back = program.dy[i] * use.path.matrix(scope, V, V).T  # dL_i/du_i, (1, V)
        part = sp.Matrix([use.row.forward(scope)]).T * back if use.row else back
        total = part if total is None else total + part
    assert total is not None  # every read-out parameter is used (`check_readout`)
    return total


def readout_term_value(
    cell: Cell, wrt: str, program: UnrolledCell, trace: Mapping[str, FloatArray], i: int
) -> FloatArray:
    """The term (i, i) of read-out parameter `wrt` in float64: (H, V) or (V,)."""
    scope, V = full_scope(program, trace, i), program.spec.V
    out = np.zeros(cell.read_out.param(wrt).shape(program.spec.D, program.spec.H, V))
    for use in cell.read_out.param_uses(wrt):
        back = trace["dy"][i] @ use.path.value(scope, V, V).T  # dL_i/du_i, (V,)
        out += np.outer(use.row.evaluate(scope), back) if use.row else back
    return out.ravel() if out.shape[0] == 1 else out


def readout_signal(cell: Cell, program: UnrolledCell, i: int) -> dict[str, sp.Matrix | None]:
    r"""$\mathrm{d}L_i/\mathrm{d}s_i$ through the read-out alone, (1, H) per state (None
    where $y_i$ does not read s)."""
    H, V, dy = program.spec.H, program.spec.V, program.dy[i]
    if cell.readout is None:  # y_i = h_i W_yh + b_y
        return {s: dy * program.params["Wyh"].T if s == "h" else None for s in cell.state_names}
    scope = program.step_scope(i)
    heads = {s: cell.readout.jacobian(s) for s in cell.state_names}
    return {s: dy * heads[s].matrix(scope, H, V).T if heads[s] else None for s in heads}
