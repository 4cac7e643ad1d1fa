r"""The expanded sum of every gradient of any cell, derived from the cell's equations alone.

The part of $\mathrm{d}L/\mathrm{d}\theta$ that loss $L_i$ sends through the copy of
$\theta$ used at step k is the term (i, k). In the row convention, with the default
read-out $y_t = h_t W_{yh} + b_y$ (a cell's own puts $(\partial y_i/\partial s_i)^\top$ in
place of $W_{yh}^\top$, for each state it reads: `derivations.gradient.readout`), it is

$$e_k^\top\,\frac{\partial L_i}{\partial y_i}\,W_{yh}^\top
  \sum_{s} \Big(\frac{\mathrm{d}h_i}{\mathrm{d}s_k}\Big)^{\!\top}
  \Big(\frac{\mathrm{d}s_k}{\mathrm{d}u_k}\Big)^{\!\top},\qquad
\frac{\mathrm{d}h_i}{\mathrm{d}s_k} = \sum_{\text{routes}} B_{k+1} \cdots B_i,$$

where $B_t(s, s') = \mathrm{d}s_t/\mathrm{d}s'_{t-1}$ are the one-step blocks
(`Cell.step_jacobian_blocks`), $u_k$ is where $\theta$ enters step k (the product
$e_k W$ of a weight, a bias, or $x_k$ itself) and $e_k^\top$ closes the product (the
row the weight multiplies; nothing for a bias, $x_k$ or an initial state). Every
block and every in-step derivative is a sum of products of named pieces, so the term
is a sum over *paths*: one product per choice of state at each step and of a way
through the equations of each step (`CellTerm.paths`). The read-out closes at k = i:
$h_i^\top\,\partial L_i/\partial y_i$ for $W_{yh}$, $\partial L_i/\partial y_i$ for $b_y$.

Which (i, k) exist (`cell_pairs`): k <= i for the cell's parameters and for X (the
term (i, k) belongs to $x_k$'s gradient); k = i for Wyh and by; k = 1 for an initial
state $s_0$ (the copy read by step 1, through the blocks $B_1(s, s_0)$), as
`rnnnum.components` indexes them (``terms[i-1, 0]``).

Nothing is multiplied out when the terms are built (`cell_expanded_sum` at T = 100
is cheap): `CellTerm.matrix` multiplies SymPy matrices in the symbols of an
`UnrolledCell`, `CellTerm.value` carries numbers back through the blocks (one cached
backward sweep per loss, shared by all terms of one trace), and only `CellTerm.paths`
lists the products one by one (for short spans: their number grows like the blocks'
path counts to the power i - k).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from derivations.core.cell import Cell, Input
from derivations.core.errors import OutOfRangeError, TooLargeError, UnknownChoiceError
from derivations.core.factors import ONE, FloatArray, LocalSum, Notation
from derivations.core.spec import MAX_STEPS
from derivations.gradient.links import (
    Entry,
    Link,
    Path,
    sum_notation,
    term_numbers,
    to_states,
)
from derivations.gradient.readout import (
    readout_paths,
    readout_signal,
    readout_term_matrix,
    readout_term_value,
)
from derivations.program.unroll import UnrolledCell

__all__ = [
    "MAX_TERM_PATHS",
    "CellGradient",
    "CellTerm",
    "Link",
    "Path",
    "cell_expanded_sum",
    "cell_gradient",
    "cell_pairs",
    "sum_notation",
    "to_states",
]

#: Most path products one term lists (`CellTerm.paths`): the LSTM's dh_i/dh_k alone has
#: 4, 19, 91, ... paths for i - k = 1, 2, 3, so a few thousand is a span of about 5.
MAX_TERM_PATHS = 4096


def _check_wrt(cell: Cell, wrt: object) -> str:
    if not isinstance(wrt, str) or wrt not in cell.gradient_names:
        raise UnknownChoiceError(
            f"wrt must be one of the {cell.name} cell's gradients, "
            f"{', '.join(cell.gradient_names)}; got {wrt!r}. Use one of these names exactly "
            "(per gate, e.g. Wxf, not rnnnum's stacked Wx)."
        )
    return wrt


def _check_T(T: object) -> int:
    if isinstance(T, bool) or not isinstance(T, int) or not 1 <= T <= MAX_STEPS:
        raise OutOfRangeError(
            f"T (the number of steps) must be an integer from 1 to {MAX_STEPS}; got {T!r}. "
            "Unroll at least one step; for longer sequences use rnnnum."
        )
    return T


@dataclass(frozen=True, eq=False)
class CellGradient:
    """Everything the terms of dL/d`wrt` share: the cell's blocks and where `wrt` enters."""

    cell: Cell
    wrt: str

    @cached_property
    def kind(self) -> str:
        """``"param"``, ``"Wyh"``, ``"by"``, ``"readout"`` (a cell's own read-out's
        parameter), ``"X"`` or ``"initial"`` (an $s_0$)."""
        if self.wrt in self.cell.param_names:
            return "param"
        if self.wrt in self.cell.read_out.param_names:
            return "readout" if self.cell.readout is not None else self.wrt
        if self.wrt == "X":
            return self.wrt
        return "initial"

    @cached_property
    def heads(self) -> dict[str, LocalSum]:
        r"""$\partial y_t/\partial s_t$ for each state s (`Readout.jacobian`): where
        $\partial L_i/\partial y_i$ enters the states; $W_{yh}$ into h by default."""
        return {s: self.cell.read_out.jacobian(s) for s in self.cell.state_names}

    @cached_property
    def blocks(self) -> dict[tuple[str, str], LocalSum]:
        r"""The one-step blocks $B(s, s') = \mathrm{d}s_t/\mathrm{d}s'_{t-1}$
        (`Cell.step_jacobian_blocks`)."""
        return self.cell.step_jacobian_blocks()

    @cached_property
    def entries(self) -> tuple[Entry, ...]:
        """Each place `wrt` enters a step, with its products to every state."""
        cell = self.cell
        if self.kind == "X":
            through = cell.through_step(Input())
            to_state = {s: through.get(s, LocalSum()) for s in cell.state_names}
            return (Entry("x_{k}", None, to_state, "D"),)
        if self.kind == "initial":
            state = self.wrt.removesuffix("0")
            to_state = {s: self.blocks[s, state] for s in cell.state_names}
            return (Entry(f"{state}_0", None, to_state),)
        out = []
        for eq in cell.equations:  # a cell parameter: every use in every equation
            for use in cell.param_uses(eq.name, self.wrt):
                inside = to_states(cell, eq.name)
                to_state = {s: use.path @ inside[s] for s in inside}
                top = use.path.terms == ONE.terms
                width = "1" if cell.param(self.wrt).cols == "1" else "H"  # a scalar: (1, 1)
                out.append(Entry(eq.name + "_{k}", use.row, to_state, width, direct=top))
        return tuple(out)

    @property
    def states(self) -> tuple[str, ...]:
        """The cell's states, in order."""
        return self.cell.state_names

    def pairs(self, T: int) -> list[tuple[int, int]]:
        """The (loss i, step k) pairs with a term, ordered by i then k."""
        T = _check_T(T)
        if self.kind in ("Wyh", "by", "readout"):
            return [(i, i) for i in range(1, T + 1)]
        if self.kind == "initial":
            return [(i, 1) for i in range(1, T + 1)]
        return [(i, k) for i in range(1, T + 1) for k in range(1, i + 1)]

    def shape(self, D: int, H: int, V: int) -> tuple[int, int]:
        """The SymPy shape of a term: (rows, H) for a parameter, (H, V), (1, V), (1, D), (1, H)."""
        if self.kind == "param":
            return self.cell.param(self.wrt).shape(D, H)
        if self.kind == "readout":
            return self.cell.read_out.param(self.wrt).shape(D, H, V)
        return {"Wyh": (H, V), "by": (1, V), "X": (1, D), "initial": (1, H)}[self.kind]

    def count_matrix(self) -> dict[tuple[str, str], int]:
        """How many paths each block holds."""
        return {key: len(block) for key, block in self.blocks.items()}


def cell_gradient(cell: Cell, wrt: str) -> CellGradient:
    """The shared data of dL/d`wrt` for `cell` (`wrt` one of `Cell.gradient_names`)."""
    if not isinstance(cell, Cell):
        raise UnknownChoiceError(
            f"cell must be a derivations Cell (derivations.core.cells.lstm(), load_cell(...)); "
            f"got {type(cell).__name__}."
        )
    return CellGradient(cell, _check_wrt(cell, wrt))


def cell_pairs(cell: Cell, wrt: str, T: int) -> list[tuple[int, int]]:
    """The (loss i, step k) pairs with a term in dL/d`wrt`, ordered by i then k."""
    return cell_gradient(cell, wrt).pairs(T)


def cell_expanded_sum(cell: Cell, wrt: str, T: int) -> list[CellTerm]:
    """Every term of dL/d`wrt` for T steps, one per (loss i, step k); nothing multiplied out."""
    gradient = cell_gradient(cell, wrt)
    return [CellTerm(gradient, i, k) for i, k in gradient.pairs(T)]


@dataclass(frozen=True)
class CellTerm:
    r"""The part of $\mathrm{d}L/\mathrm{d}w$ (w: `gradient.wrt`) from loss $L_i$ (``loss``)
    through step k (``step``).

    For ``X`` the term belongs to $x_k$'s gradient; for an initial state k is 1.
    """

    gradient: CellGradient = field(repr=False)
    loss: int
    step: int

    @property
    def wrt(self) -> str:
        """The quantity differentiated by."""
        return self.gradient.wrt

    @property
    def cell(self) -> Cell:
        """The cell."""
        return self.gradient.cell

    # --- the paths, one by one --------------------------------------------------------

    def path_count(self) -> int:
        """How many products the term holds (one or more per path), counted without listing."""
        g, i, k = self.gradient, self.loss, self.step
        if g.kind in ("Wyh", "by", "readout"):
            return sum(len(use.path) for use in g.cell.read_out.param_uses(g.wrt))
        counts, reach = g.count_matrix(), {s: len(g.heads[s]) for s in g.states}
        for _ in range(i - k):  # paths from h_i back to each state, one step at a time
            reach = {s2: sum(reach[s] * counts[s, s2] for s in g.states) for s2 in g.states}
        return sum(reach[s] * len(e.to_state[s]) for e in g.entries for s in g.states)

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every path product, in order: entry, landing state, route, ways through."""
        n = self.path_count()
        if n > MAX_TERM_PATHS:
            raise TooLargeError(
                f"term (i={self.loss}, k={self.step}) of dL/d{self.wrt} ({self.cell.name} cell) "
                f"has {n} products, too many to list (at most {MAX_TERM_PATHS}). Use its matrix or "
                "value (block products), or a shorter span i - k."
            )
        return tuple(self._paths())

    def _paths(self) -> Iterator[Path]:
        g, i, k = self.gradient, self.loss, self.step
        dy = Link(i)
        if g.kind in ("Wyh", "by", "readout"):  # dL_i/dy_i times dy_i/du_i, closed by u's row
            yield from readout_paths(g.cell, g.wrt, i)
            return
        for entry in g.entries:
            close = (Link(k, row=entry.row),) if entry.row is not None else ()
            for read in g.states:  # the state the read-out reads, then routes back to k
                for factor in g.heads[read].terms:
                    back = tuple(Link(i, piece=p) for p in factor.transpose().pieces)
                    head = (*close, dy, *back)
                    for land in g.states:
                        if not entry.to_state[land] or (i == k and land != read):
                            continue
                        for middle in itertools.product(g.states, repeat=max(i - k - 1, 0)):
                            route = (read, *middle, land)  # at i = k: no block
                            chosen = [g.blocks[route[j], route[j + 1]] for j in range(i - k)]
                            if all(chosen):
                                yield from _route_paths(
                                    head, i, k, entry, land, chosen, factor.sign
                                )

    # --- the term as a whole ----------------------------------------------------------

    def matrix(self, program: UnrolledCell) -> sp.Matrix:
        """The term as a SymPy matrix in `program`'s symbols, shaped like the gradient.

        (rows, H) for a cell parameter ((1, H) for a bias), (H, V) for Wyh, (1, V) for
        by, (1, D) for $x_k$ and (1, H) for an initial state. Multiplied through the
        blocks (the sum over paths, factored); `Path.matrix` gives the paths one by one.
        """
        g, i, k = self.gradient, self.loss, self.step
        dy = program.dy[i]
        if g.kind == "Wyh":
            return program.values["h"][i].T * dy
        if g.kind == "by":
            return dy
        H = program.spec.H
        if g.kind == "readout":
            return readout_term_matrix(g.cell, g.wrt, program, i)
        signal = readout_signal(g.cell, program, i)
        for t in range(i, k, -1):  # dL_i/ds_{t-1} = sum_s dL_i/ds_t B_t(s, s')^T
            scope = program.step_scope(t)
            signal = {
                s2: _add(
                    signal[s] * g.blocks[s, s2].matrix(scope, H, H).T
                    for s in g.states
                    if signal[s] is not None and g.blocks[s, s2]
                )
                for s2 in g.states
            }
        scope = program.step_scope(k)
        total = sp.zeros(*g.shape(program.spec.D, H, program.spec.V))
        for entry in g.entries:
            rows = entry.rows(program.spec.D, H)
            back = _add(
                signal[s] * entry.to_state[s].matrix(scope, rows, H).T
                for s in g.states
                if signal[s] is not None and entry.to_state[s]
            )
            if back is None:
                continue
            total += sp.Matrix([entry.row.forward(scope)]).T * back if entry.row else back
        return total

    def value(self, program: UnrolledCell, trace: Mapping[str, FloatArray]) -> FloatArray:
        """The term as float64 numbers at the point of `trace`, shaped as rnnnum's component.

        (rows, H) for a cell weight, (H,) for a bias, (H, V) for Wyh, (V,) for by, (D,)
        for $x_k$, (H,) for an initial state (rnnnum's (N, ·) with N = 1, flattened).
        `trace` is `UnrolledCell.trace` (with ``"dy"``); one backward sweep per loss is
        cached for the last trace seen, so evaluating all terms costs O(T^2) products.
        """
        numbers = term_numbers(program, trace)
        g, i, k = self.gradient, self.loss, self.step
        dy = numbers.trace["dy"][i]
        if g.kind == "Wyh":
            return np.outer(numbers.trace["h"][i], dy)
        if g.kind == "by":
            return np.array(dy, dtype=np.float64)
        if g.kind == "readout":
            return readout_term_value(g.cell, g.wrt, program, numbers.trace, i)
        if g.cell is not program.cell and not numbers.same_cell(g):
            raise UnknownChoiceError(
                f"the term belongs to the {g.cell.name} cell, the program to the "
                f"{program.cell.name} cell; unroll the term's own cell (unroll_cell)."
            )
        signal = numbers.stacked_signal(i, k)  # dL_i/ds_k for all states side by side
        total = np.zeros(g.shape(program.spec.D, program.spec.H, program.spec.V))
        for n, entry in enumerate(g.entries):
            back = signal @ numbers.entry(g, n, k)  # dL_i/du_k
            if entry.row is not None:
                total += np.outer(numbers.row(g, n, k), back)
            else:
                total += back
        return total.ravel() if total.shape[0] == 1 else total

    def latex(self, notation: Notation | UnrolledCell | None = None) -> str:
        """The term written out on one line: its path products joined by + and -."""
        chosen = _notation(self.cell, notation)
        text = ""
        for path in self.paths:
            part = path.latex(chosen)
            if not text:
                text = part
            elif part.startswith("-"):
                text += f" - {part[1:]}"
            else:
                text += f" + {part}"
        return text


def _notation(cell: Cell, notation: Notation | UnrolledCell | None) -> Notation:
    if notation is None or isinstance(notation, UnrolledCell):
        return sum_notation(cell)
    return notation


def _add(matrices: Iterator[Any]) -> Any:
    out = None
    for m in matrices:
        out = m if out is None else out + m
    return out


def _route_paths(
    head: tuple[Link, ...], i: int, k: int, entry: Entry, land: str, chosen: list[LocalSum],
    first: int,
) -> Iterator[Path]:  # fmt: skip
    """The paths of one route: one product per way through each block and the entry;
    `first` is the sign of the head's product."""
    options = [*chosen, entry.to_state[land]]
    for factors in itertools.product(*(block.terms for block in options)):
        links = list(head)
        sign, through = first, list[str]()
        for j, factor in enumerate(factors):
            t = i - j  # the entry's factor, j = i - k, is at step k
            back = factor.transpose()
            links += [Link(t, piece=p) for p in back.pieces]
            sign *= factor.sign
            through = [f"{v}_{t}" for v in factor.via] + through
        yield Path(sign, tuple(links), (entry.start.format(k=k), *through, f"y_{i}"))
