"""Benchmarks of `derivations`: for every built-in cell, unroll + backward loop + lambdify
of every gradient and the expanded-sum terms (`CellTerm` records, paths built on demand)
of each; against it, the naive way for the vanilla cell.

"Derive and lambdify" is, for one cell: the symbolic unroll (straight-line program),
the backward loop in symbols, one `sympy.lambdify` of the whole program and its loop,
and the expanded-sum terms of every gradient. The baseline differentiates the vanilla
cell's nested loss with `sympy.diff`, entry by entry for all seven gradients, then
lambdifies.
"""

from __future__ import annotations

import time

import sympy as sp

from benchmarks.report import header, row, seconds, verdict
from derivations.check.loop_proofs import gradient_inputs
from derivations.compile.lambdify import lambdify_cell
from derivations.core.cells import BUILTIN_CELLS, load_cell
from derivations.gradient.loop import cell_backward_loop
from derivations.gradient.sums import cell_expanded_sum
from derivations.program.unroll import unroll_cell

#: Targets of the derivations issue, in seconds (T = 3; T = 50 and 100) and as a ratio.
TARGET_T3 = 1.0
TARGET_LONG = 10.0
TARGET_RATIO = 2.5


def cell_loop_and_lambdify(name: str, T: int) -> float:
    """Seconds to derive a built-in cell (default sizes) as the vanilla row does: unroll,
    backward loop, lambdify everything, and the expanded-sum terms of every gradient."""
    cell = load_cell(name)
    sp.core.cache.clear_cache()
    started = time.perf_counter()
    program = unroll_cell(cell, T=T)
    lambdify_cell(program, cell_backward_loop(program))
    for wrt in cell.gradient_names:
        cell_expanded_sum(cell, wrt, T)
    return time.perf_counter() - started


def cell_rows(quick: bool) -> None:
    """Per built-in cell: unroll + backward loop + lambdify of every gradient, three lengths."""
    header(
        "derivations, any cell: unroll + loop + lambdify every gradient, expanded terms "
        "(D=2, H=3, V=4)"
    )
    short, long_a, long_b = (2, 5, 10) if quick else (3, 50, 100)
    for name in BUILTIN_CELLS:
        t_short = min(cell_loop_and_lambdify(name, short) for _ in range(1 if quick else 3))
        row(f"{name}, T = {short}", seconds(t_short), f"< {TARGET_T3:.0f} s",
            verdict(t_short < TARGET_T3))  # fmt: skip
        t_a = cell_loop_and_lambdify(name, long_a)
        row(f"{name}, T = {long_a}", seconds(t_a), f"< {TARGET_LONG:.0f} s",
            verdict(t_a < TARGET_LONG))  # fmt: skip
        t_b = cell_loop_and_lambdify(name, long_b)
        row(f"{name}, T = {long_b}", seconds(t_b), f"< {TARGET_LONG:.0f} s",
            verdict(t_b < TARGET_LONG))  # fmt: skip
        ratio = t_b / t_a
        row(f"{name}, t({long_b}) / t({long_a})", f"{ratio:.2f}", f"<= {TARGET_RATIO}",
            verdict(ratio <= TARGET_RATIO))  # fmt: skip


def naive(T: int) -> tuple[float, float]:
    """(diff seconds, lambdify seconds) for sympy.diff of the nested loss, all 7 gradients."""
    sp.core.cache.clear_cache()
    cell = load_cell("vanilla")
    program = unroll_cell(cell, T=T)
    started = time.perf_counter()
    loss = program.nested(program.loss)
    wrt = [s for name in cell.gradient_names for s in gradient_inputs(program, name)]
    gradients = [sp.diff(loss, s) for s in wrt]
    middle = time.perf_counter()
    sp.lambdify(program.inputs(), gradients, modules="math")
    return middle - started, time.perf_counter() - middle


def main(quick: bool = False) -> None:
    """Run the derivations benchmarks and print each figure next to its target."""
    cell_rows(quick)
    header("derivations, the naive way: sympy.diff of the nested loss, then lambdify")
    naive_t = 1 if quick else 3
    diff_s, lamb_s = naive(naive_t)
    total = diff_s + lamb_s
    row(
        f"vanilla, naive sympy.diff + lambdify, T = {naive_t}",
        seconds(total),
        "baseline",
        f"(diff {seconds(diff_s)}, lambdify {seconds(lamb_s)})",
    )
    if not quick:
        t_short = min(cell_loop_and_lambdify("vanilla", naive_t) for _ in range(3))
        row("  the straight-line form is faster by", f"{total / t_short:.0f}x", "(reported)")
