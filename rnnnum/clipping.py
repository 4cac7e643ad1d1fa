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
from rnnnum.bptt import Gradients
from rnnnum.errors import DTypeError, NonFiniteError
from rnnnum.params import GRADIENT_NAMES, PARAM_NAMES

__all__ = ["clip_by_norm", "clip_by_value", "global_norm"]


def _arrays(grads: Gradients | FloatArray, names: Iterable[str]) -> list[FloatArray]:
    if isinstance(grads, Gradients):
        return [getattr(grads, choice(n, "names", GRADIENT_NAMES)) for n in names]
    if isinstance(grads, np.ndarray) and grads.dtype.kind == "f":
        return [grads]
    raise DTypeError(
        f"grads must be rnnnum.Gradients or a float numpy array; got {describe(grads)}."
    )


def global_norm(grads: Gradients | FloatArray, names: Iterable[str] = PARAM_NAMES) -> float:
    """Euclidean norm over every entry of the named gradients (the parameters by default).

    Computed as m sqrt(sum((g/m)^2)) with m the largest |entry|, so entries beyond
    1e154, whose squares overflow, still give their finite norm; inf or NaN entries
    give an inf or NaN norm.
    """
    arrays = _arrays(grads, names)
    m = max((float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays), default=0.0)
    if m == 0.0 or not np.isfinite(m):
        return m
    return m * float(np.sqrt(sum(float(np.sum((a / m) ** 2)) for a in arrays)))


def _finite_norm(grads: Gradients | FloatArray, names: tuple[str, ...]) -> float:
    norm = global_norm(grads, names)
    if not np.isfinite(norm):
        raise NonFiniteError(
            f"cannot clip a gradient whose norm is {norm}: it already holds inf or NaN, which "
            "clipping cannot turn back into a direction. Clip earlier in training, or shrink "
            "W_hh so the backward pass stays finite (bptt reports where it overflowed)."
        )
    return norm


@overload
def clip_by_norm(
    grads: Gradients, threshold: float, *, names: Iterable[str] = ...
) -> Gradients: ...
@overload
def clip_by_norm(
    grads: FloatArray, threshold: float, *, names: Iterable[str] = ...
) -> FloatArray: ...
def clip_by_norm(
    grads: Gradients | FloatArray, threshold: float, *, names: Iterable[str] = PARAM_NAMES
) -> Gradients | FloatArray:
    """Rescale the named gradients together so their global norm is at most `threshold`.

    For `Gradients`, the named fields (the five parameters by default) share one
    norm and one scale factor; the other fields are returned unchanged.
    """
    threshold = positive_float(threshold, "threshold")
    names = tuple(names)
    norm = _finite_norm(grads, names)
    scale = threshold / norm if norm > threshold else 1.0
    if isinstance(grads, np.ndarray):
        return grads * scale
    return dataclasses.replace(grads, **{n: getattr(grads, n) * scale for n in names})


@overload
def clip_by_value(
    grads: Gradients, threshold: float, *, names: Iterable[str] = ...
) -> Gradients: ...
@overload
def clip_by_value(
    grads: FloatArray, threshold: float, *, names: Iterable[str] = ...
) -> FloatArray: ...
def clip_by_value(
    grads: Gradients | FloatArray, threshold: float, *, names: Iterable[str] = PARAM_NAMES
) -> Gradients | FloatArray:
    """Cut every entry of the named gradients to [-threshold, threshold] independently."""
    threshold = positive_float(threshold, "threshold")
    names = tuple(names)
    _finite_norm(grads, names)
    if isinstance(grads, np.ndarray):
        return np.clip(grads, -threshold, threshold)
    return dataclasses.replace(
        grads, **{n: np.clip(getattr(grads, n), -threshold, threshold) for n in names}
    )
