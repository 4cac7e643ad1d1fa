r"""The factors of a cell's path products, and the numbers of one trace, cached.

A `Path` of a term of `derivations.gradient.sums` is a signed product of `Link`s, each one
matrix at one step: a piece of a local Jacobian (`Weight`, `Diag`), the transposed row
$e_t^\top$ a weight multiplies, or the loss's local derivative $\partial L_t/\partial y_t$.
Each gives LaTeX, a SymPy matrix in an `UnrolledCell`'s symbols and float64 numbers.
`TermNumbers` holds what evaluating many terms at one point shares: each step's
numbers, the blocks' values and, per loss i, the signals $\mathrm{d}L_i/\mathrm{d}s_t$
of one backward sweep.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Protocol

import numpy as np
import sympy as sp

from derivations.core.cell import Cell, Input, Prev, Ref
from derivations.core.errors import OutOfRangeError, UnknownChoiceError
from derivations.core.factors import ONE, FloatArray, LocalSum, Notation, Piece, Scope
from derivations.core.nodes import Node
from derivations.program.unroll import UnrolledCell

__all__ = [
    "Entry",
    "Gradient",
    "Link",
    "Path",
    "TermNumbers",
    "full_scope",
    "sum_notation",
    "term_numbers",
    "to_states",
]


@dataclass(frozen=True)
class Entry:
    """Where the quantity enters step k: the closing row (None: none) and d s_k/d u_k per state.

    ``start`` is the LaTeX-free label of u_k with ``{k}`` for the step (``"ai_{k}"``,
    ``"x_{k}"``, ``"c_0"``); ``width`` is u_k's width, ``"D"`` (x_k), ``"H"``, or ``"1"``
    (a scalar parameter).
    """

    start: str
    row: Node | None
    to_state: dict[str, LocalSum]
    width: str = "H"
    #: True when wrt enters at the top of its equation (u_k is the equation's variable)
    direct: bool = False

    def rows(self, D: int, H: int) -> int:
        """u_k's width as a number."""
        return {"D": D, "H": H, "1": 1}[self.width]


def to_states(cell: Cell, variable: str) -> dict[str, LocalSum]:
    r"""$\mathrm{d}s_t/\mathrm{d}v_t$ for each state s: every path inside one step from v.

    (H, H) each in the row convention; the empty sum where v does not reach s. Each
    product's ``via`` names the variables after v it passes through, ending at s.
    """
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
        totals[eq.name] = total.through(eq.name)
    return {s: totals.get(s, LocalSum()) for s in cell.state_names}


class Gradient(Protocol):
    """What the links read of a gradient (`derivations.gradient.sums.CellGradient`): its cell,
    the quantity and where that quantity enters a step. A protocol, so that the links
    need not import the sums, which build on them."""

    @property
    def cell(self) -> Cell: ...
    @property
    def wrt(self) -> str: ...
    @property
    def entries(self) -> tuple[Entry, ...]: ...


def sum_notation(cell: Cell) -> Notation:
    """The cell's notation with the read-out's names added (what the sums print in)."""
    readout = {p.name: p.latex for p in cell.read_out.params}
    return Notation(cell.activation, {**cell.notation.latex, **readout})


@dataclass(frozen=True)
class Link:
    r"""One matrix of a path product, at step t: a `Piece` ($W_{hf}^\top$,
    $\operatorname{diag}(f_{t})$), the transposed row ``row`` ($e_t^\top$), or, with
    neither, $\partial L_t/\partial y_t$ (1, V)."""

    t: int
    piece: Piece | None = None
    row: Node | None = None

    def latex(self, notation: Notation) -> str:
        """The link's LaTeX; empty for a diagonal of ones (the identity)."""
        if self.piece is not None:
            return self.piece.latex(self.t, notation)
        if self.row is not None:
            text = self.row.latex(self.t, notation)
            return (
                rf"{text}^\top" if isinstance(self.row, Input | Prev | Ref) else rf"({text})^\top"
            )
        return rf"\frac{{\partial L_{{{self.t}}}}}{{\partial y_{{{self.t}}}}}"

    def matrix(self, program: UnrolledCell) -> sp.Matrix:
        """The link as a SymPy matrix in the program's symbols."""
        scope = program.step_scope(self.t)
        if self.piece is not None:
            return self.piece.matrix(scope)
        if self.row is not None:
            return sp.Matrix([self.row.forward(scope)]).T
        return program.dy[self.t]

    def value(self, program: UnrolledCell, trace: Mapping[str, FloatArray]) -> FloatArray:
        """The link as a float64 matrix, from a trace (`UnrolledCell.trace`)."""
        scope = full_scope(program, trace, self.t)
        if self.piece is not None:
            return self.piece.value(scope)
        if self.row is not None:
            row = self.row.evaluate(scope)
            return row.reshape(row.size, 1)
        return np.asarray(trace["dy"][self.t], dtype=np.float64)[None, :]


@dataclass(frozen=True)
class Path:
    r"""One product of a term: ``sign`` times the links, left to right as written.

    ``through`` names the variables the path passes, from where the quantity enters to
    $y_i$, each with its step (``("ai_1", "i_1", "c_1", "h_1", "y_1")``).
    """

    sign: int
    links: tuple[Link, ...]
    through: tuple[str, ...]

    def parts(self, notation: Notation) -> list[str]:
        """The links' LaTeX, identities left out (``["I"]`` when nothing shows)."""
        return [p for p in (link.latex(notation) for link in self.links) if p] or ["I"]

    def latex(self, notation: Notation) -> str:
        """The product joined by thin spaces, with a leading ``-`` when negative."""
        text = r"\,".join(self.parts(notation))
        return text if self.sign == 1 else f"-{text}"

    def matrix(self, program: UnrolledCell) -> sp.Matrix:
        """The product as a SymPy matrix, shaped like the term's `CellTerm.matrix`."""
        out = reduce(lambda a, b: a * b, (link.matrix(program) for link in self.links))
        return out if self.sign == 1 else -out

    def value(self, program: UnrolledCell, trace: Mapping[str, FloatArray]) -> FloatArray:
        """The product as numbers, shaped like the term's `CellTerm.value`."""
        out = reduce(np.matmul, (link.value(program, trace) for link in self.links))
        out = out if self.sign == 1 else -out
        return out.ravel() if out.shape[0] == 1 else out


def full_scope(program: UnrolledCell, trace: Mapping[str, FloatArray], t: int) -> Scope:
    """Step t's numbers, with every parameter (the read-out's too)."""
    scope = program.numeric_scope(trace, t)
    return Scope(
        scope.x, scope.prev, scope.refs, {p: trace[p] for p in program.params}, scope.activation
    )


class TermNumbers:
    """Cached numbers of one trace: step scopes, block values, backward signals per loss."""

    def __init__(self, program: UnrolledCell, trace: Mapping[str, FloatArray]) -> None:
        if "dy" not in trace:
            raise OutOfRangeError(
                "a trace for the terms needs 'dy' (the local derivatives of the losses by y_t, "
                f"(T+1, V)); got keys {sorted(trace)}. Build it with UnrolledCell.trace."
            )
        self.program, self.trace = program, trace
        self.states = program.cell.state_names
        self.block_defs = program.cell.step_jacobian_blocks()
        self.scopes: dict[int, Scope] = {}
        self.blocks: dict[tuple[int, str, str], FloatArray] = {}
        self.entries: dict[tuple[str, int, int], FloatArray] = {}
        self.rows: dict[tuple[str, int, int], FloatArray] = {}
        self.stacked: dict[tuple[int, int], FloatArray] = {}
        self.cells: dict[str, tuple[Gradient, bool]] = {}
        self.signals: dict[tuple[int, int], dict[str, FloatArray]] = {}

    def scope(self, t: int) -> Scope:
        """Step t's numbers."""
        if t not in self.scopes:
            self.scopes[t] = full_scope(self.program, self.trace, t)
        return self.scopes[t]

    def block(self, t: int, s: str, s2: str) -> FloatArray:
        """B_t(s, s2) as numbers, (H, H)."""
        key = (t, s, s2)
        if key not in self.blocks:
            H = self.program.spec.H
            self.blocks[key] = self.block_defs[s, s2].value(self.scope(t), H, H)
        return self.blocks[key]

    def same_cell(self, g: Gradient) -> bool:
        """Whether `g` is a gradient of this program's cell (an equal one), remembered."""
        if g.wrt not in self.cells:
            self.cells[g.wrt] = (g, g.cell == self.program.cell)
        held, same = self.cells[g.wrt]
        return same if held is g else g.cell == self.program.cell

    def entry(self, g: Gradient, n: int, k: int) -> FloatArray:
        """(d s_k/d u_k)^T of entry n of `g`, the states stacked: (n_states H, width of u)."""
        key = (g.wrt, n, k)
        if key not in self.entries:
            entry, spec = g.entries[n], self.program.spec
            rows, scope = entry.rows(spec.D, spec.H), self.scope(k)
            self.entries[key] = np.vstack(
                [
                    entry.to_state[s].value(scope, rows, spec.H).T
                    if entry.to_state[s]
                    else np.zeros((spec.H, rows))
                    for s in self.states
                ]
            )
        return self.entries[key]

    def row(self, g: Gradient, n: int, k: int) -> FloatArray:
        """The row e_k that entry n's weight multiplies at step k."""
        key = (g.wrt, n, k)
        if key not in self.rows:
            row = g.entries[n].row
            assert row is not None
            self.rows[key] = row.evaluate(self.scope(k))
        return self.rows[key]

    def stacked_signal(self, i: int, t: int) -> FloatArray:
        """dL_i/ds_t for the states side by side, (n_states H,)."""
        key = (i, t)
        if key not in self.stacked:
            signal = self.signal(i, t)
            self.stacked[key] = np.concatenate([signal[s] for s in self.states])
        return self.stacked[key]

    def signal(self, i: int, t: int) -> dict[str, FloatArray]:
        """dL_i/ds_t for every state s, (H,) each; one sweep back from step i, cached."""
        key = (i, t)
        if key not in self.signals:
            H = self.program.spec.H
            if t == i:
                out = self.direct(i)
            else:
                later = self.signal(i, t + 1)
                out = {s2: np.zeros(H) for s2 in self.states}
                for s, s2 in itertools.product(self.states, self.states):
                    if self.block_defs[s, s2]:
                        out[s2] = out[s2] + later[s] @ self.block(t + 1, s, s2).T
            self.signals[key] = out
        return self.signals[key]

    def direct(self, i: int) -> dict[str, FloatArray]:
        """dL_i/ds_i for every state s: dL_i/dy_i through the read-out, (H,) each."""
        cell, H, dy = self.program.cell, self.program.spec.H, self.trace["dy"][i]
        if cell.readout is None:
            direct = dy @ np.asarray(self.trace["Wyh"]).T
            return {s: direct if s == "h" else np.zeros(H) for s in self.states}
        scope, V = full_scope(self.program, self.trace, i), self.program.spec.V
        heads = {s: cell.read_out.jacobian(s) for s in self.states}
        return {s: dy @ heads[s].value(scope, H, V).T for s in self.states}


_LAST: list[TermNumbers] = []


def term_numbers(program: UnrolledCell, trace: Mapping[str, FloatArray]) -> TermNumbers:
    """The cache of the last (program, trace) pair; it holds both, so identity is safe."""
    if _LAST and _LAST[0].program is program and _LAST[0].trace is trace:
        return _LAST[0]
    _LAST[:] = [TermNumbers(program, trace)]
    return _LAST[0]
