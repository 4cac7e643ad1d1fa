r"""Proof that the backward loop of any cell adds exactly the expanded sum's terms.

For every gradient g of a cell and every iteration t of the loop
(`derivations.gradient.loop`), what iteration t adds to g, with the loop's symbols
substituted back, equals the sum of the expanded sum's terms
(`derivations.gradient.sums`) that `cell_loop_map` assigns to it (those with step k = t):

$$\Delta_t\,g = \sum_{i \ge t} \frac{\mathrm{d}L_i}{\mathrm{d}g}\Big|_{k = t}.$$

Both sides are written in the same symbols, the forward program's (every variable of
step t and $\partial L_t/\partial y_t$ one symbol), so the statement is an identity of
polynomials in those symbols: it holds for every input, loss and activation that gives
these values, and ``expand`` of the difference decides it exactly. For an initial state
$s_0$ the loop's carry after $t = 1$ must equal the sum of all its terms.
"""

from __future__ import annotations

import time
from typing import Any

import sympy as sp

from derivations.check.proof import Proof
from derivations.core.cell import Cell
from derivations.gradient.loop import cell_backward_loop, cell_loop_map
from derivations.gradient.sums import cell_expanded_sum
from derivations.program.unroll import unroll_cell

__all__ = ["prove_cell_loop_equals_sum"]


def _terms_by_pair(cell: Cell, wrt: str, T: int) -> dict[tuple[int, int], Any]:
    return {(t.loss, t.step): t for t in cell_expanded_sum(cell, wrt, T)}


def prove_cell_loop_equals_sum(
    cell: Cell, *, T: int = 2, D: int = 1, H: int = 2, V: int = 2, names: tuple[str, ...] = ()
) -> list[Proof]:
    """One exact proof per gradient (all of `cell.gradient_names` unless `names`)."""
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss="mse")
    loop = cell_backward_loop(program)
    definitions = loop.definitions
    proofs = []
    initial = {f"{s}0" for s in cell.state_names}
    for wrt in names or cell.gradient_names:
        started = time.perf_counter()
        terms = _terms_by_pair(cell, wrt, T)
        entries, wrong = 0, []
        for t, added in cell_loop_map(cell, wrt, T).items():
            if not added:
                continue
            increment = loop.increments[wrt][1 if wrt in initial else t]
            expected = sp.zeros(*increment.shape)
            for pair in added:
                expected += terms[pair].matrix(program)
            difference = (increment.xreplace(definitions) - expected).applyfunc(sp.expand)
            entries += len(difference)
            wrong += [(t, n) for n, d in enumerate(difference) if d != 0]
        holds = entries > 0 and not wrong
        detail = f"{entries} entries, all zero" if holds else f"non-zero at (t, entry) {wrong[:5]}"
        proofs.append(
            Proof(
                "loop iteration t adds the terms with k = t",
                wrt,
                program.spec,
                entries,
                holds,
                detail,
                time.perf_counter() - started,
            )
        )
    return proofs
