r"""Paths between two states of an unrolled cell, read off its one-step blocks.

In the row convention the total derivative of a state at step i with respect to a
state at an earlier step k is a sum over *routes*, one choice of state per step in
between, each the product of the one-step blocks it takes:

$$\frac{\mathrm{d} s_i}{\mathrm{d} s'_k} = \sum_{s_{k+1}, \dots, s_{i-1}}
  B_{k+1}(s_{k+1}, s'_k)\, B_{k+2}(s_{k+2}, s_{k+1}) \cdots B_i(s_i, s_{i-1}),$$

with $B_t(s, s') = \mathrm{d} s_t / \mathrm{d} s'_{t-1}$ (`Cell.step_jacobian_blocks`). Each
block is itself a sum of products, one per way through the step's equations, so a route
holds the product of their counts of paths. The vanilla cell has one state and one
path per step; the LSTM's cell-state path is the route that stays on c, a product of
forget gates with h held fixed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import prod
from typing import Any

from derivations.core.cell import Cell, Ref
from derivations.core.errors import OutOfRangeError, UnknownChoiceError
from derivations.core.factors import LocalSum
from derivations.core.notation import local_derivative, total_derivative
from derivations.gradient.sums import to_states

__all__ = [
    "MAX_ROUTE_SPAN",
    "Route",
    "block_derivative",
    "block_paths",
    "count_words",
    "held_fixed",
    "repeated_reads",
    "routes",
    "routes_json",
    "routes_latex",
    "routes_text",
]

#: Longest span i - k listed route by route: a two-state cell has 2^(i-k-1) routes
#: between two states, 128 at the limit; beyond it only the block product reads.
MAX_ROUTE_SPAN = 8


def held_fixed(cell: Cell, wrt: str) -> tuple[str, ...]:
    """The other states of a step that read state `wrt` of the same step (the LSTM's h_t
    reads c_t): a block from `wrt` at t - 1 holds them fixed at t - 1, so it leaves out the
    paths through them."""
    reach = to_states(cell, wrt)
    return tuple(s for s in cell.state_names if s != wrt and reach[s])


def block_derivative(cell: Cell, of: str, wrt: str, t: int | str = "t") -> str:
    r"""The symbol of the one-step block from `wrt` at t - 1 to `of` at t, by the rule of
    `derivations.core.notation` (`LOCAL_RULE`, `BLOCK_RULE`, `TOTAL_RULE`).

    ∂ when the block is `of`'s own equation reading `wrt` alone (local: the LSTM's
    $\partial c_t/\partial c_{t-1} = \operatorname{diag}(f_t)$) or when it holds fixed
    another state that reads `wrt` (`held_fixed`: the LSTM's $\partial h_t/\partial
    c_{t-1}$, with $h_{t-1}$ fixed); otherwise d: nothing that depends on `wrt` is held
    fixed, so the block follows every path (the LSTM's $\mathrm{d}h_t/\mathrm{d}h_{t-1}$).
    """
    block = cell.step_jacobian_blocks()[of, wrt]
    local = bool(block) and all(term.via == (of,) for term in block.terms)
    derivative = local_derivative if local or held_fixed(cell, wrt) else total_derivative
    return derivative(cell.notation.at(of, t), cell.notation.at(wrt, t, -1))


def block_paths(block: LocalSum) -> int:
    """The paths in the graph of one step that a block sums over: its distinct ways
    through the step's variables. A block can hold more products than paths, one per
    place a variable enters an equation (``h = (1 - z) n + z h_prev`` reads z twice)."""
    return len({term.via for term in block.terms})


def repeated_reads(cell: Cell) -> list[tuple[str, str, int]]:
    """``(variable, equation, places)`` for each variable an equation reads in more than
    one place: there a path of the graph gives one product per place (the GRU's
    ``h = (1 - z) n + z h_prev`` reads z twice)."""
    out = []
    for eq in cell.equations:
        counts: dict[str, int] = {}
        stack = [eq.expr]
        while stack:
            node = stack.pop()
            if isinstance(node, Ref):
                counts[node.name] = counts.get(node.name, 0) + 1
            stack.extend(node.children())
        out += [(name, eq.name, n) for name, n in counts.items() if n > 1]
    return out


@dataclass(frozen=True)
class Route:
    """One choice of state per step from s_i back to s'_k, with the block of each step.

    ``states[j]`` is the state at step ``i - j`` (so ``states[0]`` is the later one);
    ``blocks[j]`` is the block from ``states[j + 1]`` at step ``i - j - 1`` to
    ``states[j]`` at step ``i - j``.
    """

    i: int
    k: int
    states: tuple[str, ...]
    blocks: tuple[LocalSum, ...]

    @property
    def paths(self) -> int:
        """The number of paths in the graph along this route (`block_paths` per step)."""
        return prod(block_paths(b) for b in self.blocks)

    @property
    def products(self) -> int:
        """The number of products of the chain rule along this route: a path meeting a
        variable that one equation reads twice (the GRU's z) gives a product per use."""
        return prod(len(b) for b in self.blocks)

    def label(self) -> str:
        """``h_3 <- c_2 <- h_1``: the states the route visits, later first."""
        return " <- ".join(f"{s}_{self.i - j}" for j, s in enumerate(self.states))

    def factors_latex(self, cell: Cell) -> list[str]:
        """The blocks as LaTeX, earliest step first (the order they multiply in).

        Each block's symbol is `block_derivative`'s: ∂ for the LSTM's c_t from c_{t-1}
        (one equation) and h_t from c_{t-1} (h_{t-1} held fixed), d where the block follows
        every path (`derivations.core.notation`).
        """
        out = []
        for j in reversed(range(len(self.blocks))):
            t, block = self.i - j, self.blocks[j]
            lhs = block_derivative(cell, self.states[j], self.states[j + 1], t)
            out.append(f"{lhs} = {block.latex(t, cell.notation)}")
        return out


def _check_step(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OutOfRangeError(f"{what} must be an integer >= 0; got {value!r}.")
    return value


def _check_steps(later: object, earlier: object) -> tuple[int, int]:
    i = _check_step(later, "the later step i (--from)")
    k = _check_step(earlier, "the earlier step k (--to)")
    if k >= i:
        raise OutOfRangeError(
            f"a path runs from a later state back to an earlier one, so k < i; got i={i}, k={k}. "
            f"Swap them (--from {max(i, k)} --to {min(i, k)}) or pick two different steps."
        )
    if i - k > MAX_ROUTE_SPAN:
        raise OutOfRangeError(
            f"i - k = {i - k} steps is too long to list route by route (at most "
            f"{MAX_ROUTE_SPAN}); pick a shorter span, or use `unrolled jacobian --form compact`."
        )
    return i, k


def routes(
    cell: Cell, i: int, k: int, of: str | None = None, wrt: str | None = None
) -> list[Route]:
    """Every route from state `of` at step i back to state `wrt` at step k (all pairs if None).

    Routes with a zero block (no path through that step) are left out.
    """
    i, k = _check_steps(i, k)
    names = cell.state_names
    for value, what in ((of, "--of"), (wrt, "--wrt")):
        if value is not None and value not in names:
            raise UnknownChoiceError(
                f"{what} must be a state of the {cell.name} cell, one of {', '.join(names)}; "
                f"got {value!r}."
            )
    blocks = cell.step_jacobian_blocks()
    found = []
    for end, start in itertools.product(names, names):
        if (of is not None and end != of) or (wrt is not None and start != wrt):
            continue
        for middle in itertools.product(names, repeat=i - k - 1):
            states = (end, *middle, start)
            chosen = tuple(blocks[states[j], states[j + 1]] for j in range(i - k))
            if all(chosen):
                found.append(Route(i, k, states, chosen))
    return found


def routes_json(cell: Cell, found: list[Route]) -> dict[str, Any]:
    """The routes as a JSON-ready dict: states, path counts, block LaTeX, the ways through."""
    return {
        "cell": cell.name,
        "routes": [
            {
                "states": [f"{s}_{r.i - j}" for j, s in enumerate(r.states)],
                "paths": r.paths,
                "products": r.products,
                "blocks": r.factors_latex(cell),
                "through": [
                    [list(term.via) for term in block.terms] for block in reversed(r.blocks)
                ],
            }
            for r in found
        ],
    }


def routes_text(cell: Cell, found: list[Route]) -> str:
    """The routes for a terminal: one line per route, then each step's block in LaTeX."""
    if not found:
        return f"no path: the {cell.name} cell's later state does not depend on that one"
    paths, products = sum(r.paths for r in found), sum(r.products for r in found)
    plural = "s" if len(found) != 1 else ""
    lines = [
        f"{len(found)} route{plural} through the states of the {cell.name} cell, "
        f"{count_words(paths, products)}:"
    ]
    for r in found:
        lines.append(f"{r.label()}  ({count_words(r.paths, r.products)})")
        lines += [f"    {block}" for block in r.factors_latex(cell)]
    return "\n".join(lines)


def count_words(paths: int, products: int) -> str:
    """``4 paths`` or, where the chain rule gives more products than paths, ``4 paths,
    5 products``: a path is a path in the graph, a product a term of the expanded sum."""
    out = f"{paths} path{'s' if paths != 1 else ''}"
    return out if products == paths else f"{out}, {products} products"


def routes_latex(cell: Cell, found: list[Route], of: str, wrt: str) -> str:
    r"""$\mathrm{d}s_i/\mathrm{d}s'_k$ as the sum over `found` of products of one-step blocks.

    One ``aligned`` block: the sum written in the blocks' own symbols, earliest step first
    (the order they multiply in, row convention), then each block that occurs, defined once.
    """
    if not found:
        raise OutOfRangeError(
            f"{of} at step i does not depend on {wrt} at step k in the {cell.name} cell: "
            "there is no route between them (`unrolled paths` lists the routes there are)."
        )
    i, k = found[0].i, found[0].k
    lhs = total_derivative(cell.notation.at(of, i), cell.notation.at(wrt, k))
    products: list[str] = []
    defined: dict[str, str] = {}
    for route in found:
        symbols = []
        for line in route.factors_latex(cell):
            symbol, _, body = line.partition(" = ")
            symbols.append(symbol)
            defined.setdefault(symbol, body)
        products.append(r"\,".join(symbols))
    rows = [rf"{lhs} &= " + " + ".join(products)]
    rows += [rf"{symbol} &= {body}" for symbol, body in defined.items()]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"
