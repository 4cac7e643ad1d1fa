"""The gradient laboratory: each claim about vanishing and exploding gradients as an experiment.

One module per question, each function returning plain arrays and numbers that
the site draws and the tests pin:

- `distance`: the distance law, the bound (gamma sigma_max)^(t-k), the criterion,
  and transient growth under a non-normal W_hh;
- `shares`: where each loss's gradient comes from, over a long sequence;
- `exploding`: overflow to inf/NaN, a training step that destroys the weights, clipping;
- `remedies`: initialisation, activation, residual through time, truncated BPTT.

The trained memory horizon is `rnnnum.horizon`.
"""

from rnnnum.lab.distance import (
    NONNORMAL_W,
    BoundCheck,
    DistanceLaw,
    Transient,
    linear_distance_law,
    nonlinear_bound,
    transient_growth,
)
from rnnnum.lab.exploding import (
    ClippingRow,
    OverflowRow,
    StepOutcome,
    clipping_table,
    exploding_step,
    overflow_by_length,
)
from rnnnum.lab.remedies import (
    TruncationPoint,
    dropped_pairs,
    residual_jacobian_norms,
    truncation_curve,
)
from rnnnum.lab.shares import Shares, distance_profile, gradient_reach, gradient_shares, problem

__all__ = [
    "NONNORMAL_W",
    "BoundCheck",
    "ClippingRow",
    "DistanceLaw",
    "OverflowRow",
    "Shares",
    "StepOutcome",
    "Transient",
    "TruncationPoint",
    "clipping_table",
    "distance_profile",
    "dropped_pairs",
    "exploding_step",
    "gradient_reach",
    "gradient_shares",
    "linear_distance_law",
    "nonlinear_bound",
    "overflow_by_length",
    "problem",
    "residual_jacobian_norms",
    "transient_growth",
    "truncation_curve",
]
