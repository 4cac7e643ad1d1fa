r"""Statements the site makes about a cell, printed from the cell's definition.

A few pages state facts in general form, for any activation f: the residual cell's
step and its one-step Jacobian, the model and that Jacobian in the column convention,
and the bounds on Jacobian products behind the vanishing criterion. Each is printed
here from a `derivations.core.cell.Cell` (its equation trees and its
`Cell.step_jacobian_blocks`), so none of them is typed by hand:

- `generic_equation` prints an equation with the cell's activation written as f
  (and $\partial f(a)/\partial a$ as $\operatorname{diag}(f'(a))$ in `generic_sum`);
- `column_equation` and `column_block` give the column convention, where every row
  product $e\,W$ becomes $W^\top e^\top$ and the matrix $W^\top$ takes its textbook
  name; the block is the transposed `LocalSum` with each weight renamed, so its value
  is the transpose of the row block's (the tests check this numerically);
- `product_bound` bounds the norm of a product of one-step blocks by the product of
  each piece's bound, $\lVert W \rVert$ (or $\sigma_{\max}(W)$) for a weight and
  $\gamma = \sup |f'|$ for $\operatorname{diag}(f'(a))$: submultiplicativity of the
  spectral norm, $\lVert AB \rVert \le \lVert A \rVert\,\lVert B \rVert$.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, cast

import numpy as np

from derivations.core.cell import Cell
from derivations.core.errors import DerivationError
from derivations.core.factors import Diag, LocalFactor, LocalSum, Notation, Scope, Weight
from derivations.core.nodes import Input, Node, Prev, Ref
from derivations.core.notation import total_derivative
from derivations.core.ops import Add, Bias, Func, MatMul, Slope
from derivations.core.spec import ACTIVATIONS
from derivations.gradient.paths import block_derivative

__all__ = [
    "COLUMN",
    "PASCANU_NAMES",
    "PieceBound",
    "column_block",
    "column_equation",
    "column_notation",
    "column_scope",
    "generic_equation",
    "generic_sum",
    "piece_bounds",
    "product_bound",
    "step_derivative",
]

#: The column convention's names of the vanilla cell's matrices (Pascanu, Mikolov and
#: Bengio 2013): U is W_hh^T, W is W_xh^T, b is b_h^T.
PASCANU_NAMES = {"Whh": "U", "Wxh": "W", "bh": "b"}

Rule = Callable[[Node], Node]
#: Prefix of a parameter's key when it stands for its column-convention matrix (W^T).
COLUMN = "column:"


@dataclass(frozen=True)
class _Generic(Node):
    """f(a), or f'(a) with ``prime``, for the cell's activation whatever it is (display only)."""

    a: Node
    prime: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.a,)

    def latex(self, t: int | str, notation: Notation) -> str:
        name = "f'" if self.prime else "f"
        inner = self.a.latex(t, notation)
        if isinstance(self.a, Input | Prev | Ref):
            return f"{name}({inner})"
        return rf"{name}\big({inner}\big)"


@dataclass(frozen=True)
class _ColumnProduct(Node):
    """The column convention's ``W e``: the row product ``e W`` transposed (display only)."""

    expr: Node
    param: str

    def children(self) -> tuple[Node, ...]:
        return (self.expr,)

    def latex(self, t: int | str, notation: Notation) -> str:
        inner = self.expr.latex(t, notation)
        row = inner if isinstance(self.expr, Input | Prev | Ref) else f"({inner})"
        return f"{notation.latex[COLUMN + self.param]} {row}"


@dataclass(frozen=True)
class _ColumnBias(Node):
    """The column convention's bias, the row bias transposed (display only)."""

    param: str

    def latex(self, t: int | str, notation: Notation) -> str:
        return notation.latex[COLUMN + self.param]


def _map(node: Node, rule: Rule) -> Node:
    """`node` rebuilt bottom-up, `rule` applied to every rebuilt node."""
    if isinstance(node, Add):
        return rule(Add(*(_map(term, rule) for term in node.terms)))
    changes = {
        f.name: _map(value, rule)
        for f in fields(node)  # type: ignore[arg-type] # every node is a dataclass
        if isinstance(value := getattr(node, f.name), Node)
    }
    return rule(replace(node, **changes) if changes else node)  # type: ignore[type-var]


def _generic(node: Node) -> Node:
    if isinstance(node, Func) and node.kind == "act":
        return _Generic(node.a)
    if isinstance(node, Slope) and node.kind == "act":
        return _Generic(node.a, prime=True)
    return node


def _inline(cell: Cell, names: tuple[str, ...]) -> Rule:
    def rule(node: Node) -> Node:
        if isinstance(node, Ref) and node.name in names:
            return _map(cell.equation(node.name).expr, rule)
        return node

    return rule


def _column(node: Node) -> Node:
    if isinstance(node, MatMul):
        return _ColumnProduct(node.expr, node.param)
    return _ColumnBias(node.param) if isinstance(node, Bias) else node


def generic_equation(
    cell: Cell, name: str, t: int | str = "t", inline: tuple[str, ...] = ()
) -> str:
    r"""Equation `name` of `cell` at step t, the activation written f.

    Each variable in `inline` is replaced by its own equation's right side:
    ``generic_equation(residual(), "h", inline=("a",))`` is
    $h_{t} = h_{t-1} + f\big(x_{t} W_{xh} + h_{t-1} W_{hh} + b_h\big)$.
    """
    expr = _map(_map(cell.equation(name).expr, _inline(cell, inline)), _generic)
    return f"{cell.notation.at(name, t)} = {expr.latex(t, cell.notation)}"


def _pieces(total: LocalSum, piece: Callable[[Any], Any]) -> LocalSum:
    return LocalSum(
        tuple(
            LocalFactor(tuple(piece(p) for p in term.pieces), term.sign, term.via)
            for term in total.terms
        )
    )


def generic_sum(total: LocalSum, t: int | str, notation: Notation) -> str:
    r"""A local Jacobian's LaTeX with $\operatorname{diag}(f'(a_t))$ for the activation's slope."""

    def piece(p: Any) -> Any:
        # a Diag of the cell engine holds a Node (cell_nodes builds every one)
        return Diag(_map(cast(Node, p.expr), _generic)) if isinstance(p, Diag) else p

    return _pieces(total, piece).latex(t, notation)


def step_derivative(cell: Cell, of: str = "h", wrt: str = "h", t: int | str = "t") -> str:
    r"""$\mathrm{d}s_t/\mathrm{d}s'_{t-1} = \ldots$: one block of the step, activation written f
    (its symbol by `derivations.gradient.paths.block_derivative`)."""
    lhs = block_derivative(cell, of, wrt, t)
    block = cell.step_jacobian_blocks()[of, wrt]
    return f"{lhs} = {generic_sum(block, t, cell.notation)}"


# --- the column convention -------------------------------------------------------------


def column_notation(cell: Cell, names: Mapping[str, str] = PASCANU_NAMES) -> Notation:
    """The cell's notation, plus the column-convention name of each parameter in `names`.

    The column matrix of parameter ``P`` (its transpose) is keyed ``COLUMN + P``.
    """
    column = {COLUMN + name: latex for name, latex in names.items()}
    return Notation(cell.activation, {**cell.notation.latex, **column})


def column_equation(
    cell: Cell,
    name: str,
    names: Mapping[str, str] = PASCANU_NAMES,
    t: int | str = "t",
    inline: tuple[str, ...] = (),
) -> str:
    r"""Equation `name` in the column convention: every ``e W`` as ``W' e`` with
    $W' = W^\top$ named.

    For the vanilla cell, inlining a: $h_{t} = f\big(W x_{t} + U h_{t-1} + b\big)$.
    """
    expr = _map(_map(_map(cell.equation(name).expr, _inline(cell, inline)), _generic), _column)
    return f"{cell.notation.at(name, t)} = {expr.latex(t, column_notation(cell, names))}"


def column_block(block: LocalSum) -> LocalSum:
    r"""The column convention's Jacobian of a row-convention block: its transpose.

    Every weight of the transposed sum is rewritten as its column-convention matrix
    (key ``COLUMN + name``, e.g. U for $W_{hh}^\top$), its transpose flag flipped: with
    the column matrices in the scope (`column_scope`), the value is the row block's
    transpose. The diagonal pieces still read the row parameters.
    """

    def flip(p: Any) -> Any:
        return Weight(COLUMN + p.name, not p.transposed) if isinstance(p, Weight) else p

    return _pieces(block.transpose(), flip)


def column_scope(scope: Scope) -> Scope:
    r"""`scope` with the column matrix of every parameter added: ``COLUMN + P`` is $P^\top$."""
    column = {COLUMN + k: np.asarray(v).T for k, v in scope.params.items()}
    return Scope(scope.x, scope.prev, scope.refs, {**scope.params, **column}, scope.activation)


# --- bounds on products of one-step blocks ---------------------------------------------


@dataclass(frozen=True)
class PieceBound:
    """A bound on the spectral norm of one piece of a block: its LaTeX and its value.

    ``value(scope)`` is the number the LaTeX denotes, from the parameters in `scope`.
    """

    latex: str
    value: Callable[[Scope], float]


def piece_bounds(cell: Cell, block: LocalSum, *, sigma: bool = True) -> tuple[PieceBound, ...]:
    r"""Bounds of each piece of a one-product block, scalars first: $\gamma$, $\sigma_{\max}(W)$.

    A weight W is bounded by its own norm, written $\sigma_{\max}(W)$ (``sigma``) or
    $\lVert W \rVert$; $\operatorname{diag}(f'(a))$ by $\gamma = \sup |f'|$ of the
    cell's activation, left out when $\gamma = 1$ and f' is the constant 1 (the linear
    network). Raises `DerivationError` for a block that is not one product.
    """
    if len(block) != 1:
        raise DerivationError(
            f"a product bound needs a block that is one product; got {len(block)} products "
            f"({block.latex('t', cell.notation)}). Bound each product of the sum separately."
        )
    act = ACTIVATIONS[cell.activation]
    scalars, weights = [], []
    for piece in block.terms[0].pieces:
        if isinstance(piece, Weight):
            text = cell.notation.latex[piece.name] + (r"^\top" if piece.transposed else "")
            shown = rf"\sigma_{{\max}}({text})" if sigma else rf"\lVert {text} \rVert"
            weights.append(PieceBound(shown, _weight_norm(piece)))
        elif isinstance(piece.expr, Slope) and piece.expr.kind == "act":
            if piece.latex("t", cell.notation):  # the identity's diag(1) is I, no factor
                scalars.append(PieceBound(r"\gamma", _constant(float(act.gamma))))
        else:
            raise DerivationError(
                f"no bound is known for the piece {piece.latex('t', cell.notation)} of "
                f"{cell.name}'s block; product_bound handles weights and diag(f'(a))."
            )
    return (*scalars, *weights)


def _constant(value: float) -> Callable[[Scope], float]:
    return lambda scope: value


def _weight_norm(piece: Weight) -> Callable[[Scope], float]:
    return lambda scope: float(np.linalg.norm(piece.value(scope), 2))


def product_bound(cell: Cell, *, sigma: bool = True, equality: bool = True) -> str:
    r"""$\lVert \mathrm{d}h_t/\mathrm{d}h_k \rVert$ bounded by the blocks' pieces, to the t - k.

    With `equality`, the product of blocks $\prod_{s=k+1}^{t}$ (activation f) is
    written between the norm and the bound.
    """
    block = cell.step_jacobian_blocks()["h", "h"]
    bounds = [b.latex for b in piece_bounds(cell, block, sigma=sigma)]
    base = r"\,".join(bounds)
    power = rf"\big({base}\big)^{{t-k}}" if len(bounds) > 1 else rf"{base}^{{\,t-k}}"
    norm = rf"\Big\lVert {total_derivative('h_t', 'h_k')} \Big\rVert"
    if not equality:
        return rf"{norm} \le {power}"
    product = rf"\prod_{{s=k+1}}^{{t}} {generic_sum(block, 's', cell.notation)}"
    return rf"{norm} = \Big\lVert {product} \Big\rVert \le {power}"
