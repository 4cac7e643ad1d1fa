"""Generator jobs ``checks`` and ``proofs``: the symbolic-vs-numeric gate of the build.

``checks`` runs the cell verifier `derivations.check.verify.verify_cell` on the vanilla
cell with every activation (every gradient x loss x T = 1..4, four checks each: what
``unrolled verify`` runs) and returns its summary as Markdown tables: one per gradient
for the generated pages (``checks.<name>``) and one for everything (``checks.all``).
``proofs`` runs the exact proof that the backward loop adds the expanded sum's terms
(`derivations.check.loop_sum`), for every activation.
Either job raises `ChecksFailed` (exit 1, the build stops) when anything fails.
"""

from __future__ import annotations

from dataclasses import replace

from gen_format import ChecksFailed, code, sci, table

from derivations.check.loop_sum import prove_cell_loop_equals_sum
from derivations.check.table import BUILD_STEPS, CHECKS, SummaryRow, VerificationTable
from derivations.check.verify import verify_cell
from derivations.core.cells import vanilla
from derivations.core.notation import ACTIVATION_NAMES, GRADIENT_NAMES
from derivations.core.spec import ModelSpec

#: Sequence lengths of the build-time verification (why these: `BUILD_STEPS`).
VERIFY_STEPS = BUILD_STEPS
#: Sequence lengths of the build-time exact loop proofs: T = 3 alone would add 0.8 s
#: per activation to every rebuild; the test suite proves longer ones on every run.
PROOF_STEPS = (1, 2)
#: The sizes of the proofs: the symbolic model's default (D, H, V).
PROOF_SIZES = ModelSpec()


def verify() -> VerificationTable:
    """The cell verifier on the vanilla cell, once per activation; each row's activation is
    the activation's own name (the tables group by it)."""
    rows = []
    for name in ACTIVATION_NAMES:
        # the four checks the checks page lists (its terms go against rnnnum.components);
        # the expanded sum's own two run in `unrolled verify` and the test suite
        table = verify_cell(vanilla(name), VERIFY_STEPS, expanded_sum=False)
        rows += [replace(row, activation=name) for row in table.rows]
    return VerificationTable(tuple(rows))


def _rows(summary: list[SummaryRow], *, with_gradient: bool) -> list[list[str]]:
    rows = []
    for s in summary:
        verdict = "passed" if not s.failures else f"**FAILED {s.failures}**"
        cells = [s.check, str(s.cases), sci(s.max_error), sci(s.max_relative)]
        cells += [f"{sci(s.rtol)} rel. + {sci(s.atol)} abs.", verdict]
        rows.append(([code(s.wrt)] if with_gradient else []) + cells)
    return rows


HEADER = ["check", "cases", "max abs. error", "max rel. error", "tolerance", "result"]


def check_fragments(result: VerificationTable) -> dict[str, str]:
    """The Markdown fragments of one verification run."""
    summary = result.summary()
    fragments = {
        f"checks.{name}": table(
            HEADER, _rows([s for s in summary if s.wrt == name], with_gradient=False)
        )
        for name in GRADIENT_NAMES
    }
    fragments["checks.jacobians"] = table(
        HEADER, _rows([s for s in summary if s.wrt == "dh_i/dh_k"], with_gradient=False)
    )
    fragments["checks.all"] = table(["gradient", *HEADER], _rows(summary, with_gradient=True))
    fragments["checks.count"] = str(len(result.rows))
    fragments["checks.kinds"] = str(len(CHECKS))
    fragments["checks.steps"] = f"{VERIFY_STEPS.start} to {VERIFY_STEPS.stop - 1}"
    worst = max(result.rows, key=lambda r: r.max_error / max(r.max_reference, 1e-300))
    fragments["checks.worst"] = (
        f"{sci(worst.max_error / max(worst.max_reference, 1e-300))} "
        f"({worst.check}, {code(worst.wrt)}, {code(worst.activation)}, {code(worst.loss)}, "
        f"T = {worst.T})"
    )
    return fragments


def checks_job() -> dict[str, dict[str, str]]:
    result = verify()
    if not result.passed:
        lines = [
            f"  {c.check} for d/d{c.wrt} ({c.activation}, {c.loss}, T={c.T}): "
            f"max |error| {c.max_error:.3e} > {c.atol:.0e} + {c.rtol:.0e} * |reference|"
            for c in result.failures
        ]
        raise ChecksFailed(
            f"derivations.check.verify: {len(result.failures)} of {len(result.rows)} "
            "checks failed:\n"
            + "\n".join(lines[:40])
            + ("\n  ..." if len(lines) > 40 else "")
            + "\nRun `unrolled verify --detail` to see them all."
        )
    return {"fragments": check_fragments(result)}


def proofs_job() -> dict[str, dict[str, str]]:
    rows, failed = [], []
    D, H, V = PROOF_SIZES.D, PROOF_SIZES.H, PROOF_SIZES.V
    for T in PROOF_STEPS:
        by_name: dict[str, int] = {}
        for activation in ACTIVATION_NAMES:
            for proof in prove_cell_loop_equals_sum(vanilla(activation), T=T, D=D, H=H, V=V):
                by_name[proof.wrt] = by_name.get(proof.wrt, 0) + proof.entries
                if not proof.holds:
                    failed.append(f"  d/d{proof.wrt}, {activation}, T={T}: {proof.detail}")
        rows += [
            [code(name), str(T), f"{D}, {H}, {V}", str(entries), "holds"]
            for name, entries in by_name.items()
        ]
    if failed:
        raise ChecksFailed("the backward loop is not the expanded sum:\n" + "\n".join(failed))
    header = [
        "gradient",
        "T",
        "D, H, V",
        "entries compared (all activations)",
        "exact difference is 0",
    ]
    return {
        "fragments": {
            "proofs.loop": table(header, rows),
            "proofs.steps": ", ".join(str(T) for T in PROOF_STEPS),
            "proofs.count": str(len(rows) * len(ACTIVATION_NAMES)),
        }
    }
