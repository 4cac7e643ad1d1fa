r"""Proofs that the expanded sums of any cell are its gradients, exactly and numerically.

**On the program, exactly** (`prove_cell_sums`). The reference is the chain rule run on
the cell's straight-line program (`derivations.program.unroll`): reverse accumulation, each
local derivative $\partial e_s/\partial u$ of an assignment $s = e_s(u, \ldots)$ taken by
`sympy.diff`, every intermediate symbol kept as a symbol,

$$\bar u = \sum_{s \text{ reads } u} \bar s\,\frac{\partial e_s}{\partial u},\qquad
\bar L_t = 1 .$$

Independently, the expanded sum (`derivations.gradient.sums`) is built from the cell's own
local Jacobians (the rules of `derivations.core.ops`). Both are expressions in the
program's symbols; the symbols defined by an element-wise function at the top of their
equation (the gates $i_t = \sigma(a^{i}_t)$, $h_t = \tanh(a_t)$, ...) stand for their
function atoms ($\tanh(a^{i}_t/2) = 2 i_t - 1$, sigmoid being written as
$(1 + \tanh(a/2))/2$, so that $\sigma' = \sigma(1 - \sigma)$ is a polynomial identity),
$p_t$ and $\partial L_t/\partial y_t$ are replaced by their definitions,
the targets by concrete one-hot rows or rationals, and the difference, expanded, must
be 0 entry by entry. A polynomial identity in free symbols holds whatever they stand
for, so it holds for the nested expressions the symbols name; the chain rule on a
straight-line program is the derivative of its nested output; so the expanded sum is
$\mathrm{d}L/\mathrm{d}\theta$. This replaces `sympy.diff` of the fully nested loss,
which does not finish for a gated cell (one entry of an LSTM with T = 2, H = 1 took
113 s to expand); `prove_nested` does that literally where it is affordable.

A ReLU-type cell is proved region by region: each entry's difference once per pattern
of signs of the arguments its ``Piecewise`` branches on (`derivations.check.proof`);
what those patterns cannot decide is refused (`ProofRefused`), never reported as an
identity that does not hold.

**Numerically** (`check_cell_sums`): at random points, each entry of every gradient's
summed terms against forward-mode differentiation of the program (each local
derivative by `sympy.diff`, chained forwards and compiled), relative to sum |term|.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import sympy as sp

from derivations.check.proof import (
    NUMERIC_RTOL,
    NumericCheck,
    Proof,
    ProofRefused,
    forward_mode,
    kinks,
    on_branch,
    patterns,
    sum_of_matrices,
)
from derivations.compile.lambdify import cell_numbers, random_cell_values
from derivations.core.cell import Cell, Func
from derivations.gradient.sums import CellTerm, cell_expanded_sum
from derivations.program.unroll import UnrolledCell, unroll_cell

__all__ = [
    "check_cell_sums",
    "concrete_targets",
    "gradient_blocks",
    "lambdify_trace",
    "prove_cell_sums",
    "prove_nested",
    "reverse_accumulation",
]

Expr = Any


def concrete_targets(program: UnrolledCell) -> dict[sp.Symbol, Expr]:
    """One-hot targets (class t mod V) for cross-entropy, rationals t/(v+2) for mse."""
    V = program.spec.V
    out: dict[sp.Symbol, Expr] = {}
    for t, row in program.targets.items():
        for v, symbol in enumerate(row):
            if program.spec.loss == "cross_entropy":
                out[symbol] = sp.Integer(int(v == t % V))
            else:
                out[symbol] = sp.Rational(t, v + 2)
    return out


def gradient_blocks(
    program: UnrolledCell, wrt: str
) -> list[tuple[list[sp.Symbol], list[CellTerm]]]:
    """(input symbols, terms) per block of dL/d`wrt`: one block, or one per x_k for X."""
    terms = cell_expanded_sum(program.cell, wrt, program.T)
    if wrt == "X":
        return [(list(program.x[k]), [t for t in terms if t.step == k]) for k in program.x]
    if wrt in program.params:
        return [(list(program.params[wrt]), terms)]
    return [(list(program.values[wrt[:-1]][0]), terms)]


def reverse_accumulation(program: UnrolledCell) -> dict[sp.Symbol, Expr]:
    """dL/du for every symbol u of the program: the chain rule, sympy.diff per assignment."""
    adjoint: dict[sp.Symbol, Expr] = {L: sp.Integer(1) for L in program.L.values()}
    for symbol, expr in reversed(program.assignments):
        bar = adjoint.get(symbol)
        if bar is None:
            continue  # nothing L depends on reads it (p_t, ∂L_t/∂y_t)
        for u in expr.free_symbols:
            adjoint[u] = adjoint.get(u, sp.Integer(0)) + bar * sp.diff(expr, u)
    return adjoint


def _substitution(program: UnrolledCell) -> dict[Expr, Expr]:
    r"""The rewrites both sides get before expanding, each true under the program's definitions.

    A function atom of an equation that is one element-wise function, e.g.
    $\tanh(a^{i}_t/2)$ in $i_t = (1 + \tanh(a^{i}_t/2))/2$, becomes the output symbol
    solved for it ($2 i_t - 1$), so that SymPy's $\sigma'$ reads in $i_t$; p_t and
    $\partial L_t/\partial y_t$ become their definitions in y_t; the targets concrete values.
    """
    cell = program.cell
    direct = {eq.name for eq in cell.equations if isinstance(eq.expr, Func)}
    outputs = {s for name in direct for row in program.values[name].values() for s in row}
    readout = {s for family in (program.p, program.dy) for row in family.values() for s in row}
    out: dict[Expr, Expr] = dict(concrete_targets(program))
    dummy = sp.Dummy("atom")
    for symbol, expr in program.assignments:
        if symbol in readout:
            out[symbol] = expr.xreplace(out)
        elif symbol in outputs:
            for atom in expr.atoms(sp.tanh):
                linear = expr.xreplace({atom: dummy})
                slope = sp.diff(linear, dummy)
                if dummy not in slope.free_symbols and slope != 0:
                    out[atom] = (symbol - linear.xreplace({dummy: 0})) / slope
    return out


def _freeze(expr: Expr) -> Expr:
    """`expr` with each tanh(...) and exp(...) left a fresh symbol: an identity in those
    symbols holds whatever they stand for, and SymPy no longer expands their arguments."""
    atoms = expr.atoms(sp.tanh, sp.exp)
    return expr.xreplace({atom: sp.Dummy() for atom in atoms})


#: Functions whose derivative an exact proof cannot split into regions by sign patterns
#: (only ``Piecewise`` at ``a > 0`` it can): met in a difference, the proof is refused.
_UNDECIDABLE = (sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign, sp.DiracDelta)


def _regions(difference: Expr) -> list[Expr]:
    """`difference` on each activation pattern of its kinks (itself if it has none).

    A ReLU-type cell's expressions are ``Piecewise`` at the sign of an argument: on each
    pattern of signs (`derivations.check.proof.patterns`) each is one of its branches, a
    polynomial identity again. Raises `ProofRefused` for what the patterns cannot decide
    (another condition, too many kinks, a non-smooth function that is not a ``Piecewise``),
    never answers "does not hold" for it.
    """
    found = sorted({type(a).__name__ for a in difference.atoms(*_UNDECIDABLE)})
    if found:
        raise ProofRefused(
            f"an exact proof decides piecewise functions by the sign of their argument "
            f"(Piecewise at a > 0) only; the difference holds {', '.join(found)}, which sign "
            "patterns cannot split. Check this cell numerically instead (check_cell_sums, "
            "unrolled verify)."
        )
    return [on_branch(difference, pattern) for pattern in patterns(kinks([difference]))]


def _held(program: UnrolledCell) -> str:
    """What a proof that holds says: region by region for a piecewise program."""
    if kinks(expr for _, expr in program.assignments):
        return "difference expands to 0 on every activation pattern of its kinks"
    return "difference expands to 0"


def prove_cell_sums(
    cell: Cell,
    T: int = 2,
    D: int = 1,
    H: int = 1,
    V: int = 2,
    loss: str = "cross_entropy",
    names: Iterable[str] | None = None,
) -> list[Proof]:
    """Exactly, entry by entry: expanded sum - reverse accumulation on the program expands to 0."""
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    reference = reverse_accumulation(program)
    sigma = _substitution(program)

    def vanishes(entry: Expr, symbol: sp.Symbol) -> bool:
        difference = (entry - reference.get(symbol, 0)).xreplace(sigma)
        return all(sp.expand(_freeze(part)) == 0 for part in _regions(difference))

    claim = f"{cell.name}: expanded sum = chain rule on the program (sympy.diff per step)"
    return _entrywise(program, names or cell.gradient_names, claim, vanishes, _held(program))


def _entrywise(
    program: UnrolledCell,
    names: Iterable[str],
    claim: str,
    vanishes: Callable[[Expr, sp.Symbol], bool],
    held: str = "difference expands to 0",
) -> list[Proof]:
    """One `Proof` per gradient: whether ``vanishes(summed entry, its input symbol)`` for
    every entry of every block, and the first entry where it does not."""
    proofs = []
    for wrt in names:
        started, entries, failure = time.perf_counter(), 0, ""
        for symbols, terms in gradient_blocks(program, wrt):
            total = sum_of_matrices([term.matrix(program) for term in terms])
            for index, symbol in enumerate(symbols):
                entries += 1
                if not failure and not vanishes(total[index], symbol):
                    failure = f"entry {symbol} differs"
        proofs.append(
            Proof(
                claim, wrt, program.spec, entries, not failure,
                failure or held, time.perf_counter() - started,
            )
        )  # fmt: skip
    return proofs


def prove_nested(
    cell: Cell,
    T: int = 1,
    D: int = 1,
    H: int = 1,
    V: int = 2,
    loss: str = "cross_entropy",
    names: Iterable[str] | None = None,
) -> list[Proof]:
    """Literally: expanded sum, back-substituted, - sympy.diff(nested L) expands to 0.

    Affordable for tiny sizes only (a gated cell at T = 1); `prove_cell_sums` is the
    proof that scales.
    """
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    targets = concrete_targets(program)
    nested = program.definitions
    total_loss = program.loss.xreplace(nested).xreplace(targets)

    def vanishes(entry: Expr, symbol: sp.Symbol) -> bool:
        mine = entry.xreplace(nested).xreplace(targets)
        return all(sp.expand(part) == 0 for part in _regions(mine - sp.diff(total_loss, symbol)))

    claim = f"{cell.name}: expanded sum = sympy.diff(nested L)"
    return _entrywise(program, names or cell.gradient_names, claim, vanishes, _held(program))


def lambdify_trace(program: UnrolledCell) -> Any:
    """The program compiled: f(numbers) -> the trace `UnrolledCell.trace` would give."""
    inputs = program.inputs()
    defined = [symbol for symbol, _ in program.assignments]
    function = sp.lambdify(
        inputs,
        defined,
        modules="math",
        cse=lambda exprs: (list(program.assignments), exprs),
        docstring_limit=0,
    )

    def trace(numbers: dict[sp.Symbol, float]) -> dict[str, Any]:
        values = dict(zip(defined, function(*(numbers[s] for s in inputs)), strict=True))
        values.update(numbers)
        return _trace(program, values)

    return trace


def _trace(program: UnrolledCell, values: dict[sp.Symbol, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, matrix in program.params.items():
        arr = np.array([[values[s] for s in matrix.row(i)] for i in range(matrix.rows)])
        out[name] = arr[0] if matrix.rows == 1 else arr
    families = {"x": program.x, "y": program.y, "dy": program.dy, **program.values}
    for name, family in families.items():
        arr = np.full((program.T + 1, family[1].cols), np.nan)
        for t, row in family.items():
            arr[t] = [values[s] for s in row]
        out[name] = arr
    return out


def check_cell_sums(
    cell: Cell,
    T: int = 6,
    D: int = 2,
    H: int = 2,
    V: int = 2,
    loss: str = "cross_entropy",
    *,
    points: int = 2,
    seed: int = 0,
) -> list[NumericCheck]:
    """Numerically: every gradient entry's summed terms vs forward-mode sympy.diff."""
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    jvp, trace_of = forward_mode(program), lambdify_trace(program)
    inputs = program.inputs()
    position = {s: n for n, s in enumerate(inputs)}
    rng = np.random.default_rng(seed)
    worst = dict.fromkeys(cell.gradient_names, 0.0)
    for _ in range(points):
        numbers = cell_numbers(program, random_cell_values(program, rng))
        trace = trace_of(numbers)
        flat = [numbers[s] for s in inputs]
        for wrt in cell.gradient_names:
            for symbols, terms in gradient_blocks(program, wrt):
                values = [np.ravel(term.value(program, trace)) for term in terms]
                stacked = np.stack(values)
                mine, scale = stacked.sum(axis=0), np.abs(stacked).sum(axis=0)
                for e, symbol in enumerate(symbols):
                    direction = [0.0] * len(inputs)
                    direction[position[symbol]] = 1.0
                    reference = jvp(*flat, *direction)
                    err = abs(mine[e] - reference) / max(scale[e], np.finfo(float).tiny)
                    worst[wrt] = max(worst[wrt], float(err))
    return [
        NumericCheck(
            f"{cell.name}: expanded sum = forward-mode diff", n, program.spec, w, NUMERIC_RTOL
        )
        for n, w in worst.items()
    ]
