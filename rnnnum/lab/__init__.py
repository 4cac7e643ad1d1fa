r"""The gradient laboratory: each claim about vanishing and exploding gradients as an experiment.

One module per question, each function returning plain arrays and numbers that
the site draws and the tests pin:

- `distance`: the distance law, the bound $(\gamma\,\sigma_{\max})^{t-k}$, the criterion,
  and transient growth under a non-normal $W_{hh}$;
- `shares`: where each loss's gradient comes from, over a long sequence;
- `exploding`: overflow to inf/NaN, a training step that destroys the weights, clipping;
- `remedies`: initialisation, activation, residual through time, truncated BPTT;
- `gated`: the LSTM's cell-state path against distance, where it vanishes and explodes;
- `gated_shares`: the gradient shares of any cell, LSTM and GRU beside the vanilla one;
- `resets`: the GRU's two reset placements on the same arrays.

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
from rnnnum.lab.gated import (
    GATED_CELLS,
    LSTM_REGIMES,
    CellPathCurves,
    RegimeRow,
    cell_path_curves,
    gated_problem,
    lstm_regimes,
    regime_table,
)
from rnnnum.lab.gated_shares import SHARE_CASES, ShareRow, cell_shares, far_share, shares_beside
from rnnnum.lab.remedies import (
    TruncationPoint,
    chunk_dropped_pairs,
    chunked_curve,
    dropped_pairs,
    residual_jacobian_norms,
    truncation_curve,
)
from rnnnum.lab.resets import OPEN_RESET_BIAS, ResetDifference, reset_difference
from rnnnum.lab.shares import Shares, distance_profile, gradient_reach, gradient_shares, problem

__all__ = [
    "GATED_CELLS",
    "LSTM_REGIMES",
    "NONNORMAL_W",
    "OPEN_RESET_BIAS",
    "SHARE_CASES",
    "BoundCheck",
    "CellPathCurves",
    "ClippingRow",
    "DistanceLaw",
    "OverflowRow",
    "RegimeRow",
    "ResetDifference",
    "ShareRow",
    "Shares",
    "StepOutcome",
    "Transient",
    "TruncationPoint",
    "cell_path_curves",
    "cell_shares",
    "chunk_dropped_pairs",
    "chunked_curve",
    "clipping_table",
    "distance_profile",
    "dropped_pairs",
    "exploding_step",
    "far_share",
    "gated_problem",
    "gradient_reach",
    "gradient_shares",
    "linear_distance_law",
    "lstm_regimes",
    "nonlinear_bound",
    "overflow_by_length",
    "problem",
    "regime_table",
    "reset_difference",
    "residual_jacobian_norms",
    "shares_beside",
    "transient_growth",
    "truncation_curve",
]
