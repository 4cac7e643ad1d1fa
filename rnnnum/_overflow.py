"""Report the first non-finite value of an exploding run instead of letting NaN spread."""

from __future__ import annotations

import warnings
from collections.abc import Callable
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

    def check(
        self,
        arr: FloatArray,
        quantity: str,
        step: int,
        T: int,
        context: Callable[[], str] | None = None,
    ) -> None:
        """Report `quantity` at `step` (1-based) if any entry of `arr` is not finite.

        `context` is called only on failure, so a costly detail costs nothing otherwise.
        """
        if self.tripped or np.isfinite(arr).all():
            return
        n_bad = int((~np.isfinite(arr)).sum())
        self._report(
            f"{quantity} became non-finite (inf or NaN) at step t={step} of T={T} "
            f"({n_bad} of {arr.size} entries){context() if context else ''}"
        )

    def check_total(self, arr: FloatArray, quantity: str) -> None:
        """Report `quantity`, a sum over steps, if non-finite though its terms were finite."""
        if self.tripped or np.isfinite(arr).all():
            return
        n_bad = int((~np.isfinite(arr)).sum())
        self._report(
            f"{quantity} became non-finite (inf or NaN) in the sum over steps ({n_bad} of "
            f"{arr.size} entries), although every backward signal was finite",
            "The states and signals are at the edge of float64: shrink W_hh (largest singular "
            "value below 1/gamma) or shorten the sequence.",
        )

    def check_pairs(self, table: FloatArray, quantity: str, *, first_index: int = 1) -> None:
        """Report the non-finite (i, k) entries of `table`, (T, T, ...), i and k from `first_index`.

        Signals travel back from i to k, so the non-finite pair with the smallest
        distance i - k is where the overflow began.
        """
        T = table.shape[0]
        bad = ~np.isfinite(table.reshape(T, T, -1)).all(axis=2)
        if self.tripped or not bad.any():
            return
        i, k = np.nonzero(bad)
        first = int(np.argmin(i - k))
        self._report(
            f"{quantity} at (i={i[first] + first_index}, k={k[first] + first_index}) became "
            f"non-finite (inf or NaN), {i[first] - k[first]} steps back from i; "
            f"{int(bad.sum())} (i, k) pairs are non-finite"
        )

    def _report(self, what: str, remedy: str | None = None) -> None:
        self.tripped = True
        message = (
            f"{self.stage}: {what}. This is an exploding regime. {remedy or self.remedy} "
            "Pass on_overflow='warn' to receive the inf/NaN values anyway."
        )
        if self.mode == "raise":
            raise NumericalOverflowError(message)
        warnings.warn(message, NumericalOverflowWarning, stacklevel=4)


#: What to do about an exploding backward pass, for every backward-stage message.
BACKWARD_REMEDY = (
    "Clipping the final gradient cannot help once the backward signal itself overflows: "
    "shrink W_hh (largest singular value below 1/gamma) or shorten the sequence."
)


def largest(arr: FloatArray) -> str:
    """The largest finite magnitude in `arr`, for messages."""
    finite = np.abs(arr[np.isfinite(arr)])
    return f"{finite.max():.3g}" if finite.size else "n/a (no finite entries)"
