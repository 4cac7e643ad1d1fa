"""The fused element-wise steps (`rnnnum/_fused.c`), or NumPy's where they are absent.

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

__all__ = ["built", "fused", "numpy_steps"]

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
