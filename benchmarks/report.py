"""Timing and the one-line-per-figure report shared by the benchmarks."""

from __future__ import annotations

import os
import platform
import timeit
from collections.abc import Callable

import numpy as np


def best_time(fn: Callable[[], object], repeat: int = 5) -> float:
    """Best of `repeat` runs, each averaging enough calls to last ~0.2 s (timeit.autorange)."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number


def paired_ratios(
    numerator: Callable[[], object], denominator: Callable[[], object], rounds: int = 7
) -> list[float]:
    """time(numerator) / time(denominator), measured in interleaved pairs.

    Each round times both back to back, so a ratio compares the two under the same
    machine state; on a shared 2-core machine the multithreaded BLAS alternates
    between fast and contended phases, which separate best-of timings would mix.
    """
    ratios = []
    for _ in range(rounds):
        top = best_time(numerator, repeat=1)
        bottom = best_time(denominator, repeat=1)
        ratios.append(top / bottom)
    return sorted(ratios)


def seconds(t: float) -> str:
    """A duration with a unit that keeps three significant digits."""
    if t < 1e-3:
        return f"{t * 1e6:.1f} us"
    if t < 1.0:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def header(title: str) -> None:
    """Print a section title with the machine facts that explain the figures."""
    print(f"\n== {title}")
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(
        f"   python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} cores, OPENBLAS_NUM_THREADS={threads}, float64"
    )


def row(figure: str, measured: str, target: str, verdict: str = "") -> None:
    """One figure: what, the measured value, its target, and whether it is met."""
    print(f"   {figure:<52} {measured:>14}   target {target:<22} {verdict}")


def verdict(ok: bool) -> str:
    """'met' or 'NOT MET'."""
    return "met" if ok else "NOT MET"
