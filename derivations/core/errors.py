"""Exceptions raised by `derivations`.

Each message states the rule, the value received and what to do instead, e.g.
``steps must be an integer from 1 to 200; got 0. Pass --steps 3 (the default) or
another length in that range.`` Each class also derives from the built-in
exception a caller would expect (`ValueError`, `TypeError`), so generic handlers work.
"""

from __future__ import annotations

__all__ = ["DerivationError", "OutOfRangeError", "TooLargeError", "UnknownChoiceError"]


class DerivationError(Exception):
    """Base class of every error `derivations` raises on purpose."""


class UnknownChoiceError(DerivationError, ValueError):
    """A name (parameter, activation, loss, format) is not one of the valid choices."""


class OutOfRangeError(DerivationError, ValueError):
    """A number lies outside its valid range (T < 1, a size < 1, k > i, ...)."""


class TooLargeError(DerivationError, ValueError):
    """The written-out form asked for would be too long to read; the compact form is offered."""
