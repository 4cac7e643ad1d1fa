r"""The front door: a cell written as its equations are written on paper.

A cell is a class body of your own Python; each line declares a parameter or defines
a variable of step t, and the class becomes a `derivations.core.cell.Cell`:

    from derivations import cell, matrix, prev, tanh, vector, x

    @cell
    class mi_rnn:  # multiplicative integration
        W_xh = matrix(rows="D")
        W_hh = matrix(rows="H")
        b_h = vector()
        alpha = vector()
        h = tanh(alpha * (x @ W_xh) * (prev.h @ W_hh) + b_h)

`x` is $x_t$; ``prev.h`` is $h_{t-1}$, and reading it makes ``h`` a state (the read-out
$y_t = h_t W_{yh} + b_y$ reads the state ``h``, which every cell has). `matrix` declares a
(D, H) or (H, H) weight, used as ``row @ W``; `vector` a (1, H) row that adds or scales
element-wise (a bias, a gain); `scalar` one number (1, 1). Each variable assigned an
expression is an equation, in the order written, and a later line reads it by its
name. Operators: ``@``, ``+``, ``-``, ``*`` (element-wise; a `scalar` parameter
scales a whole row), ``/`` (element-wise), ``**`` with a number, numbers
anywhere (``1 - z``, ``0.5 * a``); functions per equation: `tanh`, `sigmoid`, `relu`,
`leaky_relu`, `exp`, `log`, `softplus` and `act` (the cell's chosen activation,
``@cell(activation=...)``). LaTeX is derived from the code names (``W_xh`` is
$W_{xh}$, ``alpha`` is $\alpha$) unless given (``vector(latex="b_{i}")``,
``(...).shown_as("a^{i}")``). Nothing is parsed from text: the expressions are Python
objects, turned into the engine's nodes (`derivations.core.ops`,
`derivations.core.arith`), which derive everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from derivations.core.arith import Number
from derivations.core.cell import CellDefinitionError

__all__ = [
    "Declared",
    "Expr",
    "act",
    "exp",
    "is_number",
    "leaky_relu",
    "log",
    "matrix",
    "prev",
    "relu",
    "scalar",
    "sigmoid",
    "softplus",
    "tanh",
    "vector",
    "x",
]

_RULE = "Write a cell's expressions with x, prev.<state>, parameters and numbers"


def is_number(value: object) -> bool:
    """An int, float or Fraction (not a bool): a constant of an expression."""
    return isinstance(value, int | float | Fraction) and not isinstance(value, bool)


def _operand(value: object, op: str) -> Expr | Number:
    """An operand of `op`: an expression or a number, else a clear error."""
    if isinstance(value, Expr) or is_number(value):
        return value  # type: ignore[return-value]
    raise CellDefinitionError(
        f"{_RULE} (int, float or Fraction); the operand of {op!r} is "
        f"{type(value).__name__} {value!r}. Declare a parameter with matrix() or vector(), or "
        "read a state with prev.<name>."
    )


class Expr:
    """A row of step t being written: what x, prev.h, a vector and every operation give."""

    __slots__ = ("args", "kind")

    def __init__(self, kind: str, *args: Any) -> None:
        self.kind = kind
        self.args = args

    def __repr__(self) -> str:
        return f"<{self.describe()}>"

    def describe(self) -> str:
        """What this is, for messages."""
        if self.kind == "input":
            return "x (the input row)"
        if self.kind == "prev":
            return f"prev.{self.args[0]}"
        return f"an expression ({self.kind})"

    # --- operators: each builds the node of its rule --------------------------------------

    def __add__(self, other: object) -> Expr:
        other = _operand(other, "+")
        if _is_scalar(self) and isinstance(other, Expr):
            return Expr("offset", self, other)
        if _is_scalar(other):
            return Expr("offset", other, self)
        return Expr("shift", other, self) if is_number(other) else Expr("add", self, other)

    def __radd__(self, other: object) -> Expr:
        return Expr("shift", _operand(other, "+"), self, True)

    def __sub__(self, other: object) -> Expr:
        other = _operand(other, "-")
        if isinstance(other, Declared) and other.kind == "scalar":
            raise CellDefinitionError(
                f"a scalar parameter is added, not subtracted: write e + {other.describe()} "
                "(its sign is learnt) or -1 * s * e for a product."
            )
        return Expr("add", self, -other) if isinstance(other, Expr) else Expr("shift", -other, self)

    def __rsub__(self, other: object) -> Expr:
        c = _operand(other, "-")
        return Expr("oneminus", self) if c == 1 else Expr("shift", c, -self, True)

    def __neg__(self) -> Expr:
        return Expr("scale", -1, self)

    def __mul__(self, other: object) -> Expr:
        other = _operand(other, "*")
        if _is_scalar(self) and isinstance(other, Expr):
            return Expr("gain", self, other)
        if _is_scalar(other):
            return Expr("gain", other, self)
        return Expr("scale", other, self) if is_number(other) else Expr("mul", self, other)

    def __rmul__(self, other: object) -> Expr:
        return Expr("scale", _operand(other, "*"), self)

    def __truediv__(self, other: object) -> Expr:
        other = _operand(other, "/")
        if isinstance(other, Expr):
            return Expr("div", self, other)
        if other == 0:
            raise CellDefinitionError(
                f"{self.describe()} / 0 divides by zero; divide by a nonzero number."
            )
        inverse = 1 / Fraction(other) if isinstance(other, int | Fraction) else 1.0 / other
        return Expr("scale", inverse, self)

    def __rtruediv__(self, other: object) -> Expr:
        c = _operand(other, "/")
        inverse = Expr("pow", self, -1)
        return inverse if c == 1 else Expr("scale", c, inverse)

    def __pow__(self, other: object) -> Expr:
        if not is_number(other):
            raise CellDefinitionError(
                f"a power's exponent must be a number (int, float or Fraction); got {other!r}. "
                "Write exp(b * log(a)) for a power with an expression as exponent."
            )
        return Expr("pow", self, other)

    def __matmul__(self, other: object) -> Expr:
        if not (isinstance(other, Declared) and other.kind == "matrix"):
            what = (
                other.describe() if isinstance(other, Expr) else f"{type(other).__name__} {other!r}"
            )
            raise CellDefinitionError(
                f"row @ W multiplies a row by a weight matrix declared with matrix(rows=...); "
                f"the right side here is {what}. A vector scales (v * e) or adds (e + v) "
                "element-wise; declare a matrix for a product."
            )
        return Expr("matmul", self, other)

    def __rmatmul__(self, other: object) -> Expr:
        raise CellDefinitionError(
            f"a matrix product is row @ W with the row on the left (the row convention, "
            f"x_t W_xh); got {other!r} @ {self.describe()}. Put the row first."
        )

    def __bool__(self) -> bool:
        raise CellDefinitionError(
            f"{self.describe()} is a row of symbols, not a truth value: an equation cannot "
            "branch on it. Use relu, or write the branches as separate cells."
        )

    def shown_as(self, latex: str) -> Expr:
        """This expression, its variable written `latex` on the pages (``a^{i}``)."""
        if not isinstance(latex, str) or not latex:
            raise CellDefinitionError(
                f"shown_as takes the variable's LaTeX, e.g. 'a^{{i}}'; got {latex!r}."
            )
        return Expr("shown", self, latex)


class Declared(Expr):
    """A parameter declared by `matrix` or `vector`: its rows, LaTeX and meaning."""

    __slots__ = ("latex", "meaning", "name", "rows")

    def __init__(
        self, kind: str, name: str | None, rows: str | None, latex: str | None, meaning: str
    ) -> None:
        super().__init__(kind)
        self.name, self.rows, self.latex, self.meaning = name, rows, latex, meaning

    def describe(self) -> str:
        label = f" {self.name}" if self.name else ""
        if self.kind == "matrix":
            return f"the matrix{label} (matrix(rows={self.rows!r}))"
        return f"the {self.kind}{label} ({self.kind}())"


def matrix(
    name: str | None = None, *, rows: str, latex: str | None = None, meaning: str = ""
) -> Declared:
    """A weight matrix (rows, H), used as ``row @ W``: rows ``"D"`` for x, ``"H"`` for a state."""
    if rows not in ("D", "H"):
        raise CellDefinitionError(
            f"matrix(rows=...) is 'D' (it multiplies x) or 'H' (it multiplies a state); got "
            f"rows={rows!r}. For an element-wise row use vector()."
        )
    return Declared("matrix", name, rows, latex, meaning)


def vector(name: str | None = None, *, latex: str | None = None, meaning: str = "") -> Declared:
    """A (1, H) row parameter: a bias (``e + b``) or an element-wise gain (``v * e``)."""
    return Declared("vector", name, None, latex, meaning)


def scalar(name: str | None = None, *, latex: str | None = None, meaning: str = "") -> Declared:
    """A scalar parameter (1, 1), broadcast: a gain (``s * e``) or an offset (``e + s``)."""
    return Declared("scalar", name, None, latex, meaning)


def _is_scalar(value: object) -> bool:
    return isinstance(value, Declared) and value.kind == "scalar"


class _Prev:
    """``prev.h`` is $h_{t-1}$: the state h at the step before."""

    def __getattr__(self, name: str) -> Expr:
        if name.startswith("__"):
            raise AttributeError(name)
        return Expr("prev", name)

    def __call__(self, name: str) -> Expr:
        return Expr("prev", name)


#: $x_t$, the input row at step t, width D.
x = Expr("input")
#: ``prev.h``: a state at step t-1.
prev = _Prev()


def _function(kind: str) -> Callable[[Expr], Expr]:
    def apply(a: Expr) -> Expr:
        if not isinstance(a, Expr):
            raise CellDefinitionError(
                f"{kind}(...) applies to a row of the cell (x, prev.h, a parameter or an "
                f"expression of them); got {type(a).__name__} {a!r}."
            )
        return Expr("func", kind, a)

    apply.__name__ = apply.__qualname__ = kind
    apply.__doc__ = f"``{kind}`` applied element-wise (its derivative is derived)."
    return apply


tanh, sigmoid, relu, leaky_relu = (_function(k) for k in ("tanh", "sigmoid", "relu", "leaky_relu"))
exp, log, softplus = (_function(k) for k in ("exp", "log", "softplus"))
#: The cell's chosen activation (``@cell(activation="relu")``; vanilla's f).
act = _function("act")
