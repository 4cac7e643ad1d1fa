r"""What every proof and numeric check of a derivation records, and forward-mode derivatives.

`Proof` is one exact proof (SymPy expands a difference to zero, or does not); a
`NumericCheck` one equality at random points, its worst error relative to the scale
rounding grows with. `forward_mode` differentiates a straight-line program forwards
(each local derivative by `sympy.diff`, chained from the inputs), independent of the
reverse-mode sums it checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import sympy as sp

from derivations.core.spec import ModelSpec
from derivations.program.symbols import Assignment

__all__ = ["NUMERIC_RTOL", "NumericCheck", "Program", "Proof", "forward_mode", "sum_of_matrices"]


class Program(Protocol):
    """A straight-line program: its inputs, its assignments in order, and its losses."""

    @property
    def assignments(self) -> tuple[Assignment, ...]: ...

    @property
    def L(self) -> dict[int, sp.Symbol]: ...

    def inputs(self) -> list[sp.Symbol]: ...


#: Relative tolerance of the numeric equalities, relative to sum |term| (the scale
#: rounding error grows with): summing n float64 products errs by at most ~n eps
#: times that scale, about 1e-14 for the T <= 10 checked here; 1e-12 leaves room.
NUMERIC_RTOL = 1e-12


@dataclass(frozen=True)
class Proof:
    """One exact proof: the claim, the gradient, the model, and whether it held."""

    claim: str
    wrt: str
    spec: ModelSpec
    entries: int
    holds: bool
    detail: str
    seconds: float


@dataclass(frozen=True)
class NumericCheck:
    """One numeric equality at random points: worst error relative to sum |term|."""

    claim: str
    wrt: str
    spec: ModelSpec
    max_error: float
    tolerance: float

    @property
    def holds(self) -> bool:
        """True when the worst relative error is within the tolerance."""
        return bool(self.max_error <= self.tolerance)


def sum_of_matrices(matrices: list[sp.Matrix]) -> sp.Matrix:
    """Entry-wise sum of equally shaped matrices, one Add per entry."""
    first = matrices[0]
    return sp.Matrix(first.rows, first.cols, lambda r, c: sp.Add(*(m[r, c] for m in matrices)))


def forward_mode(model: Program) -> Any:
    r"""The directional derivative of $L$ by forward mode through the program, compiled.

    Each intermediate $s = e(u_1, \dots)$ gets a tangent
    $\dot s = \sum_u \frac{\partial e}{\partial u}\, \dot u$ (each partial by
    `sympy.diff`); the inputs' tangents are extra arguments. Returns
    ``f(*inputs, *tangents)``, the derivative of $L$ along the tangents.
    """
    inputs = model.inputs()
    tangent = {s: sp.Symbol(f"tan_{s.name}", real=True) for s in inputs}
    program: list[tuple[sp.Symbol, Any]] = []
    for symbol, expr in model.assignments:
        program.append((symbol, expr))
        dot = sp.Add(*(sp.diff(expr, u) * tangent[u] for u in expr.free_symbols if u in tangent))
        tangent[symbol] = sp.Symbol(f"tan_{symbol.name}", real=True)
        program.append((tangent[symbol], dot))
    output = sp.Add(*(tangent[L] for L in model.L.values()))
    args = [*inputs, *(tangent[s] for s in inputs)]
    return sp.lambdify(args, output, modules="math", cse=lambda e: (program, e), docstring_limit=0)
