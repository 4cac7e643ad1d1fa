"""Loading a cell for a command: `load_cell`, its warnings printed as the command's own."""

from __future__ import annotations

import sys
import warnings

from derivations.core.cell import Cell
from derivations.core.cells import load_cell
from derivations.core.degenerate import DegenerateCellWarning

__all__ = ["load_reporting"]


def load_reporting(spec: str, activation: str | None, command: str) -> Cell:
    """`load_cell`, each `DegenerateCellWarning` printed on stderr as a warning of `command`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DegenerateCellWarning)
        cell = load_cell(spec, activation=activation)
    for warning in caught:
        if issubclass(warning.category, DegenerateCellWarning):
            print(f"unrolled {command}: warning: {warning.message}", file=sys.stderr)
        else:  # not ours: back to the filters the user set
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return cell
