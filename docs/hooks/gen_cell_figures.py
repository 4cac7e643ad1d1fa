r"""The unrolled graph of any cell and its routes between states, drawn by matplotlib as SVG.

Everything drawn is read off the cell (`derivations.Cell`), never typed per cell:

- one row per state (h on top, under the read-out; the LSTM's c below it), the
  input row x_t at the bottom, y_t and L_t above h, the initial states s_0 on the left;
- an edge from state s' at t-1 to state s at t exactly when the one-step block
  $\mathrm{d}s_t/\mathrm{d}s'_{t-1}$ is non-zero (`Cell.step_jacobian_blocks`), and
  from x_t to every state the step reaches from its input (`Cell.through_step`);
- each edge labelled by what it carries (`carried`): every path through the step
  named by the first weight matrix it multiplies by, or, for a path through no weight
  matrix, its first factor (I for the identity, diag(f_t) for the LSTM's cell state).
  Edges that carry such a weight-free path are drawn in `CARRY_COLOUR`; labels too long
  for the edge, and every edge between two different states, are listed in a key below.

The figures keep the vanilla figure's scale (`gen_figures.draw_graph`): the same node
size, fonts and unit length, so a page can show the vanilla and a gated graph together.
Byte-identical from build to build (`gen_plot.svg_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import matplotlib.pyplot as plt
from gen_plot import GREY, svg_text
from matplotlib.mathtext import MathTextParser
from matplotlib.patches import FancyArrowPatch

from derivations.cell import Cell, Input
from derivations.cell_factors import LocalSum, Notation, Weight
from derivations.cell_paths import routes
from derivations.errors import OutOfRangeError, UnknownChoiceError
from derivations.notation import QUANTITIES

__all__ = [
    "CARRY_COLOUR",
    "Edge",
    "carried",
    "cell_edges",
    "cell_path_svg",
    "input_blocks",
    "mathtext",
    "state_blocks",
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
#: Line height of the key, points (9-pt labels with sub- and superscripts).
KEY_LINE = 15.0
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


# --- what the graph is made of: read off the cell --------------------------------------


def state_blocks(cell: Cell) -> dict[tuple[str, str], LocalSum]:
    r"""The non-zero one-step blocks, keyed (earlier state s', later state s): the edges
    $s'_{t-1} \to s_t$, in the cell's state order."""
    blocks = cell.step_jacobian_blocks()
    return {
        (source, target): blocks[target, source]
        for source in cell.state_names
        for target in cell.state_names
        if blocks[target, source]
    }


def input_blocks(cell: Cell) -> dict[str, LocalSum]:
    r"""$\mathrm{d}s_t/\mathrm{d}x_t$ for every state s the step reaches from its input."""
    totals = cell.through_step(Input())
    return {s: totals[s] for s in cell.state_names if totals.get(s)}


def carried(block: LocalSum, t: int | str, notation: Notation) -> tuple[str, ...]:
    """What a block carries, one entry per distinct head of its paths (LaTeX, no dollars).

    A path through a weight matrix is named by the first one it multiplies by
    (``W_{hh}``); a path through none by its first factor (``I``,
    ``\\operatorname{diag}(f_{t})``), followed by ``\\cdots`` when more factors follow.
    Signs are dropped: the label names the paths, it is not the block's formula.
    """
    heads: list[str] = []
    for term in block.terms:
        weights = [p for p in term.pieces if isinstance(p, Weight)]
        shown = [p.latex(t, notation) for p in term.pieces if p.latex(t, notation)]
        if weights:
            head = weights[0].latex(t, notation)
        elif not shown:
            head = "I"
        else:
            head = shown[0] + (r"\cdots" if len(shown) > 1 else "")
        if head not in heads:
            heads.append(head)
    return tuple(heads)


def _is_carry(block: LocalSum) -> bool:
    """Whether some path of the block multiplies by no weight matrix."""
    return any(not any(isinstance(p, Weight) for p in term.pieces) for term in block.terms)


@dataclass(frozen=True)
class Edge:
    """One forward edge of the unrolled graph between node keys (``"c2"``, ``"x1"``, ``"L3"``).

    ``kind`` is ``"state"`` (one-step block), ``"input"``, ``"readout"`` or ``"loss"``;
    ``heads`` what it carries (`carried`); ``carry`` whether a weight-free path is among them.
    """

    source: str
    target: str
    kind: str
    heads: tuple[str, ...] = ()
    carry: bool = False


def cell_edges(cell: Cell, steps: int) -> list[Edge]:
    """Every edge of the cell unrolled over `steps` steps, step by step, in the cell's order."""
    steps = _check_steps(steps)
    notation, state, inputs = cell.notation, state_blocks(cell), input_blocks(cell)
    wyh = (QUANTITIES["Wyh"].latex,)
    edges = []
    for t in range(1, steps + 1):
        for s, block in inputs.items():
            edges.append(Edge(f"x{t}", f"{s}{t}", "input", carried(block, "t", notation)))
        for (source, target), block in state.items():
            heads = carried(block, "t", notation)
            edges.append(Edge(f"{source}{t - 1}", f"{target}{t}", "state", heads, _is_carry(block)))
        edges.append(Edge(f"h{t}", f"y{t}", "readout", wyh))
        edges.append(Edge(f"y{t}", f"L{t}", "loss"))
    return edges


def _check_steps(steps: object) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 6:
        raise OutOfRangeError(
            f"steps must be an integer from 1 to 6 (the graph is drawn across the text "
            f"column); got {steps!r}. Use 3, the size of the vanilla figure."
        )
    return steps


def _positions(cell: Cell, steps: int) -> dict[str, tuple[float, float, str]]:
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
    start = "x_{t}" if source == "x" else notation.at(source, "t", -1)
    return rf"{start} \rightarrow {notation.at(target, 't')}"


def _on_edge(edge: Edge, nodes: dict[str, tuple[float, float, str]]) -> bool:
    (x0, y0, _), (x1, y1, _) = nodes[edge.source], nodes[edge.target]
    straight = y0 == y1 or x0 == x1
    return bool(edge.heads) and straight and len(edge.heads) <= MAX_ON_EDGE


def _draw(
    cell: Cell,
    steps: int,
    highlighted: frozenset[tuple[str, str]] = frozenset(),
    title: str = "",
) -> str:
    nodes = _positions(cell, steps)
    edges = cell_edges(cell, steps)
    xs, ys = [x for x, _, _ in nodes.values()], [y for _, y, _ in nodes.values()]
    xlim, ylim = (min(xs) - 0.5, max(xs) + 0.5), (min(ys) - 0.45, max(ys) + 0.45)
    key: dict[str, tuple[str, bool]] = {}
    for edge in sorted(edges, key=lambda e: e.kind != "state"):
        if edge.heads and not _on_edge(edge, nodes):
            key.setdefault(_edge_name(edge, cell), (", ".join(edge.heads), edge.carry))
    width, height = xlim[1] - xlim[0], ylim[1] - ylim[0]
    # the vanilla figure's axes fill 77 % of its 4.4 in height: the same unit length here
    fig, ax = plt.subplots(figsize=(max(7.2, width * SCALE * 1.6), height * SCALE))
    on_route = {key for pair in highlighted for key in pair}
    for edge in edges:
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
            # above a horizontal edge of h (as in the vanilla figure), below one of another
            # state (above it rises the diagonal to h); right of a vertical one
            below = y0 == y1 and edge.target.rstrip("0123456789") != "h"
            # a vertical label halfway to the next row: x_t -> h_t may pass another state's
            at = ((x0 + x1) / 2, (y0 + y1) / 2) if y0 == y1 else (x0, y0 + 0.5)
            offset = (0.0, -0.13 if below else 0.13) if y0 == y1 else (0.05, 0.0)
            ax.text(
                at[0] + offset[0],
                at[1] + offset[1],
                mathtext(", ".join(edge.heads)),
                ha="center" if y0 == y1 else "left",
                va="center",
                fontsize=9,
                color=CARRY_COLOUR if edge.carry and not highlighted else _LABEL_INK,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6},
                zorder=3,
            )
    for name, (x, y, label) in nodes.items():
        ink = "#333333" if not highlighted or name in on_route else GREY
        ax.add_patch(plt.Circle((x, y), NODE_RADIUS, facecolor="white", edgecolor=ink, lw=1.4))
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=13 if len(label) < 10 else 10,
            color="#111111" if ink == "#333333" else GREY,
            zorder=4,
        )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    carry = any(e.carry for e in edges) and not highlighted
    _key(ax, {name: (heads, c and carry) for name, (heads, c) in key.items()}, carry)
    return svg_text(fig)


def _key(ax: plt.Axes, key: dict[str, tuple[str, bool]], carry: bool) -> None:
    """The edges whose labels are not on the graph, one line each, below it."""
    lines = [(mathtext(name) + ":  " + mathtext(heads), c) for name, (heads, c) in key.items()]
    if carry:
        lines.append(("green: carries a path with no weight matrix (gates or I only)", True))
    for n, (text, is_carry) in enumerate(lines):
        ax.annotate(
            text,
            (0.0, 0.0),
            xycoords="axes fraction",
            xytext=(0.0, -4.0 - KEY_LINE * n),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=9,
            color=CARRY_COLOUR if is_carry else _LABEL_INK,
        )


def unrolled_cell_svg(cell: Cell, steps: int = 3) -> str:
    """The unrolled graph of `cell` over `steps` steps as SVG text (module docstring)."""
    return _draw(cell, steps)


def route_edges(
    cell: Cell, i: int, k: int, of: str, wrt: str, within: tuple[str, ...] | None = None
) -> frozenset[tuple[str, str]]:
    """The (source, target) node keys of every route from `of` at step i back to `wrt` at
    step k (`derivations.cell_paths.routes`); with `within`, only routes visiting no other
    states (``("c",)``: the LSTM's cell-state path alone)."""
    found = [
        r
        for r in routes(cell, i, k, of, wrt)
        if within is None or all(s in within for s in r.states)
    ]
    return frozenset(
        (f"{r.states[j + 1]}{r.i - j - 1}", f"{r.states[j]}{r.i - j}")
        for r in found
        for j in range(len(r.blocks))
    )


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
    steps = _check_steps(steps)
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
