r"""Verification against the numeric twin: the symbolic gradients, term by term, vs `rnnnum`.

This module (with the tests and the site build) is where the two halves meet. For
every gradient x activation x loss x T, at a random point:

- **loop vs rnnnum.bptt**: the lambdified symbolic gradient against `rnnnum.bptt`;
- **terms vs rnnnum.components**: every (i, k) `Term`, evaluated from its factors,
  against `rnnnum.components(...).terms[i-1, k-1]` (the time-index layouts met here
  are those of `derivations.notation`: the trace by step, rnnnum's caches by
  position, the components by pair);
- **loop vs finite differences**: against `rnnnum.numerical_gradients` (central
  differences of rnnnum's forward pass, no backward code involved);
- **Jacobian products**: each $\mathrm{d}h_i/\mathrm{d}h_k$ against `rnnnum.jacobian_products`.

`verify` returns a `VerificationTable`; the site shows its summary and fails its
build when ``table.passed`` is False, and so does ``python -m derivations verify``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

import rnnnum
from derivations.gradients import expanded_sum, jacobian
from derivations.lambdified import lambdify_model
from derivations.notation import ACTIVATION_NAMES, GRADIENT_NAMES, LOSS_NAMES, pair_position
from derivations.proofs import random_point
from derivations.spec import ModelSpec
from derivations.unroll import unroll

__all__ = [
    "BUILD_STEPS",
    "DEFAULT_STEPS",
    "EXACT_ATOL",
    "EXACT_RTOL",
    "KINK_MARGIN",
    "Check",
    "SummaryRow",
    "VerificationTable",
    "verify",
]

#: Sequence lengths the site's build gate verifies (docs/hooks/gen_checks.py): T <= 4 is
#: 880 checks in ~1.5 s, which keeps a rebuild under `mkdocs serve` within its 5 s
#: target (T = 6 alone costs another second).
BUILD_STEPS = range(1, 5)
#: `unrolled verify` and the test suite check T = 1..DEFAULT_STEPS, beyond the build.
DEFAULT_STEPS = 6

#: Two float64 implementations of the same sums in different orders differ by a few
#: ulps of the largest term (~1e-15 relative for T <= 6 and O(1) values); 1e-10
#: relative keeps 5 orders of headroom yet catches any wrong or missing term.
EXACT_RTOL = 1e-10
#: Absolute floor for entries that are exactly 0 in one code and ~1e-17 in the other.
EXACT_ATOL = 1e-13
#: Finite differences need every ReLU pre-activation this far from 0 (100 FD steps),
#: so that no difference quotient straddles a kink.
KINK_MARGIN = 100 * rnnnum.FD_STEP

CHECKS = (
    "loop vs rnnnum.bptt",
    "terms vs rnnnum.components",
    "loop vs finite differences",
    "Jacobian products vs rnnnum",
)


@dataclass(frozen=True)
class Check:
    """One comparison: which, for what, the worst absolute error, the tolerance, the verdict."""

    check: str
    wrt: str
    activation: str
    loss: str
    T: int
    max_error: float  # max |ours - theirs|
    max_reference: float  # max |theirs|, the scale of the error
    rtol: float
    atol: float
    passed: bool


@dataclass(frozen=True)
class SummaryRow:
    """All checks of one kind for one gradient, over activations, losses and T."""

    check: str
    wrt: str
    cases: int
    max_error: float
    max_relative: float  # max over cases of max_error / max_reference
    rtol: float
    atol: float
    failures: int


@dataclass(frozen=True)
class VerificationTable:
    """Every `Check`, with a per-(check, gradient) summary and a verdict."""

    rows: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed (and there was at least one)."""
        return bool(self.rows) and all(r.passed for r in self.rows)

    @property
    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [r for r in self.rows if not r.passed]

    def summary(self) -> list[SummaryRow]:
        """One row per (check, gradient), worst case first reported."""
        out = []
        wrts = list(dict.fromkeys(r.wrt for r in self.rows))  # in the order checked
        for check in CHECKS:
            for wrt in wrts:
                rows = [r for r in self.rows if r.check == check and r.wrt == wrt]
                if not rows:
                    continue
                out.append(
                    SummaryRow(
                        check,
                        wrt,
                        len(rows),
                        max(r.max_error for r in rows),
                        max(r.max_error / max(r.max_reference, 1e-300) for r in rows),
                        rows[0].rtol,
                        rows[0].atol,
                        sum(not r.passed for r in rows),
                    )
                )
        return out

    def text(self) -> str:
        """The summary as a plain-text table, with the verdict on the last line."""
        header = (
            f"{'check':<30} {'gradient':<10} {'cases':>5} {'max |err|':>10} {'max rel':>9} "
            f"{'rtol':>7} result"
        )
        lines = [header, "-" * len(header)]
        for s in self.summary():
            verdict = "ok" if not s.failures else f"FAILED {s.failures}"
            lines.append(
                f"{s.check:<30} {s.wrt:<10} {s.cases:>5} {s.max_error:>10.1e} "
                f"{s.max_relative:>9.1e} {s.rtol:>7.0e} {verdict}"
            )
        lines.append(
            f"{len(self.rows)} checks, {len(self.failures)} failed: "
            + ("PASSED" if self.passed else "FAILED")
        )
        return "\n".join(lines)


def _compare(
    check: str, wrt: str, spec: ModelSpec, ours: Any, theirs: Any, rtol: float, atol: float
) -> Check:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    error = np.abs(ours - theirs)
    passed = ours.shape == theirs.shape and bool(np.all(error <= atol + rtol * np.abs(theirs)))
    return Check(
        check,
        wrt,
        spec.activation,
        spec.loss,
        spec.T,
        float(error.max(initial=0.0)),
        float(np.abs(theirs).max(initial=0.0)),
        rtol,
        atol,
        passed,
    )


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
