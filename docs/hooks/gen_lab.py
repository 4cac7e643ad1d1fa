"""Generator job ``lab``: the gradient laboratory's numbers, tables and figures.

Every experiment is a function of `rnnnum.lab` (or `rnnnum.horizon` for the trained
memory horizon, read from its recorded results file); this module only runs them
at their published sizes, asserts what the prose says about them (`claim`), and
formats the results as fragments and SVG figures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from gen_format import SEED, claim, code, display, fmt, math, matrix, sci, table
from gen_plot import GREY, svg_text

import rnnnum
from rnnnum import horizon, lab

ROOT = Path(__file__).resolve().parents[2]
#: The recorded memory-horizon runs (see `rnnnum.horizon`); the page plots the group of
#: the vanilla networks (`rnnnum.horizon.VARIANTS`).
HORIZON_RESULTS = ROOT / "docs" / "results" / "memory-horizon.json"
#: Network of the bound and criterion measurements: (H, T).
CRITERION_SIZE = (8, 40)
#: (activation, largest singular value) pairs of the criterion table: below and above 1/gamma.
CRITERION_CASES = (("tanh", 0.9), ("tanh", 1.5), ("sigmoid", 3.0), ("sigmoid", 6.0))
#: Where the gradient goes: a long sequence, (H, T).
SHARES_SIZE = (32, 120)
#: The regimes compared side by side: fragment key -> (label, initialiser, options).
REGIMES: dict[str, tuple[str, str, dict[str, float]]] = {
    "small": ("σ_max = 0.5", "spectral", {"sigma_max": 0.5}),
    "xavier": ("Xavier", "xavier", {}),
    "orthogonal": ("orthogonal", "orthogonal", {"gain": 1.0}),
    "saturating": ("σ_max = 3", "spectral", {"sigma_max": 3.0}),
}
#: Gradient reach: (H, T) and how many seeds.
REACH_SIZE = (32, 80)
REACH_SEEDS = 5
#: Initialisations and activations compared at initialisation (reach, 5 seeds).
INITS: dict[str, tuple[str, dict[str, float]]] = {
    "scaled normal, σ = 0.01": ("normal", {}),
    "Xavier (Glorot)": ("xavier", {}),
    "orthogonal": ("orthogonal", {"gain": 1.0}),
}
ACTIVATION_NAMES = ("tanh", "relu", "leaky_relu")
#: Gain of the orthogonal W_hh of the overflow demonstration (linear RNN).
OVERFLOW_GAIN = 3.0
#: The linear network of the one-step demonstration: gain of W_hh = gain Q, and length.
STEP_GAIN, STEP_T = 1.5, 100
#: Norm clipping rescales exactly, up to float64 rounding of one division and a norm.
CLIP_RTOL = 1e-12
#: Thresholds of the clipping plot (the raw gradient's norm lies inside this range).
CLIP_SWEEP = tuple(float(t) for t in np.geomspace(0.01, 100, 25))
#: The residual-through-time comparison: (H, T).
RESIDUAL_SIZE = (16, 60)
#: Truncated BPTT: the windows of the cosine curve, and the small picture of dropped terms.
WINDOWS = (1, 2, 3, 5, 10, 20, 40, 80, 120)
TRUNCATION_PICTURE = (8, 3)  # (T, window)
COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd")


def _problem(T: int, H: int, kind: str, seed: int = SEED, activation: str = "tanh", **options):
    return lab.problem(T, H=H, kind=kind, activation=activation, seed=seed, **options)


def _reach(kind: str, options: dict[str, float], activation: str = "tanh") -> list[int]:
    """Gradient reach (first distance below 1 % of the loss's own step) for REACH_SEEDS seeds."""
    H, T = REACH_SIZE
    out = []
    for seed in range(SEED, SEED + REACH_SEEDS):
        params, _, _, cache = _problem(T, H, kind, seed, activation, **options)
        out.append(
            lab.gradient_reach(lab.distance_profile(lab.gradient_shares(params, cache).norms))
        )
    return out


def _seeds_row(values: list[int]) -> list[str]:
    return [", ".join(map(str, values)), str(int(np.median(values)))]


# --- section 7: how fast -----------------------------------------------------------


def speed(out: dict[str, str], files: dict[str, str]) -> None:
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
            "σ_max of W_hh",
            "1/γ",
            "largest norm / bound",
            "median ratio at distance 10",
            f"norm of dh_{T}/dh_0",
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


def _distance_figure(law: lab.DistanceLaw, growth: lab.Transient) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    T = law.norms.shape[1] - 1
    for j, (s, colour) in enumerate(
        zip(law.scales, ("#1f77b4", "#333333", "#d62728"), strict=True)
    ):
        left.semilogy(
            range(T + 1), law.norms[j][T, ::-1], color=colour, lw=2, label=rf"$W_{{hh}} = {s:g}\,Q$"
        )
    left.set_xlabel("distance t − k")
    left.set_ylabel(r"$\Vert \mathrm{d} h_t / \mathrm{d} h_k \Vert$")
    left.set_title("linear RNN: exactly $s^{t-k}$", fontsize=11)
    left.legend(frameon=False)
    n = np.arange(growth.norms.size)
    right.semilogy(n, growth.norms, color="#d62728", lw=2, label=r"$\Vert W^n \Vert$")
    right.semilogy(
        n, growth.radius**n, color="#1f77b4", lw=2, ls="--", label=r"$\rho(W)^n$ (spectral radius)"
    )
    right.axhline(1.0, color=GREY, lw=1)
    right.set_xlabel("distance n = t − k")
    right.set_title(
        f"non-normal W: radius {growth.radius:g}, σ_max {growth.sigma_max:.2g}", fontsize=11
    )
    right.legend(frameon=False)
    fig.tight_layout()
    return svg_text(fig)


def _bound_figure(checks: list[lab.BoundCheck]) -> str:
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), sharey=True)
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
            fontsize=11,
        )
        ax.set_xlabel("distance d = t − k")
        ax.legend(frameon=False, fontsize=8)
    axes[0].set_ylabel(r"median $\Vert \mathrm{d} h_t / \mathrm{d} h_{t-d} \Vert$")
    fig.tight_layout()
    return svg_text(fig)


# --- where the gradient goes ----------------------------------------------------------


def shares(out: dict[str, str], files: dict[str, str]) -> None:
    H, T = SHARES_SIZE
    results, totals, far20, fprime = {}, {}, {}, {}
    for key, (_, kind, options) in REGIMES.items():
        params, _, _, cache = _problem(T, H, kind, **options)
        result = lab.gradient_shares(params, cache)
        claim(np.allclose(result.share.sum(axis=1), 1.0), "each loss's shares add up to 1")
        results[key] = result
        totals[key] = float(np.linalg.norm(rnnnum.bptt(params, cache).Wxh))
        fprime[key] = float(np.mean(cache.fprime))
    rows = []
    for key, result in results.items():
        far = {
            d: float(np.mean([result.share[i, : i - d + 1].sum() for i in range(d, T)]))
            for d in (10, 20)
        }
        far20[key] = far[20]
        rows.append(
            [
                REGIMES[key][0],
                fmt(float(result.by_distance[0])),
                fmt(far[10]),
                fmt(far[20]),
                fmt(totals[key]),
            ]
        )
        out[f"shares.own.{key}"] = fmt(float(result.by_distance[0]))
        out[f"shares.far20.{key}"] = fmt(far[20])
        out[f"shares.total.{key}"] = fmt(totals[key])
        out[f"shares.fprime.{key}"] = fmt(fprime[key], 2)
        out[f"shares.sigma.{key}"] = fmt(REGIMES[key][2].get("sigma_max", float("nan")))
    claim(far20["small"] < 1e-6 < far20["xavier"], "with sigma 0.5 the far share is negligible")
    claim(
        far20["saturating"] > far20["xavier"]
        and totals["saturating"] > totals["xavier"]
        and fprime["saturating"] < fprime["xavier"],
        "the saturating network spreads its shares furthest, with the largest gradient and "
        "the smallest mean f'",
    )
    out["table.shares"] = table(
        [
            "regime",
            "share from the loss's own step",
            "share from 10 or more steps back",
            "share from 20 or more steps back",
            "‖dL/dW_xh‖",
        ],
        rows,
    )
    out["shares.H"], out["shares.T"] = str(H), str(T)
    files["figures/shares-heatmaps.svg"] = _heatmaps(results, T)
    files["figures/shares-by-distance.svg"] = _by_distance(results)
    rows, standard = [], []
    for label, kind, options in (
        ("Xavier (Glorot)", "xavier", {}),
        ("orthogonal, gain 1", "orthogonal", {"gain": 1.0}),
        ("σ_max = 0.5", "spectral", {"sigma_max": 0.5}),
        ("σ_max = 2", "spectral", {"sigma_max": 2.0}),
    ):
        reach = _reach(kind, options)
        if kind in ("xavier", "orthogonal"):
            standard.append(int(np.median(reach)))
        rows.append([label, *_seeds_row(reach)])
    out["table.reach"] = table(
        ["initialisation of W_hh", f"distance below 1 % ({REACH_SEEDS} seeds)", "median"], rows
    )
    H, T = REACH_SIZE
    out["reach.H"], out["reach.T"], out["reach.seeds"] = str(H), str(T), str(REACH_SEEDS)
    low, high = min(standard), max(standard)
    out["reach.standard"] = f"{low} to {high}" if low != high else str(low)


def _heatmaps(results: dict[str, lab.Shares], T: int) -> str:
    fig, axes = plt.subplots(2, 2, figsize=(8.0, 7.2), sharex=True, sharey=True)
    upper = np.triu(np.ones((T, T), dtype=bool), 1)
    image = None
    for ax, (key, result) in zip(axes.flat, results.items(), strict=True):
        with np.errstate(divide="ignore"):
            logs = np.log10(np.where(upper, 1.0, result.share))
        shown = np.ma.masked_array(np.maximum(logs, -12), mask=upper)
        image = ax.imshow(
            shown, cmap="viridis", vmin=-12, vmax=0, extent=(0.5, T + 0.5, T + 0.5, 0.5)
        )
        ax.set_title(REGIMES[key][0], fontsize=11)
    for ax in axes[1]:
        ax.set_xlabel("input step k")
    for ax in axes[:, 0]:
        ax.set_ylabel("loss i")
    fig.colorbar(image, ax=axes, label="log10 share of loss i's gradient", shrink=0.8)
    return svg_text(fig)


def _by_distance(results: dict[str, lab.Shares]) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for (key, result), colour in zip(results.items(), COLOURS, strict=False):
        d = np.arange(result.by_distance.size)
        ax.semilogy(
            d, np.maximum(result.by_distance, 1e-30), color=colour, lw=2, label=REGIMES[key][0]
        )
    ax.set_xlabel("distance i − k")
    ax.set_ylabel("mean share of a loss's gradient")
    ax.set_ylim(1e-30, 1.5)
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return svg_text(fig)


# --- section 8: exploding and clipping ------------------------------------------------


def exploding(out: dict[str, str], files: dict[str, str]) -> None:
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
        ["T", "largest entry of h_t", "loss L", "‖dL/dW_hh‖", "warnings", "first warning"],
        [
            [
                str(r.T),
                fmt(r.h_max),
                fmt(r.loss),
                fmt(r.grad_norm),
                str(r.warnings),
                r.first_warning,
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
            "largest |entry| of W_hh after",
            "loss on the same sequence after",
            "first non-finite state",
        ],
        [
            [
                o.how,
                fmt(o.step_norm),
                fmt(o.largest_weight),
                fmt(o.loss_after),
                f"h_{o.overflow_step}" if o.overflow_step else "none",
            ]
            for o in outcomes
        ],
    )
    params, _, _, cache = _problem(30, 8, "spectral", sigma_max=1.6)
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


def _exploding_figure(
    growth: list[lab.OverflowRow], sweep: list[lab.ClippingRow], raw: float
) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.6))
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
    left.text(T[0], top - 25, "largest float64", color=GREY, fontsize=9)
    left.set_ylabel("log10 of the value")
    left.set_xlabel("sequence length T")
    left.set_title(
        f"linear RNN, W_hh = {OVERFLOW_GAIN:g} Q: where the curves stop, inf/NaN", fontsize=10
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
    right.text(raw, 0.45, " ‖g‖ of the raw gradient", color=GREY, fontsize=9, rotation=90)
    right.set_xlabel("threshold θ")
    right.set_ylabel("cosine with the raw gradient")
    right.set_ylim(0, 1.05)
    right.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    return svg_text(fig)


# --- section 9: remedies --------------------------------------------------------------


def remedies(out: dict[str, str], files: dict[str, str]) -> None:
    rows = []
    for label, (kind, options) in INITS.items():
        rows.append([label, *_seeds_row(_reach(kind, options))])
    out["table.remedy.init"] = table(
        ["initialisation (tanh)", f"gradient reach ({REACH_SEEDS} seeds)", "median"], rows
    )
    rows = []
    for activation in ACTIVATION_NAMES:
        for label, kind in (("Xavier", "xavier"), ("orthogonal", "orthogonal")):
            reach = _reach(kind, {}, activation)
            rows.append([code(activation), label, *_seeds_row(reach)])
    out["table.remedy.activation"] = table(
        ["activation", "initialisation", f"gradient reach ({REACH_SEEDS} seeds)", "median"], rows
    )
    out["residual.H"], out["residual.T"] = str(RESIDUAL_SIZE[0]), str(RESIDUAL_SIZE[1])
    residual = {
        scheme: lab.residual_jacobian_norms(
            T=RESIDUAL_SIZE[1], H=RESIDUAL_SIZE[0], scheme=scheme, seed=SEED
        )
        for scheme in ("normal", "xavier")
    }
    for scheme, norms in residual.items():
        out[f"residual.{scheme}.vanilla20"] = fmt(float(norms["vanilla"][20]))
        out[f"residual.{scheme}.residual20"] = fmt(float(norms["residual"][20]))
        out[f"residual.{scheme}.residual60"] = fmt(float(norms["residual"][60]))
    kept = residual["normal"]["residual"]
    claim(
        0.1 < kept[20] < 10 and 0.1 < kept[60] < 100 and residual["normal"]["vanilla"][20] < 1e-10,
        "with small weights the residual product stays within a modest factor of 1 while the "
        "vanilla one vanishes",
    )
    claim(residual["xavier"]["residual"][60] > 10, "with Xavier weights the residual product grows")
    files["figures/residual.svg"] = _residual_figure(residual)
    T, window = TRUNCATION_PICTURE
    dropped = lab.dropped_pairs(T, window)
    out["trunc.picture.T"], out["trunc.picture.w"] = str(T), str(window)
    out["trunc.picture.dropped"] = str(len(dropped))
    out["trunc.picture.total"] = str(T * (T + 1) // 2)
    H, T = SHARES_SIZE
    curves = {}
    for label, kind, options in (
        ("Xavier", "xavier", {}),
        ("σ_max = 0.5", "spectral", {"sigma_max": 0.5}),
    ):
        params, _, _, cache = _problem(T, H, kind, **options)
        curves[label] = lab.truncation_curve(params, cache, WINDOWS)
    claim(curves["Xavier"][-1].cosine > 1 - 1e-12, "the full window is full BPTT")
    out["table.truncation"] = table(
        [
            "window w",
            "pairs dropped",
            *[f"cosine, {label}" for label in curves],
            *[f"relative error, {label}" for label in curves],
        ],
        [
            [
                str(w),
                f"{curves['Xavier'][j].dropped} of {T * (T + 1) // 2}",
                *[f"{c[j].cosine:.6f}" for c in curves.values()],
                *[fmt(c[j].relative_error) for c in curves.values()],
            ]
            for j, w in enumerate(WINDOWS)
        ],
    )
    out["trunc.T"], out["trunc.H"] = str(T), str(H)
    files["figures/truncation.svg"] = _truncation_figure(TRUNCATION_PICTURE, dropped, curves)


def _residual_figure(residual: dict[str, dict[str, np.ndarray]]) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    styles = {"vanilla": "-", "residual": "--"}
    for (scheme, norms), colour in zip(residual.items(), COLOURS, strict=False):
        for kind, values in norms.items():
            ax.semilogy(
                np.arange(values.size),
                values,
                color=colour,
                ls=styles[kind],
                lw=2,
                label=f"{kind}, W_hh {scheme}",
            )
    ax.axhline(1.0, color=GREY, lw=1)
    ax.set_xlabel("distance d")
    ax.set_ylabel(r"$\Vert \mathrm{d} h_T / \mathrm{d} h_{T-d} \Vert$")
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return svg_text(fig)


def _truncation_figure(picture, dropped, curves) -> str:
    T, window = picture
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(9.5, 3.8), gridspec_kw={"width_ratios": [1, 1.4]}
    )
    grid = np.full((T, T), np.nan)
    for i in range(1, T + 1):
        for k in range(1, i + 1):
            grid[i - 1, k - 1] = 0.0 if (i, k) in dropped else 1.0
    left.imshow(
        np.ma.masked_invalid(grid),
        cmap=mpl.colors.ListedColormap(["#f2b8b5", "#2ca02c"]),
        extent=(0.5, T + 0.5, T + 0.5, 0.5),
    )
    left.set_xticks(range(1, T + 1))
    left.set_yticks(range(1, T + 1))
    left.set_xlabel("step k")
    left.set_ylabel("loss i")
    left.set_title(f"T = {T}, window {window}: kept (green), dropped (red)", fontsize=10)
    for (label, points), colour in zip(curves.items(), COLOURS, strict=False):
        right.loglog(
            [p.window for p in points],
            [max(1 - p.cosine, 1e-16) for p in points],
            "o-",
            color=colour,
            lw=2,
            label=label,
        )
    right.set_xlabel("window w (steps kept)")
    right.set_ylabel("1 − cosine(truncated, full)")
    right.legend(frameon=False)
    fig.tight_layout()
    return svg_text(fig)


# --- the trained memory horizon -------------------------------------------------------


def memory(out: dict[str, str], files: dict[str, str]) -> None:
    header, runs = horizon.load_results(HORIZON_RESULTS, horizon.VARIANTS)
    settings, provenance = header["settings"], header["provenance"]
    variants, lags, chance = settings["variants"], settings["lags"], settings["chance"]
    claim(
        settings["solved"] == horizon.SOLVED and list(variants) == list(horizon.VARIANTS),
        "the results file was made with the variants and threshold of rnnnum.horizon",
    )
    top = max(lags)

    def shown(value: float) -> str:  # a horizon at the grid's end is only a lower bound
        return f"≥ {top}" if value >= top else fmt(value)

    rows, accuracies, medians, first_chance = [], {}, {}, {}
    for key, label in variants.items():
        values = list(horizon.seed_horizons(runs, key).values())
        median = float(np.median(values))
        medians[key] = median
        acc = {lag: [r.accuracy for r in runs if r.variant == key and r.lag == lag] for lag in lags}
        at_chance = [
            lag for lag in lags if np.median(acc[lag]) < chance + settings["chance_margin"]
        ]
        first_chance[key] = at_chance[0] if at_chance else None
        spread = f"{shown(min(values))} to {shown(max(values))}"
        rows.append(
            [
                label,
                ", ".join(shown(v) for v in values),
                shown(median),
                spread,
                str(at_chance[0]) if at_chance else f"not within L ≤ {top}",
            ]
        )
        accuracies[key] = acc
        out[f"horizon.{key}.median"] = shown(median)
        out[f"horizon.{key}.range"] = spread
        out[f"horizon.{key}.chance"] = str(at_chance[0]) if at_chance else "never"
    none = "normal-tanh"
    after = lags[lags.index(int(medians[none])) + 1] if medians[none] < top else None
    claim(
        medians[none] < 10 and first_chance[none] == after,
        "without a remedy the horizon is below 10 and the next lag is already at chance",
    )
    claim(
        min(medians["xavier-tanh"], medians["orthogonal-tanh"], medians["irnn-relu"]) > 20,
        "each remedy's horizon is beyond 20 steps",
    )
    claim(medians["residual-tanh"] >= top, "the residual network solved every lag of the grid")
    out["horizon.top"] = str(top)
    out["horizon.none.next"] = str(after)
    seeds = settings["seeds"]
    out["table.horizon"] = table(
        [
            "network",
            f"horizon per seed (seeds {', '.join(map(str, seeds))})",
            "median",
            "range",
            "first L at chance (median)",
        ],
        rows,
    )
    out["table.horizon.accuracy"] = table(
        ["lag L", *variants.values()],
        [
            [
                str(lag),
                *[
                    f"{np.median(a[lag]):.2f} ({min(a[lag]):.2f}–{max(a[lag]):.2f})"
                    for a in accuracies.values()
                ],
            ]
            for lag in lags
        ],
    )
    train = settings["train"]
    out.update(
        {
            "horizon.lags": ", ".join(map(str, lags)),
            "horizon.seeds": str(len(seeds)),
            "horizon.symbols": str(settings["task"]["symbols"]),
            "horizon.distractors": str(settings["task"]["distractors"]),
            "horizon.chance": fmt(chance),
            "horizon.margin": fmt(settings["chance_margin"]),
            "horizon.solved": fmt(settings["solved"]),
            "horizon.hidden": str(train["hidden"]),
            "horizon.steps": str(train["steps"]),
            "horizon.batch": str(train["batch"]),
            "horizon.momentum": fmt(train["momentum"]),
            "horizon.clip": fmt(train["clip"]),
            "horizon.rates": " and ".join(fmt(r) for r in settings["learning_rates"]),
            "horizon.eval": str(train["eval_size"]),
            "horizon.stop": fmt(train["stop_accuracy"]),
            "horizon.runs": str(len(runs)),
            "horizon.command": code(provenance["command"]),
            "horizon.provenance": table(
                ["recorded", "value"],
                [[k, code(str(v))] for k, v in provenance.items()],
            ),
        }
    )
    files["figures/horizon.svg"] = _horizon_figure(runs, variants, lags, settings)


def _horizon_figure(runs, variants, lags, settings) -> str:
    fig, ax = plt.subplots(figsize=(9.5, 4.2))
    for (key, label), colour in zip(variants.items(), COLOURS, strict=False):
        acc = np.array(
            [[r.accuracy for r in runs if r.variant == key and r.lag == lag] for lag in lags]
        )
        ax.fill_between(lags, acc.min(axis=1), acc.max(axis=1), color=colour, alpha=0.15, lw=0)
        ax.plot(lags, np.median(acc, axis=1), "o-", color=colour, lw=2, label=label)
    ax.axhline(settings["chance"], color=GREY, lw=1, ls="--")
    ax.text(lags[-1], settings["chance"] + 0.02, "chance", ha="right", color=GREY, fontsize=9)
    ax.axhline(settings["solved"], color=GREY, lw=1, ls=":")
    ax.text(lags[-1], settings["solved"] + 0.02, "solved", ha="right", color=GREY, fontsize=9)
    ax.set_xlabel("lag L (distractors between the symbol and the answer), log scale")
    ax.set_ylabel("held-out accuracy")
    ax.set_xscale("log")
    ax.set_xticks(lags, [str(lag) for lag in lags])
    ax.minorticks_off()
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return svg_text(fig)


SECTIONS: tuple[Callable[[dict[str, str], dict[str, str]], None], ...] = (
    speed,
    shares,
    exploding,
    remedies,
    memory,
)


def lab_job() -> dict[str, object]:
    """Fragments and figures of the laboratory's pages."""
    fragments: dict[str, str] = {}
    files: dict[str, str] = {}
    for section in SECTIONS:
        section(fragments, files)
    return {
        "fragments": fragments,
        "files": files,
        "inputs": [HORIZON_RESULTS.relative_to(ROOT).as_posix()],
    }


if __name__ == "__main__":  # print each section's cost: python docs/hooks/gen_lab.py
    import time

    for section in SECTIONS:
        start = time.perf_counter()
        section({}, {})
        print(f"{section.__name__:10s} {time.perf_counter() - start:6.2f} s")
