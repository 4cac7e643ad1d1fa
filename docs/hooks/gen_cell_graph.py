r"""What the unrolled graph of a cell is made of, read off the cell's equations.

The first stage of the cell figures (``gen_cell_figures.py`` draws them): an edge into
s_t from every quantity s's equation reads (`state_reads`), labelled by what it carries
(`carried`); the edges of the cell unrolled over some steps (`cell_edges`), the routes
between two states among them (`route_edges`), and `graph_caption`, which says all this
for one cell in words, from the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

from gen_format import math

from derivations.core.cell import Cell, Input, Prev, Ref
from derivations.core.errors import OutOfRangeError
from derivations.core.factors import LocalSum, Notation, Weight
from derivations.core.nodes import Node
from derivations.core.notation import QUANTITIES

__all__ = [
    "Edge",
    "carried",
    "cell_edges",
    "check_steps",
    "graph_caption",
    "hidden_variables",
    "is_carry",
    "partials",
    "route_edges",
    "state_reads",
]


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


def is_carry(block: LocalSum) -> bool:
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
    steps = check_steps(steps)
    notation, reads = cell.notation, state_reads(cell)
    wyh = (QUANTITIES["Wyh"].latex,)
    edges = []
    for t in range(1, steps + 1):
        for (source, target), block in reads.items():
            key, kind = _source(source, t)
            heads = carried(block, "t", notation)
            edges.append(Edge(key, f"{target}{t}", kind, heads, is_carry(block)))
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
        if is_carry(block)
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


def check_steps(steps: object) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 6:
        raise OutOfRangeError(
            f"steps must be an integer from 1 to 6 (the graph is drawn across the text "
            f"column); got {steps!r}. Use 3, the size of the vanilla figure."
        )
    return steps


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
