r"""Local Jacobians as data: the pieces a chain-rule product of a cell is made of.

A local Jacobian of one equation of a cell, with respect to one of its leaves, is a
sum of products (`LocalSum` of `LocalFactor`s). Each product is a sign and a
sequence of named pieces, multiplied left to right in the row convention (entry
(j, l) is the derivative of output l by input j, so a row perturbation $\Delta u$
moves the output by $\Delta u\,J$ and a row gradient $\bar g$ travels back as
$\bar g\,J^\top$):

- `Weight`: a parameter matrix, e.g. $W_{hf}$, or its transpose $W_{hf}^\top$;
- `Diag`: $\operatorname{diag}(e)$ of an expression $e$ of the step's variables,
  e.g. $\operatorname{diag}(f_{t})$ or $\operatorname{diag}(1 - \tanh(c_{t})^{2})$;
- the empty product, the identity $I$; with ``sign=-1``, $-I$.

The same data gives a SymPy matrix (`matrix`, for given symbol rows), the LaTeX the
pages show (`latex`) and a float64 array (`value`, from the numbers of one step), so
what is displayed and what is checked cannot drift apart.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Protocol

import numpy as np
import sympy as sp
from numpy.typing import NDArray

__all__ = [
    "ONE",
    "ZERO",
    "Diag",
    "LocalFactor",
    "LocalSum",
    "Notation",
    "Piece",
    "RowFactor",
    "Scope",
    "Weight",
    "code_name",
    "step_label",
]

FloatArray = NDArray[np.float64]


class Expression(Protocol):
    """What a factor reads of an expression tree (`derivations.core.nodes.Node`): its row
    as SymPy and as floats, and its LaTeX and NumPy code at a step. A protocol, so that
    the factors need not import the nodes, which build on them."""

    def forward(self, scope: Scope) -> list[Any]: ...
    def evaluate(self, scope: Scope) -> FloatArray: ...
    def latex(self, t: int | str, notation: Notation) -> str: ...
    def code(self, activation: str) -> str: ...


@dataclass(frozen=True)
class Scope:
    """The values one step of a cell reads: SymPy rows and matrices, or NumPy arrays.

    Attributes:
        x: the input row x_t, width D (a list of SymPy expressions or a float array).
        prev: each state at step t-1 by name, width H.
        refs: each variable the step has defined so far, by equation name.
        params: each parameter by name, (D, H), (H, H) or (1, H) for a bias
            (a SymPy Matrix, or a float array whose bias is 1-D (H,)).
        activation: the name of the cell's chosen activation (``Func("act", ...)``).
    """

    x: Any
    prev: Mapping[str, Any]
    refs: Mapping[str, Any]
    params: Mapping[str, Any]
    activation: str = "tanh"


@dataclass(frozen=True)
class Notation:
    """What LaTeX needs besides the tree: the chosen activation and each name's LaTeX.

    ``latex`` maps parameter, state and equation names to their LaTeX without a step,
    e.g. ``{"Wxf": "W_{xf}", "c": "c", "ai": "a^{i}"}``.
    """

    activation: str
    latex: Mapping[str, str]

    def at(self, name: str, t: int | str, offset: int = 0) -> str:
        """``c_{t-1}``, ``a^{i}_{3}``: a variable's LaTeX at step t + offset."""
        return f"{self.latex[name]}_{{{step_label(t, offset)}}}"


def step_label(t: int | str, offset: int = 0) -> str:
    """The step index as LaTeX text: ``(3, -1) -> "2"``, ``("t", -1) -> "t-1"``."""
    if isinstance(t, int):
        return str(t + offset)
    if offset == 0:
        return t
    return f"{t}{offset:+d}"


def code_name(name: str) -> str:
    """A cell name as a Python identifier: itself, or with ``_`` appended if a keyword (``do_``)."""
    return f"{name}_" if keyword.iskeyword(name) else name


@dataclass(frozen=True)
class Weight:
    r"""A parameter matrix as a factor: $W$ (``transposed=False``) or $W^\top$."""

    name: str
    transposed: bool = False

    def transpose(self) -> Weight:
        """The same matrix with the transpose flipped."""
        return Weight(self.name, not self.transposed)

    def matrix(self, scope: Scope) -> sp.Matrix:
        """The (rows, H) SymPy matrix of the parameter (its transpose if flagged)."""
        w: sp.Matrix = scope.params[self.name]
        return w.T if self.transposed else w

    def value(self, scope: Scope) -> FloatArray:
        """The float64 array of the parameter (its transpose if flagged)."""
        w = np.asarray(scope.params[self.name], dtype=np.float64)
        return w.T if self.transposed else w

    def latex(self, t: int | str, notation: Notation) -> str:
        """``W_{hf}`` or ``W_{hf}^\\top``."""
        return notation.latex[self.name] + (r"^\top" if self.transposed else "")

    def pull(self, row: sp.Matrix, scope: Scope) -> sp.Matrix:
        r"""A row gradient sent back through this piece P: $\bar g\,P^\top$ (SymPy)."""
        w: sp.Matrix = scope.params[self.name]
        return row * (w if self.transposed else w.T)

    def code(self, row: str, activation: str) -> str:
        """`pull` as NumPy code on the row named `row`: ``row @ W.T`` (``row @ W`` if flagged)."""
        return f"{row} @ {code_name(self.name)}" + ("" if self.transposed else ".T")


@dataclass(frozen=True)
class Diag:
    r"""$\operatorname{diag}(e)$ for an expression tree `e` of one step's variables."""

    expr: Expression

    def transpose(self) -> Diag:
        """A diagonal matrix is its own transpose."""
        return self

    def matrix(self, scope: Scope) -> sp.Matrix:
        """The diagonal SymPy matrix of `expr`'s row."""
        return sp.diag(*self.expr.forward(scope))

    def value(self, scope: Scope) -> FloatArray:
        """The diagonal float64 matrix of `expr`'s row."""
        return np.diag(self.expr.evaluate(scope))

    def latex(self, t: int | str, notation: Notation) -> str:
        r"""``\operatorname{diag}(f_{t})``; empty when the diagonal is 1 (the identity)."""
        inner = self.expr.latex(t, notation)
        return "" if inner == "1" else rf"\operatorname{{diag}}({inner})"

    def pull(self, row: sp.Matrix, scope: Scope) -> sp.Matrix:
        r"""$\bar g\,\operatorname{diag}(e) = \bar g \odot e$ for a SymPy row $\bar g$."""
        return row.multiply_elementwise(sp.Matrix([self.expr.forward(scope)]))

    def code(self, row: str, activation: str) -> str:
        """`pull` as NumPy code: ``row * e`` (nothing when e is 1), e in parentheses if a sum."""
        inner = self.expr.code(activation)
        if inner == "1":
            return row
        sum_like = re.search(r" [-+] ", inner) or inner.startswith("-")
        return f"{row} * ({inner})" if sum_like else f"{row} * {inner}"


@dataclass(frozen=True)
class RowFactor:
    r"""A row $e$ as a factor, (1, width): what carries a scalar parameter s of $s\,e$ to
    its value ($\partial (s\,e)/\partial s = e$); transposed, the column $e^\top$."""

    expr: Expression
    transposed: bool = False

    def transpose(self) -> RowFactor:
        """The same row with the transpose flipped."""
        return RowFactor(self.expr, not self.transposed)

    def matrix(self, scope: Scope) -> sp.Matrix:
        """The (1, width) SymPy row of `expr` (a column if flagged)."""
        row = sp.Matrix([self.expr.forward(scope)])
        return row.T if self.transposed else row

    def value(self, scope: Scope) -> FloatArray:
        """The float64 row of `expr`, (1, width) (a column if flagged)."""
        row = np.asarray(self.expr.evaluate(scope), dtype=np.float64).reshape(1, -1)
        return row.T if self.transposed else row

    def latex(self, t: int | str, notation: Notation) -> str:
        r"""``a_{t}`` or ``a_{t}^\top``; a row of ones is $\mathbf{1}$."""
        inner = self.expr.latex(t, notation)
        inner = r"\mathbf{1}" if inner == "1" else inner
        return inner + (r"^\top" if self.transposed else "")

    def pull(self, row: sp.Matrix, scope: Scope) -> sp.Matrix:
        r"""$\bar g\,P^\top$: the (1, 1) sum $\bar g \cdot e$, or $\bar g\,e$ if flagged."""
        return row * self.matrix(scope).T

    def code(self, row: str, activation: str) -> str:
        """`pull` as NumPy code: the row sum of ``row * e`` (``row * e`` if flagged)."""
        inner = self.expr.code(activation)
        if self.transposed:
            return f"{row} * ({inner})"
        return f"({row} * ({inner})).sum(axis=-1, keepdims=True)"


Piece = Weight | Diag | RowFactor


@dataclass(frozen=True)
class LocalFactor:
    """One product of a local Jacobian: ``sign`` times the pieces, left to right.

    The empty product is the identity of the width of the leaf it starts from.
    ``via`` names the variables the product passes through, in order (for display
    of paths; it does not enter the value).
    """

    pieces: tuple[Piece, ...] = ()
    sign: int = 1
    via: tuple[str, ...] = ()

    def __matmul__(self, other: LocalFactor) -> LocalFactor:
        return LocalFactor(
            (*self.pieces, *other.pieces), self.sign * other.sign, (*self.via, *other.via)
        )

    def transpose(self) -> LocalFactor:
        r"""The transpose: pieces reversed, each transposed ($(AB)^\top = B^\top A^\top$)."""
        pieces = tuple(p.transpose() for p in reversed(self.pieces))
        return LocalFactor(pieces, self.sign, tuple(reversed(self.via)))

    def matrix(self, scope: Scope, size: int) -> sp.Matrix:
        """The product as a SymPy matrix; `size` is the width of the identity when empty."""
        out = reduce(lambda a, b: a * b, (p.matrix(scope) for p in self.pieces), sp.eye(size))
        return out if self.sign == 1 else -out

    def value(self, scope: Scope, size: int) -> FloatArray:
        """The product as a float64 matrix; `size` is the width of the identity when empty."""
        out = reduce(np.matmul, (p.value(scope) for p in self.pieces), np.eye(size))
        return out if self.sign == 1 else -out

    def latex(self, t: int | str, notation: Notation) -> str:
        """The pieces joined by thin spaces; ``I`` when none shows; a leading ``-`` if negative."""
        parts = [p.latex(t, notation) for p in self.pieces]
        text = r"\,".join(p for p in parts if p) or "I"
        return text if self.sign == 1 else f"-{text}"


@dataclass(frozen=True)
class LocalSum:
    """A sum of `LocalFactor` products; the empty sum is the zero matrix."""

    terms: tuple[LocalFactor, ...] = field(default=())

    def __add__(self, other: LocalSum) -> LocalSum:
        return LocalSum((*self.terms, *other.terms))

    def __matmul__(self, other: LocalSum) -> LocalSum:
        return LocalSum(tuple(a @ b for a in self.terms for b in other.terms))

    def __bool__(self) -> bool:
        return bool(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def transpose(self) -> LocalSum:
        """Each product transposed (what acts on a row gradient going back)."""
        return LocalSum(tuple(term.transpose() for term in self.terms))

    def through(self, name: str) -> LocalSum:
        """The same products with `name` appended to each one's ``via``."""
        return LocalSum(tuple(LocalFactor(f.pieces, f.sign, (*f.via, name)) for f in self.terms))

    def matrix(self, scope: Scope, rows: int, cols: int) -> sp.Matrix:
        """The sum as a (rows, cols) SymPy matrix."""
        total = sp.zeros(rows, cols)
        for term in self.terms:
            total += term.matrix(scope, rows)
        return total

    def value(self, scope: Scope, rows: int, cols: int) -> FloatArray:
        """The sum as a (rows, cols) float64 matrix."""
        total = np.zeros((rows, cols))
        for term in self.terms:
            total += term.value(scope, rows)
        return total

    def latex(self, t: int | str, notation: Notation) -> str:
        """The products joined by ``+`` (``-`` for negative ones); ``0`` when empty."""
        text = ""
        for term in self.terms:
            part = term.latex(t, notation)
            if not text:
                text = part
            elif part.startswith("-"):
                text += f" - {part[1:]}"
            else:
                text += f" + {part}"
        return text or "0"


#: The identity (one empty product) and zero (no product).
ONE = LocalSum((LocalFactor(),))
ZERO = LocalSum()
