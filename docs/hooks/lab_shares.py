"""Page ``gradient-shares.md``: where each loss's gradient comes from, and how far it reaches."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from gen_format import claim, fmt, fragment, plain_math, table
from gen_plot import readable, svg_text
from lab_common import (
    COLOURS,
    REACH_SEEDS,
    REACH_SIZE,
    SHARES_SIZE,
    LabPage,
    seed_problem,
    seed_reach,
    seeds_row,
)

import rnnnum
from rnnnum import lab

#: The regimes compared side by side: fragment key -> (label, initialiser, options).
REGIMES: dict[str, tuple[str, str, dict[str, float]]] = {
    "small": ("σ_max = 0.5", "spectral", {"sigma_max": 0.5}),
    "xavier": ("Xavier", "xavier", {}),
    "orthogonal": ("orthogonal", "orthogonal", {"gain": 1.0}),
    "saturating": ("σ_max = 3", "spectral", {"sigma_max": 3.0}),
}
#: Gradient reach: (H, T) and how many seeds.


def page() -> LabPage:
    """The fragments and figures of ``gradient-shares.md``."""
    out: dict[str, str] = {}
    files: dict[str, str] = {}
    H, T = SHARES_SIZE
    results, totals, far20, fprime = {}, {}, {}, {}
    for key, (_, kind, options) in REGIMES.items():
        params, _, _, cache = seed_problem(T, H, kind, options=options)
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
                plain_math(REGIMES[key][0]),
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
            f"norm of {fragment('d.L.Wxh')}",
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
        reach = seed_reach(kind, options)
        if kind in ("xavier", "orthogonal"):
            standard.append(int(np.median(reach)))
        rows.append([plain_math(label), *seeds_row(reach)])
    out["table.reach"] = table(
        [
            f"initialisation of {fragment('sym.Whh')}",
            f"distance below 1 % ({REACH_SEEDS} seeds)",
            "median",
        ],
        rows,
    )
    H, T = REACH_SIZE
    out["reach.H"], out["reach.T"], out["reach.seeds"] = str(H), str(T), str(REACH_SEEDS)
    low, high = min(standard), max(standard)
    out["reach.standard"] = f"{low} to {high}" if low != high else str(low)
    return LabPage(out, files)


@readable
def _heatmaps(results: dict[str, lab.Shares], T: int) -> str:
    fig, axes = plt.subplots(2, 2, figsize=(5.6, 5.4), sharex=True, sharey=True)
    upper = np.triu(np.ones((T, T), dtype=bool), 1)
    image = None
    for ax, (key, result) in zip(axes.flat, results.items(), strict=True):
        with np.errstate(divide="ignore"):
            logs = np.log10(np.where(upper, 1.0, result.share))
        shown = np.ma.masked_array(np.maximum(logs, -12), mask=upper)
        image = ax.imshow(
            shown, cmap="viridis", vmin=-12, vmax=0, extent=(0.5, T + 0.5, T + 0.5, 0.5)
        )
        ax.set_title(REGIMES[key][0], fontsize=11)  # 12 pt: two titles would meet
    for ax in axes[1]:
        ax.set_xlabel("input step k")
    for ax in axes[:, 0]:
        ax.set_ylabel("loss i")
    if image is None:  # no panel drawn: a bug in the caller, not a figure
        raise ValueError("a share figure needs at least one panel")
    fig.colorbar(image, ax=axes, label="log10 share of loss i's gradient", shrink=0.8)
    return svg_text(fig)


@readable
def _by_distance(results: dict[str, lab.Shares]) -> str:
    fig, ax = plt.subplots(figsize=(5.4, 3.6))
    for (key, result), colour in zip(results.items(), COLOURS, strict=False):
        d = np.arange(result.by_distance.size)
        ax.semilogy(
            d, np.maximum(result.by_distance, 1e-30), color=colour, lw=2, label=REGIMES[key][0]
        )
    ax.set_xlabel("distance i − k")
    ax.set_ylabel("mean share of a loss's gradient")
    ax.set_ylim(1e-30, 1.5)
    ax.legend(frameon=False)
    fig.tight_layout()
    return svg_text(fig)
