r"""The expression trees a cell's equations are written in: the base type and the leaves.

A tree's leaves are what one step reads: `Input` ($x_t$, width D), `Prev` (a state at
t-1, width H) and `Ref` (a variable an earlier equation of the same step defined).
The operations with their rules are in `derivations.core.ops`. Every node carries, side
by side: its forward map on rows of SymPy scalars (`forward`), the same map on float
arrays (`evaluate`), its shape rule (`width`), its LaTeX (`latex`) and its local chain
rule (`edges`: the Jacobian of its value with respect to each child, in the row
convention of `derivations.core.factors`). From the edges, `Node.jacobian` gives the
local derivative $\partial u/\partial v$ of a tree with respect to a leaf v, holding
the equation's other arguments fixed, and `Node.param_uses` its derivative with
respect to a parameter (`ParamUse`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import sympy as sp

from derivations.core.errors import DerivationError
from derivations.core.factors import ONE, ZERO, FloatArray, LocalSum, Notation, Scope, code_name

__all__ = [
    "CellDefinitionError",
    "Input",
    "Node",
    "ParamUse",
    "Prev",
    "Ref",
    "Shapes",
    "code_name",
    "leaves",
]

Expr = Any  # a SymPy expression


class CellDefinitionError(DerivationError, ValueError):
    """A cell's equations break a rule (order, names, shapes); the message says which."""


class Shapes(Protocol):
    """What a shape rule needs to know about the cell (`derivations.core.cell.Cell` provides it)."""

    def param_rows(self, name: str, where: str) -> str | None: ...
    def param_cols(self, name: str, where: str) -> str: ...
    def ref_width(self, name: str, where: str) -> str: ...
    def state_width(self, name: str, where: str) -> str: ...


class Node:
    """Base of the expression nodes; each subclass is a frozen dataclass."""

    #: Whether the node's LaTeX reads as a sum (a factor or a power wraps it in parentheses)
    sum_like: bool = False

    def children(self) -> tuple[Node, ...]:
        """The sub-expressions this node reads, in order."""
        return ()

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, parents first."""
        yield self
        for child in self.children():
            yield from child.walk()

    def forward(self, scope: Scope) -> list[Expr]:
        """The node's row of SymPy expressions."""
        raise NotImplementedError

    def evaluate(self, scope: Scope) -> FloatArray:
        """The node's row as float64, from arrays in `scope`."""
        raise NotImplementedError

    def width(self, shapes: Shapes, where: str) -> str:
        """``"D"`` or ``"H"``; raises `CellDefinitionError` when shapes disagree."""
        raise NotImplementedError

    def latex(self, t: int | str, notation: Notation) -> str:
        """The expression at step t."""
        raise NotImplementedError

    def code(self, activation: str) -> str:
        """The node at step t as NumPy code on rows: ``f[t] * c[t-1] + i[t] * g[t]``.

        `activation` is what ``Func("act", ...)`` applies; a function prints by its name.
        """
        raise NotImplementedError

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        """∂(this node)/∂(each child), one `LocalSum` per child; `out` names this node's value."""
        return ()

    def jacobian(self, leaf: Node, out: Node | None = None) -> LocalSum:
        """The local Jacobian of this node's value with respect to `leaf`, (width(leaf), H).

        `out` stands for this node's value where a rule writes it (an equation passes
        ``Ref(its name)``, so that σ' of a gate i reads ``i ⊙ (1 - i)``).
        """
        total = ZERO
        for child, edge in zip(self.children(), self.edges(out or self), strict=True):
            total += child.jacobian(leaf) @ edge
        return total

    def param_uses(self, name: str, out: Node | None = None) -> tuple[ParamUse, ...]:
        """Every place parameter `name` enters, with the product carrying it to this value."""
        uses: tuple[ParamUse, ...] = ()
        for child, edge in zip(self.children(), self.edges(out or self), strict=True):
            uses += tuple(ParamUse(u.row, u.path @ edge) for u in child.param_uses(name))
        return uses


class _Leaf(Node):
    def jacobian(self, leaf: Node, out: Node | None = None) -> LocalSum:
        return ONE if self == leaf else ZERO  # ∂v/∂v = I


@dataclass(frozen=True)
class Input(_Leaf):
    """$x_t$, the input row at step t, width D."""

    def forward(self, scope: Scope) -> list[Expr]:
        return list(scope.x)

    def evaluate(self, scope: Scope) -> FloatArray:
        return np.asarray(scope.x, dtype=np.float64)

    def width(self, shapes: Shapes, where: str) -> str:
        return "D"

    def latex(self, t: int | str, notation: Notation) -> str:
        return rf"x_{{{t}}}"

    def code(self, activation: str) -> str:
        return "x[t]"


@dataclass(frozen=True)
class Prev(_Leaf):
    """A state at step t-1 (``Prev("h")`` is $h_{t-1}$), width H."""

    state: str

    def forward(self, scope: Scope) -> list[Expr]:
        return list(scope.prev[self.state])

    def evaluate(self, scope: Scope) -> FloatArray:
        return np.asarray(scope.prev[self.state], dtype=np.float64)

    def width(self, shapes: Shapes, where: str) -> str:
        return shapes.state_width(self.state, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return notation.at(self.state, t, -1)

    def code(self, activation: str) -> str:
        return f"{code_name(self.state)}[t-1]"


@dataclass(frozen=True)
class Ref(_Leaf):
    """A variable defined by an earlier equation of the same step."""

    name: str

    def forward(self, scope: Scope) -> list[Expr]:
        return list(scope.refs[self.name])

    def evaluate(self, scope: Scope) -> FloatArray:
        return np.asarray(scope.refs[self.name], dtype=np.float64)

    def width(self, shapes: Shapes, where: str) -> str:
        return shapes.ref_width(self.name, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return notation.at(self.name, t)

    def code(self, activation: str) -> str:
        return f"{code_name(self.name)}[t]"


@dataclass(frozen=True)
class ParamUse:
    r"""One place a parameter enters: the row it multiplies (None for a bias) and the path on.

    With $u = e\,W$ and the product $P$ (``path``) from $u$ to the value $v$,
    $\partial v_l/\partial W_{jk} = e_j P_{kl}$; for a bias $\partial v_l/\partial b_k = P_{kl}$.
    """

    row: Node | None
    path: LocalSum

    def derivative(self, scope: Scope, rows: int, cols: int, out: int) -> list[list[list[Expr]]]:
        """The SymPy entries ∂v_l/∂W_jk as ``[j][k][l]`` (``rows`` is 1 for a bias)."""
        e = self.row.forward(scope) if self.row is not None else [sp.Integer(1)]
        path = self.path.matrix(scope, cols, out)
        return [[[e[j] * path[k, m] for m in range(out)] for k in range(cols)] for j in range(rows)]


def leaves(node: Node) -> list[Node]:
    """The distinct leaves (Input, Prev, Ref) of a tree, in order of first appearance."""
    seen: dict[Node, None] = {}
    for n in node.walk():
        if isinstance(n, _Leaf):
            seen.setdefault(n)
    return list(seen)
