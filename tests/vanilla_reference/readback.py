"""What the vanilla pages' written-out sums must hold, by the vanilla pipeline's own derivation.

`derivations.check.readback` reads a page's sums back; this is its expectation for the
pages the vanilla pipeline writes, from `vanilla_reference.gradients.expanded_sum`.
"""

from __future__ import annotations

from derivations.check.readback import Pair
from derivations.core.notation import QUANTITIES
from vanilla_reference.gradients import expanded_sum

__all__ = ["expected_vanilla"]


def expected_vanilla(name: str, T: int) -> dict[str, set[Pair]]:
    """The vanilla model's own derivation (`vanilla.gradients.expanded_sum`), likewise."""
    out: dict[str, set[Pair]] = {}
    for term in expanded_sum(name, T):
        target = QUANTITIES["X"].at(term.step) if name == "X" else QUANTITIES[name].latex
        out.setdefault(target, set()).add((term.loss, term.step))
    return out
