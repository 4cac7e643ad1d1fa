"""Page ``remedies.md``: initialisations, activations, the residual path, truncated BPTT."""

from __future__ import annotations

import re
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from gen_format import SEED, claim, code, fmt, plain_math, table
from gen_plot import GREY, readable, svg_text
from lab_common import (
    COLOURS,
    REACH_SEEDS,
    ROOT,
    SHARES_SIZE,
    LabPage,
    seed_problem,
    seed_reach,
    seeds_row,
)
from matplotlib.figure import Figure

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
#: The residual comparison's values given as fragments: (W_hh scheme, network, d).
RESIDUAL_VALUES = tuple(
    (scheme, kind, d)
    for scheme in ("normal", "xavier")
    for kind, d in (("vanilla", 20), ("residual", 20), ("residual", 60))
)
#: The page whose prose quotes some of them; the figure's range is read from it.
PAGE = ROOT / "docs" / "remedies.md"
_QUOTE = re.compile(r"\{\{\s*residual\.(\w+)\.(vanilla|residual)(\d+)\s*\}\}")
#: Room above and below the curves on a log axis, as a share of the decades it spans
#: (matplotlib's own default margin), so that no curve or marked value sits on the frame.
MARGIN = 0.05
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
    for scheme, kind, d in RESIDUAL_VALUES:
        out[f"residual.{scheme}.{kind}{d}"] = fmt(float(residual[scheme][kind][d]))
    kept = residual["normal"]["residual"]
    claim(
        0.1 < kept[20] < 10 and 0.1 < kept[60] < 100 and residual["normal"]["vanilla"][20] < 1e-10,
        "with small weights the residual product stays within a modest factor of 1 while the "
        "vanilla one vanishes",
    )
    claim(residual["xavier"]["residual"][60] > 10, "with Xavier weights the residual product grows")
    quoted = quoted_values(PAGE.read_text(encoding="utf-8"))
    claim(
        bool(quoted) and set(quoted) <= set(RESIDUAL_VALUES),
        "the remedies page quotes values of the residual comparison, each one computed here",
    )
    files["figures/residual.svg"] = residual_figure(residual, quoted)
    T, window = TRUNCATION_PICTURE
    dropped = lab.dropped_pairs(T, window)
    out["trunc.picture.T"], out["trunc.picture.w"] = str(T), str(window)
    out["trunc.picture.dropped"] = str(len(dropped))
    out["trunc.picture.total"] = str(T * (T + 1) // 2)
    H, T = SHARES_SIZE
    curves: dict[str, Any] = {}
    for label, kind, options in (
        ("Xavier", "xavier", {}),
        ("σ_max = 0.5", "spectral", {"sigma_max": 0.5}),
    ):
        params, _, _, cache = seed_problem(T, H, kind, options=options)
        curves[label] = lab.truncation_curve(params, cache, WINDOWS)
    claim(curves["Xavier"][-1].cosine > 1 - 1e-12, "the full window is full BPTT")
    out["table.truncation"] = table(
        [
            "window w",
            "pairs dropped",
            *[f"cosine, {plain_math(label)}" for label in curves],
            *[f"relative error, {plain_math(label)}" for label in curves],
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
    return LabPage(out, files, (PAGE.relative_to(ROOT).as_posix(),))


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


def quoted_values(page: str) -> list[tuple[str, str, int]]:
    """The (scheme, network, d) of every ``{{ residual.<scheme>.<network><d> }}`` of a page."""
    return [(scheme, kind, int(d)) for scheme, kind, d in _QUOTE.findall(page)]


def residual_limits(
    residual: dict[str, dict[str, np.ndarray]], quoted: list[tuple[str, str, int]]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The y ranges of the residual figure's two panels, from the data.

    Above, every product, from the smallest value the page quotes (`quoted_values`) to
    the largest value of any curve; further down only the vanilla products go on
    falling, where the page quotes nothing. Below, the residual products alone, on their
    own range. Each range widened by `MARGIN`.
    """
    values = [float(residual[scheme][kind][d]) for scheme, kind, d in quoted]
    everything = np.concatenate([v for norms in residual.values() for v in norms.values()])
    kept = np.concatenate([norms["residual"] for norms in residual.values()])
    return _padded(min(values), float(everything.max())), _padded(kept.min(), kept.max())


def _padded(low: float, high: float) -> tuple[float, float]:
    """[low, high] widened by `MARGIN` of its decades on either side."""
    pad = MARGIN * (np.log10(high) - np.log10(low))
    return float(low / 10**pad), float(high * 10**pad)


def residual_figure(
    residual: dict[str, dict[str, np.ndarray]], quoted: list[tuple[str, str, int]]
) -> str:
    """The figure of `residual_plot` as SVG text."""
    return svg_text(residual_plot(residual, quoted))


def residual_plot(
    residual: dict[str, dict[str, np.ndarray]], quoted: list[tuple[str, str, int]]
) -> Figure:
    """Above: every product against the distance, the quoted values marked. Below: the
    residual products alone on their own range (`residual_limits`)."""
    fig, (every, kept) = plt.subplots(2, 1, figsize=(5.4, 6.0), sharex=True)
    styles = {"vanilla": "-", "residual": "--"}
    marked: dict[tuple[str, str], list[int]] = {}
    for scheme, kind, d in quoted:
        marked.setdefault((scheme, kind), []).append(d)
    for (scheme, norms), colour in zip(residual.items(), COLOURS, strict=False):
        for kind, values in norms.items():
            for ax in (every, kept) if kind == "residual" else (every,):
                ax.semilogy(np.arange(values.size), values, color=colour, ls=styles[kind],
                            lw=2, label=f"{kind}, $W_{{hh}}$ {scheme}")  # fmt: skip
                dots = marked.get((scheme, kind), [])
                ax.plot(dots, values[dots], "o", color=colour, ms=5)
    for ax, (low, high) in zip((every, kept), residual_limits(residual, quoted), strict=True):
        ax.axhline(1.0, color=GREY, lw=1)
        ax.set_ylim(low, high)
        ax.set_ylabel(r"$\Vert \mathrm{d} h_T / \mathrm{d} h_{T-d} \Vert$", fontsize=13)
        ax.tick_params(labelsize=11)
    every.set_title("every product (dots: the values the text quotes)", fontsize=12)
    kept.set_title("the residual products alone", fontsize=12)
    kept.set_xlabel("distance d", fontsize=13)
    every.legend(frameon=False, fontsize=11, loc="lower left")
    fig.tight_layout()
    return fig


@readable
def _truncation_figure(picture: tuple[int, int], dropped: Any, curves: dict[str, Any]) -> str:
    T, window = picture
    # stacked, not side by side: a phone shows the figure 358 px wide
    fig, (left, right) = plt.subplots(
        2, 1, figsize=(5.4, 8.4), gridspec_kw={"height_ratios": [1.1, 1]}
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
    left.set_title(f"T = {T}, window {window}: kept (green), dropped (red)")
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
