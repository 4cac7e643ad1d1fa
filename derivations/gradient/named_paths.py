r"""Named paths of a cell, and the block product of its one-step Jacobians as numbers.

For each state s, the part of its one-step block $B(s, s)$ that s's own equation reads
directly from $s_{t-1}$ (the products whose path is that equation alone). Over i - k
steps, with the other states held fixed, the product of these parts is the state's own
path: the LSTM's cell-state path $\mathrm{diag}(f_{k+1}) \cdots \mathrm{diag}(f_i)$ (the
constant error carousel of Hochreiter and Schmidhuber 1997), the residual cell's skip I,
the GRU's $\operatorname{diag}(z_{k+1}) \cdots \operatorname{diag}(z_i)$. The vanilla
cell has none: its h_t reads h_{t-1} only through a_t.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

import numpy as np

from derivations.core.cell import Cell
from derivations.core.errors import OutOfRangeError, UnknownChoiceError
from derivations.core.factors import FloatArray, LocalSum
from derivations.gradient.links import full_scope
from derivations.program.unroll import UnrolledCell

__all__ = ["block_product_value", "named_path_latex", "named_path_value", "named_paths"]


def named_paths(cell: Cell) -> dict[str, LocalSum]:
    r"""For each state s, the products of B(s, s) that s's own equation reads from s_{t-1}.

    The products whose path through the step is s's equation alone (``via == (s,)``):
    the LSTM's $\partial c_t/\partial c_{t-1} = \operatorname{diag}(f_t)$, the residual
    cell's I, the GRU's $\operatorname{diag}(z_t)$. States without one are left out.
    """
    blocks = cell.step_jacobian_blocks()
    out = {}
    for s in cell.state_names:
        own = tuple(term for term in blocks[s, s].terms if term.via == (s,))
        if own:
            out[s] = LocalSum(own)
    return out


def _named(cell: Cell, state: str) -> LocalSum:
    paths = named_paths(cell)
    if state not in paths:
        raise UnknownChoiceError(
            f"state {state!r} of the {cell.name} cell has no named path (a product its own "
            f"equation reads from its value at t-1); states that have one: "
            f"{', '.join(paths) or 'none'}."
        )
    return paths[state]


def named_path_latex(cell: Cell, state: str, i: int | None = None, k: int | None = None) -> str:
    r"""The named path of `state` from step k to step i with the other states held fixed.

    Written out, $P_{k+1} P_{k+2} \cdots P_i$ (earliest step first; I when k = i); with
    i and k None, the compact $\prod_{t=k+1}^{i} P_t$. For the LSTM's c this is the
    cell-state path $\prod \operatorname{diag}(f_t)$.
    """
    own = _named(cell, state)
    notation = cell.notation

    def one(t: int | str) -> str:
        text = own.latex(t, notation)
        return f"({text})" if len(own) > 1 else text

    if i is None and k is None:
        return rf"\prod_{{t=k+1}}^{{i}} {one('t')}"
    if not isinstance(i, int) or not isinstance(k, int) or isinstance(i, bool) or not 0 <= k <= i:
        raise OutOfRangeError(
            f"a path runs from step k to a later step i, 0 <= k <= i; got i={i!r}, k={k!r}."
        )
    factors = [one(t) for t in range(k + 1, i + 1)]
    shown = [f for f in factors if f != "I"]
    return r"\,".join(shown) if shown else "I"


def named_path_value(
    cell: Cell, state: str, program: UnrolledCell, trace: Mapping[str, FloatArray], i: int, k: int
) -> FloatArray:
    """The named path of `state` from step k to step i as numbers, (H, H), row convention."""
    own = _named(cell, state)
    if not 0 <= k <= i <= program.T:
        raise OutOfRangeError(f"steps must satisfy 0 <= k <= i <= T={program.T}; got i={i}, k={k}.")
    H = program.spec.H
    factors = [own.value(full_scope(program, trace, t), H, H) for t in range(k + 1, i + 1)]
    return reduce(np.matmul, factors, np.eye(H))


def block_product_value(
    cell: Cell, program: UnrolledCell, trace: Mapping[str, FloatArray], i: int, k: int
) -> FloatArray:
    r"""$\mathrm{d}s_i/\mathrm{d}s_k = J_{k+1} \cdots J_i$ as numbers, (nH, nH), row convention.

    Block (r, c) (rows by the state at k, columns by the state at i, in the cell's state
    order) is $\mathrm{d}s^{(c)}_i/\mathrm{d}s^{(r)}_k$, as `rnnnum.jacobian_products` stores it.
    """
    if not 0 <= k <= i <= program.T:
        raise OutOfRangeError(f"steps must satisfy 0 <= k <= i <= T={program.T}; got i={i}, k={k}.")
    names, H = cell.state_names, program.spec.H
    blocks = cell.step_jacobian_blocks()
    out = np.eye(len(names) * H)
    for t in range(k + 1, i + 1):
        scope = full_scope(program, trace, t)
        J = np.block([[blocks[s, s2].value(scope, H, H) for s in names] for s2 in names])
        out = out @ J
    return out
