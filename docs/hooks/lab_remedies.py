"""Page ``remedies.md``: initialisations, activations, the residual path, truncated BPTT."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from gen_format import SEED, claim, code, fmt, table
from gen_plot import GREY, svg_text
from lab_common import (
    COLOURS,
    REACH_SEEDS,
    SHARES_SIZE,
    LabPage,
    seed_problem,
    seed_reach,
    seeds_row,
)

from rnnnum import lab

#: Initialisations and activations compared at initialisation (reach, 5 seeds).
INITS: dict[str, tuple[str, dict[str, float]]] = {
    "scaled normal, σ = 0.01": ("normal", {}),
    "Xavier (Glorot)": ("xavier", {}),
    "orthogonal": ("orthogonal", {"gain": 1.0}),
}
ACTIVATION_NAMES = ("tanh", "relu", "leaky_relu")
#: The residual-through-time comparison: (H, T).
RESIDUAL_SIZE = (16, 60)
#: Truncated BPTT: the windows of the cosine curve, and the small picture of dropped terms.
WINDOWS = (1, 2, 3, 5, 10, 20, 40, 80, 120)
TRUNCATION_PICTURE = (8, 3)  # (T, window)
#: The windows at which the per-loss window is set against detaching the state.
DETACH_WINDOWS = (2, 5, 10, 20, 40)


def page() -> LabPage:
    """The fragments and figures of ``remedies.md``."""
    out: dict[str, str] = {}
    files: dict[str, str] = {}
    rows = []
    for label, (kind, options) in INITS.items():
        rows.append([label, *seeds_row(seed_reach(kind, options))])
    out["table.remedy.init"] = table(
        ["initialisation (tanh)", f"gradient reach ({REACH_SEEDS} seeds)", "median"], rows
    )
    rows = []
    for activation in ACTIVATION_NAMES:
        for label, kind in (("Xavier", "xavier"), ("orthogonal", "orthogonal")):
            reach = seed_reach(kind, {}, activation)
            rows.append([code(activation), label, *seeds_row(reach)])
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
        params, _, _, cache = seed_problem(T, H, kind, **options)
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
    out.update(_detached(picture=TRUNCATION_PICTURE, size=(H, T)))
    files["figures/truncation.svg"] = _truncation_figure(TRUNCATION_PICTURE, dropped, curves)
    return LabPage(out, files)


def _detached(picture: tuple[int, int], size: tuple[int, int]) -> dict[str, str]:
    """The per-loss window against the state detached every w steps (frameworks' form)."""
    out: dict[str, str] = {}
    T, w = picture
    windowed, chunked = set(lab.dropped_pairs(T, w)), set(lab.chunk_dropped_pairs(T, w))
    claim(windowed < chunked, "detaching drops every pair the window drops, and more")
    out["trunc.detach.picture.dropped"] = str(len(chunked))
    H, T = size
    params, _, _, cache = seed_problem(T, H, "xavier")
    window, detach = (
        lab.truncation_curve(params, cache, DETACH_WINDOWS),
        lab.chunked_curve(params, cache, DETACH_WINDOWS),
    )
    gaps = []
    for a, b in zip(window, detach, strict=True):
        claim(a.dropped < b.dropped, f"at length {a.window} detaching drops more pairs")
        claim(
            a.relative_error < b.relative_error,
            f"at length {a.window} the per-loss window is nearer the full gradient than detaching",
        )
        gaps.append(b.relative_error / a.relative_error)
    out["trunc.detach.gap.min"] = fmt(min(gaps))
    out["trunc.detach.gap.max"] = f"{max(gaps):.0f}"  # a ratio in the thousands, whole
    out["table.truncation.detach"] = table(
        [
            "window or chunk length",
            "pairs dropped: window",
            "pairs dropped: detach",
            "relative error: window",
            "relative error: detach",
        ],
        [
            [
                str(a.window),
                str(a.dropped),
                str(b.dropped),
                fmt(a.relative_error),
                fmt(b.relative_error),
            ]
            for a, b in zip(window, detach, strict=True)
        ],
    )
    return out


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
