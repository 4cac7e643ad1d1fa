"""The fused element-wise steps (`rnnnum._fused`, from `rnnnum/csrc/`), or NumPy's.

`rnnnum.lstm`, `rnnnum.gru` and the vanilla kernel's tanh step ask `fused()` once per
pass: the compiled module when it was built at install and is switched on, else None,
and they run the same step in NumPy. Both compute the same operations in the same
order; the reverse steps agree bit for bit, the forward steps to the last few units of
tanh (tests/test_compiled.py).

``UNROLLED_NUMPY_STEPS=1`` in the environment, or `numpy_steps()` in code, runs NumPy's.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

_module: ModuleType | None
try:  # by name: an import of the package here would be a cycle to the type checker
    _module = importlib.import_module("rnnnum._fused")
except ImportError:  # not built: no C compiler or no glibc libmvec at install
    _module = None

__all__ = ["BYPASS_SHARE", "UNKNOWN_CACHE_BYTES", "built", "bypass_cache", "fused", "numpy_steps"]

#: A sweep puts its signals out to the tapes around the cache (`stream_out`) when they
#: come to more than this share of the last-level cache. Measured here (300 MB of L3,
#: shared with other machines), the GRU's sweep lost 3% by bypassing for 20 MB of tapes,
#: broke even at 39 MB, and gained 3% at 79 MB and 6% at 157 MB; a quarter (75 MB) lies
#: between. glibc's memcpy makes the same choice above 114 MB on this machine.
BYPASS_SHARE = 0.25
#: The last-level cache assumed where the C library does not report one.
UNKNOWN_CACHE_BYTES = 32 * 2**20

#: Whether `fused()` hands out the compiled steps: one flag, switched by `numpy_steps`.
_switch = {"on": os.environ.get("UNROLLED_NUMPY_STEPS", "") in ("", "0")}


def built() -> bool:
    """True if the compiled steps were built at install (whether switched on or not)."""
    return _module is not None


def fused() -> ModuleType | None:
    """The compiled steps if built and switched on, else None (run NumPy's)."""
    return _module if _switch["on"] else None


@contextmanager
def numpy_steps() -> Iterator[None]:
    """Run the NumPy steps inside the block (tests compare the two; not thread-safe)."""
    before, _switch["on"] = _switch["on"], False
    try:
        yield
    finally:
        _switch["on"] = before


def bypass_cache(nbytes: int) -> bool:
    """Whether a sweep that puts out `nbytes` of signals should store them around the
    cache: more than `BYPASS_SHARE` of the last-level cache (`rnnnum._fused.CACHE_BYTES`)."""
    cache = getattr(_module, "CACHE_BYTES", 0) or UNKNOWN_CACHE_BYTES
    return nbytes > BYPASS_SHARE * cache
