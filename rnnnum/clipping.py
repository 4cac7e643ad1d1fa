r"""Gradient clipping by global norm and by value.

By norm (Pascanu, Mikolov and Bengio 2013, Algorithm 1): if
$\lVert g \rVert > \theta$ then $g \leftarrow \theta\, g / \lVert g \rVert$; the
direction is kept and only the length shrinks. By value: every entry is cut to
$[-\theta, \theta]$ independently, which in general turns the direction.
Typical thresholds are 1 and 5.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import overload

import numpy as np

from rnnnum._checks import FloatArray, choice, describe, positive_float
from rnnnum.bptt import AnyGradients, Gradients
from rnnnum.errors import DTypeError, NonFiniteError
from rnnnum.gated import GRUGradients, LSTMGradients

__all__ = ["clip_by_norm", "clip_by_value", "global_norm"]

_GRADIENTS = (Gradients, LSTMGradients, GRUGradients)


def _names(grads: AnyGradients | FloatArray, names: Iterable[str] | None) -> tuple[str, ...]:
    """The named fields, or the parameters of this kind of gradients (every cell's own)."""
    if names is not None:
        return tuple(names)
    return tuple(grads.parameters()) if isinstance(grads, _GRADIENTS) else ()


def _arrays(grads: AnyGradients | FloatArray, names: Iterable[str]) -> list[FloatArray]:
    if isinstance(grads, _GRADIENTS):
        valid = tuple(grads.as_dict())
        return [getattr(grads, choice(n, "names", valid)) for n in names]
    if isinstance(grads, np.ndarray) and grads.dtype.kind == "f":
        return [grads]
    raise DTypeError(
        "grads must be rnnnum.Gradients, LSTMGradients, GRUGradients or a float numpy array; "
        f"got {describe(grads)}."
    )


def global_norm(grads: AnyGradients | FloatArray, names: Iterable[str] | None = None) -> float:
    r"""Euclidean norm over every entry of the named gradients (the parameters by default).

    Computed as $m \sqrt{\sum (g/m)^2}$ with $m$ the largest absolute entry, so entries beyond
    1e154, whose squares overflow, still give their finite norm; inf or NaN entries
    give an inf or NaN norm.
    """
    arrays = _arrays(grads, _names(grads, names))
    m = max((float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays), default=0.0)
    if m == 0.0 or not np.isfinite(m):
        return m
    return m * float(np.sqrt(sum(float(np.sum((a / m) ** 2)) for a in arrays)))


def _finite_norm(grads: AnyGradients | FloatArray, names: tuple[str, ...]) -> float:
    norm = global_norm(grads, names)
    if not np.isfinite(norm):
        raise NonFiniteError(
            f"cannot clip a gradient whose norm is {norm}: it already holds inf or NaN, which "
            "clipping cannot turn back into a direction. Clip earlier in training, or shrink "
            "W_hh so the backward pass stays finite (bptt reports where it overflowed)."
        )
    return norm


@overload
def clip_by_norm[G: AnyGradients](
    grads: G, threshold: float, *, names: Iterable[str] | None = ...
) -> G: ...
@overload
def clip_by_norm(
    grads: FloatArray, threshold: float, *, names: Iterable[str] | None = ...
) -> FloatArray: ...
def clip_by_norm(
    grads: AnyGradients | FloatArray, threshold: float, *, names: Iterable[str] | None = None
) -> AnyGradients | FloatArray:
    """Rescale the named gradients together so their global norm is at most `threshold`.

    For gradients of any cell (`Gradients`, `LSTMGradients`, `GRUGradients`), the named
    fields (the cell's parameters by default) share one norm and one scale factor; the
    other fields are returned unchanged.
    """
    threshold = positive_float(threshold, "threshold")
    names = _names(grads, names)
    norm = _finite_norm(grads, names)
    scale = threshold / norm if norm > threshold else 1.0
    if isinstance(grads, np.ndarray):
        return grads * scale
    return dataclasses.replace(grads, **{n: getattr(grads, n) * scale for n in names})


@overload
def clip_by_value[G: AnyGradients](
    grads: G, threshold: float, *, names: Iterable[str] | None = ...
) -> G: ...
@overload
def clip_by_value(
    grads: FloatArray, threshold: float, *, names: Iterable[str] | None = ...
) -> FloatArray: ...
def clip_by_value(
    grads: AnyGradients | FloatArray, threshold: float, *, names: Iterable[str] | None = None
) -> AnyGradients | FloatArray:
    """Cut every entry of the named gradients to [-threshold, threshold] independently."""
    threshold = positive_float(threshold, "threshold")
    names = _names(grads, names)
    _finite_norm(grads, names)
    if isinstance(grads, np.ndarray):
        return np.clip(grads, -threshold, threshold)
    return dataclasses.replace(
        grads, **{n: np.clip(getattr(grads, n), -threshold, threshold) for n in names}
    )
