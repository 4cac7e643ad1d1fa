r"""Per-step losses $L_t$ and their local derivative $\partial L_t / \partial y_t$.

Each $L_t$ is summed over the batch (not averaged), so that the total
$L = \sum_t L_t$ is a plain sum over every example and step and each example's
gradient is exactly the gradient of its own loss.

- ``cross_entropy``: $p_t = \mathrm{softmax}(y_t)$,
  $L_t = -\sum_n \log p_t[n, \mathrm{target}_t[n]]$, and
  $\partial L_t / \partial y_t = p_t - \mathrm{onehot}(\mathrm{target}_t)$.
- ``mse``: $L_t = \tfrac12 \sum_n \lVert y_t[n] - r_t[n] \rVert^2$ with real
  targets $r_t$, and $\partial L_t / \partial y_t = y_t - r_t$ (the one-half
  makes the derivative free of a factor 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnnum._arith import empty_like_tape, memory_order, memory_rows
from rnnnum._checks import FloatArray, choice

__all__ = ["LOSSES", "Loss", "get_loss", "log_softmax", "probabilities_and_picked"]


def log_softmax(y: FloatArray) -> FloatArray:
    """log softmax over the last axis, shifted by the maximum so exp cannot overflow."""
    shifted = y - y.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


#: Rows of y per block in `probabilities_and_picked`: the block's passes stay in cache.
SOFTMAX_BLOCK_ROWS = 256


def probabilities_and_picked(
    y: FloatArray, targets: NDArray[Any], *, bias: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """p = softmax(y) (..., V) and the log-probability of each row's target, (rows,), bit for
    bit ``numpy.exp(log_softmax(y))`` and ``log_softmax(y)[..., target]``; p has y's
    layout, and the rows go in their memory order (`rnnnum._arith.memory_rows`: step by
    step for a step tape).

    Every reduction is over one row, so the rows go in blocks of `SOFTMAX_BLOCK_ROWS`:
    each block's passes read and write memory the cache still holds, and log p lives in
    one block's scratch only (the loss needs one entry per row). With `bias` (V,),
    ``y += bias`` is done first, in place, block by block (the read-out's b_y).
    """
    p = empty_like_tape(y)
    y_rows, p_rows = memory_rows(y), memory_rows(p)
    V = y_rows.shape[1]
    picked = np.empty(y_rows.shape[0])
    index = memory_order(targets, y).reshape(-1)
    work = np.empty((SOFTMAX_BLOCK_ROWS, 1))
    scratch = np.empty((SOFTMAX_BLOCK_ROWS, V))
    for start in range(0, y_rows.shape[0], SOFTMAX_BLOCK_ROWS):
        block = slice(start, start + SOFTMAX_BLOCK_ROWS)
        y_b, p_b = y_rows[block], p_rows[block]
        n = y_b.shape[0]
        m, shifted = work[:n], scratch[:n]
        if bias is not None:
            y_b += bias
        np.maximum.reduce(y_b, axis=-1, keepdims=True, out=m)  # the maximum of each row
        np.subtract(y_b, m, out=shifted)
        np.exp(shifted, out=p_b)
        np.log(np.add.reduce(p_b, axis=-1, keepdims=True, out=m), out=m)
        shifted -= m  # log p
        np.exp(shifted, out=p_b)
        picked[block] = shifted[np.arange(n), index[block]]  # log p[target] of each row
    return p, picked


@dataclass(frozen=True)
class Loss:
    """A per-step loss: value (summed over the batch), ∂L_t/∂y_t, and the probabilities if any."""

    name: str
    #: (y (..., V), targets (...) or (..., V)) -> the loss summed over every leading axis
    value: Callable[[FloatArray, NDArray[Any]], float]
    #: (y (..., V), targets) -> ∂L_t/∂y_t, shaped like y
    gradient: Callable[[FloatArray, NDArray[Any]], FloatArray]
    #: True if targets are class indices (N, T); False if real vectors (N, T, V)
    class_targets: bool


def _ce_value(y: FloatArray, target: NDArray[Any]) -> float:
    logp = log_softmax(y)  # (..., V)
    return float(-np.take_along_axis(logp, target[..., None], axis=-1).sum())


def _ce_gradient(y: FloatArray, target: NDArray[Any]) -> FloatArray:
    grad = np.exp(log_softmax(y))  # p_t, (..., V)
    np.put_along_axis(  # p_t - onehot(target_t)
        grad, target[..., None], np.take_along_axis(grad, target[..., None], axis=-1) - 1.0, -1
    )
    return grad


LOSSES: dict[str, Loss] = {
    "cross_entropy": Loss("cross_entropy", _ce_value, _ce_gradient, class_targets=True),
    "mse": Loss(
        "mse",
        value=lambda y, r: float(0.5 * np.sum((y - r) ** 2)),
        gradient=lambda y, r: y - r,
        class_targets=False,
    ),
}


def get_loss(name: str) -> Loss:
    """Look up a loss by name; an unknown name raises `UnknownChoiceError`."""
    return LOSSES[choice(name, "loss", LOSSES)]
