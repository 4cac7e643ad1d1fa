r"""Degenerate cells: states that the gradient cannot reach, or that carry nothing across steps.

A cell may be valid (every shape right, every state defined) and still hold a state
that does nothing for the gradient. Two cases, each a `DegenerateCellWarning` that says
what it means for the expanded sum:

- a state that never reaches the loss (nothing on the way to the read-out
  $y_t = h_t W_{yh} + b_y$ reads it, at its own step or later): every term through it
  is zero, so is $\mathrm{d}L/\mathrm{d}s_0$;
- a state that never feeds back (no equation reads ``Prev(s)``): the Jacobian across
  steps out of it is zero, so every term with k < i through it vanishes and
  $\mathrm{d}L/\mathrm{d}s_0 = 0$. For h itself the cell is not recurrent at all.

Read from the equations' leaves alone (`derivations.core.nodes.leaves`), so that the
cell module (`derivations.core.cell`) can warn while it checks a definition.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from derivations.core.nodes import Prev, Ref, leaves

__all__ = ["DegenerateCellWarning", "degenerate_states", "warn_degenerate"]


class DegenerateCellWarning(UserWarning):
    """A cell's state does nothing for the gradient (module docstring); the cell is still valid."""


def _reads(equations: Sequence[Any]) -> dict[str, tuple[set[str], set[str]]]:
    """Each variable -> (the variables of its own step, the states at t-1) it depends on."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    for eq in equations:
        now: set[str] = set()
        before: set[str] = set()
        for leaf in leaves(eq.expr):
            if isinstance(leaf, Ref) and leaf.name in out:
                now |= {leaf.name} | out[leaf.name][0]
                before |= out[leaf.name][1]
            elif isinstance(leaf, Prev):
                before.add(leaf.state)
        out[eq.name] = (now, before)
    return out


def degenerate_states(name: str, states: Sequence[str], equations: Sequence[Any]) -> list[str]:
    """One message per degenerate state of the cell called `name` (none for a sound cell)."""
    reads = _reads(equations)
    reaching = {"h"}  # the read-out reads h_t; grow to every state that reaches it
    while True:
        grown = set(reaching)
        for s in reaching:
            now, before = reads.get(s, (set(), set()))
            grown |= (now | before) & set(states)
        if grown == reaching:
            break
        reaching = grown
    fed_back = {s for now, before in reads.values() for s in before}
    out = []
    for s in states:
        if s not in reaching:
            out.append(
                f"cell {name!r}: state {s} never reaches the loss (nothing on the way to the "
                f"read-out y_t = h_t W_yh + b_y reads it, at its step or later): every term "
                f"through {s} is zero, and so are dL/d{s}0 and the gradient of every parameter "
                f"that feeds {s} alone. Read {s} in h's equations, or leave the state out."
            )
        elif s not in fed_back:
            recurrent = " (the cell is not recurrent)" if s == "h" and len(states) == 1 else ""
            out.append(
                f"cell {name!r}: state {s} never feeds back (no equation reads Prev({s!r})): "
                f"its Jacobian across steps is zero, every term with k < i through it "
                f"vanishes{recurrent}, and dL/d{s}0 = 0. Read Prev({s!r}) where the state "
                "should carry over, or make it an equation of its own instead of a state."
            )
    return out


def warn_degenerate(name: str, states: Sequence[str], equations: Sequence[Any]) -> None:
    """Issue a `DegenerateCellWarning` for each of `degenerate_states`."""
    for message in degenerate_states(name, states, equations):
        warnings.warn(message, DegenerateCellWarning, stacklevel=4)
