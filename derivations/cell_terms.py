r"""The (loss i, step k) terms of a parameter's gradient for any cell, from its equations.

For a parameter P used by the equation of variable v at step k, the part of
$\mathrm{d}L/\mathrm{d}P$ that loss $L_i$ sends through that copy is

$$\frac{\mathrm{d}L_i}{\mathrm{d}v_k} = \sum_{s} \frac{\mathrm{d}L_i}{\mathrm{d}s_k}
  \Big(\frac{\mathrm{d}s_k}{\mathrm{d}v_k}\Big)^{\!\top},\qquad
\frac{\mathrm{d}L_i}{\mathrm{d}s_k} = \frac{\partial L_i}{\partial y_i}\,W_{yh}^\top
  \Big(\frac{\mathrm{d}h_i}{\mathrm{d}s_k}\Big)^{\!\top},$$

then closed by where P enters v (`ParamUse`: the outer product with the row it
multiplies, or the identity for a bias). $\mathrm{d}h_i/\mathrm{d}s_k$ is the sum over the
routes of `derivations.cell_paths`, $\mathrm{d}s_k/\mathrm{d}v_k$ the paths inside step k.
Every factor is a `LocalSum` of the cell; here they are evaluated on numbers, which is
what `tests/test_derivations_cell_terms.py` compares with `rnnnum.components`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp

from derivations.cell import Cell, Ref
from derivations.cell_factors import ONE, LocalSum
from derivations.cell_paths import routes
from derivations.cell_unroll import UnrolledCell
from derivations.errors import OutOfRangeError, UnknownChoiceError

__all__ = ["numeric_term", "state_jacobian", "to_states"]

FloatArray = np.ndarray


def to_states(cell: Cell, variable: str) -> dict[str, LocalSum]:
    """$\\mathrm{d}s_t/\\mathrm{d}v_t$ for each state s: every path inside one step from v."""
    names = [eq.name for eq in cell.equations]
    if variable not in names:
        raise UnknownChoiceError(
            f"variable must be one of the {cell.name} cell's equations, {', '.join(names)}; "
            f"got {variable!r}."
        )
    totals: dict[str, LocalSum] = {variable: ONE}
    for eq in cell.equations[names.index(variable) + 1 :]:
        total = LocalSum()
        for leaf in cell.leaves(eq.name):
            if isinstance(leaf, Ref) and totals.get(leaf.name):
                total += totals[leaf.name] @ cell.local_jacobian(eq.name, leaf)
        totals[eq.name] = total
    return {s: totals.get(s, LocalSum()) for s in cell.state_names}


def state_jacobian(
    cell: Cell, program: UnrolledCell, trace: Mapping[str, FloatArray], i: int, k: int,
    of: str, wrt: str,
) -> FloatArray:  # fmt: skip
    """$\\mathrm{d}(of)_i/\\mathrm{d}(wrt)_k$ as numbers, (H, H), row convention (I when i = k)."""
    H = program.spec.H
    if i == k:
        return np.eye(H) if of == wrt else np.zeros((H, H))
    total = np.zeros((H, H))
    for route in routes(cell, i, k, of=of, wrt=wrt):
        product = np.eye(H)
        for j in reversed(range(len(route.blocks))):
            scope = program.numeric_scope(trace, route.i - j)
            product = product @ route.blocks[j].value(scope, H, H)
        total += product
    return total


def numeric_term(
    cell: Cell, program: UnrolledCell, numbers: Mapping[sp.Symbol, float], param: str,
    i: int, k: int,
) -> FloatArray:  # fmt: skip
    """The (i, k) term of dL/d`param` at the inputs `numbers`, shaped like the parameter.

    (D, H) or (H, H) for a matrix, (H,) for a bias; zero when k > i.
    """
    if param not in cell.param_names:
        raise UnknownChoiceError(
            f"param must be one of the {cell.name} cell's parameters, "
            f"{', '.join(cell.param_names)}; got {param!r}."
        )
    if not 1 <= k <= program.T or not 1 <= i <= program.T:
        raise OutOfRangeError(f"i and k must be steps 1..{program.T}; got i={i}, k={k}.")
    values = program.evaluate(numbers)
    trace = program.trace(numbers)
    spec = program.spec
    rows = {"D": spec.D, "H": spec.H, None: 1}[cell.param(param).rows]
    out = np.zeros((rows, spec.H))
    if k > i:
        return out[0] if rows == 1 else out
    dy = np.array([values[s] for s in program.dy[i]])  # ∂L_i/∂y_i, (V,)
    direct = dy @ trace["Wyh"].T  # dL_i/dh_i through y_i, (H,)
    to_state = {  # dL_i/ds_k for every state s, (H,) each
        s: direct @ state_jacobian(cell, program, trace, i, k, "h", s).T for s in cell.state_names
    }
    scope = program.numeric_scope(trace, k)
    for eq in cell.equations:
        uses = cell.param_uses(eq.name, param)
        if not uses:
            continue
        inside = to_states(cell, eq.name)
        signal = sum(  # dL_i/dv_k, (H,)
            (to_state[s] @ inside[s].value(scope, spec.H, spec.H).T for s in cell.state_names),
            np.zeros(spec.H),
        )
        for use in uses:
            back = signal @ use.path.value(scope, spec.H, spec.H).T  # onto the product e W
            e = use.row.evaluate(scope) if use.row is not None else np.ones(1)
            out += np.outer(e, back)
    return out[0] if rows == 1 else out
