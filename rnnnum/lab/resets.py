r"""The GRU's two reset placements in numbers: the same arrays, reset "after" against "before".

The reset gate r_t scales a different factor in each placement of the candidate's
hidden side:

$$\text{after (PyTorch, cuDNN)}:\ r_t \odot (h_{t-1} W_{hn} + b_{hn}),\qquad
\text{before (Cho et al. 2014)}:\ (r_t \odot h_{t-1})\, W_{hn} + b_{hn}.$$

With r_t = 1 everywhere both are $h_{t-1} W_{hn} + b_{hn}$ and the two networks are one;
otherwise they differ in that one term, and the difference compounds through the
states, the one-step Jacobians and the gradients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnnum._checks import FloatArray
from rnnnum.bptt import bptt
from rnnnum.forward import forward
from rnnnum.gated_params import GRUParams
from rnnnum.jacobians import step_jacobians
from rnnnum.lab.gated import gated_problem

__all__ = ["OPEN_RESET_BIAS", "ResetDifference", "reset_difference"]

#: A reset-gate bias that makes r_t = 1.0 exactly in float64 on the lab's inputs:
#: sigma(a) = (1 + tanh(a/2)) / 2 and tanh(a/2) rounds to 1 once a/2 exceeds about 19.
OPEN_RESET_BIAS = 60.0


@dataclass(frozen=True, eq=False)
class ResetDifference:
    """A GRU run twice on the same arrays and inputs, ``reset="after"`` and ``"before"``.

    Attributes:
        reset_bias: the value written into b_xr, or None (the initial zeros kept).
        mean_r: mean reset gate of the "after" run; max_closed: max of 1 - r there.
        factor_after, factor_before: mean norms of what r multiplies at each step,
            ||h_{t-1} W_hn + b_hn|| ("after") and ||h_{t-1}|| ("before").
        step_term: (T,), at the "after" run's own h_{t-1} and r_t, the relative difference
            ||r (h W_hn + b_hn) - ((r h) W_hn + b_hn)|| / ||r (h W_hn + b_hn)||: the one
            term that moves, before any compounding (0 where both terms are 0).
        state: ||h^after - h^before|| / ||h^after|| over all steps.
        state_by_step: (T,), ||h^after_t - h^before_t||.
        jacobian_by_step: (T,), ||M^after_t - M^before_t||_2 / ||M^after_t||_2 of the
            one-step Jacobians dh_t/dh_{t-1}; jacobian: their median.
        gradient: ||g^after - g^before|| / ||g^after|| over all parameter gradients.
        gradient_by_name: the same for each parameter.
    """

    reset_bias: float | None
    mean_r: float
    max_closed: float
    factor_after: float
    factor_before: float
    step_term: FloatArray = field(repr=False)
    state: float
    state_by_step: FloatArray = field(repr=False)
    jacobian: float
    jacobian_by_step: FloatArray = field(repr=False)
    gradient: float
    gradient_by_name: dict[str, float]


def _relative(a: FloatArray, b: FloatArray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(a))


def reset_difference(
    *,
    T: int = 60,
    H: int = 16,
    seed: int = 2013,
    scheme: str = "xavier",
    reset_bias: float | None = None,
) -> ResetDifference:
    """Run `gated_problem`'s GRU with both resets; `reset_bias` (if given) fills b_xr first."""
    params, X, targets, _ = gated_problem("gru", T, H=H, seed=seed, scheme=scheme)
    assert isinstance(params, GRUParams)
    if reset_bias is not None:
        bx = params.bx.copy()
        bx[:H] = reset_bias  # the r block of the input-side bias
        params = params.replace(bx=bx)
    runs = {reset: params.replace(reset=reset) for reset in ("after", "before")}
    caches = {reset: forward(p, X, targets) for reset, p in runs.items()}
    after, before = caches["after"], caches["before"]
    r, h_prev = after.r[0], after.h_prev[0]  # (T, H)
    hidden = h_prev @ params.Whn + params.bhn  # what r multiplies in "after", (T, H)
    term_after = r * hidden
    term_before = (r * h_prev) @ params.Whn + params.bhn
    M = {reset: step_jacobians(runs[reset], caches[reset])[0] for reset in runs}  # (T, H, H)
    moved = np.linalg.norm(term_after - term_before, axis=-1)
    size = np.linalg.norm(term_after, axis=-1)  # 0 at step 1 when h_0 = 0 and b_hn = 0
    jac = np.linalg.norm(M["after"] - M["before"], 2, axis=(-2, -1)) / np.linalg.norm(
        M["after"], 2, axis=(-2, -1)
    )
    grads = {reset: bptt(runs[reset], caches[reset]).parameters() for reset in runs}
    flat = {reset: np.concatenate([g.ravel() for g in grads[reset].values()]) for reset in grads}
    return ResetDifference(
        reset_bias=None if reset_bias is None else float(reset_bias),
        mean_r=float(r.mean()),
        max_closed=float(np.max(1.0 - r)),
        factor_after=float(np.linalg.norm(hidden, axis=-1).mean()),
        factor_before=float(np.linalg.norm(h_prev, axis=-1).mean()),
        step_term=np.divide(moved, size, out=np.zeros_like(moved), where=size > 0),
        state=_relative(after.h, before.h),
        state_by_step=np.linalg.norm(after.h[0] - before.h[0], axis=-1),
        jacobian=float(np.median(jac)),
        jacobian_by_step=jac,
        gradient=_relative(flat["after"], flat["before"]),
        gradient_by_name={
            name: _relative(grads["after"][name], grads["before"][name]) for name in grads["after"]
        },
    )
