"""``unrolled verify``: `verify_cell` on the chosen cells, progress on stderr, one table."""

from __future__ import annotations

import argparse
import sys
import time

from derivations.check.table import BUILD_STEPS, DEFAULT_STEPS, Check, NotRun, VerificationTable
from derivations.check.verify import verify_cell
from derivations.cli.loading import load_reporting
from derivations.core.cell import Cell
from derivations.core.cells import load_cell
from derivations.core.errors import DerivationError
from derivations.core.notation import ACTIVATION_NAMES, LOSS_NAMES

__all__ = ["BUILD_NOTE", "MAX_VERIFY_STEPS", "run_verify"]

#: What the site's build checks, for the help and the error of ``verify --steps``.
BUILD_NOTE = f"the site's build checks T = {BUILD_STEPS.start} to {BUILD_STEPS.stop - 1}"
#: verify runs T = 1..N; beyond this, finite differences and 60 compilations per T get slow
MAX_VERIFY_STEPS = 12


def _verify_cells(cells: list[Cell], steps: range) -> VerificationTable:
    """`verify_cell` on each of `cells`, its progress on stderr, as one table."""
    started, total = time.perf_counter(), len(cells) * len(steps) * len(LOSS_NAMES)
    rows: list[Check] = []
    skipped: list[NotRun] = []
    for n, cell in enumerate(cells):
        base = n * len(steps) * len(LOSS_NAMES)
        name = f"{cell.name} {cell.activation}" if cell.twin and cell.twin.activation else cell.name

        def step(
            done: int,
            _: int,
            label: str,
            base: int = base,
            name: str = name,
            own: str = f"{cell.name} ",
        ) -> None:
            case = label.removeprefix(own)  # "T=2 mse" after verify_cell's cell name
            print(
                f"verify: [{base + done + 1}/{total}] {name} {case} "
                f"({time.perf_counter() - started:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

        table = verify_cell(cell, steps, progress=step)
        rows += table.rows
        skipped += [note for note in table.not_run if note not in skipped]
    return VerificationTable(tuple(rows), tuple(skipped))


def run_verify(args: argparse.Namespace) -> tuple[str, int]:
    if not 1 <= args.steps <= MAX_VERIFY_STEPS:
        raise DerivationError(
            f"--steps for verify must be from 1 to {MAX_VERIFY_STEPS}; got {args.steps}. "
            f"It checks every T from 1 to N (default {DEFAULT_STEPS}); {BUILD_NOTE}."
        )
    if args.cell is None and args.activation is not None:
        raise DerivationError(
            f"verify without --cell checks the vanilla RNN with every activation; got "
            f"--activation {args.activation}. Add --cell vanilla (or residual) to pick one."
        )
    if args.cell is None:  # the vanilla cell, one run per activation
        cells = [load_cell("vanilla", activation=name) for name in ACTIVATION_NAMES]
    else:
        cells = [load_reporting(args.cell, args.activation, args.command)]
    table = _verify_cells(cells, range(1, args.steps + 1))
    if args.detail:
        rows = [
            f"{r.check:<30} {r.wrt:<10} T={r.T} {r.activation:<10} {r.loss:<13} "
            f"{r.max_error:.1e} {'ok' if r.passed else 'FAILED'}"
            for r in table.rows
        ]
        text = "\n".join([*rows, *table.ran(), table.text().splitlines()[-1]])
    else:
        text = table.text()
    return text, 0 if table.passed else 1
