r"""Proofs that any cell's backward loop computes the gradient: exactly, and numerically.

**Exact.** For a small model (T = 2 or 3, D, H = 1 or 2, V = 2) every loop symbol is
substituted back into the inputs (loop program, then forward program), and each entry
of each gradient minus `sympy.diff` of the nested total loss L must vanish. The
targets are concrete (`derivations.check.proofs.concrete_targets`: one-hot rows t mod V for
cross-entropy, which $\partial L_t/\partial y_t = p_t - r_t$ assumes; rationals for
mse). What keeps the gated cells tractable is that the difference is never expanded
in the nested arguments, and never by SymPy's general `expand`: every transcendental
subexpression (tanh of a nested argument, the softmax's exponentials and logarithm)
and every inverse $1/Z$ is one independent indeterminate, and the difference is
multiplied out in SymPy's sparse polynomials over the rationals, each shared subtree
once (`vanishes`). It must be the zero polynomial. That proves more than equality at
the true values of the subexpressions: the two sides agree as polynomials in them,
whatever values they take (sigmoid is $(1 + \tanh(a/2))/2$, so
$\sigma' = \sigma(1 - \sigma)$ is such an identity in $\tanh(a/2)$; the one relation
used for the softmax is that both sides divide by the same $Z$). The LSTM at T = 2,
D = H = 1 takes about 2 s this way, a minute with `expand` and `cancel`. A ReLU-type
cell is piecewise: the proof runs once per activation pattern, each ``Piecewise``
replaced by its branch (`derivations.check.proof.kinks`), so it covers every region
between the kinks.

**Numeric.** For larger T the compiled loop (`derivations.compile.lambdify`) is
compared with forward-mode differentiation of the forward program at random points:
each assignment's local derivatives by `sympy.diff`, chained forwards, one input
direction at a time (`derivations.check.proof.forward_mode`), independent of the reverse
sweep. The error is relative to the largest entry of the same gradient.
"""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
import sympy as sp
from sympy import QQ
from sympy.polys.rings import ring

from derivations.check.proof import forward_mode, kinks, on_branch, patterns
from derivations.check.proofs import concrete_targets
from derivations.compile.lambdify import (
    flat_cell_inputs,
    lambdify_cell,
    random_cell_values,
)
from derivations.core.cell import Cell
from derivations.gradient.loop import cell_backward_loop
from derivations.program.symbols import back_substitute
from derivations.program.unroll import UnrolledCell, unroll_cell

__all__ = [
    "LOOP_RTOL",
    "CellLoopCheck",
    "CellLoopProof",
    "check_cell_loop",
    "prove_cell_loop",
    "vanishes",
]

#: Relative tolerance of compiled loop vs forward mode, relative to the largest entry
#: of the gradient: both sum the same O(T) products in different orders, each within a
#: few ulps (2.2e-16) of the exact value; for T <= 10 that is ~1e-14, 1e-12 leaves room.
LOOP_RTOL = 1e-12


@dataclass(frozen=True)
class CellLoopProof:
    """One exact proof: a gradient of a cell, how many entries, whether all differences vanish."""

    cell: str
    wrt: str
    sizes: tuple[int, int, int, int]  # T, D, H, V
    loss: str
    entries: int
    holds: bool
    detail: str
    seconds: float


@dataclass(frozen=True)
class CellLoopCheck:
    """One numeric comparison: the worst error relative to the gradient's largest entry."""

    cell: str
    wrt: str
    sizes: tuple[int, int, int, int]
    loss: str
    max_error: float
    tolerance: float = LOOP_RTOL

    @property
    def holds(self) -> bool:
        """True when the worst relative error is within the tolerance."""
        return bool(self.max_error <= self.tolerance)


def vanishes(expr: Any) -> bool:
    """True if `expr` is 0 as a polynomial in its symbols and its opaque subexpressions.

    Every subexpression that is not a sum, a product, an integer power or a rational
    number (tanh(...), exp(...), log(...)) is one indeterminate, and so is the inverse
    of each base raised to a negative power; SymPy's sparse polynomials over QQ
    (`sympy.polys.rings`) then multiply the expression out, each shared subtree once.
    Zero there implies zero for the true values of the subexpressions. A float in
    `expr` is refused: the proof is exact or nothing.
    """
    opaque: dict[Any, None] = {}
    seen: set[Any] = set()

    def collect(e: Any) -> None:
        if e in seen:
            return
        seen.add(e)
        if e.is_Float:
            raise TypeError(f"an exact proof met the float {e}; use rationals")
        if e.is_Rational:
            return
        if e.is_Add or e.is_Mul or (e.is_Pow and e.exp.is_Integer and e.exp > 0):
            for arg in e.args:
                collect(arg)
        elif e.is_Pow and e.exp.is_Integer:
            opaque.setdefault(1 / e.base)
            collect(e.base)  # only for its floats; the inverse is one indeterminate
        else:
            opaque.setdefault(e)

    collect(expr)
    if not opaque:
        return bool(expr == 0)
    _, *gens = ring([f"u{n}" for n in range(len(opaque))], QQ)
    indeterminate = dict(zip(opaque, gens, strict=True))
    memo: dict[Any, Any] = {}

    def convert(e: Any) -> Any:
        if e not in memo:
            if e in indeterminate:
                memo[e] = indeterminate[e]
            elif e.is_Rational:
                memo[e] = QQ.convert(e) * gens[0] ** 0
            elif e.is_Add:
                memo[e] = sum((convert(a) for a in e.args), gens[0] * 0)
            elif e.is_Mul:
                memo[e] = reduce(operator.mul, (convert(a) for a in e.args))
            elif e.exp > 0:
                memo[e] = convert(e.base) ** int(e.exp)
            else:
                memo[e] = indeterminate[1 / e.base] ** int(-e.exp)
        return memo[e]

    return bool(convert(expr) == 0)


def gradient_inputs(program: UnrolledCell, wrt: str) -> list[sp.Symbol]:
    """The input symbols of gradient `wrt`, in the row-major order of its array."""
    if wrt == "X":
        return [s for t in range(1, program.T + 1) for s in program.x[t]]
    if wrt.endswith("0") and wrt[:-1] in program.cell.state_names:
        return list(program.values[wrt[:-1]][0])
    return list(program.params[wrt])


def prove_cell_loop(
    cell: Cell, T: int = 2, D: int = 1, H: int = 1, V: int = 2, loss: str = "mse",
    names: tuple[str, ...] | None = None,
) -> list[CellLoopProof]:  # fmt: skip
    """The exact proof of the module docstring, one `CellLoopProof` per gradient.

    A piecewise-linear cell is proved once per activation pattern (`kinks`): the
    detail says how many. Raises `ProofRefused` for what the patterns cannot decide.
    """
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    loop = cell_backward_loop(program)
    targets = concrete_targets(program)
    chosen = names or cell.gradient_names
    regions = patterns(kinks([e for _, e in (*program.assignments, *loop.assignments)]))
    failures: dict[str, str] = {}
    seconds = dict.fromkeys(chosen, 0.0)
    for pattern in regions:
        nested = back_substitute(_on(program.assignments, pattern))
        loop_nested = {
            s: e.xreplace(nested)
            for s, e in back_substitute(_on(loop.assignments, pattern)).items()
        }
        total = on_branch(program.loss.xreplace(nested), pattern).xreplace(targets)
        for wrt in chosen:
            started = time.perf_counter()
            failure = _first_difference(program, loop, wrt, (loop_nested, nested, targets), total)
            if failure and wrt not in failures:
                failures[wrt] = failure + (f" where {_signs(pattern)}" if pattern else "")
            seconds[wrt] += time.perf_counter() - started
    detail = "every difference cancels to 0" + (
        f" in each of {len(regions)} activation patterns" if len(regions) > 1 else ""
    )
    return [
        CellLoopProof(
            cell.name,
            wrt,
            (T, D, H, V),
            loss,
            len(gradient_inputs(program, wrt)),
            wrt not in failures,
            failures.get(wrt, detail),
            seconds[wrt],
        )
        for wrt in chosen
    ]


def _on(assignments: Any, pattern: dict[Any, bool]) -> tuple[tuple[Any, Any], ...]:
    return tuple((s, on_branch(e, pattern)) for s, e in assignments)


def _signs(pattern: dict[Any, bool]) -> str:
    return ", ".join(f"{a} {'>' if positive else '<='} 0" for a, positive in pattern.items())


def _first_difference(
    program: UnrolledCell, loop: Any, wrt: str, substitutions: tuple[Any, ...], total: Any
) -> str:
    """The first entry of `wrt` where the loop differs from sympy.diff(L), or ""."""
    loop_nested, nested, targets = substitutions
    matrix = sp.Matrix.vstack(*loop.gradients[wrt]) if wrt == "X" else loop.gradients[wrt]
    for symbol, e in zip(gradient_inputs(program, wrt), matrix, strict=True):
        entry = sp.sympify(e).xreplace(loop_nested).xreplace(nested).xreplace(targets)
        if not vanishes(sp.diff(total, symbol) - entry):
            return f"entry {symbol}: the loop differs from sympy.diff(L)"
    return ""


def check_cell_loop(
    cell: Cell, T: int = 8, D: int = 2, H: int = 2, V: int = 3, loss: str = "cross_entropy",
    *, points: int = 2, seed: int = 0,
) -> list[CellLoopCheck]:  # fmt: skip
    """The numeric check of the module docstring, one `CellLoopCheck` per gradient."""
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    compiled = lambdify_cell(program)
    jvp = forward_mode(program)
    inputs = program.inputs()
    position = {s: n for n, s in enumerate(inputs)}
    rng = np.random.default_rng(seed)
    worst = dict.fromkeys(cell.gradient_names, 0.0)
    for _ in range(points):
        values = random_cell_values(program, rng)
        evaluation = compiled(values)
        flat = flat_cell_inputs(program, values)
        for wrt in cell.gradient_names:
            mine = evaluation.gradients[wrt].ravel()
            reference = np.empty_like(mine)
            for n, symbol in enumerate(gradient_inputs(program, wrt)):
                direction = [0.0] * len(inputs)
                direction[position[symbol]] = 1.0
                reference[n] = jvp(*flat, *direction)
            scale = max(float(np.abs(reference).max()), np.finfo(float).tiny)
            worst[wrt] = max(worst[wrt], float(np.abs(mine - reference).max()) / scale)
    return [CellLoopCheck(cell.name, w, (T, D, H, V), loss, worst[w]) for w in cell.gradient_names]
