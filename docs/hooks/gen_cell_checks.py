"""Generator job ``cell-checks``: the gated cells' symbolic-vs-numeric gate of the build.

`cell_checks` compares, for one cell, every gradient of `Cell.gradient_names` over
both losses and T = 1..3 (`CELL_CHECK_STEPS`):

- ``loop vs rnnnum.bptt``: the compiled backward loop (`derivations.cell_lambdified`)
  against rnnnum's hand-written BPTT, the stacked parameters of rnnnum (LSTMParams,
  GRUParams) built from the per-gate arrays in the order of `Cell.stacking`;
- ``terms vs rnnnum.components``: every (i, k) term (`CellTerm.value`) against rnnnum's
  component of the same loss and step;
- ``loop vs finite differences``: the loop against central differences of the compiled
  forward loss, which uses no backward code at all.

rnnnum has no residual cell: there the terms, summed over k for each loss L_i, are
compared with central differences of L_i instead (``terms vs finite differences``).
The lead's ``derivations.cell_verify.verify_cell`` will replace this module's body;
the pages only read the `Check` rows it returns. Any failed row fails the build.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp
from gen_format import SEED, ChecksFailed, code, sci, table

import rnnnum
from derivations.cell import Cell
from derivations.cell_lambdified import CellEvaluation, lambdify_cell
from derivations.cell_sums import cell_expanded_sum
from derivations.cell_unroll import UnrolledCell, unroll_cell
from derivations.cells import BUILTIN_CELLS
from derivations.notation import LOSS_NAMES
from derivations.verify import EXACT_ATOL, EXACT_RTOL, Check

#: The cells with a chapter page (the vanilla cell has its own pages).
GATED_CELLS = ("lstm", "gru", "gru-before", "residual")
#: Sequence lengths checked at build time: T = 3 is the pages' length; 1 and 2 catch
#: an error at the ends of the sums.
CELL_CHECK_STEPS = (1, 2, 3)
#: Small sizes (the checks are exact comparisons, sizes do not hide a wrong term).
D, H, V = 2, 2, 3
#: Central differences with rnnnum.FD_STEP (1e-6) on O(1) quantities: truncation error
#: ~ h^2 = 1e-12 and rounding ~ eps/h = 2e-10 of the loss scale.
FD_RTOL, FD_ATOL = 1e-6, 1e-8
CELL_CHECKS = (
    "loop vs rnnnum.bptt",
    "terms vs rnnnum.components",
    "loop vs finite differences",
    "terms vs finite differences",
)


def _inputs(program: UnrolledCell, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random float64 inputs by name (initial states non-zero) and the targets."""
    cell, T = program.cell, program.T
    values: dict[str, np.ndarray] = {}
    for name in (*cell.param_names, "Wyh", "by"):
        rows, cols = program.params[name].shape
        values[name] = rng.uniform(-1.0, 1.0, (cols,) if rows == 1 else (rows, cols))
    values["X"] = rng.uniform(-1.0, 1.0, (T, D))
    for s in cell.state_names:
        values[f"{s}0"] = rng.uniform(-1.0, 1.0, H)
    if program.spec.loss == "cross_entropy":
        values["targets"] = rng.integers(0, V, T)
    else:
        values["targets"] = rng.uniform(-1.0, 1.0, (T, V))
    return values


def _numbers(program: UnrolledCell, values: dict[str, np.ndarray]) -> dict[sp.Symbol, float]:
    """The same inputs keyed by the program's symbols (for `UnrolledCell.trace`)."""
    out: dict[sp.Symbol, float] = {}
    for name in (*program.cell.param_names, "Wyh", "by"):
        out.update(zip(program.params[name], np.ravel(values[name]), strict=True))
    for t in range(1, program.T + 1):
        out.update(zip(program.x[t], values["X"][t - 1], strict=True))
        if program.spec.loss == "cross_entropy":
            onehot = np.arange(V) == values["targets"][t - 1]
            out.update(zip(program.targets[t], onehot.astype(float), strict=True))
        else:
            out.update(zip(program.targets[t], values["targets"][t - 1], strict=True))
    for s in program.cell.state_names:
        out.update(zip(program.values[s][0], values[f"{s}0"], strict=True))
    return {k: float(v) for k, v in out.items()}


def _rnnnum(cell: Cell, values: dict[str, np.ndarray], loss: str) -> tuple[Any, Any]:
    """rnnnum's params (stacked in the cell's gate order) and forward cache."""
    stacked = {
        name: np.concatenate([values[b] for b in blocks], axis=-1)
        for name, blocks in cell.stacking().items()
    }
    readout = {n: values[n] for n in ("Wyh", "by")}
    if "c" in cell.state_names:
        params: Any = rnnnum.LSTMParams(**stacked, **readout)
    else:
        reset = "before" if cell.name.endswith("before") else "after"
        params = rnnnum.GRUParams(**stacked, **readout, reset=reset)
    T = values["X"].shape[0]
    # rnnnum's batch of one: class indices (1, T), mse targets (1, T, V)
    targets = values["targets"][None]
    if loss == "mse":
        targets = targets.reshape(1, T, -1)
    c0 = values["c0"][None] if "c0" in values else None
    cache = rnnnum.forward(
        params, values["X"][None], targets, loss=loss, h0=values["h0"][None], c0=c0
    )
    return params, cache


def _gate(cell: Cell, name: str) -> tuple[str, slice]:
    """rnnnum's stacked field holding gradient `name`, and its columns."""
    for stacked, blocks in cell.stacking().items():
        if name in blocks:
            k = blocks.index(name)
            return stacked, slice(k * H, (k + 1) * H)
    return name, slice(None)


def _row(check: str, wrt: str, loss: str, T: int, ours: np.ndarray, theirs: np.ndarray,
         rtol: float, atol: float) -> Check:  # fmt: skip
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    error = float(np.max(np.abs(ours.reshape(theirs.shape) - theirs), initial=0.0))
    scale = float(np.max(np.abs(theirs), initial=0.0))
    passed = bool(
        np.all(np.abs(ours.reshape(theirs.shape) - theirs) <= atol + rtol * np.abs(theirs))
    )
    return Check(check, wrt, "", loss, T, error, scale, rtol, atol, passed)


def _central(function: Callable[[dict[str, np.ndarray]], np.ndarray],
             values: dict[str, np.ndarray], name: str) -> np.ndarray:  # fmt: skip
    """Central differences of `function` (an array of losses) by every entry of `name`."""
    base = values[name]
    out = []
    for index in np.ndindex(base.shape):
        original = base[index]
        sides = []
        for step in (rnnnum.FD_STEP, -rnnnum.FD_STEP):
            base[index] = original + step
            sides.append(function(values))
        base[index] = original
        out.append((sides[0] - sides[1]) / (2 * rnnnum.FD_STEP))
    return np.moveaxis(np.array(out).reshape(*base.shape, -1), -1, 0)  # (losses, *shape)


def _one(cell: Cell, T: int, loss: str, rng: np.random.Generator) -> list[Check]:
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    compiled = lambdify_cell(program)
    values = _inputs(program, rng)
    evaluation: CellEvaluation = compiled(values)
    trace = program.trace(_numbers(program, values))
    rows: list[Check] = []

    def losses(at: dict[str, np.ndarray]) -> np.ndarray:
        return compiled(at).losses

    gated = bool(cell.stacks)
    if gated:
        params, cache = _rnnnum(cell, values, loss)
        grads = rnnnum.bptt(params, cache).as_dict()
    for name in cell.gradient_names:
        ours = evaluation.gradients[name]
        stacked, columns = _gate(cell, name)
        fd = _central(losses, values, name)  # (T, *shape): dL_i/d(name)
        rows.append(_row("loop vs finite differences", name, loss, T, ours, fd.sum(axis=0),
                         FD_RTOL, FD_ATOL))  # fmt: skip
        terms = cell_expanded_sum(cell, name, T)
        if gated:
            theirs = np.asarray(grads[stacked])[..., columns]
            if name in ("X", "h0", "c0"):  # rnnnum's batch of one
                theirs = theirs[0]
            rows.append(_row("loop vs rnnnum.bptt", name, loss, T, ours, theirs,
                             EXACT_RTOL, EXACT_ATOL))  # fmt: skip
            parts = rnnnum.components(params, cache, stacked).terms
            shape = np.shape(ours)[-1:] if name == "X" else np.shape(ours)
            mine = np.zeros((T, T, *shape))
            for term in terms:
                mine[term.loss - 1, term.step - 1] = term.value(program, trace)
            ref = np.asarray(parts)[..., columns]
            if name in ("X", "h0", "c0"):
                ref = ref[:, :, 0]
            rows.append(_row("terms vs rnnnum.components", name, loss, T, mine, ref,
                             EXACT_RTOL, EXACT_ATOL))  # fmt: skip
        else:
            per_loss = np.zeros_like(fd)
            for term in terms:
                value = term.value(program, trace)
                if name == "X":
                    per_loss[term.loss - 1, term.step - 1] += value
                else:
                    per_loss[term.loss - 1] += np.reshape(value, per_loss.shape[1:])
            rows.append(_row("terms vs finite differences", name, loss, T, per_loss, fd,
                             FD_RTOL, FD_ATOL))  # fmt: skip
    return rows


def cell_checks(cell: Cell) -> list[Check]:
    """Every check of `cell` (module docstring), both losses, T in `CELL_CHECK_STEPS`."""
    rng = np.random.default_rng(SEED)
    return [row for T in CELL_CHECK_STEPS for loss in LOSS_NAMES
            for row in _one(cell, T, loss, rng)]  # fmt: skip


HEADER = ["check", "cases", "max abs. error", "max rel. error", "tolerance", "result"]


def check_table(rows: list[Check], wrt: str) -> str:
    """The Markdown table of the checks of gradient `wrt`, one line per kind of check."""
    out = []
    for check in CELL_CHECKS:
        chosen = [r for r in rows if r.check == check and r.wrt == wrt]
        if not chosen:
            continue
        failures = sum(not r.passed for r in chosen)
        verdict = "passed" if not failures else f"**FAILED {failures}**"
        worst = max(r.max_error for r in chosen)
        relative = max(r.max_error / max(r.max_reference, 1e-300) for r in chosen)
        tolerance = f"{sci(chosen[0].rtol)} rel. + {sci(chosen[0].atol)} abs."
        out.append([check, str(len(chosen)), sci(worst), sci(relative), tolerance, verdict])
    return table(HEADER, out)


def failure_message(cell: Cell, rows: list[Check]) -> str:
    """What failed, one line per failed check (the build's error)."""
    failed = [r for r in rows if not r.passed]
    lines = [
        f"  {r.check} for d/d{r.wrt} ({cell.name} cell, {r.loss}, T={r.T}): max |error| "
        f"{r.max_error:.3e} > {r.atol:.0e} + {r.rtol:.0e} * |reference|"
        for r in failed
    ]
    return (f"the {cell.name} cell: {len(failed)} of {len(rows)} checks failed:\n"
            + "\n".join(lines[:40]) + ("\n  ..." if len(lines) > 40 else ""))  # fmt: skip


def cell_checks_job() -> dict[str, dict[str, str]]:
    fragments: dict[str, str] = {}
    failures = []
    total = 0
    for key in GATED_CELLS:
        cell = BUILTIN_CELLS[key]()
        rows = cell_checks(cell)
        total += len(rows)
        if not all(r.passed for r in rows):
            failures.append(failure_message(cell, rows))
        for name in cell.gradient_names:
            fragments[f"cellchecks.{key}.{name}"] = check_table(rows, name)
        fragments[f"cellchecks.{key}.count"] = str(len(rows))
    if failures:
        raise ChecksFailed("\n".join(failures))
    fragments["cellchecks.count"] = str(total)
    fragments["cellchecks.steps"] = ", ".join(str(T) for T in CELL_CHECK_STEPS)
    fragments["cellchecks.sizes"] = f"D = {D}, H = {H}, V = {V}"
    return {"fragments": fragments}


__all__ = ["cell_checks", "cell_checks_job", "check_table", "code"]
