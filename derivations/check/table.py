r"""A verification's record: one `Check` per comparison, and their table with its verdict.

The tolerances here are those of every comparison between a derivation and `rnnnum`
(its independent NumPy twin) or finite differences of its forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import rnnnum

__all__ = [
    "BUILD_STEPS",
    "CHECKS",
    "DEFAULT_STEPS",
    "EXACT_ATOL",
    "EXACT_RTOL",
    "KINK_MARGIN",
    "SUM_CHECKS",
    "Check",
    "NotRun",
    "SummaryRow",
    "VerificationTable",
    "compare",
]


#: Two float64 implementations of the same sums in different orders differ by a few
#: ulps of the largest term (~1e-15 relative for T <= 6 and O(1) values); 1e-10
#: relative keeps 5 orders of headroom yet catches any wrong or missing term.
EXACT_RTOL = 1e-10


#: Absolute floor for entries that are exactly 0 in one code and ~1e-17 in the other.
EXACT_ATOL = 1e-13


#: Finite differences need every ReLU pre-activation this far from 0 (100 FD steps),
#: so that no difference quotient straddles a kink.
KINK_MARGIN = 100 * rnnnum.FD_STEP


#: Sequence lengths the site's build gate verifies (docs/hooks/gen_checks.py): T <= 4 is
#: 880 checks of the vanilla pipeline in ~1.5 s, which keeps a rebuild under `mkdocs serve`
#: within its 5 s target (T = 6 alone costs another second).
BUILD_STEPS = range(1, 5)
#: `unrolled verify` and the test suite check T = 1..DEFAULT_STEPS, beyond the build.
DEFAULT_STEPS = 6

CHECKS = (
    "loop vs rnnnum.bptt",
    "terms vs rnnnum.components",
    "loop vs finite differences",
    "Jacobian products vs rnnnum",
)
#: The expanded sum's own checks, for every cell (`derivations.check.sum_checks`).
SUM_CHECKS = ("terms vs finite differences", "sum of terms vs loop")


@dataclass(frozen=True)
class NotRun:
    """A kind of check a verification could not run, and why."""

    check: str
    reason: str


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
    """Every `Check`, with a per-(check, gradient) summary and a verdict; ``not_run`` names
    each kind of check that could not run for a cell, and why (`ran`)."""

    rows: tuple[Check, ...]
    not_run: tuple[NotRun, ...] = ()

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
        for check in (*CHECKS, *SUM_CHECKS):
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

    def ran(self) -> list[str]:
        """Which kinds of check ran, and each that did not with its reason, one line each."""
        kinds = [c for c in (*CHECKS, *SUM_CHECKS) if any(r.check == c for r in self.rows)]
        lines = [f"checks run: {', '.join(kinds) or 'none'}"]
        reasons: dict[str, list[str]] = {}
        for note in self.not_run:
            checks = reasons.setdefault(note.reason, [])
            if note.check not in checks:
                checks.append(note.check)
        lines += [f"not run: {', '.join(checks)}: {reason}" for reason, checks in reasons.items()]
        return lines

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
        lines += self.ran()
        lines.append(
            f"{len(self.rows)} checks, {len(self.failures)} failed: "
            + ("PASSED" if self.passed else "FAILED")
        )
        return "\n".join(lines)


def compare(
    check: str, wrt: str, model: str, loss: str, T: int, ours: Any, theirs: Any,
    rtol: float, atol: float,
) -> Check:  # fmt: skip
    """A `Check` of `ours` against `theirs`: passed where every entry is within
    ``atol + rtol |theirs|`` and the shapes agree; `model` names the cell (or activation)."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    error = np.abs(ours - theirs)
    passed = ours.shape == theirs.shape and bool(np.all(error <= atol + rtol * np.abs(theirs)))
    return Check(
        check, wrt, model, loss, T, float(error.max(initial=0.0)),
        float(np.abs(theirs).max(initial=0.0)), rtol, atol, passed,
    )  # fmt: skip
