"""Small array operations shared by the passes, written for a low fixed cost per call.

At the smallest sizes (a few steps, a few units) each NumPy call costs about a
microsecond whatever the size, so the passes avoid the general helpers whose
Python bookkeeping costs more than the arithmetic (``numpy.tensordot``,
``numpy.take_along_axis``) and do the same arithmetic directly: every result is
bit for bit the one the general helper gives.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnnum._checks import FloatArray

__all__ = ["all_finite", "contract_steps", "frozen_record", "pick_flat", "rows", "rows_times"]


def contract_steps(a: FloatArray, b: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """sum over the batch and the steps of a[n, t]ᵀ b[n, t]: (N, T, P), (N, T, Q) -> (P, Q).

    The arithmetic of ``numpy.tensordot(a, b, axes=([0, 1], [0, 1]))``: one matrix
    product over all N T rows, in the same order. `a` goes to BLAS as the transpose of
    its (N T, P) rows (a flag, not a transposed copy); an array that is not already
    one block of rows (a slice of a tape) is copied row by row first.
    """
    return np.dot(rows(a).T, rows(b), out=out)


def rows(a: FloatArray) -> FloatArray:
    """`a` (..., K) as a 2-D array of rows (M, K), a view when its layout allows."""
    return a.reshape(-1, a.shape[-1])


def rows_times(a: FloatArray, w: FloatArray) -> FloatArray:
    """``a @ w`` for `a` (..., K) and `w` (K, Q) as one matrix product over all rows of `a`.

    ``numpy.matmul`` of a (N, T, K) array makes N products of (T, K) blocks; one
    product of (N T, K) rows gives each row the same arithmetic at BLAS speed.
    """
    return np.dot(rows(a), w).reshape(*a.shape[:-1], w.shape[1])


def pick_flat(
    arr: FloatArray, targets: NDArray[Any]
) -> tuple[FloatArray, tuple[NDArray[np.intp], NDArray[Any]]]:
    """`arr` (N, T, V) as (N T, V) rows and the index of entry ``targets[n, t]`` of each row.

    ``flat[index]`` is ``take_along_axis(arr, targets[..., None], -1)`` flattened, and
    ``flat[index] -= 1.0`` writes into `arr` itself (``flat`` is a view of it).
    """
    V = arr.shape[-1]
    flat = arr.reshape(-1, V)
    return flat, (np.arange(flat.shape[0]), targets.reshape(-1))


def all_finite(*arrays: FloatArray) -> bool:
    """True if every entry of every array is finite: one sum per array, no copy.

    A sum is finite only if every summand is (an inf or NaN makes any sum inf or NaN);
    a sum of finite numbers can still overflow, so a non-finite sum is checked entry
    by entry before it counts as a failure.
    """
    total = 0.0
    for arr in arrays:
        total += float(np.add.reduce(arr, axis=None))  # Python floats: inf - inf is NaN, quietly
    if math.isfinite(total):
        return True
    return all(bool(np.isfinite(arr).all()) for arr in arrays)


_FIELD_NAMES: dict[type, frozenset[str]] = {}  # per record class, computed once


def frozen_record[C](cls: type[C], **values: Any) -> C:
    """An instance of the frozen dataclass `cls` holding `values`, built in one step.

    A frozen dataclass's generated ``__init__`` sets each field through
    ``object.__setattr__`` (about 0.15 us a field); a cache of a dozen fields costs
    more than a step of a small network. This fills the instance's ``__dict__`` at
    once; it is meant for records without defaults, ``__post_init__`` or slots (the
    caches and gradients), and it still refuses a missing or unknown field.
    """
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    if values.keys() != names:
        raise TypeError(
            f"{cls.__name__} needs exactly the fields {sorted(names)}; missing "
            f"{sorted(names - values.keys())}, unknown {sorted(values.keys() - names)}."
        )
    record = object.__new__(cls)
    record.__dict__.update(values)
    return record
