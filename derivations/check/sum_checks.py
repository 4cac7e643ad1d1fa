r"""The expanded sum checked for any cell, with or without a numeric twin.

`derive` prints the expanded sum: one term (i, k) per loss $L_i$ and step k, the part
of $\mathrm{d}L/\mathrm{d}\theta$ that $L_i$ sends through the copy of $\theta$ used at
step k. Two checks of every term, at the point `derivations.check.verify` draws:

- **terms vs finite differences**: each term against the central difference of $L_i$
  when only the step-k copy of $\theta$ moves (for $x_k$ and an initial state the
  quantity itself, which only step k, or step 1, reads; for $W_{yh}$ and $b_y$ the copy
  in $y_k$). The forward pass here is the cell's equations evaluated in NumPy
  (`Cell.evaluate`), the cell's read-out (`Readout.evaluate`; $y_t = h_t W_{yh} + b_y$
  by default) and rnnnum's losses: no
  derivative of any kind, and not the compiled program. The (i, k) pairs the sum has
  no term for are checked too: their differences must vanish.
- **sum of terms vs loop**: the terms added up (for X, per step k) against the compiled
  backward loop (`lambdify_cell`), which shares nothing with the paths but the cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

import rnnnum
from derivations.check.table import EXACT_ATOL, EXACT_RTOL, SUM_CHECKS
from derivations.compile.lambdify import CellEvaluation
from derivations.core.cell import Cell, Func
from derivations.core.factors import FloatArray, Scope
from derivations.gradient.sums import cell_expanded_sum
from derivations.program.unroll import UnrolledCell

__all__ = [
    "KINKED",
    "distance_to_kink",
    "step_losses",
    "sum_checks",
    "term_differences",
    "term_values",
]

Compare = Callable[[str, str, Any, Any, float, float], Any]


def _copies(values: Mapping[str, Any], T: int) -> dict[str, list[FloatArray]]:
    """One copy per step of every parameter (read-out included), as float64 arrays."""
    return {
        name: [np.array(values[name], dtype=np.float64) for _ in range(T + 1)]
        for name in values
        if name not in ("X", "targets") and not name.endswith("0")
    }


def step_losses(
    cell: Cell, values: Mapping[str, Any], loss: str, *, start: int = 1,
    prev: Mapping[str, FloatArray] | None = None, copies: Mapping[str, list[FloatArray]],
    X: FloatArray | None = None,
) -> tuple[FloatArray, list[dict[str, FloatArray]]]:  # fmt: skip
    """$L_t$ for t = `start`..T, and every state at each step from ``start - 1`` on.

    Step t reads ``copies[name][t]`` for each parameter; `prev` holds the states at
    ``start - 1`` (default: the initial states of `values`).
    """
    X = np.asarray(values["X"] if X is None else X, dtype=np.float64)  # (T, D)
    T = X.shape[0]
    rule = rnnnum.get_loss(loss)
    targets = np.asarray(values["targets"])
    state = dict(prev) if prev is not None else {s: values[f"{s}0"] for s in cell.state_names}
    states = [state]
    losses = np.zeros(T + 1)
    for t in range(start, T + 1):
        params = {p: copies[p][t] for p in cell.param_names}
        refs = cell.evaluate(Scope(X[t - 1], state, {}, params, cell.activation))
        state = {s: refs[s] for s in cell.state_names}
        states.append(state)
        readout = {p: copies[p][t] for p in cell.read_out.param_names}
        y = cell.read_out.evaluate(Scope(X[t - 1], state, state, readout, cell.activation))
        losses[t] = rule.value(y, targets[t - 1])
    return losses, states


#: The element-wise functions with a kink at 0, where a central difference can straddle it.
KINKED = ("relu", "leaky_relu")


def distance_to_kink(cell: Cell, values: Mapping[str, Any]) -> float:
    """The smallest $|a|$ over every argument of a kinked function in the forward pass at
    `values` (infinity for a smooth cell), read off the cell's own equations."""
    X = np.asarray(values["X"], dtype=np.float64)
    params = {p: np.asarray(values[p], dtype=np.float64) for p in cell.param_names}
    state = {s: np.asarray(values[f"{s}0"], dtype=np.float64) for s in cell.state_names}
    distance = float("inf")
    for t in range(X.shape[0]):
        refs: dict[str, FloatArray] = {}
        for eq in cell.equations:
            scope = Scope(X[t], state, refs, params, cell.activation)
            for node in eq.expr.walk():
                kind = node.kind if isinstance(node, Func) else None
                if (cell.activation if kind == "act" else kind) in KINKED:
                    assert isinstance(node, Func)
                    distance = min(distance, float(np.abs(node.a.evaluate(scope)).min()))
            refs[eq.name] = eq.expr.evaluate(scope)
        state = {s: refs[s] for s in cell.state_names}
    return distance


def term_differences(cell: Cell, values: Mapping[str, Any], loss: str, wrt: str) -> FloatArray:
    """(T, T, *shape): entry [i-1, k-1] the central difference of $L_i$ in the step-k copy.

    The shape is the term's (`CellTerm.value`): (rows, H), (H,), (H, V), (V,), (D,).
    """
    X = np.asarray(values["X"], dtype=np.float64)
    T = X.shape[0]
    base = _copies(values, T)
    _, states = step_losses(cell, values, loss, copies=base)
    initial = wrt in {f"{s}0" for s in cell.state_names}
    shape = X.shape[1:] if wrt == "X" else np.shape(values[wrt])
    out = np.zeros((T, T, *shape))
    for k in range(1, 2 if initial else T + 1):
        for idx in np.ndindex(*shape):
            moved = []
            for sign in (1.0, -1.0):
                step = sign * rnnnum.FD_STEP
                if wrt == "X":
                    x = X.copy()
                    x[(k - 1, *idx)] += step
                    args: dict[str, Any] = {"X": x, "prev": states[k - 1], "copies": base}
                elif initial:
                    s0 = dict(states[0])
                    s0[wrt[:-1]] = s0[wrt[:-1]].copy()
                    s0[wrt[:-1]][idx] += step
                    args = {"prev": s0, "copies": base}
                else:
                    copies = dict(base)
                    copies[wrt] = list(base[wrt])
                    copies[wrt][k] = base[wrt][k].copy()
                    copies[wrt][k][idx] += step
                    args = {"prev": states[k - 1], "copies": copies}
                moved.append(step_losses(cell, values, loss, start=k, **args)[0])
            difference = (moved[0] - moved[1]) / (2 * rnnnum.FD_STEP)
            out[(slice(k - 1, T), k - 1, *idx)] = difference[k:]
    return out


def term_values(
    cell: Cell, program: UnrolledCell, evaluation: CellEvaluation, wrt: str
) -> FloatArray:
    """(T, T, *shape): entry [i-1, k-1] the term (i, k) the expanded sum prints, 0 if none."""
    terms = cell_expanded_sum(cell, wrt, program.T)
    first = np.asarray(terms[0].value(program, evaluation.trace))
    out = np.zeros((program.T, program.T, *first.shape))
    for term in terms:
        out[term.loss - 1, term.step - 1] = term.value(program, evaluation.trace)
    return out


def sum_checks(
    cell: Cell, program: UnrolledCell, values: Mapping[str, Any], evaluation: CellEvaluation,
    compare: Compare, *, finite_differences: bool = True,
) -> list[Any]:  # fmt: skip
    """Both checks of the module docstring for every gradient; `compare(check, wrt, ours,
    theirs, rtol, atol)` makes each row (`derivations.check.verify`)."""
    rows = []
    for name in cell.gradient_names:
        terms = term_values(cell, program, evaluation, name)
        if finite_differences:
            fd = term_differences(cell, values, program.spec.loss, name)
            rows.append(compare(SUM_CHECKS[0], name, terms, fd, rnnnum.FD_RTOL, rnnnum.FD_ATOL))
        added = terms.sum(axis=0) if name == "X" else terms.sum(axis=(0, 1))  # X: per step k
        ours = evaluation.gradients[name]
        rows.append(compare(SUM_CHECKS[1], name, added, ours, EXACT_RTOL, EXACT_ATOL))
    return rows
