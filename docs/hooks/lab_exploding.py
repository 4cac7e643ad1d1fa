"""Page ``exploding.md``: overflow, one exploding step, and clipping."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from gen_format import claim, code, display, fmt, fragment, plain_math, table
from gen_plot import GREY, readable, svg_text
from lab_common import LabPage, seed_problem

import rnnnum
from rnnnum import lab

#: Gain of the orthogonal W_hh of the overflow demonstration (linear RNN).
OVERFLOW_GAIN = 3.0
#: The linear network of the one-step demonstration: gain of W_hh = gain Q, and length.
STEP_GAIN, STEP_T = 1.5, 100
#: Norm clipping rescales exactly, up to float64 rounding of one division and a norm.
CLIP_RTOL = 1e-12
#: Thresholds of the clipping plot (the raw gradient's norm lies inside this range).
CLIP_SWEEP = tuple(float(t) for t in np.geomspace(0.01, 100, 25))


def page() -> LabPage:
    """The fragments and figures of ``exploding.md``."""
    out: dict[str, str] = {}
    files: dict[str, str] = {}
    limit = int(np.log(np.finfo(np.float64).max) / np.log(OVERFLOW_GAIN))
    rows = lab.overflow_by_length((10, 100, 300, 600, limit, limit + 4), gain=OVERFLOW_GAIN)
    edge, beyond = rows[-2], rows[-1]
    claim(
        np.isfinite(edge.h_max) and np.isinf(edge.grad_norm),
        "at the edge the gradient is infinite while the states are finite",
    )
    claim(
        all(np.isfinite(r.grad_norm) and r.warnings == 0 for r in rows[:-2]),
        "below the edge nothing overflows, however large",
    )
    claim(np.isnan(beyond.loss) and np.isnan(beyond.grad_norm), "beyond it everything is NaN")
    out["table.overflow"] = table(
        [
            "T",
            f"largest entry of {fragment('sym.h')}",
            "loss L",
            f"norm of {fragment('d.L.Whh')}",
            "warnings",
            "first warning (its first sentence)",
        ],
        [
            [
                str(r.T),
                fmt(r.h_max),
                fmt(r.loss),
                fmt(r.grad_norm),
                str(r.warnings),
                "none" if r.first_warning == "none" else code(r.first_warning.split(". ")[0]),
            ]
            for r in rows
        ],
    )
    out["overflow.gain"] = fmt(OVERFLOW_GAIN)
    out["overflow.limit"] = fmt(float(np.finfo(np.float64).max))
    out["overflow.steps"] = str(limit)
    out["overflow.edge"] = str(edge.T)
    out["overflow.beyond"] = str(beyond.T)
    rate = 0.01
    gain, T = STEP_GAIN, STEP_T
    loss, raw_norm, outcomes = lab.exploding_step(
        T=T, gain=gain, learning_rate=rate, thresholds=(1.0, 5.0)
    )
    out["step.gain"], out["step.T"] = fmt(gain), str(T)
    raw = outcomes[0]
    claim(
        not np.isfinite(raw.loss_after) and raw.overflow_step > 0,
        "one unclipped step makes the next forward pass overflow",
    )
    claim(all(np.isfinite(o.loss_after) for o in outcomes[1:]), "the clipped steps stay finite")
    out["step.loss"] = fmt(loss)
    out["step.raw_norm"] = fmt(raw_norm)
    out["step.rate"] = fmt(rate)
    out["step.overflow_at"] = str(raw.overflow_step)
    out["table.step"] = table(
        [
            "update",
            "size of the step η‖g‖",
            f"largest absolute entry of {fragment('sym.Whh')} after",
            "loss on the same sequence after",
            "first non-finite state",
        ],
        [
            [
                o.how,
                fmt(o.step_norm),
                fmt(o.largest_weight),
                fmt(o.loss_after),
                plain_math(f"h_{o.overflow_step}") if o.overflow_step else "none",
            ]
            for o in outcomes
        ],
    )
    params, _, _, cache = seed_problem(30, 8, "spectral", options={"sigma_max": 1.6})
    grads = rnnnum.bptt(params, cache)
    clipped = lab.clipping_table(grads, (1.0, 5.0))
    for row in clipped:
        if row.how == "by norm":
            claim(
                abs(row.norm_after / row.threshold - 1) < CLIP_RTOL
                and abs(row.cosine - 1) < CLIP_RTOL,
                "norm clipping gives the threshold as the norm and a cosine of 1",
            )
        elif row.threshold == 1.0:
            claim(
                row.cosine < 1 - 1e-3, "value clipping turns the gradient away from its direction"
            )
    sweep = lab.clipping_table(grads, CLIP_SWEEP)
    lengths = tuple(range(25, limit + 40, 25))
    with np.errstate(all="ignore"):
        growth = lab.overflow_by_length(lengths, gain=OVERFLOW_GAIN)
    files["figures/exploding.svg"] = _exploding_figure(growth, sweep, rnnnum.global_norm(grads))
    out["clip.raw_norm"] = fmt(rnnnum.global_norm(grads))
    out["table.clipping"] = table(
        ["clipping", "threshold θ", "norm after", "cosine with the raw gradient"],
        [[r.how, fmt(r.threshold), fmt(r.norm_after), f"{r.cosine:.6f}"] for r in clipped],
    )
    out["eq.clip.norm"] = display(
        r"g \leftarrow \begin{cases} \theta\, g / \lVert g \rVert & \text{if } "
        r"\lVert g \rVert > \theta \\ g & \text{otherwise} \end{cases}"
    )
    out["eq.clip.value"] = display(r"g_j \leftarrow \min(\max(g_j, -\theta), \theta)")
    return LabPage(out, files)


@readable
def _exploding_figure(
    growth: list[lab.OverflowRow], sweep: list[lab.ClippingRow], raw: float
) -> str:
    # stacked, not side by side: a phone shows the figure 358 px wide
    fig, (left, right) = plt.subplots(2, 1, figsize=(5.4, 7.4))
    T = np.array([r.T for r in growth])
    for values, colour, label in (
        ([r.h_max for r in growth], "#1f77b4", r"largest $|h_t|$"),
        (
            [r.grad_norm for r in growth],
            "#d62728",
            r"$\Vert \mathrm{d} L / \mathrm{d} W_{hh} \Vert$",
        ),
    ):
        finite = np.isfinite(values)
        left.plot(
            T[finite],
            np.log10(np.array(values)[finite]),
            "o-",
            color=colour,
            lw=2,
            ms=3,
            label=label,
        )
    top = float(np.log10(np.finfo(np.float64).max))
    left.axhline(top, color=GREY, lw=1, ls="--")
    left.text(T[0], top - 25, "largest float64", color=GREY, fontsize=11)
    left.set_ylabel("log10 of the value")
    left.set_xlabel("sequence length T")
    left.set_title(
        f"linear RNN, W_hh = {OVERFLOW_GAIN:g} Q: where the curves stop, inf/NaN", fontsize=11
    )
    left.legend(frameon=False, loc="lower right")
    for how, colour in (("by norm", "#2ca02c"), ("by value", "#ff7f0e")):
        rows = [r for r in sweep if r.how == how]
        right.semilogx(
            [r.threshold for r in rows],
            [r.cosine for r in rows],
            "o-",
            color=colour,
            lw=2,
            ms=3,
            label=how,
        )
    right.axvline(raw, color=GREY, lw=1, ls=":")
    right.text(raw, 0.45, " ‖g‖ of the raw gradient", color=GREY, fontsize=11, rotation=90)
    right.set_xlabel("threshold θ")
    right.set_ylabel("cosine with the raw gradient")
    right.set_ylim(0, 1.05)
    right.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    return svg_text(fig)
