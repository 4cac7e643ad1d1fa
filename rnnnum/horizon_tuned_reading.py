"""Reading the tuned protocol's runs: the pilot's choice of setting, each seed's horizon.

The second stage of `rnnnum.horizon_tuned`: what the runs (`Record`) say.
"""

from __future__ import annotations

from collections.abc import Sequence

from rnnnum.horizon_tuned_protocol import CONFIG, LEARNING, SOLVED, Record

__all__ = ["choose", "horizons"]


def choose(pilot: Sequence[Record]) -> tuple[str, float]:
    """The pilot's winner among the settings, each run at both `PILOT_LAGS`: in order,

    1. the fewest steps to `stop_accuracy` at the longer lag;
    2. else the best validation accuracy there, if above `LEARNING`;
    3. else the fewest steps to `stop_accuracy` at the shorter lag;
    4. else the best validation accuracy there;

    then the smaller rate, then SGD before Adam.
    """
    short, long = min(r.lag for r in pilot), max(r.lag for r in pilot)
    runs = {(r.optimiser, r.learning_rate, r.lag): r for r in pilot}

    def stopped(r: Record) -> bool:
        return r.validation >= CONFIG.stop_accuracy and not r.diverged

    def score(setting: tuple[str, float]) -> tuple[int, float, float, bool]:
        at_long, at_short = runs[(*setting, long)], runs[(*setting, short)]
        if stopped(at_long):
            tier = (0, float(at_long.steps))
        elif at_long.validation > LEARNING and not at_long.diverged:
            tier = (1, -at_long.validation)
        elif stopped(at_short):
            tier = (2, float(at_short.steps))
        else:
            tier = (3, -at_short.validation)
        return (*tier, setting[1], setting[0] != "sgd")

    return min({(r.optimiser, r.learning_rate) for r in pilot}, key=score)


def horizons(
    records: Sequence[Record], task: str, network: str, kind: str = "grid"
) -> dict[int, int]:
    """Per seed: the largest lag with every lag up to it solved (0 if the first is not),
    among the runs of `kind` (``grid``, or ``matched`` for the parameter-matched check)."""
    out: dict[int, int] = {}
    runs = sorted(
        (r for r in records if r.kind == kind and r.task == task and r.network == network),
        key=lambda r: r.lag,
    )
    for seed in sorted({r.seed for r in runs}):
        horizon, failed = 0, False
        for r in (r for r in runs if r.seed == seed):
            failed = failed or r.accuracy < SOLVED
            horizon = horizon if failed else r.lag
        out[seed] = horizon
    return out
