"""Page ``gated/gru-resets.md``: the GRU's two reset placements in numbers.

The experiment is `rnnnum.lab.reset_difference`: one GRU's arrays run with the reset
after the product (PyTorch, cuDNN) and before it (Cho et al. 2014), on the same
inputs, and once more with the reset gate held open (r = 1), where the two are one
network. The figure is drawn by `gen_gated_plots.resets_figure`.
"""

from __future__ import annotations

import gen_gated_plots as plots
import numpy as np
from gen_format import claim, code, fmt, fragment, sci, table
from lab_common import LabPage

from rnnnum import lab

#: The GRU compared, (H, T): the experiment's defaults, a few hundredths of a second.
RESET_SIZE = (16, 60)
#: With r = 1 exactly the two placements do the same arithmetic but for the order of
#: BLAS sums (h W_h as one (H, 3H) product or as two): a few ulps, compounded over
#: T = 60 steps, far below this (tests/test_lab_gated.py uses 1e-13 at T = 20).
OPEN_TOL = 1e-12
#: A difference this large is not rounding: the two placements are two networks.
DIFFERENT = 1e-2
#: "A tenth or more" (the figure's description) and "half open" (mean r within 0.1 of 1/2).
TENTH, HALF_OPEN = 0.1, 0.1


def page() -> LabPage:
    """The fragments and figures of ``gated/gru-resets.md``."""
    H, T = RESET_SIZE
    moved = lab.reset_difference(T=T, H=H)
    same = lab.reset_difference(T=T, H=H, reset_bias=lab.OPEN_RESET_BIAS)
    worst_open = max(same.state, same.jacobian, same.gradient, *same.gradient_by_name.values())
    claim(
        same.mean_r == 1.0 and same.max_closed == 0.0 and worst_open < OPEN_TOL,
        "with the reset gate open (r = 1) the two placements are one network, to rounding",
    )
    claim(
        abs(moved.mean_r - 0.5) < HALF_OPEN
        and min(moved.state, moved.jacobian, moved.gradient) > TENTH,
        "the initial reset gate is half open, and the states, the one-step Jacobians and the "
        "gradient of the two placements differ by a tenth or more",
    )
    by_name = moved.gradient_by_name
    largest = max(by_name, key=by_name.__getitem__)
    claim(
        largest == "bh" and by_name["bh"] > 1,
        "the largest difference is in the gradient of the hidden-side biases b_h, more than "
        "the gradient itself",
    )
    claim(
        float(np.median(moved.step_term)) > DIFFERENT,
        "the one term that moves differs by more than 1 % before any compounding",
    )
    out = {
        "gated.resets.H": str(H),
        "gated.resets.T": str(T),
        "gated.resets.bias": fmt(lab.OPEN_RESET_BIAS),
        "gated.resets.mean_r": fmt(moved.mean_r, 2),
        "gated.resets.max_closed": fmt(moved.max_closed, 2),
        "gated.resets.factor_after": fmt(moved.factor_after),
        "gated.resets.factor_before": fmt(moved.factor_before),
        "gated.resets.step_term": fmt(float(np.median(moved.step_term))),
        "gated.resets.state": fmt(moved.state),
        "gated.resets.jacobian": fmt(moved.jacobian),
        "gated.resets.gradient": fmt(moved.gradient),
        "gated.resets.bh": fmt(by_name["bh"]),
        "gated.resets.open": sci(worst_open),
        "gated.resets.tol": sci(OPEN_TOL),
        "gated.table.resets": table(
            ["quantity", "reset at its initial value", "reset held open (r = 1)"],
            [
                ["mean reset gate r", fmt(moved.mean_r, 2), fmt(same.mean_r, 2)],
                [f"states {fragment('sym.gru.h.t')}", fmt(moved.state), sci(same.state)],
                [
                    f"one-step {fragment('d.gru.h_t.h_t-1')} (median over steps)",
                    fmt(moved.jacobian),
                    sci(same.jacobian),
                ],
                ["whole gradient", fmt(moved.gradient), sci(same.gradient)],
                *[
                    [f"gradient of {code(name)}", fmt(value), sci(same.gradient_by_name[name])]
                    for name, value in by_name.items()
                ],
            ],
        ),
    }
    return LabPage(out, {"figures/gated-resets.svg": plots.resets_figure(moved, same)})
