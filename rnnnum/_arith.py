"""Small array operations shared by the passes, written for a low fixed cost per call.

At the smallest sizes (a few steps, a few units) each NumPy call costs about a
microsecond whatever the size, so the passes avoid the general helpers whose
Python bookkeeping costs more than the arithmetic (``numpy.tensordot``,
``numpy.take_along_axis``) and do the same arithmetic directly: every result is
bit for bit the one the general helper gives.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnnum._checks import FloatArray
from rnnnum._memory import block

__all__ = [
    "all_finite",
    "as_step_tape",
    "contract_steps",
    "empty_like_tape",
    "frozen_record",
    "memory_order",
    "memory_rows",
    "pick_flat",
    "read_only",
    "rows",
    "rows_times",
    "signal_total",
    "step_rows",
    "step_sums",
    "step_tape",
    "tape_copy",
    "with_cached",
]


def step_tape(N: int, T: int, *tail: int) -> FloatArray:
    """An uninitialised (N, T, *tail) array stored step after step: a batch-first view of
    a (T, N, *tail) block.

    The forward and reverse loops read and write one step ``arr[:, t]`` at a time; in a
    tape that slice is one contiguous block, which the step's matrix product takes as it
    is, and the whole tape is still one block of N T rows (`memory_rows`) for the
    products over all steps. Its shape, indexing and values are a batch-first array's.
    The block comes from `rnnnum._memory`'s pool: memory of a pass before, not pages
    faulted in afresh.
    """
    return block((T, N, *tail)).swapaxes(0, 1)


def as_step_tape(a: FloatArray) -> FloatArray:
    """`a` (N, T, ...) laid out as a `step_tape` (a copy, unless it is one already)."""
    if a.swapaxes(0, 1).flags.c_contiguous:
        return a
    out = step_tape(*a.shape)
    np.copyto(out, a)
    return out


def tape_copy(a: FloatArray) -> FloatArray:
    """A copy of `a` in its layout: a `step_tape` for a step tape."""
    out = empty_like_tape(a)
    np.copyto(out, a)
    return out


def empty_like_tape(a: FloatArray) -> FloatArray:
    """An uninitialised array shaped and laid out like `a`: a `step_tape` for a step tape."""
    return step_tape(*a.shape) if _is_tape(a) else np.empty_like(a)


def _is_tape(a: FloatArray) -> bool:
    return a.ndim >= 2 and not a.flags.c_contiguous and a.swapaxes(0, 1).flags.c_contiguous


def memory_rows(a: FloatArray) -> FloatArray:
    """`a` (N, T, K) as 2-D rows (N T, K) in the order they lie in memory: step by step
    for a `step_tape`, batch first otherwise; a view for either (a copy, batch first,
    for any other layout). Two arrays' rows pair up only if both have the same order."""
    return (a.swapaxes(0, 1) if _is_tape(a) else a).reshape(-1, a.shape[-1])


def contract_steps(a: FloatArray, b: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """sum over the batch and the steps of a[n, t]ᵀ b[n, t]: (N, T, P), (N, T, Q) -> (P, Q).

    The sum of ``numpy.tensordot(a, b, axes=([0, 1], [0, 1]))`` as one matrix product
    over all N T rows, taken in the rows' memory order: batch first if both arrays are
    laid out so, else step by step (a `step_tape`), copying whichever of the two is not
    (user inputs X, a slice of a tape). `a` goes to BLAS as the transpose of its rows
    (a flag, not a transposed copy).
    """
    if a.flags.c_contiguous and b.flags.c_contiguous:
        return np.dot(rows(a).T, rows(b), out=out)
    return np.dot(step_rows(a).T, step_rows(b), out=out)


def step_rows(a: FloatArray) -> FloatArray:
    """`a` (N, T, K) as rows (T N, K), step by step: a view of a `step_tape`, else a copy."""
    return a.swapaxes(0, 1).reshape(-1, a.shape[-1])


def step_sums(a: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """Each step of `a` (N, T, K) summed over the batch: (T, K), into `out` if given.

    Row t has the bits of ``a[:, t].sum(axis=0)``: NumPy adds a step's rows in batch
    order whatever the layout (tested), so a sweep that sums each step's block while it
    is in the cache gets this very array.
    """
    return np.add.reduce(a, axis=0, out=out)


def signal_total(a: FloatArray, sums: FloatArray | None = None) -> FloatArray:
    """A signal `a` (N, T, K) summed over the batch and the steps, (K,): a bias's gradient.

    The steps' batch sums (`sums` (T, K) where a sweep kept them, else `step_sums(a)`)
    added in step order: the same bits either way. Summing the kept (T, K) sums spares
    a pass over the whole (N, T, K) tape, which by then has left the cache.
    """
    return (step_sums(a) if sums is None else sums).sum(axis=0)


def rows(a: FloatArray) -> FloatArray:
    """`a` (..., K) as a 2-D array of rows (M, K), a view when its layout allows."""
    return a.reshape(-1, a.shape[-1])


def rows_times(a: FloatArray, w: FloatArray) -> FloatArray:
    """``a @ w`` for `a` (..., K) and `w` (K, Q) as one matrix product over all rows of `a`.

    ``numpy.matmul`` of a (N, T, K) array makes N products of (T, K) blocks; one
    product of (N T, K) rows gives each row the same arithmetic at BLAS speed. The
    result has `a`'s layout: a `step_tape` gives a step tape.
    """
    if _is_tape(a) and a.ndim == 3:
        out = step_tape(a.shape[0], a.shape[1], w.shape[1])
        np.dot(memory_rows(a), w, out=memory_rows(out))
        return out
    return np.dot(rows(a), w).reshape(*a.shape[:-1], w.shape[1])


def pick_flat(
    arr: FloatArray, targets: NDArray[Any]
) -> tuple[FloatArray, tuple[NDArray[np.intp], NDArray[Any]]]:
    """`arr` (N, T, V) as (N T, V) rows and the index of entry ``targets[n, t]`` of each row.

    ``flat[index]`` is ``take_along_axis(arr, targets[..., None], -1)`` flattened (in
    the rows' memory order, `memory_rows`), and ``flat[index] -= 1.0`` writes into `arr`
    itself (``flat`` is a view of it).
    """
    flat = memory_rows(arr)
    return flat, (np.arange(flat.shape[0]), memory_order(targets, arr).reshape(-1))


def memory_order(targets: NDArray[Any], arr: FloatArray) -> NDArray[Any]:
    """`targets` (N, T, ...) in the order of `arr`'s `memory_rows`: (T, N, ...) for a tape."""
    return targets.swapaxes(0, 1) if _is_tape(arr) else targets


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


def read_only(arr: FloatArray) -> FloatArray:
    """`arr`, marked read-only (a cache's derived arrays: computed once, shared)."""
    arr.setflags(write=False)
    return arr


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


def with_cached[C](record: C, values: dict[str, Any]) -> C:
    """`record` with the values of some of its ``functools.cached_property`` attributes
    given, not computed (arrays a pass made on the way, such as h_0..h_{T-1})."""
    cls = type(record)
    for name, value in values.items():
        if not isinstance(getattr(cls, name, None), functools.cached_property):
            raise TypeError(f"{cls.__name__}.{name} is not a cached_property; got a value for it.")
        record.__dict__[name] = value
    return record
