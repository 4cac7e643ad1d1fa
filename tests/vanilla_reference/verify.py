r"""Verification against the numeric twin: the symbolic gradients, term by term, vs `rnnnum`.

This module (with the tests and the site build) is where the two halves meet. For
every gradient x activation x loss x T, at a random point:

- **loop vs rnnnum.bptt**: the lambdified symbolic gradient against `rnnnum.bptt`;
- **terms vs rnnnum.components**: every (i, k) `Term`, evaluated from its factors,
  against `rnnnum.components(...).terms[i-1, k-1]` (the time-index layouts met here
  are those of `derivations.core.notation`: the trace by step, rnnnum's caches by
  position, the components by pair);
- **loop vs finite differences**: against `rnnnum.numerical_gradients` (central
  differences of rnnnum's forward pass, no backward code involved);
- **Jacobian products**: each $\mathrm{d}h_i/\mathrm{d}h_k$ against `rnnnum.jacobian_products`.

`verify` returns a `VerificationTable`; the site shows its summary and fails its
build when ``table.passed`` is False, and so does ``python -m derivations verify``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import rnnnum
from derivations.check.table import (
    CHECKS,
    EXACT_ATOL,
    EXACT_RTOL,
    KINK_MARGIN,
    Check,
    VerificationTable,
    compare,
)
from derivations.core.notation import ACTIVATION_NAMES, GRADIENT_NAMES, LOSS_NAMES, pair_position
from derivations.core.spec import ModelSpec
from vanilla_reference.gradients import expanded_sum, jacobian
from vanilla_reference.lambdified import lambdify_model
from vanilla_reference.proofs import random_point
from vanilla_reference.unroll import unroll

__all__ = [
    "verify",
]


def _compare(
    check: str, wrt: str, spec: ModelSpec, ours: Any, theirs: Any, rtol: float, atol: float
) -> Check:
    return compare(check, wrt, spec.activation, spec.loss, spec.T, ours, theirs, rtol, atol)


def _rnnnum_problem(spec: ModelSpec, seed: int) -> tuple[dict[str, Any], Any, Any]:
    """A random point, with rnnnum's params and forward cache; away from ReLU kinks."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        values = random_point(spec, rng)
        params = rnnnum.RNNParams(**{n: values[n] for n in rnnnum.PARAM_NAMES})
        targets = values["targets"][None]
        cache = rnnnum.forward(
            params,
            values["X"][None],
            targets,
            h0=values["h0"][None],
            activation=spec.activation,
            loss=spec.loss,
        )
        if rnnnum.distance_to_kink(cache) > KINK_MARGIN:
            return values, params, cache
    raise AssertionError("no point away from the kinks in 100 draws")  # pragma: no cover


def verify_spec(
    spec: ModelSpec,
    *,
    seed: int = 0,
    names: Iterable[str] = GRADIENT_NAMES,
    finite_differences: bool = True,
) -> list[Check]:
    """Every check of the module docstring for one model spec."""
    values, params, cache = _rnnnum_problem(spec, seed)
    evaluation = lambdify_model(unroll(spec))(values)
    trace = evaluation.trace
    reference = rnnnum.bptt(params, cache)
    numeric = (
        rnnnum.numerical_gradients(
            params,
            values["X"][None],
            values["targets"][None],
            h0=values["h0"][None],
            activation=spec.activation,
            loss=spec.loss,
        )
        if finite_differences
        else None
    )
    rows = []
    for name in names:
        theirs = getattr(reference, name)
        theirs = theirs[0] if name in ("X", "h0") else theirs
        ours = evaluation.gradients[name]
        rows.append(_compare(CHECKS[0], name, spec, ours, theirs, EXACT_RTOL, EXACT_ATOL))
        parts = rnnnum.components(params, cache, name).terms  # by pair: [i - 1, k - 1]
        mine = np.zeros_like(parts)
        for term in expanded_sum(name, spec.T):
            value = term.value(trace)  # the trace is by step: row t is step t
            mine[pair_position(term.loss, term.step)] = (
                value[None] if name in ("X", "h0") else value
            )
        rows.append(_compare(CHECKS[1], name, spec, mine, parts, EXACT_RTOL, EXACT_ATOL))
        if numeric is not None:
            fd = getattr(numeric, name)
            fd = fd[0] if name in ("X", "h0") else fd
            rows.append(_compare(CHECKS[2], name, spec, ours, fd, rnnnum.FD_RTOL, rnnnum.FD_ATOL))
    products = rnnnum.jacobian_products(params, cache).matrices[0]  # by step: [i, k], 0..T
    T = spec.T
    ours_j = np.stack(
        [
            np.stack(
                [
                    jacobian(i, k).value(trace) if k <= i else np.zeros((spec.H, spec.H))
                    for k in range(T + 1)
                ]
            )
            for i in range(T + 1)
        ]
    )
    rows.append(_compare(CHECKS[3], "dh_i/dh_k", spec, ours_j, products, EXACT_RTOL, EXACT_ATOL))
    return rows


def verify(
    steps: Iterable[int] = range(1, 7),
    *,
    activations: Iterable[str] = ACTIVATION_NAMES,
    losses: Iterable[str] = LOSS_NAMES,
    names: Iterable[str] = GRADIENT_NAMES,
    sizes: tuple[int, int, int] = (2, 3, 4),
    seed: int = 0,
    finite_differences: bool = True,
    progress: Callable[[int, int, ModelSpec], None] | None = None,
) -> VerificationTable:
    """Run every check for each activation x loss x T; sizes are (D, H, V).

    ``progress(done, total, spec)`` is called before each model, e.g. to report on stderr.
    """
    names = tuple(names)
    specs = [
        ModelSpec(T=T, activation=a, loss=loss, D=sizes[0], H=sizes[1], V=sizes[2])
        for a in activations
        for loss in losses
        for T in steps
    ]
    rows: list[Check] = []
    for done, spec in enumerate(specs):
        if progress is not None:
            progress(done, len(specs), spec)
        rows += verify_spec(
            spec, seed=seed + done, names=names, finite_differences=finite_differences
        )
    return VerificationTable(tuple(rows))
