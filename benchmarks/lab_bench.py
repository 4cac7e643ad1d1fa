"""The gradient laboratory: each experiment at the size the site publishes, and the horizon run.

Each page module of the lab job (``docs/hooks/lab_*.py``, merged by ``gen_lab.py``)
runs its `rnnnum.lab` experiments at their published sizes and draws their figures; it
is timed here exactly as the site build runs it. The memory-horizon grid is not part of
the build: its recorded duration is read from the results file, and one of its slowest
single runs is timed live.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from benchmarks.report import header, row, seconds

ROOT = Path(__file__).resolve().parent.parent
#: The lab job runs in its own process during a build, beside the two others on two
#: cores; kept under the cold-build budget's share, a third of 60 s.
LAB_TARGET_S = 20.0


def _hooks():
    sys.path.insert(0, str(ROOT / "docs" / "hooks"))
    import gen_lab
    import lab_memory

    return gen_lab, lab_memory


def main(quick: bool = False) -> None:
    header("lab: each experiment at its published size (as the site build runs it)")
    gen_lab, lab_memory = _hooks()
    total = 0.0
    for page in gen_lab.PAGES:
        started = time.perf_counter()
        page()
        elapsed = time.perf_counter() - started
        total += elapsed
        name = page.__module__.removeprefix("lab_")
        row(f"{name}: experiments + figures", seconds(elapsed), "(reported)")
    row("lab job, all pages", seconds(total), f"< {LAB_TARGET_S:.0f} s",
        "met" if total < LAB_TARGET_S else "NOT MET")  # fmt: skip
    from rnnnum import horizon, horizon_results

    _, groups = horizon_results.load_groups(lab_memory.HORIZON_RESULTS)
    for group in groups:  # one recorded run of the grid per group of networks
        recorded = group.provenance
        row(f"memory-horizon grid, {len(group.variants)} networks, {len(group.runs)} runs",
            seconds(recorded["seconds"]), "(recorded)",
            f"{recorded['machine']}; {', '.join(group.variants)}")  # fmt: skip
    _, vanilla = horizon.load_results(lab_memory.HORIZON_RESULTS, horizon.VARIANTS)
    slowest = max(vanilla, key=lambda r: r.seconds)  # timed again below, so the vanilla one
    row(f"slowest run recorded: {slowest.variant}, L = {slowest.lag}", seconds(slowest.seconds),
        "(reported)")  # fmt: skip
    if quick:
        return
    started = time.perf_counter()
    horizon.run_one(slowest.variant, slowest.lag, slowest.seed)
    row("  the same run, timed now", seconds(time.perf_counter() - started), "(reported)")
