"""Page ``how-fast.md``: the distance law, the nonlinear bound, its criterion, transient growth."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from gen_format import SEED, claim, fmt, fragment, math, matrix, sci, table
from gen_plot import GREY, readable, svg_text
from lab_common import COLOURS, LabPage

from rnnnum import lab

CRITERION_SIZE = (8, 40)
#: (activation, largest singular value) pairs of the criterion table: below and above 1/gamma.
CRITERION_CASES = (("tanh", 0.9), ("tanh", 1.5), ("sigmoid", 3.0), ("sigmoid", 6.0))


def page() -> LabPage:
    """The fragments and figures of ``how-fast.md``."""
    out: dict[str, str] = {}
    files: dict[str, str] = {}
    out.update(
        {
            "num.pow.0.9.10": fmt(0.9**10),
            "num.pow.0.9.50": fmt(0.9**50),
            "num.pow.1.1.50": fmt(1.1**50),
            "num.steps.1pct.0.9": str(int(np.ceil(np.log(0.01) / np.log(0.9)))),
        }
    )
    law = lab.linear_distance_law((0.9, 1.0, 1.1), T=40, H=8, seed=SEED)
    claim(law.max_relative_deviation < 1e-12, "the linear norms equal s^(t-k) to rounding")
    out["linear.maxdev"] = sci(law.max_relative_deviation)
    H, T = CRITERION_SIZE
    rows, checks = [], []
    for activation, sigma in CRITERION_CASES:
        check = lab.nonlinear_bound(activation, sigma, T=T, H=H, seed=SEED)
        checks.append(check)
        claim(check.worst_ratio <= 1 + 1e-9, f"the bound holds ({activation}, σ = {sigma})")
        if sigma > 1 / check.gamma:
            claim(check.norms[T, 0] < 1, f"above 1/gamma the product still vanishes ({activation})")
        rows.append(
            [
                activation,
                fmt(sigma),
                fmt(1 / check.gamma),
                fmt(check.worst_ratio),
                fmt(float(check.median_ratio[10])),
                fmt(float(check.norms[T, 0])),
                fmt(float((check.gamma * sigma) ** T)),
            ]
        )
    out["criterion.H"], out["criterion.T"] = str(H), str(T)
    out["table.criterion"] = table(
        [
            "activation",
            f"{fragment('sym.sigma_max')} of {fragment('sym.Whh')}",
            "1/γ",
            "largest norm / bound",
            "median ratio at distance 10",
            f"product norm at distance {T}",
            f"bound at distance {T}",
        ],
        rows,
    )
    out["criterion.loosest10"] = fmt(float(min(c.median_ratio[10] for c in checks)))
    out["criterion.tightest10"] = fmt(float(max(c.median_ratio[10] for c in checks)))
    growth = lab.transient_growth(lab.NONNORMAL_W, 60)
    claim(growth.radius < 1 < growth.sigma_max, "the matrix has radius < 1 < sigma_max")
    out.update(
        {
            "nonnormal.W": math(matrix(lab.NONNORMAL_W)),
            "nonnormal.radius": fmt(growth.radius),
            "nonnormal.sigma": fmt(growth.sigma_max),
            "nonnormal.peak": fmt(growth.peak),
            "nonnormal.peak_step": str(growth.peak_power),
            "nonnormal.below_one": str(growth.back_below_one),
            "nonnormal.at60": fmt(float(growth.norms[60])),
        }
    )
    files["figures/distance.svg"] = _distance_figure(law, growth)
    files["figures/bound.svg"] = _bound_figure(checks)
    return LabPage(out, files)


@readable
def _distance_figure(law: lab.DistanceLaw, growth: lab.Transient) -> str:
    # stacked, not side by side: a phone shows the figure 358 px wide
    fig, (left, right) = plt.subplots(2, 1, figsize=(5.4, 7.0))
    T = law.norms.shape[1] - 1
    for j, (s, colour) in enumerate(
        zip(law.scales, ("#1f77b4", "#333333", "#d62728"), strict=True)
    ):
        left.semilogy(
            range(T + 1), law.norms[j][T, ::-1], color=colour, lw=2, label=rf"$W_{{hh}} = {s:g}\,Q$"
        )
    left.set_xlabel("distance t − k")
    left.set_ylabel(r"$\Vert \mathrm{d} h_t / \mathrm{d} h_k \Vert$")
    left.set_title("linear RNN: exactly $s^{t-k}$")
    left.legend(frameon=False)
    n = np.arange(growth.norms.size)
    right.semilogy(n, growth.norms, color="#d62728", lw=2, label=r"$\Vert W^n \Vert$")
    right.semilogy(
        n, growth.radius**n, color="#1f77b4", lw=2, ls="--", label=r"$\rho(W)^n$ (spectral radius)"
    )
    right.axhline(1.0, color=GREY, lw=1)
    right.set_xlabel("distance n = t − k")
    right.set_title(f"non-normal W: radius {growth.radius:g}, σ_max {growth.sigma_max:.2g}")
    right.legend(frameon=False)
    fig.tight_layout()
    return svg_text(fig)


@readable
def _bound_figure(checks: list[lab.BoundCheck]) -> str:
    fig, axes = plt.subplots(2, 1, figsize=(5.4, 7.6), sharex=True, sharey=True)
    for ax, activation in zip(axes, ("tanh", "sigmoid"), strict=True):
        for check, colour in zip(
            [c for c in checks if c.activation == activation], COLOURS, strict=False
        ):
            T = check.norms.shape[0] - 1
            d = np.arange(T + 1)
            actual = [np.median(np.diagonal(check.norms, offset=-k)) for k in d]
            ax.semilogy(
                d, actual, color=colour, lw=2, label=f"σ_max = {check.sigma_max:g}: measured"
            )
            ax.semilogy(
                d,
                (check.gamma * check.sigma_max) ** d.astype(float),
                color=colour,
                lw=1.2,
                ls="--",
                label=f"bound (γσ_max)^d = {check.gamma * check.sigma_max:g}^d",
            )
        ax.set_title(
            f"{activation}, γ = {next(c.gamma for c in checks if c.activation == activation):g}",
        )
        ax.legend(frameon=False, loc="lower left")
        ax.set_ylabel(r"median $\Vert \mathrm{d} h_t / \mathrm{d} h_{t-d} \Vert$")
    axes[-1].set_xlabel("distance d = t − k")
    fig.tight_layout()
    return svg_text(fig)
