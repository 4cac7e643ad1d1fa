r"""The unrolled graph of any cell and its routes between states, drawn by matplotlib as SVG.

Everything drawn is read off the cell's equations (`derivations.Cell`), never typed per
cell, by ``gen_cell_graph.py`` (which edges there are, what each carries, the caption);
this module places and draws them:

- one row per state (h on top, under the read-out; the LSTM's c below it), the
  input row x_t at the bottom, y_t and L_t above h, the initial states s_0 on the left;
- an edge into s_t from every quantity s's equation reads (`state_reads`): a state of
  step t-1 (``Prev``), a state of the same step (``Ref`` to a state: the LSTM's
  $c_t \to h_t$), or x_t, either directly or through the step's other variables (the
  gates and pre-activations, not drawn). Nothing else: no edge summarises a longer path;
- each edge labelled by what it carries (`carried`), from the partial derivative of s_t
  with respect to that quantity, the other states of step t held fixed: every path named
  by the first weight matrix it multiplies by, or, for a path through no weight matrix,
  its first factor (I for the identity, diag(f_t) for the LSTM's cell state). Edges that
  carry such a weight-free path are drawn in `CARRY_COLOUR`; labels too long for the
  edge, and every slanted edge, are listed in a key below;
- `graph_caption` says all this for one cell, from the same data.

Byte-identical from build to build (`gen_plot.svg_text`).
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
from gen_cell_graph import Edge, cell_edges, check_steps, route_edges
from gen_plot import GREY, svg_text
from matplotlib.axes import Axes
from matplotlib.mathtext import MathTextParser
from matplotlib.patches import Circle, FancyArrowPatch

from derivations.core.cell import Cell
from derivations.core.errors import OutOfRangeError, UnknownChoiceError
from derivations.core.notation import QUANTITIES

__all__ = [
    "CARRY_COLOUR",
    "ROUTE_COLOUR",
    "cell_path_svg",
    "mathtext",
    "unrolled_cell_svg",
]

#: Edges that carry a path through no weight matrix (identity, gates): the gradient's
#: highways (the residual's I, the LSTM's diag(f_t), the GRU's diag(z_t)).
CARRY_COLOUR = "#2ca02c"
#: The routes of `cell_path_svg`.
ROUTE_COLOUR = "#d62728"
#: Horizontal shift of each further state's column, so that x_t -> h_t passes beside c_t.
STAGGER = 0.4
#: Inches per unit of the graph: that of the vanilla figure (4.4 in over 3.9 units).
SCALE = 4.4 / 3.9
#: A label with more named paths than this goes to the key below the graph.
MAX_ON_EDGE = 2
NODE_RADIUS = 0.21
#: Font sizes, points: a 3-step graph is about 5 in wide, shown about 350 px wide on a
#: 390 px phone, so a point is drawn at about 1 px there; below 11 px a label is hard to read.
LABEL_PT, NODE_PT = 11, 14
#: Line height of the key, points (`LABEL_PT` labels with sub- and superscripts).
KEY_LINE = 18.0
_INK, _LABEL_INK = "#333333", "#555555"
_PARSER = MathTextParser("path")
#: LaTeX that matplotlib's mathtext does not know, and what to write instead.
_MATHTEXT = (
    (re.compile(r"\\operatorname\{([^{}]*)\}"), r"\\mathrm{\1}"),
    (re.compile(r"\\lVert"), r"\\Vert"),
    (re.compile(r"\\rVert"), r"\\Vert"),
    (re.compile(r"\\(?:big|Big|bigg|Bigg)(?=[()\[\]|.\\])"), ""),
)


def mathtext(latex: str) -> str:
    r"""`latex` (no dollars) as a checked matplotlib mathtext label ``$...$``.

    Converts what mathtext lacks (``\operatorname{diag}`` to ``\mathrm{diag}``,
    ``\lVert`` to ``\Vert``, ``\big`` dropped) and raises ValueError, naming the
    label, if mathtext still cannot parse it.
    """
    text = latex
    for pattern, replacement in _MATHTEXT:
        text = pattern.sub(replacement, text)
    label = f"${text}$"
    try:
        _PARSER.parse(label)
    except ValueError as error:
        raise ValueError(
            f"figure label {latex!r} (as {label!r}) does not render in matplotlib's mathtext: "
            f"{error}. Add a conversion to gen_cell_figures._MATHTEXT or simplify the LaTeX."
        ) from error
    return label


#: Node key -> (x, y, mathtext label).
Nodes = dict[str, tuple[float, float, str]]


def _positions(cell: Cell, steps: int) -> Nodes:
    """Node key -> (x, y, mathtext label): x_t at the bottom, the other states, h, y_t, L_t."""
    others = [s for s in cell.state_names if s != "h"]
    rows = {"x": 0.0, **{s: 1.0 + j for j, s in enumerate(others)}}
    rows.update({"h": 1.0 + len(others), "y": 2.0 + len(others), "L": 3.0 + len(others)})
    shift = {s: -STAGGER * (len(others) - j) for j, s in enumerate(others)} | {"h": 0.0}
    notation = cell.notation
    nodes = {f"{s}0": (shift[s], rows[s], mathtext(notation.at(s, 0))) for s in cell.state_names}
    for t in range(1, steps + 1):
        for s in cell.state_names:
            nodes[f"{s}{t}"] = (t + shift[s], rows[s], mathtext(notation.at(s, t)))
        for name, quantity in (("x", "X"), ("y", "y"), ("L", "L")):
            nodes[f"{name}{t}"] = (float(t), rows[name], mathtext(QUANTITIES[quantity].at(t)))
    return nodes


def _edge_name(edge: Edge, cell: Cell) -> str:
    """``h_{t-1} \\rightarrow c_{t}``: the edge at a general step, for the key."""
    notation = cell.notation
    source, target = edge.source.rstrip("0123456789"), edge.target.rstrip("0123456789")
    if edge.kind == "input":
        start = "x_{t}"
    else:
        start = notation.at(source, "t", -1 if edge.kind == "state" else 0)
    return rf"{start} \rightarrow {notation.at(target, 't')}"


def _on_edge(edge: Edge, nodes: Nodes) -> bool:
    (x0, y0, _), (x1, y1, _) = nodes[edge.source], nodes[edge.target]
    straight = y0 == y1 or x0 == x1
    return bool(edge.heads) and straight and len(edge.heads) <= MAX_ON_EDGE


def _draw(
    cell: Cell,
    steps: int,
    highlighted: frozenset[tuple[str, str]] = frozenset(),
    title: str = "",
) -> str:
    """The graph as SVG text: edges, then nodes, then the key; `highlighted` edges lit."""
    nodes = _positions(cell, steps)
    edges = cell_edges(cell, steps)
    xs, ys = [x for x, _, _ in nodes.values()], [y for _, y, _ in nodes.values()]
    xlim, ylim = (min(xs) - 0.5, max(xs) + 0.5), (min(ys) - 0.45, max(ys) + 0.45)
    key: dict[str, tuple[str, bool]] = {}
    for edge in sorted(edges, key=lambda e: e.kind != "state"):
        if edge.heads and not _on_edge(edge, nodes):
            key.setdefault(_edge_name(edge, cell), (", ".join(edge.heads), edge.carry))
    width, height = xlim[1] - xlim[0], ylim[1] - ylim[0]
    # the vanilla figure's unit length; no wider than the graph, so that on a phone the
    # image shrinks by as little as it can (its labels are sized for that, `LABEL_PT`)
    fig, ax = plt.subplots(figsize=(width * SCALE, height * SCALE))
    for edge in edges:
        _draw_edge(ax, edge, nodes, highlighted)
    on_route = {key for pair in highlighted for key in pair}
    for name, (x, y, label) in nodes.items():
        _draw_node(ax, (x, y), label, not highlighted or name in on_route)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    _key(ax, {name: (heads, c and not highlighted) for name, (heads, c) in key.items()})
    return svg_text(fig)


def _draw_edge(ax: Axes, edge: Edge, nodes: Nodes, highlighted: frozenset[tuple[str, str]]) -> None:
    """One arrow, and its label when it fits on the edge (`_on_edge`)."""
    (x0, y0, _), (x1, y1, _) = nodes[edge.source], nodes[edge.target]
    lit = (edge.source, edge.target) in highlighted
    colour = ROUTE_COLOUR if lit else GREY if highlighted else _INK
    if edge.carry and not highlighted:
        colour = CARRY_COLOUR
    ax.add_patch(
        FancyArrowPatch(
            (x0, y0),
            (x1, y1),
            arrowstyle="-|>",
            mutation_scale=14,
            shrinkA=17,
            shrinkB=17,
            color=colour,
            lw=2.6 if lit else 1.8 if edge.carry and not highlighted else 1.2,
            zorder=3 if lit else 2,
        )
    )
    if _on_edge(edge, nodes):
        # above a horizontal edge (the slanted edges to and from its ends start outside
        # the nodes' circles, clear of the label); right of a vertical one, halfway to
        # the next row: x_t -> h_t may pass another state's node
        at = ((x0 + x1) / 2, (y0 + y1) / 2) if y0 == y1 else (x0, y0 + 0.5)
        offset = (0.0, 0.13) if y0 == y1 else (0.05, 0.0)
        ax.text(
            at[0] + offset[0],
            at[1] + offset[1],
            mathtext(", ".join(edge.heads)),
            ha="center" if y0 == y1 else "left",
            va="center",
            fontsize=LABEL_PT,
            color=CARRY_COLOUR if edge.carry and not highlighted else _LABEL_INK,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6},
            zorder=3,
        )


def _draw_node(ax: Axes, at: tuple[float, float], label: str, inked: bool) -> None:
    """One node: a circle and its label, grey unless `inked` (on a route, or none lit)."""
    ink = "#333333" if inked else GREY
    ax.add_patch(Circle(at, NODE_RADIUS, facecolor="white", edgecolor=ink, lw=1.4))
    ax.text(
        at[0],
        at[1],
        label,
        ha="center",
        va="center",
        fontsize=NODE_PT if len(label) < 10 else LABEL_PT,
        color="#111111" if ink == "#333333" else GREY,
        zorder=4,
    )


def _key(ax: Axes, key: dict[str, tuple[str, bool]]) -> None:
    """The edges whose labels are not on the graph, one line each, below it (what green
    means is said by the caption, `graph_caption`)."""
    lines = [(mathtext(name) + ":  " + mathtext(heads), c) for name, (heads, c) in key.items()]
    for n, (text, is_carry) in enumerate(lines):
        ax.annotate(
            text,
            (0.0, 0.0),
            xycoords="axes fraction",
            xytext=(0.0, -4.0 - KEY_LINE * n),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=LABEL_PT,
            color=CARRY_COLOUR if is_carry else _LABEL_INK,
        )


def unrolled_cell_svg(cell: Cell, steps: int = 3) -> str:
    """The unrolled graph of `cell` over `steps` steps as SVG text (module docstring)."""
    return _draw(cell, steps)


def cell_path_svg(
    cell: Cell,
    steps: int,
    of: str,
    wrt: str,
    *,
    k: int = 1,
    within: tuple[str, ...] | None = None,
    title: str = "",
) -> str:
    r"""The unrolled graph with every route from `of` at step `steps` back to `wrt` at step k
    in `ROUTE_COLOUR` (`route_edges`; `within` keeps only the routes through those states),
    everything else grey.

    Raises UnknownChoiceError for a state the cell lacks and OutOfRangeError when no
    route joins them (nothing to highlight).
    """
    steps = check_steps(steps)
    for value, what in ((of, "of"), (wrt, "wrt")):
        if value not in cell.state_names:
            raise UnknownChoiceError(
                f"{what} must be a state of the {cell.name} cell, one of "
                f"{', '.join(cell.state_names)}; got {value!r}."
            )
    lit = route_edges(cell, steps, k, of, wrt, within)
    if not lit:
        through = f" through {', '.join(within)} only" if within else ""
        raise OutOfRangeError(
            f"no route joins {of}_{steps} back to {wrt}_{k}{through} in the {cell.name} "
            f"cell, so nothing would be highlighted. Pick another pair of states."
        )
    return _draw(cell, steps, lit, title)
