r"""The rows of a backward loop's plan (`derivations.gradient.loop.loop_plan`), as data.

Each `Row` is a (1, width) row the loop computes at iteration t: an adjoint, a signal,
a carry, $\partial L_t/\partial y_t$ itself or sent into h through $W_{yh}^\top$, a row
pulled back through one piece of a local Jacobian, or minus a row. `Define`, `Update`
and `LoopPlan` say which rows are summed into what.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivations.core.cell import Cell
from derivations.core.factors import Piece
from derivations.core.nodes import Node

__all__ = [
    "Adjoint",
    "Carried",
    "Define",
    "LoopPlan",
    "Negated",
    "Output",
    "Pulled",
    "Readout",
    "Row",
    "Signal",
    "Update",
]


@dataclass(frozen=True)
class Row:
    """A row signal of one iteration t, as data (what it is, not its value)."""


@dataclass(frozen=True)
class Adjoint(Row):
    r"""$\bar v_t = \mathrm{d}L/\mathrm{d}v_t$ for the variable `name`."""

    name: str


@dataclass(frozen=True)
class Signal(Row):
    r"""$\delta^{v}_t$: the adjoint where a parameter enters equation `name` (the n-th place)."""

    name: str
    index: int = 1


@dataclass(frozen=True)
class Carried(Row):
    r"""$\kappa^{s}_{t+1} = \mathrm{d}(L_{t+1} + \dots + L_T)/\mathrm{d}s_t$ (zero at t = T)."""

    state: str


@dataclass(frozen=True)
class Output(Row):
    r"""$g_t = \partial L_t/\partial y_t$ itself: what a cell's own read-out pulls back."""


@dataclass(frozen=True)
class Readout(Row):
    r"""$\frac{\partial L_t}{\partial y_t} W_{yh}^\top$: what $L_t$ sends into $h_t$ via $y_t$."""


@dataclass(frozen=True)
class Pulled(Row):
    r"""`row` sent back through one piece P of a local Jacobian: $\text{row}\,P^\top$."""

    row: Row
    piece: Piece


@dataclass(frozen=True)
class Negated(Row):
    """Minus `row`."""

    row: Row


@dataclass(frozen=True)
class Define:
    """``target = sum(parts)`` (an `Adjoint` or a `Signal`; no parts: zero)."""

    target: Adjoint | Signal
    parts: tuple[Row, ...]


@dataclass(frozen=True)
class Update:
    """What parameter `param` gets at iteration t: sum of row(node)ᵀ signal over `uses`.

    A use's node is None for a bias (the signal itself is added).
    """

    param: str
    uses: tuple[tuple[Node | None, Row], ...]


@dataclass(frozen=True)
class LoopPlan:
    """One iteration of the backward loop of a cell, as data, in the order it runs.

    ``defines``: adjoints and signals, reverse equation order; ``carries``: each state's
    carry to step t-1; ``inputs``: the parts of $\\bar x_t$; ``updates``: per parameter.
    """

    cell: Cell
    defines: tuple[Define, ...]
    carries: dict[str, tuple[Row, ...]]
    inputs: tuple[Row, ...]
    updates: tuple[Update, ...]
