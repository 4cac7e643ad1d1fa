"""Exceptions raised by `rnnnum`.

Every message states the rule, the value received and what to do instead, e.g.
``X must have shape (N, T, D) with D = 3 (rows of Wxh); got X.shape = (2, 5, 4).
Pass inputs with 3 features, or build the parameters with D = 4.``
Each class also derives from the built-in exception a caller would expect
(`ValueError`, `TypeError`, `FloatingPointError`), so generic handlers work.
"""

from __future__ import annotations

__all__ = [
    "CellMismatchError",
    "DTypeError",
    "MismatchedCacheError",
    "NonFiniteError",
    "NumericalOverflowError",
    "NumericalOverflowWarning",
    "OutOfRangeError",
    "RNNNumError",
    "ShapeError",
    "TargetRangeError",
    "UnknownChoiceError",
]


class RNNNumError(Exception):
    """Base class of every error `rnnnum` raises on purpose."""


class ShapeError(RNNNumError, ValueError):
    """An array has the wrong number of axes or the wrong length along one (T = 0 included)."""


class DTypeError(RNNNumError, TypeError):
    """An array has a dtype the computation cannot use (complex, bool, object, text, ...)."""


class NonFiniteError(RNNNumError, ValueError):
    """An input contains NaN or infinity."""


class CellMismatchError(RNNNumError, TypeError):
    """An argument that does not belong to this kind of cell (an activation for an LSTM, ...)."""


class OutOfRangeError(RNNNumError, ValueError):
    """A number lies outside its valid range (a threshold <= 0, a window < 1, ...)."""


class TargetRangeError(OutOfRangeError):
    """A class index in the targets lies outside ``0 .. V-1``."""


class UnknownChoiceError(RNNNumError, ValueError):
    """A name (activation, loss, gradient target, initialiser) is not one of the valid choices."""


class MismatchedCacheError(RNNNumError, ValueError):
    """A forward cache is used with parameters other than those that produced it."""


class NumericalOverflowError(RNNNumError, FloatingPointError):
    """A forward or backward quantity overflowed to infinity or became NaN (exploding regime)."""


class NumericalOverflowWarning(RuntimeWarning):
    """Issued instead of `NumericalOverflowError` when called with ``on_overflow="warn"``."""
