"""Report the first non-finite value of an exploding run instead of letting NaN spread."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

from rnnnum._checks import FloatArray, choice
from rnnnum.errors import NumericalOverflowError, NumericalOverflowWarning

OnOverflow = Literal["raise", "warn"]
ON_OVERFLOW_CHOICES = ("raise", "warn")


class OverflowGuard:
    """Checks arrays as a pass produces them; raises (or warns once) at the first inf/NaN."""

    def __init__(self, on_overflow: str, stage: str, remedy: str) -> None:
        self.mode = choice(on_overflow, "on_overflow", ON_OVERFLOW_CHOICES)
        self.stage = stage
        self.remedy = remedy
        self.tripped = False

    def check(self, arr: FloatArray, quantity: str, step: int, T: int, context: str = "") -> None:
        """Report `quantity` at `step` (1-based) if any entry of `arr` is not finite."""
        if self.tripped or np.isfinite(arr).all():
            return
        self.tripped = True
        n_bad = int((~np.isfinite(arr)).sum())
        message = (
            f"{self.stage}: {quantity} became non-finite (inf or NaN) at step t={step} of T={T} "
            f"({n_bad} of {arr.size} entries){context}. This is an exploding regime. "
            f"{self.remedy} Pass on_overflow='warn' to receive the inf/NaN values anyway."
        )
        if self.mode == "raise":
            raise NumericalOverflowError(message)
        warnings.warn(message, NumericalOverflowWarning, stacklevel=3)


def largest(arr: FloatArray) -> str:
    """The largest finite magnitude in `arr`, for messages."""
    finite = np.abs(arr[np.isfinite(arr)])
    return f"{finite.max():.3g}" if finite.size else "n/a (no finite entries)"
