r"""The read-out of a cell: $y_t$ (1, V) from the states of step t, and its parameters.

By default $y_t = h_t W_{yh} + b_y$ with the parameters ``Wyh`` (H, V) and ``by`` (1, V)
that every built-in cell shares. A cell may define its own (``y = tanh(h) @ W_yh + b_y``
in a class body, `derivations.core.define`): an expression tree over the states of the
same step (``Ref(state)``, width H) whose parameters have V columns (a (H, V) matrix, a
(1, V) vector; not a scalar). Its local derivatives come from the same node rules as
the cell's equations: $\partial y_t/\partial s_t$ (`Readout.jacobian`) carries
$\partial L_t/\partial y_t$ into each state it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from derivations.core.factors import FloatArray, LocalSum, Scope
from derivations.core.nodes import CellDefinitionError, Node, ParamUse, Prev, Ref, leaves
from derivations.core.ops import Add, Bias, MatMul
from derivations.core.parts import Param

__all__ = ["DEFAULT_READOUT", "Readout", "check_readout"]

#: What a read-out's name may not be: the program's own symbols.
_TAKEN = ("x", "y", "p", "dy", "L", "target")


@dataclass(frozen=True)
class Readout:
    """$y_t$ as an expression tree (``expr``) over the states of step t, and its parameters."""

    expr: Node
    params: tuple[Param, ...]

    @property
    def param_names(self) -> tuple[str, ...]:
        """The read-out's parameters' names in order (``("Wyh", "by")`` by default)."""
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        """The read-out parameter called `name`."""
        return next(p for p in self.params if p.name == name)

    @cached_property
    def states(self) -> tuple[str, ...]:
        """The states the read-out reads, in order of first appearance."""
        return tuple(leaf.name for leaf in leaves(self.expr) if isinstance(leaf, Ref))

    def jacobian(self, state: str) -> LocalSum:
        r"""$\partial y_t/\partial s_t$, (H, V) in the row convention (zero if not read)."""
        return self.expr.jacobian(Ref(state), Ref("y"))

    def param_uses(self, name: str) -> tuple[ParamUse, ...]:
        """Where parameter `name` enters $y_t$, each with its product to $y_t$ (V, V)."""
        return self.expr.param_uses(name, Ref("y"))

    def evaluate(self, scope: Scope) -> FloatArray:
        """$y_t$ as float64, (V,), from a scope whose ``refs`` hold the states of step t."""
        return self.expr.evaluate(scope)


#: $y_t = h_t W_{yh} + b_y$, shared by every cell that does not define its own.
DEFAULT_READOUT = Readout(
    Add(MatMul(Ref("h"), "Wyh"), Bias("by")),
    (
        Param("Wyh", "H", "V", "W_{yh}", "hidden-to-output weights"),
        Param("by", None, "V", "b_y", "output bias"),
    ),
)


class _Shapes:
    """The shape rules' view of a read-out: its own parameters, the states of step t."""

    def __init__(self, readout: Readout, states: tuple[str, ...], where: str) -> None:
        self.readout, self.states, self.where = readout, states, where

    def param_cols(self, name: str, where: str) -> str:
        self.param_rows(name, where)
        return self.readout.param(name).cols

    def param_rows(self, name: str, where: str) -> str | None:
        if name not in self.readout.param_names:
            raise CellDefinitionError(
                f"{where}: {name} is not a parameter of the read-out (its parameters: "
                f"{', '.join(self.readout.param_names) or 'none'}); a read-out has its own "
                "(H, V) matrices and (1, V) vectors. Declare one used only in y."
            )
        return self.readout.param(name).rows

    def ref_width(self, name: str, where: str) -> str:
        if name not in self.states:
            raise CellDefinitionError(
                f"{where}: the read-out reads the states of step t ({', '.join(self.states)}); "
                f"it reads {name}, which is not a state. Read a state, or make {name} one."
            )
        return "H"

    def state_width(self, name: str, where: str) -> str:
        raise CellDefinitionError(
            f"{where}: the read-out y_t reads the states of step t, not prev.{name} "
            f"(step t-1). Write {name} instead of prev.{name}."
        )


def check_readout(
    cell: str, readout: Readout, states: tuple[str, ...], taken: tuple[str, ...]
) -> None:
    """Validate a cell's own read-out; `taken` are the cell's parameter, state and variable
    names. Raise `CellDefinitionError` naming the rule broken and a fix."""
    where = f"cell {cell!r}, read-out y"
    if not isinstance(readout, Readout) or not isinstance(readout.expr, Node):
        raise CellDefinitionError(
            f"cell {cell!r}: readout must be a Readout(expr, params) (or None for "
            f"y_t = h_t W_yh + b_y); got {readout!r}."
        )
    for param in readout.params:
        if param.name in (*taken, *_TAKEN) or readout.param_names.count(param.name) > 1:
            raise CellDefinitionError(
                f"{where}: parameter name {param.name!r} is taken (by the cell, the program or "
                "another read-out parameter). Choose another name."
            )
        if (param.rows, param.cols) not in (("H", "V"), (None, "V")):
            kind = "a scalar" if param.cols == "1" else f"rows={param.rows!r}, cols={param.cols!r}"
            raise CellDefinitionError(
                f"{where}: a read-out parameter is a (H, V) matrix or a (1, V) vector; "
                f"{param.name} is {kind}. Use a vector() (b * e scales each output) instead."
            )
    for leaf in leaves(readout.expr):
        if isinstance(leaf, Prev):
            _Shapes(readout, states, where).state_width(leaf.state, where)
        if not isinstance(leaf, Ref):
            raise CellDefinitionError(
                f"{where}: the read-out reads the states of step t only; it reads "
                f"{leaf!r}. Feed x_t or prev.s into a state's equation instead."
            )
    width = readout.expr.width(_Shapes(readout, states, where), where)
    if width != "V":
        raise CellDefinitionError(
            f"{where}: y_t must be V wide (one entry per output); its expression gives width "
            f"{width}. Multiply a state by a (H, V) matrix: h @ W_yh."
        )
    used = {getattr(n, "param", None) for n in readout.expr.walk()}
    unused = [p for p in readout.param_names if p not in used]
    if unused:
        raise CellDefinitionError(
            f"{where}: every read-out parameter must appear in y; {', '.join(unused)} never "
            "does. Use it or remove it."
        )
