"""The checks of `rnnnum.forward`'s inputs: each failure names the rule, the value and a fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from rnnnum._checks import FloatArray, describe, real_array
from rnnnum.errors import DTypeError, ShapeError, TargetRangeError
from rnnnum.losses import get_loss
from rnnnum.params import RNNParams

if TYPE_CHECKING:
    from rnnnum.gated_params import GRUParams, LSTMParams

__all__ = ["check_X", "check_h0", "check_targets"]


def check_X(X: Any, params: RNNParams | LSTMParams | GRUParams, weights: str) -> FloatArray:
    """X as float64 (N, T, D) with D the rows of the input weights, named `weights`."""
    X = real_array(X, "X", ndim=3, layout="(N, T, D)")
    N, T, D = X.shape
    if N < 1:
        raise ShapeError(f"X must hold at least one sequence (N >= 1); got X.shape = {X.shape}.")
    if T < 1:
        raise ShapeError(
            f"X must have at least one time step (T >= 1); got X.shape = {X.shape} (T = 0). "
            "An empty sequence has no loss and no gradient: drop it from the batch."
        )
    if D != params.D:
        raise ShapeError(
            f"X must have shape (N, T, D) with D = {params.D} (the rows of "
            f"{weights}); got X.shape = "
            f"{X.shape}. Pass inputs with {params.D} features, or build parameters with D = {D}."
        )
    return X


def check_targets(targets: Any, loss: str, N: int, T: int, V: int) -> NDArray[Any]:
    if get_loss(loss).class_targets:
        arr = np.asarray(targets)
        if arr.ndim == 3:
            raise ShapeError(
                f"targets for loss='cross_entropy' are class indices of shape (N, T) = ({N}, {T}); "
                f"got shape {arr.shape}. Pass targets.argmax(-1) for one-hot targets, or use "
                "loss='mse' for real-valued targets."
            )
        if arr.dtype.kind not in "iu":
            raise DTypeError(
                "targets for loss='cross_entropy' must be integer class indices; got "
                f"{describe(arr)}. Cast with targets.astype(numpy.int64)."
            )
        if arr.shape != (N, T):
            raise ShapeError(
                f"targets must have shape (N, T) = ({N}, {T}) to match X; got {arr.shape}. "
                "Give one class index per example and step."
            )
        classes = arr.astype(np.int64)
        # One reduction: a negative index read as unsigned is at least 2**63 > V.
        if int(classes.view(np.uint64).max()) >= V:
            bad = (arr < 0) | (arr >= V)
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            fix = (
                "Class indices start at 0: re-encode the classes."
                if arr[where] < 0
                else f"Use V >= {int(arr.max()) + 1} outputs or re-encode the classes."
            )
            raise TargetRangeError(
                f"targets must be class indices in 0..{V - 1} (V = {V} outputs); got {arr[where]} "
                f"at index {where}. {fix}"
            )
        return classes
    out = real_array(targets, "targets", ndim=3, layout="(N, T, V)")
    if out.shape != (N, T, V):
        raise ShapeError(
            f"targets for loss='mse' must have shape (N, T, V) = ({N}, {T}, {V}); got {out.shape}."
        )
    return out


def check_h0(h0: Any, N: int, H: int, name: str = "h0") -> FloatArray:
    if h0 is None:
        return np.zeros((N, H))
    out = real_array(h0, name, ndim=2, layout="(N, H)")
    if out.shape != (N, H):
        raise ShapeError(
            f"{name} must have shape (N, H) = ({N}, {H}); got {out.shape}. For one state shared "
            f"by the batch pass numpy.tile({name}, (N, 1))."
        )
    return out
