r"""The operations of a cell's expression trees, each with its local chain rule, micrograd style.

Each node type carries, side by side: its forward map on rows of SymPy scalars
(`forward`), the same map on float arrays (`evaluate`), its shape rule (`width`), its
LaTeX (`latex`) and its local chain rule (`edges`): the Jacobian of the node's value
with respect to each child, in the row convention of `derivations.core.factors`.
From the edges, `Node.jacobian` gives $\partial u/\partial v$ for a leaf v ($x_t$, a
state at t-1 or a variable the step defined earlier), holding the equation's other
arguments fixed:

$$\begin{aligned}J_{\text{leaf}} &= I, & J_{eW} &= J_e\,W, & J_{a+b} &= J_a + J_b, \\
J_{f(a)} &= J_a\,\operatorname{diag}(f'(a)), & J_{1-a} &= -J_a, \\
J_{a \odot b} &= J_a\,\operatorname{diag}(b) + J_b\,\operatorname{diag}(a),\end{aligned}$$

and `Node.param_uses` the derivative with respect to a parameter: every place the
parameter enters, with the row it multiplies ($\partial (eW)/\partial W$ is the outer
product with $e$; $\partial (\ldots + b)/\partial b = I$) and the product carrying
that place to the node's value.

The element-wise functions an equation may apply are `FUNC_KINDS`, each equation its
own: ``"act"`` (the cell's chosen activation, ``Cell(activation=...)``, what vanilla
and residual take from the command line), ``"sigmoid"``, ``"tanh"``, ``"relu"``,
``"leaky_relu"``, ``"identity"`` (`derivations.core.spec.ACTIVATIONS`), ``"exp"``,
``"log"`` and ``"softplus"`` (`derivations.core.functions.ELEMENTWISE`). Constants,
powers and division are in `derivations.core.arith`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, reduce
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from derivations.core.factors import (
    ONE,
    Diag,
    FloatArray,
    LocalFactor,
    LocalSum,
    Notation,
    Scope,
    Weight,
)
from derivations.core.functions import ELEMENTWISE
from derivations.core.nodes import CellDefinitionError, Node, ParamUse, Shapes, code_name
from derivations.core.spec import ACTIVATIONS, SymbolicActivation

__all__ = [
    "FUNC_KINDS",
    "Add",
    "Bias",
    "Func",
    "MatMul",
    "Mul",
    "OneMinus",
    "Slope",
    "function",
]

Expr = Any  # a SymPy expression
FUNC_KINDS = ("sigmoid", "tanh", "act", "relu", "leaky_relu", "identity", "exp", "log", "softplus")
"""The element-wise functions an equation may apply (`Func` kinds), each equation its own:
``"act"`` is the cell's chosen activation; the others are fixed, so a ReLU candidate may
sit beside a sigmoid gate."""


def function(kind: str, activation: str) -> SymbolicActivation:
    """The SymPy definition of a `Func` kind: one of `FUNC_KINDS`, "act" the chosen activation."""
    name = activation if kind == "act" else kind
    return ACTIVATIONS[name] if name in ACTIVATIONS else ELEMENTWISE[name]  # read at each call


@cache
def _numeric(kind: str, activation: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """f(a) and f'(a) given (a, f(a)), lambdified to NumPy from the SymPy definitions."""
    act = function(kind, activation)
    a, h = sp.symbols("a h", real=True)
    return sp.lambdify(a, act.forward(a), "numpy"), sp.lambdify((a, h), act.derivative(a, h))


def _wrap(node: Node, t: int | str, notation: Notation, *kinds: type) -> str:
    """The node's LaTeX, in parentheses if it is one of `kinds` or reads as a sum."""
    text = node.latex(t, notation)
    return f"({text})" if isinstance(node, kinds) or node.sum_like else text


def _wrap_code(node: Node, activation: str, *kinds: type) -> str:
    text = node.code(activation)
    return f"({text})" if isinstance(node, kinds) or node.sum_like else text


def _joined(parts: list[str]) -> str:
    """Terms joined by ``+``, a term written with a leading minus joined by ``-``."""
    text = parts[0]
    for part in parts[1:]:
        text += f" - {part[1:]}" if part.startswith("-") else f" + {part}"
    return text


@dataclass(frozen=True)
class MatMul(Node):
    r"""$e\,W$: a row times a parameter matrix; $\partial(eW)/\partial e = W$."""

    expr: Node
    param: str

    def children(self) -> tuple[Node, ...]:
        return (self.expr,)

    def forward(self, scope: Scope) -> list[Expr]:
        return list(sp.Matrix([self.expr.forward(scope)]) * scope.params[self.param])

    def evaluate(self, scope: Scope) -> FloatArray:
        return self.expr.evaluate(scope) @ np.asarray(scope.params[self.param])

    def width(self, shapes: Shapes, where: str) -> str:
        rows = shapes.param_rows(self.param, where)
        got = self.expr.width(shapes, where)
        if rows is None or rows != got:
            need = "a bias (use Bias)" if rows is None else f"a ({rows}, H) matrix"
            raise CellDefinitionError(
                f"{where}: MatMul(e, {self.param!r}) multiplies a row of width {got} by "
                f"{self.param}, which is {need}; the rows of the matrix must match the row. "
                f"Declare {self.param} with rows={got!r}"
                + (
                    ", or add it as a bias (Bias) instead of multiplying by it."
                    if rows is None
                    else f" or multiply a row of width {rows}."
                )
            )
        return shapes.param_cols(self.param, where)  # H; V in a read-out

    def latex(self, t: int | str, notation: Notation) -> str:
        row = _wrap(self.expr, t, notation, Add, Mul, OneMinus)
        return f"{row} {notation.latex[self.param]}"

    def code(self, activation: str) -> str:
        return f"{_wrap_code(self.expr, activation, Add, Mul, OneMinus)} @ {code_name(self.param)}"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        return (LocalSum((LocalFactor((Weight(self.param),)),)),)  # J_e W

    def param_uses(self, name: str, out: Node | None = None) -> tuple[ParamUse, ...]:
        own = (ParamUse(self.expr, ONE),) if name == self.param else ()  # outer product with e
        return own + super().param_uses(name, out)


@dataclass(frozen=True)
class Bias(Node):
    r"""A bias row $b$, width H; $\partial(\ldots + b)/\partial b = I$."""

    param: str

    def forward(self, scope: Scope) -> list[Expr]:
        return list(scope.params[self.param])

    def evaluate(self, scope: Scope) -> FloatArray:
        return np.asarray(scope.params[self.param], dtype=np.float64).reshape(-1)

    def width(self, shapes: Shapes, where: str) -> str:
        rows = shapes.param_rows(self.param, where)
        if rows is not None:
            raise CellDefinitionError(
                f"{where}: Bias({self.param!r}) needs a bias (rows=None), but {self.param} is "
                f"a ({rows}, H) matrix. Use MatMul(row, {self.param!r}) for a matrix."
            )
        cols = shapes.param_cols(self.param, where)
        if cols == "1":
            raise CellDefinitionError(
                f"{where}: Bias({self.param!r}) needs a (1, H) row, but {self.param} is a "
                f"scalar (1, 1). Use Gain({self.param!r}, e) for s e or Offset for e + s."
            )
        return cols  # H; V in a read-out

    def latex(self, t: int | str, notation: Notation) -> str:
        return notation.latex[self.param]

    def code(self, activation: str) -> str:
        return code_name(self.param)

    def param_uses(self, name: str, out: Node | None = None) -> tuple[ParamUse, ...]:
        return (ParamUse(None, ONE),) if name == self.param else ()


@dataclass(frozen=True, init=False)
class Add(Node):
    """The sum of two or more rows of equal width; ∂(a + b)/∂a = I."""

    terms: tuple[Node, ...]

    def __init__(self, *terms: Node) -> None:
        object.__setattr__(self, "terms", terms)

    def children(self) -> tuple[Node, ...]:
        return self.terms

    def forward(self, scope: Scope) -> list[Expr]:
        rows = [term.forward(scope) for term in self.terms]
        return [sp.Add(*column) for column in zip(*rows, strict=True)]

    def evaluate(self, scope: Scope) -> FloatArray:
        return reduce(np.add, (term.evaluate(scope) for term in self.terms))

    def width(self, shapes: Shapes, where: str) -> str:
        return _same_width(self, self.terms, shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return _joined([term.latex(t, notation) for term in self.terms])

    def code(self, activation: str) -> str:
        return _joined([term.code(activation) for term in self.terms])

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        return (ONE,) * len(self.terms)


@dataclass(frozen=True)
class Mul(Node):
    r"""$a \odot b$ element-wise.

    $\partial (a \odot b)/\partial a = \operatorname{diag}(b)$ and
    $\partial (a \odot b)/\partial b = \operatorname{diag}(a)$.
    """

    a: Node
    b: Node

    def children(self) -> tuple[Node, ...]:
        return (self.a, self.b)

    def forward(self, scope: Scope) -> list[Expr]:
        return [u * v for u, v in zip(self.a.forward(scope), self.b.forward(scope), strict=True)]

    def evaluate(self, scope: Scope) -> FloatArray:
        return self.a.evaluate(scope) * self.b.evaluate(scope)

    def width(self, shapes: Shapes, where: str) -> str:
        return _same_width(self, (self.a, self.b), shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        a = _wrap(self.a, t, notation, Add, OneMinus)
        b = _wrap(self.b, t, notation, Add, OneMinus)
        return rf"{a} \odot {b}"

    def code(self, activation: str) -> str:
        a = _wrap_code(self.a, activation, Add, OneMinus)
        return f"{a} * {_wrap_code(self.b, activation, Add, OneMinus)}"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        return (
            LocalSum((LocalFactor((Diag(self.b),)),)),  # J_a diag(b)
            LocalSum((LocalFactor((Diag(self.a),)),)),  # J_b diag(a)
        )


@dataclass(frozen=True)
class Func(Node):
    r"""$f(a)$ element-wise, f one of `FUNC_KINDS`.

    $\partial f(a)/\partial a = \operatorname{diag}(f'(a))$.
    """

    kind: str
    a: Node

    def children(self) -> tuple[Node, ...]:
        return (self.a,)

    def forward(self, scope: Scope) -> list[Expr]:
        act = function(self.kind, scope.activation)
        return [act.forward(v) for v in self.a.forward(scope)]

    def evaluate(self, scope: Scope) -> FloatArray:
        f, _ = _numeric(self.kind, scope.activation)
        return np.asarray(f(self.a.evaluate(scope)), dtype=np.float64)

    def width(self, shapes: Shapes, where: str) -> str:
        if self.kind not in FUNC_KINDS:
            raise CellDefinitionError(
                f"{where}: Func kind must be one of {', '.join(FUNC_KINDS)}; got {self.kind!r}. "
                "Use 'act' for the cell's chosen activation (Cell(activation=...))."
            )
        return self.a.width(shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return function(self.kind, notation.activation).latex(self.a.latex(t, notation))

    def code(self, activation: str) -> str:
        name = activation if self.kind == "act" else self.kind
        return f"{name}({self.a.code(activation)})"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        return (LocalSum((LocalFactor((Diag(Slope(self.kind, self.a, out)),)),)),)


@dataclass(frozen=True)
class OneMinus(Node):
    """1 - a element-wise; ∂(1 - a)/∂a = -I."""

    a: Node

    def children(self) -> tuple[Node, ...]:
        return (self.a,)

    def forward(self, scope: Scope) -> list[Expr]:
        return [1 - v for v in self.a.forward(scope)]

    def evaluate(self, scope: Scope) -> FloatArray:
        return 1.0 - self.a.evaluate(scope)

    def width(self, shapes: Shapes, where: str) -> str:
        return self.a.width(shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return f"1 - {_wrap(self.a, t, notation, Add, OneMinus)}"

    def code(self, activation: str) -> str:
        return f"1 - {_wrap_code(self.a, activation, Add, OneMinus)}"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        return (LocalSum((LocalFactor((), -1),)),)


@dataclass(frozen=True)
class Slope(Node):
    r"""$f'(a)$ written through $o = f(a)$: $o \odot (1 - o)$ for σ, $1 - o^2$ for tanh.

    Only inside `Diag` pieces of local Jacobians, never in an equation.
    """

    kind: str
    a: Node
    out: Node

    def forward(self, scope: Scope) -> list[Expr]:
        act = function(self.kind, scope.activation)
        a, o = sp.Dummy("a"), sp.Dummy("o")
        rule = act.derivative(a, o)
        outs = self.out.forward(scope)
        if a not in rule.free_symbols:  # through f(a) alone (tanh, σ): a is never built
            return [rule.xreplace({o: value}) for value in outs]
        rows = zip(self.a.forward(scope), outs, strict=True)
        return [act.derivative(x, value) for x, value in rows]

    def evaluate(self, scope: Scope) -> FloatArray:
        _, fprime = _numeric(self.kind, scope.activation)
        a = self.a.evaluate(scope)
        return np.broadcast_to(np.asarray(fprime(a, self.out.evaluate(scope)), float), a.shape)

    def width(self, shapes: Shapes, where: str) -> str:
        raise CellDefinitionError(
            f"{where}: Slope is the derivative a rule writes, not part of an equation. "
            "Write the equation with Func; its derivative is derived."
        )

    def latex(self, t: int | str, notation: Notation) -> str:
        act = function(self.kind, notation.activation)
        a = self.a.latex(t, notation)
        return act.derivative_latex(a, self.out.latex(t, notation))

    def code(self, activation: str) -> str:
        """f'(a) printed by SymPy's NumPy printer from the activation's own derivative."""
        a, out = (
            sp.Symbol(_wrap_code(n, activation, Add, Mul, MatMul, OneMinus))
            for n in (self.a, self.out)
        )
        derivative = function(self.kind, activation).derivative(a, out)
        return str(NumPyPrinter({"fully_qualified_modules": False}).doprint(derivative))


def _same_width(node: Node, parts: tuple[Node, ...], shapes: Shapes, where: str) -> str:
    widths = [part.width(shapes, where) for part in parts]
    if len(set(widths)) != 1:
        raise CellDefinitionError(
            f"{where}: {type(node).__name__} needs rows of one width; got widths "
            f"{', '.join(widths)}. Multiply the D-wide input by a (D, H) matrix first."
        )
    return widths[0]
