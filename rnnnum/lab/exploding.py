r"""Exploding gradients in float64: overflow, a training step that destroys the weights, clipping.

- A linear RNN with $W_{hh} = gQ$, $g > 1$, multiplies its state by g at every
  step; its gradient multiplies large states by large backward signals and
  overflows first, then everything becomes NaN.
- One gradient-descent step with a huge but finite gradient makes the weights so
  large that the next forward pass overflows: the run is lost in one step.
- Clipping by norm (Pascanu et al. 2013, Algorithm 1) bounds the step and keeps
  its direction; clipping by value bounds every entry and turns the direction.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnnum.bptt import Gradients, bptt
from rnnnum.clipping import clip_by_norm, clip_by_value, global_norm
from rnnnum.forward import forward
from rnnnum.lab._vectors import cosine, flat
from rnnnum.lab.shares import problem
from rnnnum.params import PARAM_NAMES, RNNParams

__all__ = [
    "ClippingRow",
    "OverflowRow",
    "StepOutcome",
    "clipping_table",
    "exploding_step",
    "overflow_by_length",
]


@dataclass(frozen=True)
class OverflowRow:
    """One length of the overflow demonstration.

    Attributes:
        T: sequence length.
        h_max: largest |entry| of any h_t (inf or NaN once the states overflow).
        loss: L.
        grad_norm: global norm of dL/dW_hh (computed without squaring overflow).
        warnings: how many `NumericalOverflowWarning`s forward and bptt issued.
        first_warning: the first one's opening clause, or "none".
    """

    T: int
    h_max: float
    loss: float
    grad_norm: float
    warnings: int
    first_warning: str


def overflow_by_length(
    lengths: Sequence[int] = (10, 50, 100, 200, 400, 700), *, gain: float = 3.0, H: int = 8
) -> list[OverflowRow]:
    """Forward and bptt of a linear RNN with $W_{hh}$ = `gain` $Q$, ``on_overflow="warn"``,
    per length."""
    rows = []
    for T in lengths:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("always")
            params, _, _, cache = problem(
                T, H=H, kind="orthogonal", activation="identity", gain=gain, on_overflow="warn"
            )
            grads = bptt(params, cache, on_overflow="warn")
            norm = global_norm(grads.Whh)
            h_max = float(np.max(np.abs(cache.h)))
        first = next((str(w.message).split(";")[0] for w in caught), "none")
        rows.append(OverflowRow(T, h_max, float(cache.loss), norm, len(caught), first))
    return rows


@dataclass(frozen=True)
class ClippingRow:
    """Clipping one gradient: how, the threshold, the norm after, cosine with the raw one."""

    how: str
    threshold: float
    norm_after: float
    cosine: float


def clipping_table(grads: Gradients, thresholds: Sequence[float] = (1.0, 5.0)) -> list[ClippingRow]:
    """Clip `grads` by norm and by value at each threshold; measure norm and direction."""
    raw = flat(grads)
    rows = []
    for threshold in thresholds:
        for how, clip in (("by norm", clip_by_norm), ("by value", clip_by_value)):
            clipped = flat(clip(grads, threshold))
            norm = float(np.linalg.norm(clipped))
            rows.append(ClippingRow(how, threshold, norm, cosine(raw, clipped)))
    return rows


@dataclass(frozen=True)
class StepOutcome:
    """One gradient-descent step from the same weights.

    Attributes:
        how: "no clipping", or "by norm, θ = ...".
        step_norm: the norm of the update eta * g actually taken.
        largest_weight: max |entry| of W_hh after the step.
        loss_after: L on the same sequence after the step (inf or NaN if it overflowed).
        overflow_step: the first step t of the next forward pass with a non-finite
            state (0 if none).
    """

    how: str
    step_norm: float
    largest_weight: float
    loss_after: float
    overflow_step: int


def _take_step(params: RNNParams, grads: Gradients, rate: float) -> RNNParams:
    return params.replace(**{n: getattr(params, n) - rate * getattr(grads, n) for n in PARAM_NAMES})


def exploding_step(
    *,
    T: int = 100,
    H: int = 8,
    gain: float = 1.5,
    learning_rate: float = 0.01,
    thresholds: Sequence[float] = (1.0, 5.0),
    seed: int = 2013,
) -> tuple[float, float, list[StepOutcome]]:
    """One step on a linear RNN with $W_{hh}$ = `gain` $Q$: raw, then clipped by norm at each
    threshold.

    Returns the loss before the step, the raw gradient's norm, and one outcome per way.
    """
    params, X, targets, cache = problem(
        T, H=H, kind="orthogonal", activation="identity", gain=gain, seed=seed
    )
    grads = bptt(params, cache)
    outcomes = []
    for how, g in [("no clipping", grads)] + [
        (f"by norm, θ = {t:g}", clip_by_norm(grads, t)) for t in thresholds
    ]:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moved = _take_step(params, g, learning_rate) if np.isfinite(global_norm(g)) else params
            after = forward(moved, X, targets, activation="identity", on_overflow="warn")
        bad = np.nonzero(~np.isfinite(after.h[0]).all(axis=1))[0]
        outcomes.append(
            StepOutcome(
                how=how,
                step_norm=learning_rate * global_norm(g),
                largest_weight=float(np.max(np.abs(moved.Whh))),
                loss_after=float(after.loss),
                overflow_step=int(bad[0]) + 1 if bad.size else 0,
            )
        )
    return float(cache.loss), global_norm(grads), outcomes
