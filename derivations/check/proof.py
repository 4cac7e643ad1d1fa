r"""What every proof and numeric check of a derivation records, and forward-mode derivatives.

`Proof` is one exact proof (SymPy expands a difference to zero, or does not); a
`NumericCheck` one equality at random points, its worst error relative to the scale
rounding grows with. `forward_mode` differentiates a straight-line program forwards
(each local derivative by `sympy.diff`, chained from the inputs), independent of the
reverse-mode sums it checks.

A piecewise-linear activation (ReLU, leaky ReLU) makes the program piecewise: an exact
proof then runs once per *activation pattern*, the sign of every argument a
``Piecewise`` branches on (`kinks`, `patterns`), with each ``Piecewise`` replaced by
its branch there (`on_branch`). The patterns cover every region between the kinks; on
a kink both sides take the same convention, the last branch ($f'(0) = 0$ for ReLU).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import sympy as sp

from derivations.core.errors import DerivationError
from derivations.core.spec import ModelSpec
from derivations.program.symbols import Assignment

__all__ = [
    "MAX_KINKS",
    "MAX_PATTERNS",
    "NUMERIC_RTOL",
    "NumericCheck",
    "Program",
    "Proof",
    "ProofRefused",
    "forward_mode",
    "kinks",
    "on_branch",
    "patterns",
    "sum_of_matrices",
]

#: Most kinked arguments an exact proof splits at: 2^8 activation patterns of a T = 2,
#: H = 4 ReLU cell already take minutes.
MAX_KINKS = 8
#: Most activation patterns an exact proof runs.
MAX_PATTERNS = 2**MAX_KINKS


class ProofRefused(DerivationError, ValueError):
    """An exact proof that cannot decide the question it was asked; the message says why."""


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


def kinks(exprs: Iterable[Any]) -> list[Any]:
    """The arguments whose sign picks a branch of a ``Piecewise`` in `exprs` (``a > 0``).

    Raises `ProofRefused` for a branch condition of another form: the patterns of signs
    could not decide it.
    """
    found: dict[Any, None] = {}
    for expr in exprs:
        for piecewise in sp.sympify(expr).atoms(sp.Piecewise):
            for _, condition in piecewise.args:
                if condition == sp.true:
                    continue
                if not isinstance(condition, sp.StrictGreaterThan) or condition.rhs != 0:
                    raise ProofRefused(
                        f"an exact proof splits a piecewise function at the sign of its "
                        f"argument (a > 0); got the condition {condition}. Prove this cell "
                        "numerically (check_cell_loop, check_cell_sums) instead."
                    )
                found.setdefault(condition.lhs)
    return sorted(found, key=sp.default_sort_key)


def patterns(arguments: list[Any]) -> list[dict[Any, bool]]:
    """Every sign pattern of `arguments` (True: positive), or one empty pattern if none."""
    if len(arguments) > MAX_KINKS:
        raise ProofRefused(
            f"{len(arguments)} kinked arguments give 2^{len(arguments)} activation patterns, "
            f"more than the {MAX_PATTERNS} an exact proof runs; prove at fewer steps or a "
            "smaller H, or numerically."
        )
    return [
        dict(zip(arguments, signs, strict=True))
        for signs in itertools.product((True, False), repeat=len(arguments))
    ]


def on_branch(expr: Any, pattern: dict[Any, bool]) -> Any:
    """`expr` with each ``Piecewise`` replaced by its branch under the sign `pattern`."""
    if not pattern:
        return expr

    def branch(piecewise: Any) -> Any:
        for value, condition in piecewise.args:
            if condition == sp.true or pattern[condition.lhs]:
                return value
        raise AssertionError(piecewise)  # pragma: no cover - the last branch is True

    return sp.sympify(expr).replace(lambda e: isinstance(e, sp.Piecewise), branch)
