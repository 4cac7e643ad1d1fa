"""Input checks shared by every stage: each failure names the rule, the value and a fix."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnnum.errors import (
    DTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeError,
    UnknownChoiceError,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_REAL_KINDS = "fiu"  # float, signed int, unsigned int: cast losslessly enough to float64


def describe(value: Any) -> str:
    """A short description of a received value for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def real_array(value: Any, name: str, *, ndim: int, layout: str) -> FloatArray:
    """Return `value` as a finite float64 array with `ndim` axes, or raise a precise error.

    `layout` is the expected shape written out, e.g. ``"(N, T, D)"``.
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists, for instance
        raise DTypeError(
            f"{name} must be a real numeric array of shape {layout}; got {describe(value)} "
            f"which NumPy cannot turn into an array ({exc}). Pass a numpy.ndarray."
        ) from exc
    if arr.dtype.kind not in _REAL_KINDS:
        raise DTypeError(
            f"{name} must hold real numbers (float or int); got dtype {arr.dtype}. "
            f"Convert it first, e.g. {name}.astype(numpy.float64)"
            + (
                " (take the real part explicitly if it is complex)."
                if arr.dtype.kind == "c"
                else "."
            )
        )
    if arr.ndim != ndim:
        raise ShapeError(
            f"{name} must have {ndim} axes {layout}; got shape {arr.shape} ({arr.ndim} axes)."
            + (f" Add a batch axis with {name}[None] for a single sequence." if name == "X" else "")
            + (
                " Repeat one state for the batch with numpy.tile(h0, (N, 1))."
                if name == "h0"
                else ""
            )
        )
    out = np.asarray(arr, dtype=np.float64)
    # A finite sum proves every entry finite (one reduction); only otherwise look closer.
    if not math.isfinite(np.add.reduce(out, None)) and not np.isfinite(out).all():
        bad = np.argwhere(~np.isfinite(out))[0]
        raise NonFiniteError(
            f"{name} must be finite; got {out[tuple(bad)]} at index {tuple(int(i) for i in bad)} "
            f"({int((~np.isfinite(out)).sum())} non-finite entries). "
            "Replace or drop those entries (e.g. numpy.nan_to_num) before calling."
        )
    return out


def choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Return `value` if it is one of `choices`, else raise `UnknownChoiceError` listing them."""
    if isinstance(value, str) and isinstance(choices, dict | tuple) and value in choices:
        return value  # the common case, without building the list of choices
    valid = tuple(choices)
    if not isinstance(value, str) or value not in valid:
        raise UnknownChoiceError(
            f"{name} must be one of {', '.join(repr(c) for c in valid)}; got {value!r}."
        )
    return value


def positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return `value` as an int >= `minimum`, rejecting bools, floats and strings."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DTypeError(f"{name} must be an integer >= {minimum}; got {describe(value)}.")
    if value < minimum:
        raise OutOfRangeError(f"{name} must be an integer >= {minimum}; got {value}.")
    return int(value)


def positive_float(value: Any, name: str) -> float:
    """Return `value` as a finite float > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DTypeError(f"{name} must be a positive real number; got {describe(value)}.")
    out = float(value)
    if not np.isfinite(out) or out <= 0.0:
        raise OutOfRangeError(f"{name} must be a finite number > 0; got {value!r}.")
    return out
