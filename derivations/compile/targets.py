"""Class targets as the one-hot rows a compiled program reads."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from derivations.core.errors import OutOfRangeError

__all__ = ["one_hot"]

FloatArray = NDArray[np.float64]


def one_hot(targets: Any, V: int, T: int) -> FloatArray:
    """(T,) class indices -> (T, V) one-hot rows, with a clear error for bad indices."""
    arr = np.asarray(targets)
    if arr.shape != (T,) or not np.issubdtype(arr.dtype, np.integer):
        raise OutOfRangeError(
            f"cross-entropy targets must be T={T} integer class indices, shape ({T},); got "
            f"{arr.dtype} array of shape {arr.shape}. Pass one class index per step."
        )
    if arr.min() < 0 or arr.max() >= V:
        raise OutOfRangeError(
            f"class indices must lie in 0..{V - 1} (V={V}); got {arr.tolist()}. "
            "Use indices below V or build the model with a larger V."
        )
    return np.eye(V)[arr]
