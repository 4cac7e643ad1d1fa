"""Generator job ``figures``: every figure of the site, drawn by matplotlib as SVG.

The graph figures take their labels from `derivations.core.notation` (the laboratory's
plots are drawn by `gen_lab`). The SVGs are byte-identical from build to build
(fixed hash salt, no date, glyphs as paths so no font is requested).
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
from gen_plot import GREY, svg_text
from matplotlib.patches import Circle, FancyArrowPatch

from derivations.core.notation import QUANTITIES

#: Sequence length of the graph figures.
STEPS = 3
ROWS = {"x": 0.0, "h": 1.0, "y": 2.0, "L": 3.0}
PATH_COLOURS = ("#d62728", "#1f77b4")


def _tex(name: str, t: int | None = None) -> str:
    return "$" + (QUANTITIES[name].at(t) if t is not None else QUANTITIES[name].latex) + "$"


def _nodes() -> dict[str, tuple[float, float, str]]:
    """Node key -> (x, y, label). Keys like 'h2', 'x1', 'L3'; 'h0' for the initial state."""
    nodes = {"h0": (0.0, ROWS["h"], _tex("h0"))}
    for t in range(1, STEPS + 1):
        for name in ("x", "h", "y", "L"):
            key = "X" if name == "x" else name
            nodes[f"{name}{t}"] = (float(t), ROWS[name], _tex(key, t))
    return nodes


def _edges() -> list[tuple[str, str, str]]:
    """Forward edges (from, to, weight label)."""
    edges = []
    for t in range(1, STEPS + 1):
        edges.append((f"x{t}", f"h{t}", _tex("Wxh")))
        edges.append((f"h{t - 1}", f"h{t}", _tex("Whh")))
        edges.append((f"h{t}", f"y{t}", _tex("Wyh")))
        edges.append((f"y{t}", f"L{t}", ""))
    return edges


def draw_graph(paths: tuple[tuple[str, ...], ...] = (), title: str = "") -> str:
    """The unrolled graph as SVG text; each path (node keys, from the loss back) in colour."""
    nodes = _nodes()
    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    highlighted: dict[tuple[str, str], str] = {}
    for colour, path in zip(PATH_COLOURS, paths, strict=False):
        for later, earlier in itertools.pairwise(path):
            highlighted[(earlier, later)] = colour
    for source, target, label in _edges():
        (x0, y0, _), (x1, y1, _) = nodes[source], nodes[target]
        marked = highlighted.get((source, target))
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0),
                (x1, y1),
                arrowstyle="-|>",
                mutation_scale=14,
                shrinkA=17,
                shrinkB=17,
                color=marked or (GREY if paths else "#333333"),
                lw=2.6 if marked else 1.2,
            )
        )
        if label:
            offset = (0.0, 0.13) if y0 == y1 else (0.12, 0.0)
            ax.text(
                (x0 + x1) / 2 + offset[0],
                (y0 + y1) / 2 + offset[1],
                label,
                ha="center",
                va="center",
                fontsize=9,
                color="#555555",
            )
    on_path = {key for path in paths for key in path}
    for key, (x, y, label) in nodes.items():
        edge = "#333333" if not paths or key in on_path else GREY
        ax.add_patch(Circle((x, y), 0.21, facecolor="white", edgecolor=edge, lw=1.4))
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=13,
            color="#111111" if edge == "#333333" else GREY,
        )
    ax.set_xlim(-0.5, STEPS + 0.5)
    ax.set_ylim(-0.45, ROWS["L"] + 0.45)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    return svg_text(fig)


def figures_job() -> dict[str, dict[str, str]]:
    direct = ("L2", "y2", "h2")
    through = ("L3", "y3", "h3", "h2")
    return {
        "files": {
            "figures/unrolled.svg": draw_graph(),
            "figures/paths-L2-h2.svg": draw_graph((direct,)),
            "figures/paths-L-h2.svg": draw_graph((direct, through)),
        }
    }
