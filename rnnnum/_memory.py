"""Memory for the step tapes: blocks handed out again once nothing refers to them.

A forward pass and its reverse sweep allocate their tapes afresh, about 16 MB at
(N, T, H) = (64, 50, 128). Freed at the end of the pass, that memory goes back to the
operating system (glibc returns large blocks at once), and the next pass pays a page
fault for every 4 KiB of it again: about a quarter of a vanilla pass at that size.
This pool keeps the blocks and hands a block out again, for a tape of the same shape,
once no array made from it is alive.

A block is free when the pool's own references are the only ones left: every array
made from it (a view, a view of a view, a reshape that needs no copy) holds the block
itself as its ``base``, so CPython's reference count of the block says whether any of
them is alive. A block handed out holds garbage, as ``numpy.empty`` does.

The pool keeps at most `POOL_BYTES` of free and used blocks (free blocks of the shape
handed out longest ago go first); a block larger than `LARGEST_POOLED` is never kept.
The large blocks matter as much as the small: the sweeps put their signals out to the
tapes with stores that bypass the cache (`rnnnum._fused`'s stream_out), and into
freshly faulted pages those stores gained nothing when measured (the GRU's sweep at
(N, T, H) = (64, 200, 256): 125 ms into fresh pages, 108 ms into pooled ones, 129 ms
with ordinary stores).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict

import numpy as np

from rnnnum._checks import FloatArray

__all__ = ["LARGEST_POOLED", "POOL_BYTES", "block", "pooled_bytes"]

#: Most bytes the pool keeps, free and in use: one pass of the kernel benchmark's largest
#: size (about 360 MB for the GRU at (64, 200, 128, 256, 64)) with room to spare.
POOL_BYTES = 512 * 2**20
#: Largest block the pool keeps: the LSTM's gate tape at that size (105 MB) fits.
LARGEST_POOLED = 128 * 2**20

#: Blocks by shape, least recently handed out first.
_POOL: OrderedDict[tuple[int, ...], list[FloatArray]] = OrderedDict()
#: One caller at a time changes the pool (a block claimed holds its caller's reference
#: from the check on, so no other caller can see it free).
_LOCK = threading.Lock()
#: References to a free block while `_free` looks at it: its list entry, the loop's
#: variable and the argument of `sys.getrefcount`.
_FREE_REFCOUNT = 3


def _free(blocks: list[FloatArray]) -> FloatArray | None:
    for arr in blocks:
        if sys.getrefcount(arr) == _FREE_REFCOUNT:
            return arr
    return None


def pooled_bytes() -> int:
    """Bytes of the blocks the pool holds now, free or in use."""
    return sum(arr.nbytes for blocks in _POOL.values() for arr in blocks)


def _make_room(nbytes: int) -> bool:
    """Drop free blocks, least recently used shape first, until `nbytes` more fit."""
    held = pooled_bytes()
    for shape in list(_POOL):
        if held + nbytes <= POOL_BYTES:
            break
        blocks = _POOL[shape]
        while held + nbytes > POOL_BYTES and (arr := _free(blocks)) is not None:
            blocks.remove(arr)
            held -= arr.nbytes
            del arr
        if not blocks:
            del _POOL[shape]
    return held + nbytes <= POOL_BYTES


def block(shape: tuple[int, ...]) -> FloatArray:
    """An uninitialised float64 array of `shape`: a free pooled block, else a new one."""
    with _LOCK:
        blocks = _POOL.get(shape)
        if blocks is not None:
            _POOL.move_to_end(shape)
            arr = _free(blocks)
            if arr is not None:
                return arr
        arr = np.empty(shape)
        if arr.nbytes <= LARGEST_POOLED and _make_room(arr.nbytes):
            _POOL.setdefault(shape, []).append(arr)
        return arr
