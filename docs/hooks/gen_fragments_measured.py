"""The numbers of the hand-written pages, computed by `rnnnum` at build and checked.

The third stage of the hand-written pages' fragments (``gen_fragments.py`` gathers
them): the vanishing page's components and why they shrink so fast, and the column
convention's Jacobian checked against ours. Each number's statement is a `claim`.
"""

from __future__ import annotations

import numpy as np
from gen_format import (
    claim,
    display,
    fmt,
    sci,
    table,
)

import rnnnum
from derivations.core.cells import vanilla
from derivations.core.factors import Scope
from derivations.core.notation import (
    pair_position,
    step_position,
    total_derivative,
)
from derivations.render.formulas import (
    PASCANU_NAMES,
    column_block,
    column_equation,
    column_notation,
    column_scope,
    generic_sum,
)
from rnnnum.lab import problem

#: Central differences with rnnnum.FD_STEP on O(1) entries err by ~1e-10 (truncation
#: h^2 f''' ~ 1e-12 plus rounding eps/h ~ 1e-10); a wrong transpose errs by O(0.1).
COLUMN_ATOL = 1e-8
#: Components of O(1) gradients summed in two orders: a few ulps; 1e-12 is still
#: three orders above what T = 30 terms can accumulate.
SUM_ATOL = 1e-12
#: The largest singular value set by init_spectral, as an SVD of float64 recovers it:
#: exact up to a few ulps; 1e-12 leaves margin yet would catch any other scaling.
SPECTRAL_ATOL = 1e-12
#: "Close to": the spectral radius times the mean derivative is an estimate of the factor
#: per step, not a bound; within 10 % it explains the measured rate.
ESTIMATE_RTOL = 0.1
#: The two distances the vanishing page quotes in its prose.
VANISH_DISTANCES = (10, 20)


def vanishing_fragments() -> dict[str, str]:
    T = 30
    params, _, _, cache = problem(T, kind="spectral", sigma_max=1.0)
    parts = rnnnum.components(params, cache, "Wxh")
    norms = parts.norms()  # (T, T), by pair: entry pair_position(i, k) is loss i, step k
    total = rnnnum.bptt(params, cache).Wxh
    error = float(np.abs(parts.total() - total).max())
    claim(error <= SUM_ATOL, f"the components add up to bptt up to rounding ({error:.2e})")
    d1, d2 = VANISH_DISTANCES

    def last(k: int) -> float:  # the component of the last loss L_T through step k
        return float(norms[pair_position(T, k)])

    rows = [
        [str(k), str(T - k), fmt(last(k)), fmt(last(k) / last(T))]
        for k in (T, T - 1, T - 2, T - 5, T - d1, T - d2, 1)
    ]
    per_loss = np.array(
        [np.linalg.norm(parts.terms[step_position(i)].sum(axis=0)) for i in range(1, T + 1)]
    )
    far = norms[step_position(T), : step_position(T - d1 + 1)]  # steps 1..T-d1
    return {
        **_why_so_fast(params, cache, last(T - d1) / last(T), d1),
        "vanish.d1": str(d1),
        "vanish.d2": str(d2),
        "vanish.rel.d1": fmt(last(T - d1) / last(T)),
        "vanish.rel.d2": fmt(last(T - d2) / last(T)),
        "gd.steps_ratio": fmt(last(T) / last(T - d2)),
        "vanish.T": str(T),
        "vanish.H": str(params.H),
        "table.vanish.last": table(
            ["input step k", "distance i − k", "norm of the component", "relative to k = i"], rows
        ),
        "vanish.sum_error": fmt(error),
        "vanish.total_norm": fmt(float(np.linalg.norm(total))),
        "vanish.far_share": fmt(float(far.sum() / norms[step_position(T)].sum())),
        "vanish.loss_norm_min": fmt(float(per_loss.min())),
        "vanish.loss_norm_max": fmt(float(per_loss.max())),
    }


def _why_so_fast(
    params: rnnnum.RNNParams, cache: rnnnum.ForwardCache, ratio: float, distance: int
) -> dict[str, str]:
    """Where the factor per step comes from when the largest singular value is 1: the other
    singular values, the spectral radius, the activation's derivatives, each step's norm."""
    singular = np.linalg.svd(params.Whh, compute_uv=False)  # descending
    radius = float(np.abs(np.linalg.eigvals(params.Whh)).max())
    fprime = cache.fprime[0]  # f'(a_t) = 1 - h_t^2 for tanh, (T, H)
    steps = np.linalg.norm(rnnnum.step_jacobians(params, cache)[0], ord=2, axis=(1, 2))  # (T,)
    per_step = ratio ** (1 / distance)  # the component's geometric mean factor per step
    claim(abs(singular[0] - 1) < SPECTRAL_ATOL, f"the largest singular value is 1 ({singular[0]})")
    claim(radius < 1, f"the spectral radius is below 1 ({radius})")
    claim(bool(fprime.max() < 1), "the derivatives of tanh are all below 1")
    claim(bool(np.all(steps < 1)), "every one-step Jacobian has norm below 1")
    claim(
        per_step < float(steps.min()),
        f"the component shrinks faster per step ({per_step:.3g}) than any one Jacobian's norm",
    )
    estimate = radius * float(fprime.mean())  # the long-run rate, with an average derivative
    claim(
        abs(estimate / per_step - 1) < ESTIMATE_RTOL,
        f"the spectral radius times the mean derivative ({estimate:.3g}) is close to the "
        f"measured factor per step ({per_step:.3g})",
    )
    return {
        "vanish.sv.min": fmt(float(singular[-1])),
        "vanish.sv.median": fmt(float(np.median(singular))),
        "vanish.radius": fmt(radius),
        "vanish.fprime.mean": fmt(float(fprime.mean())),
        "vanish.fprime.min": fmt(float(fprime.min())),
        "vanish.step.min": fmt(float(steps.min())),
        "vanish.step.median": fmt(float(np.median(steps))),
        "vanish.step.max": fmt(float(steps.max())),
        "vanish.per_step": fmt(per_step),
        "vanish.radius_fprime": fmt(estimate),
    }


def column_fragments() -> dict[str, str]:
    """The column convention, and a numeric check that its Jacobian is our transpose."""
    params, X, _, cache = problem(3, H=5)
    # dh_2/dh_1, row convention; the products are by step ([i, k], 0..T)
    ours = rnnnum.jacobian_products(params, cache).matrices[0, 2, 1]
    U, W, b = params.Whh.T, params.Wxh.T, params.bh  # the column convention's matrices
    one, two = step_position(1), step_position(2)  # the caches and inputs are by position
    h1, x2 = cache.h[0, one], X[0, two]

    def step(h: np.ndarray) -> np.ndarray:  # h_2 = tanh(U h_1 + W x_2 + b), columns
        return np.tanh(U @ h + W @ x2 + b)

    theirs = np.column_stack(
        [
            (step(h1 + rnnnum.FD_STEP * e) - step(h1 - rnnnum.FD_STEP * e)) / (2 * rnnnum.FD_STEP)
            for e in np.eye(params.H)
        ]
    )  # entry (l, j) = d h_2,l / d h_1,j: numerator layout
    error = float(np.abs(theirs - ours.T).max())
    claim(error <= COLUMN_ATOL, f"the column-convention Jacobian is our transpose ({error:.2e})")
    # the printed column Jacobian, evaluated on the column matrices, is the same matrix
    cell = vanilla()
    block = cell.step_jacobian_blocks()["h", "h"]
    row_params = {"Wxh": params.Wxh, "Whh": params.Whh, "bh": params.bh}
    refs = {"a": cache.a[0, two], "h": cache.h[0, two]}
    scope = Scope(x2, {"h": h1}, refs, row_params, cell.activation)
    printed = column_block(block).value(column_scope(scope), params.H, params.H)
    shown_error = float(np.abs(theirs - printed).max())
    claim(
        shown_error <= COLUMN_ATOL,
        f"the printed column-convention Jacobian is the transpose of the row block "
        f"({shown_error:.2e})",
    )
    column = column_notation(cell)
    names = ",\\ ".join(
        rf"{latex} = {cell.notation.latex[name]}^\top" for name, latex in PASCANU_NAMES.items()
    )
    lhs = total_derivative(cell.notation.at("h", "t"), cell.notation.at("h", "t", -1))
    return {
        "column.error": sci(error),
        "eq.column.model": display(column_equation(cell, "h", inline=("a",)) + rf",\qquad {names}"),
        "eq.column.jacobian": display(
            rf"\Big({lhs}\Big)_{{\text{{column}}}} = "
            rf"{generic_sum(column_block(block), 't', column)} = "
            rf"\big({generic_sum(block, 't', cell.notation)}\big)^\top"
        ),
    }
