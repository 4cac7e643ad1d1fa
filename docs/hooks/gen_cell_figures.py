r"""The unrolled graph of any cell and its routes between states, drawn by matplotlib as SVG.

Everything drawn is read off the cell's equations (`derivations.Cell`), never typed per cell:

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
from dataclasses import dataclass

import matplotlib.pyplot as plt
from gen_format import math
from gen_plot import GREY, svg_text
from matplotlib.axes import Axes
from matplotlib.mathtext import MathTextParser
from matplotlib.patches import Circle, FancyArrowPatch

from derivations.core.cell import Cell, Input, Prev, Ref
from derivations.core.errors import OutOfRangeError, UnknownChoiceError
from derivations.core.factors import LocalSum, Notation, Weight
from derivations.core.nodes import Node
from derivations.core.notation import QUANTITIES

__all__ = [
    "CARRY_COLOUR",
    "Edge",
    "carried",
    "cell_edges",
    "cell_path_svg",
    "graph_caption",
    "hidden_variables",
    "mathtext",
    "partials",
    "route_edges",
    "state_reads",
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


# --- what the graph is made of: read off the cell's equations -------------------------


def partials(cell: Cell, start: Node) -> dict[str, LocalSum]:
    r"""$\partial s_t/\partial(\text{start})$ for every state s that reads `start`, the
    other states of step t held fixed.

    `start` is ``Input()``, ``Prev(state)`` or ``Ref(state)`` (a state of the same step).
    Forward accumulation in equation order, as `Cell.through_step`, but only through the
    step's variables that are not states: an edge stops at the first state it reaches.
    """
    states = set(cell.state_names)
    totals: dict[str, LocalSum] = {}
    for eq in cell.equations:
        total = cell.local_jacobian(eq.name, start)
        for leaf in cell.leaves(eq.name):
            if isinstance(leaf, Ref) and leaf.name not in states and totals[leaf.name]:
                total += totals[leaf.name] @ cell.local_jacobian(eq.name, leaf)
        totals[eq.name] = total.through(eq.name)
    return {s: totals[s] for s in cell.state_names if totals.get(s)}


def state_reads(cell: Cell) -> dict[tuple[Node, str], LocalSum]:
    """Every quantity each state's equation reads, keyed (source, state): x_t
    (``Input()``), a state of step t-1 (``Prev``) or of step t (``Ref``), with the
    partial derivative that carries it (`partials`). Input first, then the states of
    t-1, then those of t, each in the cell's state order."""
    sources: list[Node] = [Input()]
    sources += [Prev(s) for s in cell.state_names] + [Ref(s) for s in cell.state_names]
    return {(source, s): d for source in sources for s, d in partials(cell, source).items()}


def hidden_variables(cell: Cell) -> tuple[str, ...]:
    """The step's variables that are not states (gates, pre-activations): not drawn."""
    return tuple(eq.name for eq in cell.equations if eq.name not in cell.state_names)


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

    ``kind`` is ``"input"`` (x_t), ``"state"`` (from a state of step t-1), ``"within"``
    (from a state of step t), ``"readout"`` or ``"loss"``; ``heads`` what it carries
    (`carried`); ``carry`` whether a weight-free path is among them.
    """

    source: str
    target: str
    kind: str
    heads: tuple[str, ...] = ()
    carry: bool = False


def _source(source: Node, t: int) -> tuple[str, str]:
    """(node key, edge kind) of a source read at step t."""
    if isinstance(source, Prev):
        return f"{source.state}{t - 1}", "state"
    if isinstance(source, Ref):
        return f"{source.name}{t}", "within"
    return f"x{t}", "input"


def cell_edges(cell: Cell, steps: int) -> list[Edge]:
    """Every edge of the cell unrolled over `steps` steps, step by step (`state_reads`)."""
    steps = _check_steps(steps)
    notation, reads = cell.notation, state_reads(cell)
    wyh = (QUANTITIES["Wyh"].latex,)
    edges = []
    for t in range(1, steps + 1):
        for (source, target), block in reads.items():
            key, kind = _source(source, t)
            heads = carried(block, "t", notation)
            edges.append(Edge(key, f"{target}{t}", kind, heads, _is_carry(block)))
        edges.append(Edge(f"h{t}", f"y{t}", "readout", wyh))
        edges.append(Edge(f"y{t}", f"L{t}", "loss"))
    return edges


def graph_caption(cell: Cell, steps: int, name: str = "") -> str:
    """What `unrolled_cell_svg` draws, in Markdown with inline math, from the same reads;
    `name` is what the page calls the cell (``The LSTM cell``; default ``the <name> cell``)."""
    notation = cell.notation
    states = ", ".join(math(notation.at(s, "t")) for s in cell.state_names)
    hidden = ", ".join(math(notation.at(v, "t")) for v in hidden_variables(cell))
    reads = [
        math(rf"{_start(source, notation)} \rightarrow {notation.at(target, 't')}")
        for source, target in state_reads(cell)
    ]
    carry = [
        math(rf"{_start(source, notation)} \rightarrow {notation.at(target, 't')}")
        for (source, target), block in state_reads(cell).items()
        if _is_carry(block)
    ]
    through = f", directly or through {hidden} (not drawn)" if hidden else ""
    called = name[0].lower() + name[1:] if name.startswith("The ") else name
    called = called or f"the {cell.name} cell"
    green = (
        f" Green: the edges with a path through no weight matrix ({', '.join(carry)})."
        if carry
        else ""
    )
    return (
        f"Unrolled over {steps} steps and drawn from the equations of {called}: "
        f"per step the state{'s' if len(cell.state_names) > 1 else ''} {states}, the input, "
        f"output and loss. An arrow into a state wherever its equation reads a quantity"
        f"{through}: {', '.join(reads)}, and nothing else. Each arrow is labelled by the "
        f"first weight matrix of each of its paths, or its first factor when it has none."
        f"{green}"
    )


def _start(source: Node, notation: Notation) -> str:
    if isinstance(source, Prev):
        return notation.at(source.state, "t", -1)
    if isinstance(source, Ref):
        return notation.at(source.name, "t")
    return "x_{t}"


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
    if edge.kind == "input":
        start = "x_{t}"
    else:
        start = notation.at(source, "t", -1 if edge.kind == "state" else 0)
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
    # the vanilla figure's unit length; no wider than the graph, so that on a phone the
    # image shrinks by as little as it can (its labels are sized for that, `LABEL_PT`)
    fig, ax = plt.subplots(figsize=(width * SCALE, height * SCALE))
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
    for name, (x, y, label) in nodes.items():
        ink = "#333333" if not highlighted or name in on_route else GREY
        ax.add_patch(Circle((x, y), NODE_RADIUS, facecolor="white", edgecolor=ink, lw=1.4))
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=NODE_PT if len(label) < 10 else LABEL_PT,
            color="#111111" if ink == "#333333" else GREY,
            zorder=4,
        )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    _key(ax, {name: (heads, c and not highlighted) for name, (heads, c) in key.items()})
    return svg_text(fig)


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


def route_edges(
    cell: Cell, i: int, k: int, of: str, wrt: str, within: tuple[str, ...] | None = None
) -> frozenset[tuple[str, str]]:
    """The (source, target) node keys of every edge between states of the drawn graph
    (`cell_edges`) that lies on some path from `wrt` at step k to `of` at step i: the
    routes of `derivations.gradient.paths.routes`, each block spelt out as the equations'
    edges. With `within`, only paths visiting no other states (``("c",)``: the LSTM's
    cell-state path alone)."""
    keep = within or cell.state_names
    edges = [
        (e.source, e.target)
        for e in cell_edges(cell, i)
        if e.kind in ("state", "within")
        and e.source.rstrip("0123456789") in keep
        and e.target.rstrip("0123456789") in keep
    ]
    start, end = f"{wrt}{k}", f"{of}{i}"
    after, before = _reach(edges, start), _reach([(t, s) for s, t in edges], end)
    return frozenset((s, t) for s, t in edges if s in after and t in before)


def _reach(edges: list[tuple[str, str]], start: str) -> set[str]:
    """The nodes reachable from `start` along `edges` (start included)."""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for source, target in edges:
            if source == node and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


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
