r"""Proofs that the expanded sums are the gradient, and that the loop computes them.

(a) **Sum = derivative.** For small T and sizes, each entry of the expanded sum,
with every intermediate symbol substituted back, minus `sympy.diff` of the nested
total loss, expands to exactly zero. ReLU-family activations are piecewise linear:
the proof runs once per activation pattern (which units are on at which step), on
every pattern, so it covers every region between the kinks; at a kink the
derivative is the convention $f'(0) = 0$ (ReLU) or 1/100 (leaky ReLU) on both sides.

(b) **Loop = sum.** In the symbols $g_t = \partial L_t/\partial y_t$ and $f'(a_t)$ left
free (so the
statement holds for every loss and activation at once), what iteration t of the
backward loop adds to each gradient equals the sum of the terms with step k = t
(`loop_map`), and the carry after iteration t equals
$\sum_{i \ge t} \mathrm{d}L_i/\mathrm{d}h_{t-1}$; both expand to exactly zero difference.

For larger T the same equalities are checked numerically at random points:
(a) against forward-mode differentiation of the straight-line program (each local
derivative by `sympy.diff`, chained forwards: independent of the reverse-mode sum),
(b) the compiled loop against the evaluated terms.
"""

from __future__ import annotations

import itertools
import time
from functools import reduce
from typing import Any

import numpy as np
import sympy as sp

from derivations.check.proof import (
    NUMERIC_RTOL,
    NumericCheck,
    Proof,
    forward_mode,
    sum_of_matrices,
)
from derivations.core.notation import GRADIENT_NAMES
from derivations.core.spec import ModelSpec
from vanilla_reference.gradients import backward_loop, expanded_sum, loop_map
from vanilla_reference.lambdified import flat_inputs, lambdify_model
from vanilla_reference.terms import Term
from vanilla_reference.unroll import Unrolled, unroll

__all__ = [
    "check_loop_equals_sum",
    "check_sum_equals_derivative",
    "prove_loop_equals_sum",
    "prove_sum_equals_diff",
    "random_point",
    "sum_of_terms",
]


def sum_of_terms(model: Unrolled, terms: list[Term]) -> sp.Matrix:
    """The expanded sum as a SymPy matrix in the program's symbols, entry-wise sums."""
    return sum_of_matrices([term.matrix(model) for term in terms])


def _wrt_blocks(model: Unrolled, name: str) -> list[tuple[sp.Matrix, list[Term]]]:
    """(symbols, terms) per block: one block per parameter, one per x_k for X."""
    terms = expanded_sum(name, model.spec.T)
    if name == "X":
        return [(model.x[k], [t for t in terms if t.step == k]) for k in model.x]
    return [(model.wrt(name)[0], terms)]


def _targets(model: Unrolled) -> dict[sp.Symbol, Any]:
    """Concrete targets for the exact proofs: one-hot classes t mod V, or rationals."""
    spec = model.spec
    out: dict[sp.Symbol, Any] = {}
    for t, row in model.r.items():
        for v, symbol in enumerate(row):
            if spec.loss == "cross_entropy":
                out[symbol] = sp.Integer(int(v == t % spec.V))
            else:
                out[symbol] = sp.Rational(t, v + 2)
    return out


def _regions(model: Unrolled) -> list[dict[sp.Symbol, Any]]:
    """For piecewise activations, one replacement per activation pattern; else [{}]."""
    if model.spec.activation not in ("relu", "leaky_relu"):
        return [{}]
    units = [s for t in model.a for s in model.a[t]]
    patterns = []
    for signs in itertools.product((1, -1), repeat=len(units)):
        patterns.append(dict(zip(units, signs, strict=True)))
    return patterns


def _resolve(model: Unrolled, signs: dict[sp.Symbol, int]) -> dict[sp.Symbol, Any]:
    """Nested definitions with each Piecewise replaced by its branch for `signs`."""
    if not signs:
        return model.definitions

    def branch(pw: sp.Piecewise) -> Any:
        for expr, cond in pw.args:
            if cond == sp.true or bool(cond.xreplace(signs)):
                return expr
        raise AssertionError(pw)  # pragma: no cover - the last branch is always True

    nested: dict[sp.Symbol, Any] = {}
    for symbol, expr in model.assignments:
        resolved = expr.replace(lambda e: isinstance(e, sp.Piecewise), branch)
        nested[symbol] = resolved.xreplace(nested)
    return nested


def prove_sum_equals_diff(spec: ModelSpec, names: tuple[str, ...] = GRADIENT_NAMES) -> list[Proof]:
    """(a), exactly: expanded sum - sympy.diff(L) expands to 0, entry by entry, region by region."""
    model = unroll(spec)
    targets = _targets(model)
    proofs = []
    regions = _regions(model)
    blocks = {name: _wrt_blocks(model, name) for name in names}
    sums = {
        name: [(wrt, sum_of_terms(model, terms)) for wrt, terms in blocks[name]] for name in names
    }
    failures: dict[str, str] = {}
    counts = dict.fromkeys(names, 0)
    started = time.perf_counter()
    for signs in regions:
        nested = _resolve(model, signs)
        loss = model.loss.xreplace(nested).xreplace(targets)
        for name in names:
            for wrt, total in sums[name]:
                for index, symbol in enumerate(wrt):
                    reference = sp.diff(loss, symbol)
                    mine = total[index].xreplace(nested).xreplace(targets)
                    counts[name] += 1
                    if sp.expand(reference - mine) != 0 and name not in failures:
                        failures[name] = f"entry {symbol} differs" + (
                            f" in region {signs}" if signs else ""
                        )
    seconds = time.perf_counter() - started
    for name in names:
        region_text = f", {len(regions)} activation patterns" if len(regions) > 1 else ""
        proofs.append(
            Proof(
                "expanded sum = sympy.diff(L)",
                name,
                spec,
                counts[name],
                name not in failures,
                failures.get(name, f"difference expands to 0{region_text}"),
                seconds / len(names),
            )
        )
    return proofs


def prove_loop_equals_sum(spec: ModelSpec, names: tuple[str, ...] = GRADIENT_NAMES) -> list[Proof]:
    """(b), exactly: each loop iteration adds the terms `loop_map` assigns to it; the carry too."""
    model = unroll(spec)
    loop = backward_loop(model)
    loop_defs = loop.definitions
    T = spec.T
    proofs = []
    for name in names:
        started = time.perf_counter()
        by_pair = {(t.loss, t.step): t for t in expanded_sum(name, T)}
        entries, failure = 0, ""
        for t, pairs_at_t in loop_map(name, T).items():
            if t not in loop.increments[name]:
                continue
            increment = loop.increments[name][t].xreplace(loop_defs)
            expected = sum_of_terms(model, [by_pair[p] for p in pairs_at_t])
            entries += len(increment)
            if (increment - expected).applyfunc(sp.expand) != sp.zeros(*increment.shape):
                failure = failure or f"iteration t={t} adds something other than {pairs_at_t}"
        for t, carry in loop.carry.items():  # carry_t = sum_{i>=t} dL_i/dh_{t-1}
            paths = [
                Term("h0", i, t, "a", None, None).matrix(model) * model.params["Whh"].T
                for i in range(t, T + 1)
            ]
            expected = sum_of_matrices(paths)
            entries += spec.H
            if (carry.xreplace(loop_defs) - expected).applyfunc(sp.expand) != sp.zeros(1, spec.H):
                failure = (
                    failure or f"carry after iteration t={t} is not sum_(i>={t}) dL_i/dh_{t - 1}"
                )
        proofs.append(
            Proof(
                "backward loop = expanded sum",
                name,
                spec,
                entries,
                not failure,
                failure or "every iteration and carry expands to 0 difference",
                time.perf_counter() - started,
            )
        )
    return proofs


def random_point(spec: ModelSpec, rng: np.random.Generator) -> dict[str, Any]:
    r"""Random inputs for `spec`: $W_{hh}$ scaled by $1/\sqrt{H}$, small biases, random $h_0$.

    The one random-point builder of `derivations` (`vanilla_reference.verify` adds rnnnum's
    arrays to it). X (T, D) and targets are by position: row t - 1 is step t.
    """
    T, D, H, V = spec.T, spec.D, spec.H, spec.V
    values: dict[str, Any] = {
        "Wxh": rng.normal(size=(D, H)),
        "Whh": rng.normal(size=(H, H)) / np.sqrt(H),
        "Wyh": rng.normal(size=(H, V)),
        "bh": 0.1 * rng.normal(size=H),
        "by": 0.1 * rng.normal(size=V),
        "X": rng.normal(size=(T, D)),
        "h0": rng.normal(size=H),
    }
    values["targets"] = (
        rng.integers(0, V, size=T) if spec.loss == "cross_entropy" else rng.normal(size=(T, V))
    )
    return values


def _scale(terms: list[Term], trace: Any, block: int | None) -> Any:
    chosen = [t for t in terms if block is None or t.step == block]
    return sum(np.abs(t.value(trace)) for t in chosen)


def check_sum_equals_derivative(
    spec: ModelSpec, *, points: int = 2, seed: int = 0, names: tuple[str, ...] = GRADIENT_NAMES
) -> list[NumericCheck]:
    """(a), numerically: evaluated expanded sums vs forward-mode sympy.diff, entry by entry."""
    model = unroll(spec)
    compiled = lambdify_model(model)
    jvp = forward_mode(model)
    rng = np.random.default_rng(seed)
    worst = dict.fromkeys(names, 0.0)
    n_inputs = len(model.inputs())
    for _ in range(points):
        values = random_point(spec, rng)
        evaluation = compiled(values)
        trace = evaluation.trace
        flat = flat_inputs(model, values)
        for name in GRADIENT_NAMES:
            size = evaluation.gradients[name].size
            if name in names:
                terms = expanded_sum(name, spec.T)
                total = sum(t.value(trace) for t in terms if name != "X")
                for e in range(size):
                    direction = [0.0] * n_inputs
                    direction[_input_position(spec, name, e)] = 1.0
                    reference = jvp(*flat, *direction)
                    if name == "X":
                        k, col = divmod(e, spec.D)
                        mine = sum(t.value(trace)[col] for t in terms if t.step == k + 1)
                        scale = _scale(terms, trace, k + 1)[col]
                    else:
                        mine = np.ravel(total)[e]
                        scale = np.ravel(_scale(terms, trace, None))[e]
                    err = abs(mine - reference) / max(scale, np.finfo(float).tiny)
                    worst[name] = max(worst[name], float(err))
    return [
        NumericCheck("expanded sum = forward-mode diff", n, spec, worst[n], NUMERIC_RTOL)
        for n in names
    ]


def _input_position(spec: ModelSpec, name: str, entry: int) -> int:
    """Position of entry `entry` of input `name` in `Unrolled.inputs()` order."""
    T, D, H, V = spec.T, spec.D, spec.H, spec.V
    sizes = {"Wxh": D * H, "Whh": H * H, "Wyh": H * V, "bh": H, "by": V, "X": T * D, "h0": H}
    position = 0
    for other in ("Wxh", "Whh", "Wyh", "bh", "by", "X", "h0"):
        if other == name:
            return position + entry
        position += sizes[other]
    raise AssertionError(name)  # pragma: no cover


def check_loop_equals_sum(
    spec: ModelSpec, *, points: int = 2, seed: int = 0, names: tuple[str, ...] = GRADIENT_NAMES
) -> list[NumericCheck]:
    """(b), numerically: the compiled loop vs the evaluated expanded sum, all entries."""
    model = unroll(spec)
    compiled = lambdify_model(model)
    rng = np.random.default_rng(seed)
    worst = dict.fromkeys(names, 0.0)
    for _ in range(points):
        evaluation = compiled(random_point(spec, rng))
        trace = evaluation.trace
        for name in names:
            terms = expanded_sum(name, spec.T)
            if name == "X":
                mine = np.stack(
                    [
                        sum(t.value(trace) for t in terms if t.step == k)
                        for k in range(1, spec.T + 1)
                    ]
                )
                scale = np.stack([_scale(terms, trace, k) for k in range(1, spec.T + 1)])
            else:
                mine = reduce(np.add, (t.value(trace) for t in terms))
                scale = _scale(terms, trace, None)
            err = np.abs(mine - evaluation.gradients[name]) / np.maximum(
                scale, np.finfo(float).tiny
            )
            worst[name] = max(worst[name], float(err.max()))
    return [
        NumericCheck("backward loop = expanded sum", n, spec, worst[n], NUMERIC_RTOL) for n in names
    ]
