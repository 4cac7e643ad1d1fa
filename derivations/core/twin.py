"""Which `rnnnum` code computes a cell: data the verifier reads, so that `derivations`
never imports `rnnnum`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["NumericTwin"]


@dataclass(frozen=True)
class NumericTwin:
    """Which `rnnnum` parameter type computes a cell, and how it is asked to.

    Data only, so that `derivations` does not import `rnnnum`: the verifier
    (`derivations.check.verify`) looks ``params`` up in `rnnnum` and builds it from the
    cell's parameters (stacked as the cell's ``stacks`` say) with ``params_options``, and
    runs `rnnnum.forward` with ``forward_options`` (and the cell's activation when
    ``activation`` is True).
    """

    params: str
    params_options: tuple[tuple[str, Any], ...] = ()
    forward_options: tuple[tuple[str, Any], ...] = ()
    activation: bool = False
