"""Generator job ``cell-checks``: the gated cells' symbolic-vs-numeric gate of the build.

`cell_checks` runs `derivations.check.verify.verify_cell` for one cell, over both losses
and T = 1..3 (`CELL_CHECK_STEPS`): the compiled backward loop against `rnnnum.bptt`,
every (i, k) term of every gradient against `rnnnum.components`, the loop against
central differences of rnnnum's forward pass, and every state Jacobian against
`rnnnum.jacobian_products` (the residual cell's twin is rnnnum's ``residual=True``).
The pages show the rows per gradient; any failed row fails the build. The expanded
sum's own checks (each term against finite differences, the terms' sum against the
loop) are left to ``unrolled verify`` and the tests: for these cells every term is
already compared with rnnnum's, and the build keeps its time.
"""

from __future__ import annotations

from gen_format import SEED, ChecksFailed, code, sci, table

from derivations.check.table import CHECKS, Check
from derivations.check.verify import verify_cell
from derivations.core.cell import Cell
from derivations.core.cells import BUILTIN_CELLS

#: The cells with a chapter page (the vanilla cell has its own pages).
GATED_CELLS = ("lstm", "gru", "gru-before", "residual")
#: Sequence lengths checked at build time: T = 3 is the pages' length; 1 and 2 catch
#: an error at the ends of the sums.
CELL_CHECK_STEPS = (1, 2, 3)
#: Small sizes (the checks are exact comparisons, sizes do not hide a wrong term).
D, H, V = 2, 2, 3
CELL_CHECKS = CHECKS


def cell_checks(cell: Cell) -> list[Check]:
    """Every check of `cell` (module docstring), both losses, T in `CELL_CHECK_STEPS`."""
    table = verify_cell(cell, CELL_CHECK_STEPS, sizes=(D, H, V), seed=SEED, expanded_sum=False)
    return list(table.rows)


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
        f"  {r.check} for {r.wrt} ({cell.name} cell, {r.loss}, T={r.T}): max |error| "
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
