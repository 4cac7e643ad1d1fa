"""What the laboratory's page modules share: the result type, the seed's problem, reach.

Each page of the gradient laboratory has its own module (``lab_speed``, ``lab_shares``,
``lab_exploding``, ``lab_remedies``, ``lab_memory``, and the gated chapter's
``lab_cell_path``, ``lab_resets``) whose ``page()`` runs the experiments of that page,
asserts what its prose says (`gen_format.claim`) and returns a `LabPage`. None of them
imports `derivations` or SymPy, so the lab job's cache does not depend on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gen_format import SEED

from rnnnum import lab

ROOT = Path(__file__).resolve().parents[2]
#: Where the gradient goes: a long sequence, (H, T) (also the truncation curves' network).
SHARES_SIZE = (32, 120)
#: Gradient reach: (H, T) and how many seeds.
REACH_SIZE = (32, 80)
REACH_SEEDS = 5
COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd")


@dataclass(frozen=True)
class LabPage:
    """What one page's module computed: named Markdown fragments, figures by site path,
    and the data files it read (relative to the checkout)."""

    fragments: Mapping[str, str]
    files: Mapping[str, str]
    inputs: tuple[str, ...] = ()


def seed_problem(
    T: int,
    H: int,
    kind: str,
    seed: int = SEED,
    activation: str = "tanh",
    options: Mapping[str, Any] | None = None,
) -> tuple[Any, Any, Any, Any]:
    """`rnnnum.lab.problem` at the page's seed; `options` go to the initialiser."""
    return lab.problem(T, H=H, kind=kind, activation=activation, seed=seed, **(options or {}))


def seed_reach(kind: str, options: dict[str, float], activation: str = "tanh") -> list[int]:
    """Gradient reach (first distance below 1 % of the loss's own step) for REACH_SEEDS seeds."""
    H, T = REACH_SIZE
    out = []
    for seed in range(SEED, SEED + REACH_SEEDS):
        params, _, _, cache = seed_problem(T, H, kind, seed, activation, options)
        out.append(
            lab.gradient_reach(lab.distance_profile(lab.gradient_shares(params, cache).norms))
        )
    return out


def seeds_row(values: list[int]) -> list[str]:
    return [", ".join(map(str, values)), str(int(np.median(values)))]
