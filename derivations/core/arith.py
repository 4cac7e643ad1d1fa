r"""Arithmetic with constants, powers and division, each with its local chain rule.

Beside `derivations.core.ops` (products with a parameter, sums, element-wise products and
functions, $1 - a$): a constant times a row, a row plus a constant, a power of a row,
the element-wise quotient of two rows, and a scalar parameter s, (1, 1), times a row or
added to it (`Gain`, `Offset`),

$$\begin{aligned}J_{c\,a} &= c\,J_a, & J_{a + c} &= J_a, \\
J_{a^{p}} &= J_a\,\operatorname{diag}(p\,a^{p-1}), &
J_{a/b} &= J_a\,\operatorname{diag}(b^{-1}) - J_b\,\operatorname{diag}(a/b^{2}).\end{aligned}$$

A constant is an int, a float or a `fractions.Fraction`; SymPy gets its exact value
(a float's binary value, so that exact proofs stay exact) and the pages its own text
(``0.5``; a fraction as $\tfrac{p}{q}$).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from derivations.core.factors import (
    ONE,
    Diag,
    FloatArray,
    LocalFactor,
    LocalSum,
    Notation,
    RowFactor,
    Scope,
    code_name,
)
from derivations.core.nodes import CellDefinitionError, Node, ParamUse, Shapes
from derivations.core.ops import Add, Func, MatMul, Mul, OneMinus, _same_width, _wrap, _wrap_code

__all__ = [
    "Div",
    "Fill",
    "Gain",
    "Number",
    "Offset",
    "Pow",
    "ScalarFill",
    "Scale",
    "Shift",
    "exact",
    "number_latex",
]

Expr = Any
Number = int | float | Fraction


def exact(c: Number) -> Expr:
    """The constant as an exact SymPy number (a float's binary value)."""
    if isinstance(c, Fraction):
        return sp.Rational(c.numerator, c.denominator)
    return sp.Integer(c) if isinstance(c, int) else sp.Rational(c)


def number_latex(c: Number) -> str:
    r"""``2``, ``0.5``, ``\tfrac{1}{3}``, ``-\tfrac{1}{3}``."""
    if isinstance(c, Fraction) and c.denominator != 1:
        sign = "-" if c < 0 else ""
        return rf"{sign}\tfrac{{{abs(c.numerator)}}}{{{c.denominator}}}"
    return str(int(c)) if isinstance(c, Fraction) else repr(c)


def _number_code(c: Number) -> str:
    return f"({c.numerator} / {c.denominator})" if isinstance(c, Fraction) else repr(c)


def _negative(c: Number) -> bool:
    return c < 0


@dataclass(frozen=True)
class Fill(Node):
    """The constant c in every entry of a row as wide as `like` (a diagonal of c·I)."""

    c: Number
    like: Node

    def forward(self, scope: Scope) -> list[Expr]:
        return [exact(self.c)] * len(self.like.forward(scope))

    def evaluate(self, scope: Scope) -> FloatArray:
        return np.full_like(self.like.evaluate(scope), float(self.c), dtype=np.float64)

    def width(self, shapes: Shapes, where: str) -> str:
        return self.like.width(shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return number_latex(self.c)

    def code(self, activation: str) -> str:
        return _number_code(self.c)


@dataclass(frozen=True)
class Scale(Node):
    r"""$c\,a$ for a constant c; $\partial (c\,a)/\partial a = c\,I$."""

    c: Number
    a: Node

    @property
    def sum_like(self) -> bool:  # type: ignore[override]
        return _negative(self.c)

    def children(self) -> tuple[Node, ...]:
        return (self.a,)

    def forward(self, scope: Scope) -> list[Expr]:
        return [exact(self.c) * v for v in self.a.forward(scope)]

    def evaluate(self, scope: Scope) -> FloatArray:
        return float(self.c) * self.a.evaluate(scope)

    def width(self, shapes: Shapes, where: str) -> str:
        return self.a.width(shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        a = _wrap(self.a, t, notation, Add, OneMinus)
        if self.c == -1:
            return f"-{a}"
        return rf"{number_latex(self.c)}\,{a}"

    def code(self, activation: str) -> str:
        a = _wrap_code(self.a, activation, Add, OneMinus)
        return f"-{a}" if self.c == -1 else f"{_number_code(self.c)} * {a}"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        if self.c == -1:
            return (LocalSum((LocalFactor((), -1),)),)  # -I
        return (LocalSum((LocalFactor((Diag(Fill(self.c, self.a)),)),)),)  # c I


@dataclass(frozen=True)
class Shift(Node):
    r"""$a + c$ for a constant c; $\partial (a + c)/\partial a = I$.

    ``first`` writes the constant first, as typed: $1 + a$, $1 - b$ (a = -b).
    """

    c: Number
    a: Node
    first: bool = False

    sum_like = True

    def children(self) -> tuple[Node, ...]:
        return (self.a,)

    def forward(self, scope: Scope) -> list[Expr]:
        return [v + exact(self.c) for v in self.a.forward(scope)]

    def evaluate(self, scope: Scope) -> FloatArray:
        return self.a.evaluate(scope) + float(self.c)

    def width(self, shapes: Shapes, where: str) -> str:
        return self.a.width(shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return self._written(self.a.latex(t, notation), number_latex)

    def code(self, activation: str) -> str:
        return self._written(self.a.code(activation), _number_code)

    def _written(self, a: str, number: Callable[[Number], str]) -> str:
        if self.first:
            return f"{number(self.c)} - {a[1:]}" if a.startswith("-") else f"{number(self.c)} + {a}"
        sign = "-" if _negative(self.c) else "+"
        return f"{a} {sign} {number(-self.c if self.c < 0 else self.c)}"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        return (ONE,)


def _power_base(node: Node, text: str) -> str:
    r"""The base of a power, in parentheses unless a leaf or a function's value: $\exp(g)^{2}$."""
    atomic = (not node.children() or isinstance(node, Func)) and "^" not in text
    return text if atomic else f"({text})"


@dataclass(frozen=True)
class Pow(Node):
    r"""$a^{p}$ element-wise, p a constant.

    $\partial a^{p}/\partial a = \operatorname{diag}(p\,a^{p-1})$.
    """

    a: Node
    p: Number

    def children(self) -> tuple[Node, ...]:
        return (self.a,)

    def forward(self, scope: Scope) -> list[Expr]:
        return [v ** exact(self.p) for v in self.a.forward(scope)]

    def evaluate(self, scope: Scope) -> FloatArray:
        return np.power(self.a.evaluate(scope), float(self.p))

    def width(self, shapes: Shapes, where: str) -> str:
        return self.a.width(shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return f"{_power_base(self.a, self.a.latex(t, notation))}^{{{number_latex(self.p)}}}"

    def code(self, activation: str) -> str:
        base = _power_base(self.a, self.a.code(activation))
        return f"{base} ** {_number_code(self.p)}"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        if self.p == 1:
            return (ONE,)
        lower = self.a if self.p == 2 else Pow(self.a, self.p - 1)
        return (LocalSum((LocalFactor((Diag(Scale(self.p, lower)),)),)),)  # diag(p a^(p-1))


@dataclass(frozen=True)
class Div(Node):
    r"""$a / b$ element-wise.

    $\partial (a/b)/\partial a = \operatorname{diag}(b^{-1})$ and
    $\partial (a/b)/\partial b = -\operatorname{diag}(a/b^{2})$.
    """

    a: Node
    b: Node

    def children(self) -> tuple[Node, ...]:
        return (self.a, self.b)

    def forward(self, scope: Scope) -> list[Expr]:
        return [u / v for u, v in zip(self.a.forward(scope), self.b.forward(scope), strict=True)]

    def evaluate(self, scope: Scope) -> FloatArray:
        return self.a.evaluate(scope) / self.b.evaluate(scope)

    def width(self, shapes: Shapes, where: str) -> str:
        return _same_width(self, (self.a, self.b), shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return rf"\frac{{{self.a.latex(t, notation)}}}{{{self.b.latex(t, notation)}}}"

    def code(self, activation: str) -> str:
        a = _wrap_code(self.a, activation, Add, OneMinus)
        b = _wrap_code(self.b, activation, Add, OneMinus, Mul, MatMul, Div, Scale)
        return f"{a} / {b}"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        return (
            LocalSum((LocalFactor((Diag(Pow(self.b, -1)),)),)),  # J_a diag(1/b)
            LocalSum((LocalFactor((Diag(Div(self.a, Pow(self.b, 2))),), -1),)),  # -J_b diag(a/b²)
        )


def _scalar(scope: Scope, name: str) -> Expr:
    """The value of a scalar parameter: a (1, 1) SymPy matrix's entry, or a float."""
    value = scope.params[name]
    return value[0, 0] if isinstance(value, sp.MatrixBase) else float(np.ravel(value)[0])


def _check_scalar(node: Node, name: str, shapes: Shapes, where: str) -> None:
    if shapes.param_rows(name, where) is not None or shapes.param_cols(name, where) != "1":
        raise CellDefinitionError(
            f"{where}: {type(node).__name__}({name!r}, ...) reads a scalar parameter "
            f"(rows=None, cols='1'), but {name} is not one. Declare it with "
            f"Param({name!r}, None, cols='1') (scalar()), or use Bias/MatMul for a row or matrix."
        )


@dataclass(frozen=True)
class ScalarFill(Node):
    """A scalar parameter s in every entry of a row as wide as `like` (a diagonal of s·I)."""

    param: str
    like: Node

    def forward(self, scope: Scope) -> list[Expr]:
        return [_scalar(scope, self.param)] * len(self.like.forward(scope))

    def evaluate(self, scope: Scope) -> FloatArray:
        return np.full_like(self.like.evaluate(scope), _scalar(scope, self.param))

    def width(self, shapes: Shapes, where: str) -> str:
        return self.like.width(shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return notation.latex[self.param]

    def code(self, activation: str) -> str:
        return code_name(self.param)


@dataclass(frozen=True)
class Gain(Node):
    r"""$s\,a$ for a scalar parameter s, (1, 1), broadcast over the row.

    $\partial (s\,a)/\partial a = s\,I$ and $\partial (s\,a)/\partial s = a$ (a row).
    """

    param: str
    a: Node

    def children(self) -> tuple[Node, ...]:
        return (self.a,)

    def forward(self, scope: Scope) -> list[Expr]:
        return [_scalar(scope, self.param) * v for v in self.a.forward(scope)]

    def evaluate(self, scope: Scope) -> FloatArray:
        return _scalar(scope, self.param) * self.a.evaluate(scope)

    def width(self, shapes: Shapes, where: str) -> str:
        _check_scalar(self, self.param, shapes, where)
        return self.a.width(shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return rf"{notation.latex[self.param]}\,{_wrap(self.a, t, notation, Add, OneMinus)}"

    def code(self, activation: str) -> str:
        return f"{code_name(self.param)} * {_wrap_code(self.a, activation, Add, OneMinus)}"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        return (LocalSum((LocalFactor((Diag(ScalarFill(self.param, self.a)),)),)),)  # s I

    def param_uses(self, name: str, out: Node | None = None) -> tuple[ParamUse, ...]:
        own = (ParamUse(None, LocalSum((LocalFactor((RowFactor(self.a),)),))),)  # the row a
        return (own if name == self.param else ()) + super().param_uses(name, out)


@dataclass(frozen=True)
class Offset(Node):
    r"""$a + s$ for a scalar parameter s, broadcast; $\partial (a + s)/\partial s = \mathbf{1}$."""

    param: str
    a: Node

    sum_like = True

    def children(self) -> tuple[Node, ...]:
        return (self.a,)

    def forward(self, scope: Scope) -> list[Expr]:
        return [v + _scalar(scope, self.param) for v in self.a.forward(scope)]

    def evaluate(self, scope: Scope) -> FloatArray:
        return self.a.evaluate(scope) + _scalar(scope, self.param)

    def width(self, shapes: Shapes, where: str) -> str:
        _check_scalar(self, self.param, shapes, where)
        return self.a.width(shapes, where)

    def latex(self, t: int | str, notation: Notation) -> str:
        return f"{self.a.latex(t, notation)} + {notation.latex[self.param]}"

    def code(self, activation: str) -> str:
        return f"{self.a.code(activation)} + {code_name(self.param)}"

    def edges(self, out: Node) -> tuple[LocalSum, ...]:
        return (ONE,)

    def param_uses(self, name: str, out: Node | None = None) -> tuple[ParamUse, ...]:
        ones = LocalSum((LocalFactor((RowFactor(Fill(1, self.a)),)),))  # a row of ones
        return ((ParamUse(None, ones),) if name == self.param else ()) + super().param_uses(
            name, out
        )
