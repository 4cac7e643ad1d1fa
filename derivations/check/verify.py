r"""Verification of any cell against the numeric twin: the loop, every term, the Jacobians.

This module (with the tests and the site build) is where the two halves meet. For a
cell of `derivations.core.cells`, at a random point, it compares

- **loop vs rnnnum.bptt**: the compiled backward loop (`lambdify_cell`) against
  `rnnnum.bptt`, for every gradient of `Cell.gradient_names`;
- **terms vs rnnnum.components**: every (i, k) term of the expanded sum, evaluated from
  its paths, against `rnnnum.components(...).terms[i-1, k-1]`;
- **loop vs finite differences**: against central differences of a forward pass that
  has no backward code (rnnnum's, or for a cell without a twin the compiled forward);
- **state Jacobians vs rnnnum**: every $\mathrm{d}s_i/\mathrm{d}s'_k$, the sum over
  routes of one-step blocks, against `rnnnum.jacobian_products` (the LSTM's 2x2 blocks of (h, c));
- **terms vs finite differences** and **sum of terms vs loop**, for every cell, twin or
  not: each (i, k) term of the expanded sum against central differences of $L_i$ in the
  step-k copy, and the terms added up against the compiled loop
  (`derivations.check.sum_checks`).

The two halves share names, shapes and gate order only: a cell's ``twin`` says which
rnnnum parameter type computes it, and its ``stacks`` which per-gate blocks sit
side by side in rnnnum's stacked arrays (a contract the test suite checks). A cell
with no twin (a user's own) is checked against finite differences and its own loop;
`verify_cell`'s table says which checks could not run, and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

import rnnnum
from derivations.check.sum_checks import distance_to_kink, sum_checks
from derivations.check.table import (
    CHECKS,
    EXACT_ATOL,
    EXACT_RTOL,
    KINK_MARGIN,
    SUM_CHECKS,
    Check,
    NotRun,
    VerificationTable,
    compare,
)
from derivations.compile.lambdify import CellEvaluation, lambdify_cell, random_cell_values
from derivations.core.cell import Cell, Func, NumericTwin
from derivations.core.errors import DerivationError
from derivations.core.factors import FloatArray
from derivations.core.notation import LOSS_NAMES, pair_position
from derivations.gradient.named_paths import block_product_value
from derivations.gradient.sums import cell_expanded_sum
from derivations.program.unroll import UnrolledCell, unroll_cell

__all__ = ["Twin", "cell_problem", "not_run", "verify_cell", "verify_cell_spec"]

#: Draws tried before giving up on a point away from the ReLU kinks.
MAX_DRAWS = 100


@dataclass(frozen=True)
class Twin:
    """The rnnnum side of one problem: parameters, forward cache and the inputs they read."""

    params: Any
    cache: Any
    X: FloatArray  # (1, T, D)
    targets: Any  # (1, T) classes, or (1, T, V)
    initial: dict[str, FloatArray]  # "h0" (1, H) [, "c0"]


def _twin(program: UnrolledCell, values: dict[str, Any]) -> Twin | None:
    """rnnnum's parameters and cache for the same numbers, or None without a twin."""
    cell, spec = program.cell, program.spec
    if cell.twin is None:
        return None
    fields = {
        field: np.concatenate([values[b] for b in blocks], axis=-1)
        for field, blocks in cell.stacking().items()
    }
    stacked = {b for blocks in cell.stacking().values() for b in blocks}
    fields |= {
        p: values[p] for p in (*cell.param_names, *cell.read_out.param_names) if p not in stacked
    }
    params = _twin_type(cell.twin)(**fields, **dict(cell.twin.params_options))
    X = values["X"][None]
    targets = np.asarray(values["targets"])[None]
    initial = {f"{s}0": values[f"{s}0"][None] for s in cell.state_names}
    cache = rnnnum.forward(params, X, targets, **_options(cell, spec.loss, initial))
    return Twin(params, cache, X, targets, initial)


def _options(cell: Cell, loss: str, initial: dict[str, FloatArray]) -> dict[str, Any]:
    """The keywords rnnnum's forward pass (and its finite differences) need for `cell`."""
    assert cell.twin is not None  # only a cell with a twin runs rnnnum's forward
    options: dict[str, Any] = {"loss": loss, **initial, **dict(cell.twin.forward_options)}
    if cell.twin.activation:
        options["activation"] = cell.activation
    return options


def _twin_type(twin: NumericTwin) -> Any:
    """rnnnum's parameter type named by `twin`, with a clear error if rnnnum has none."""
    kind = getattr(rnnnum, twin.params, None)
    if not isinstance(kind, type):
        raise DerivationError(
            f"the cell's twin names rnnnum.{twin.params}, which rnnnum does not have; name "
            "one of rnnnum's parameter types (RNNParams, LSTMParams, GRUParams) or set "
            "twin=None to check the cell against finite differences only."
        )
    return kind


def cell_problem(
    cell: Cell, *, T: int, loss: str, sizes: tuple[int, int, int] = (2, 3, 4), seed: int = 0
) -> tuple[UnrolledCell, dict[str, Any], Twin | None]:
    """The unrolled program, a random point by name, and rnnnum's twin of it (or None).

    For ReLU-family activations the point is redrawn until every pre-activation is
    `KINK_MARGIN` away from the kink, so finite differences never straddle it (for a
    cell with no twin, every argument of a kinked function in its equations).
    """
    D, H, V = sizes
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    rng = np.random.default_rng(seed)
    for _ in range(MAX_DRAWS):
        values = random_cell_values(program, rng)
        twin = _twin(program, values)
        if twin is None:  # a cell of one's own: its kinks read off its equations
            if distance_to_kink(cell, values) > KINK_MARGIN:
                return program, values, twin
            continue
        if not isinstance(twin.cache, rnnnum.ForwardCache):
            return program, values, twin
        if rnnnum.distance_to_kink(twin.cache) > KINK_MARGIN:
            return program, values, twin
    raise AssertionError(f"no point away from the kinks in {MAX_DRAWS} draws")  # pragma: no cover


def _theirs(cell: Cell, field_values: dict[str, FloatArray], name: str) -> FloatArray:
    """rnnnum's array for the cell's `name`: a per-gate block of a stacked field if stacked."""
    for field, blocks in cell.stacking().items():
        if name in blocks:
            H = field_values[field].shape[-1] // len(blocks)
            n = blocks.index(name)
            return field_values[field][..., n * H : (n + 1) * H]
    return field_values[name]


def _field(cell: Cell, name: str) -> str:
    """The rnnnum field holding the cell's `name`."""
    return next((f for f, blocks in cell.stacking().items() if name in blocks), name)


def _compare(
    check: str, wrt: str, cell: Cell, program: UnrolledCell, ours: Any, theirs: Any,
    rtol: float, atol: float,
) -> Check:  # fmt: skip
    model = f"{cell.name} {cell.activation}" if "act" in _functions(cell) else cell.name
    return compare(check, wrt, model, program.spec.loss, program.T, ours, theirs, rtol, atol)


def _functions(cell: Cell) -> set[str]:
    """The element-wise functions the cell's equations apply (``"act"``: the chosen one)."""
    return {n.kind for eq in cell.equations for n in eq.expr.walk() if isinstance(n, Func)}


def _fd_of_compiled(
    compiled: Callable[[dict[str, Any]], CellEvaluation], values: dict[str, Any], name: str
) -> FloatArray:
    """Central differences of the compiled loss in every entry of input `name`."""
    base = np.asarray(values[name], dtype=np.float64)
    out = np.empty_like(base)
    for idx in np.ndindex(base.shape):
        losses = []
        for sign in (1.0, -1.0):
            moved = base.copy()
            moved[idx] += sign * rnnnum.FD_STEP
            losses.append(compiled({**values, name: moved}).loss)
        out[idx] = (losses[0] - losses[1]) / (2 * rnnnum.FD_STEP)
    return out


def _state_jacobians(
    cell: Cell, program: UnrolledCell, evaluation: CellEvaluation, twin: Twin
) -> tuple[str, FloatArray, FloatArray]:
    """(label, ours, rnnnum's): every ds_i/ds_k, 0 <= k <= i <= T, as (T+1, T+1, nH, nH)."""
    theirs = rnnnum.jacobian_products(twin.params, twin.cache).matrices[0]
    ours = np.zeros_like(theirs)
    for i in range(program.T + 1):
        for k in range(i + 1):
            ours[i, k] = block_product_value(cell, program, evaluation.trace, i, k)
    label = "ds_i/ds_k" if len(cell.state_names) > 1 else "dh_i/dh_k"
    return label, ours, theirs


def _is_batch(cell: Cell, name: str) -> bool:
    """rnnnum keeps a batch axis on X and the initial states (N = 1 here)."""
    return name == "X" or name in {f"{s}0" for s in cell.state_names}


def _twin_checks(
    cell: Cell, program: UnrolledCell, evaluation: CellEvaluation, twin: Twin
) -> list[Check]:
    """The loop against rnnnum.bptt, every term against rnnnum.components, the Jacobians."""
    reference = rnnnum.bptt(twin.params, twin.cache).as_dict()
    rows = []
    for name in cell.gradient_names:
        batch, field = _is_batch(cell, name), _field(cell, name)
        theirs = _theirs(cell, reference, name)
        ours = evaluation.gradients[name]
        rows.append(
            _compare(CHECKS[0], name, cell, program, ours, theirs[0] if batch else theirs,
                     EXACT_RTOL, EXACT_ATOL)
        )  # fmt: skip
        parts = _theirs(
            cell, {field: rnnnum.components(twin.params, twin.cache, field).terms}, name
        )
        mine = np.zeros_like(parts)
        for term in cell_expanded_sum(cell, name, program.T):
            value = np.asarray(term.value(program, evaluation.trace))
            mine[pair_position(term.loss, term.step)] = value[None] if batch else value
        rows.append(_compare(CHECKS[1], name, cell, program, mine, parts, EXACT_RTOL, EXACT_ATOL))
    label, ours_j, theirs_j = _state_jacobians(cell, program, evaluation, twin)
    rows.append(_compare(CHECKS[3], label, cell, program, ours_j, theirs_j, EXACT_RTOL, EXACT_ATOL))
    return rows


def _fd_checks(
    cell: Cell, program: UnrolledCell, compiled: Callable[[dict[str, Any]], CellEvaluation],
    values: dict[str, Any], evaluation: CellEvaluation, twin: Twin | None,
) -> list[Check]:  # fmt: skip
    """The loop against central differences of a forward pass with no backward code."""
    numeric: dict[str, FloatArray] | None = None
    if twin is not None:
        options = _options(cell, program.spec.loss, twin.initial)
        grads = rnnnum.numerical_gradients(twin.params, twin.X, twin.targets, **options)
        numeric = grads.as_dict()
    rows = []
    for name in cell.gradient_names:
        if numeric is not None:
            fd = _theirs(cell, numeric, name)
            fd = fd[0] if _is_batch(cell, name) else fd
        else:
            fd = _fd_of_compiled(compiled, values, name)
        ours = evaluation.gradients[name]
        rows.append(
            _compare(CHECKS[2], name, cell, program, ours, fd, rnnnum.FD_RTOL, rnnnum.FD_ATOL)
        )
    return rows


def verify_cell_spec(
    cell: Cell, *, T: int, loss: str, sizes: tuple[int, int, int] = (2, 3, 4), seed: int = 0,
    finite_differences: bool = True, expanded_sum: bool = True,
) -> list[Check]:  # fmt: skip
    """Every check of the module docstring for one cell, T and loss."""
    program, values, twin = cell_problem(cell, T=T, loss=loss, sizes=sizes, seed=seed)
    compiled = lambdify_cell(program)
    evaluation = compiled(values)
    rows = _twin_checks(cell, program, evaluation, twin) if twin is not None else []
    if finite_differences:
        rows += _fd_checks(cell, program, compiled, values, evaluation, twin)
    if expanded_sum:

        def row(check: str, wrt: str, ours: Any, theirs: Any, rtol: float, atol: float) -> Check:
            return _compare(check, wrt, cell, program, ours, theirs, rtol, atol)

        rows += sum_checks(
            cell, program, values, evaluation, row, finite_differences=finite_differences
        )
    return rows


def not_run(cell: Cell, *, finite_differences: bool, expanded_sum: bool) -> tuple[NotRun, ...]:
    """The kinds of check `verify_cell` leaves out for `cell` with these options, and why."""
    out = []
    if cell.twin is None:
        why = (
            "the cell names no rnnnum twin (twin=None, a cell of your own): there is no "
            "independent NumPy code to compare with; its terms and loop are checked against "
            "finite differences and each other instead"
        )
        out += [NotRun(CHECKS[n], why) for n in (0, 1, 3)]
    if not finite_differences:
        out += [NotRun(c, "finite_differences=False") for c in (CHECKS[2], SUM_CHECKS[0])]
    if not expanded_sum:
        out += [NotRun(c, "expanded_sum=False") for c in SUM_CHECKS]
    first = {n.check: n for n in reversed(out)}  # one reason per kind: the first given
    return tuple(n for n in out if first[n.check] is n)


def verify_cell(
    cell: Cell, steps: Iterable[int] = range(1, 4), *, losses: Iterable[str] = LOSS_NAMES,
    sizes: tuple[int, int, int] = (2, 3, 4), seed: int = 0, finite_differences: bool = True,
    expanded_sum: bool = True, progress: Callable[[int, int, str], None] | None = None,
) -> VerificationTable:  # fmt: skip
    """Run every check for `cell` over T in `steps` and each loss; sizes are (D, H, V).

    ``progress(done, total, label)`` is called before each (T, loss). The table's
    ``not_run`` says which kinds of check could not run for this cell, and why.
    """
    cases = [(T, loss) for loss in losses for T in steps]
    rows: list[Check] = []
    for done, (T, loss) in enumerate(cases):
        if progress is not None:
            progress(done, len(cases), f"{cell.name} T={T} {loss}")
        rows += verify_cell_spec(
            cell, T=T, loss=loss, sizes=sizes, seed=seed + done,
            finite_differences=finite_differences, expanded_sum=expanded_sum,
        )  # fmt: skip
    skipped = not_run(cell, finite_differences=finite_differences, expanded_sum=expanded_sum)
    return VerificationTable(tuple(rows), skipped)
