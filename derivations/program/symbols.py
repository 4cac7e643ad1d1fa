r"""Straight-line programs of scalar symbols: matrices of named symbols and back-substitution.

A program is a tuple of assignments (symbol, expression), each symbol defined once in
terms of earlier ones; `back_substitute` writes each symbol in the inputs alone.

SymPy's `MatrixSymbol` is not used for calculus here: differentiating it through
element-wise functions in the row convention is unreliable (SymPy issues #17229, #26561
and #26585); it appears only in display.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derivations.core.notation import entry_name

__all__ = ["Assignment", "Expr", "back_substitute", "matrix_of_symbols"]


Expr = Any


Assignment = tuple[sp.Symbol, Expr]


def back_substitute(program: tuple[Assignment, ...]) -> dict[sp.Symbol, Expr]:
    """Each symbol of a straight-line `program` as an expression in the program's inputs."""
    nested: dict[sp.Symbol, Expr] = {}
    for symbol, expr in program:
        nested[symbol] = expr.xreplace(nested)
    return nested


def matrix_of_symbols(name: str, rows: int, cols: int, *, t: int | None = None) -> sp.Matrix:
    r"""A (rows, cols) Matrix of real scalar symbols named after `name` (1-based entries).

    Per-step row vectors (``t`` given) are named ``name_t_j``; matrices ``name_i_j``;
    parameter row vectors (biases, $h_0$) ``name_j``.
    """

    def symbol(i: int, j: int) -> sp.Symbol:
        if t is not None:
            index: tuple[int, ...] = (t, j + 1)
        elif rows == 1:
            index = (j + 1,)
        else:
            index = (i + 1, j + 1)
        return sp.Symbol(entry_name(name, *index), real=True)

    return sp.Matrix(rows, cols, symbol)
