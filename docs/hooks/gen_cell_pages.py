"""Generator job ``cell-pages``: the chapter on the gated cells, printed from the cells.

One page per built-in cell of `GATED_CELLS` (``gated/<cell>.md``): its equations,
parameters, unrolled graph, local Jacobians (the block form of the state Jacobian),
the routes between two states, the named path, the backward loop and its (i, k)
map; and one expanded-sum page per gradient of `Cell.gradient_names`
(``gated/<cell>/<name>.md``, `gen_cell_sums.py`). Every formula comes from
`derivations`; the prose about a particular cell is in Markdown snippets
(``docs/gated/cells/<cell>/``, read by ``gen_cell_prose.py``), each statement a snippet
makes about a computed result asserted here with `claim`. The job also returns the
chapter's navigation (``nav``), which docs/hooks/site.py inserts after the laboratory.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import gen_cell_prose as prose
from gen_cell_checks import GATED_CELLS
from gen_cell_figures import cell_path_svg, unrolled_cell_svg
from gen_cell_fragments import gated_fragments
from gen_cell_graph import graph_caption
from gen_cell_sums import GENERATED_NOTE, PAGE_STEPS, sum_page, sum_uri, written_out
from gen_format import ChecksFailed, claim, code, display, math, table
from gen_readback import check_written_sums

from derivations.check.readback import Pair, expected_cell
from derivations.core.cell import Cell
from derivations.core.cells import BUILTIN_CELLS
from derivations.core.factors import LocalSum
from derivations.core.notation import local_derivative, total_derivative
from derivations.gradient.loop import cell_loop_map
from derivations.gradient.named_paths import named_path_latex, named_paths
from derivations.gradient.paths import (
    Route,
    block_derivative,
    block_paths,
    count_words,
    repeated_reads,
    routes,
)
from derivations.render.loop import cell_loop_code
from derivations.render.sums import block_matrix_latex

#: The chapter's section title in the navigation.
SECTION = "Gated cells, derived and measured"
#: Where the section goes: right after this one.
AFTER = "The gradient laboratory"
#: The laboratory pages of the chapter (hand-written, by docs path), in nav order.
LAB_PAGES = (
    ("The cell-state path", "gated/cell-state-path.md"),
    ("GRU: the two resets", "gated/gru-resets.md"),
    ("An LSTM worked example", "notebooks/lstm-example.py"),
)


def _lstm_blocks(blocks: dict[tuple[str, str], LocalSum]) -> None:
    """What docs/gated/cells/lstm/blocks.md says: c to c one path, h to h one per gate."""
    claim(len(blocks["c", "c"]) == 1, "dc_t/dc_{t-1} is one path, diag(f_t)")
    claim(len(blocks["h", "h"]) == 4, "dh_t/dh_{t-1} has four paths, one per gate")


#: The checks of what a cell's ``blocks.md`` snippet says (gen_cell_prose.py), by cell.
BLOCK_CLAIMS: dict[str, Callable[[dict[tuple[str, str], LocalSum]], None]] = {"lstm": _lstm_blocks}


def nav_title(key: str) -> str:
    """The cell's title in the navigation (its opening snippet's front matter)."""
    return prose.read(key, "opening").meta["nav"]


def cell_uri(key: str) -> str:
    """Where the page of cell `key` lives in the site."""
    return f"gated/{key}.md"


def figure_uri(key: str, what: str) -> str:
    """Where a figure of cell `key` lives in the site."""
    return f"figures/cell-{key}-{what}.svg"


def _equations(cell: Cell) -> str:
    rows = [line.replace(" = ", " &= ", 1) for line in cell.equation_latex()]
    return display(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}")


def _stack_of(cell: Cell, name: str) -> str:
    for stacked, blocks in cell.stacking().items():
        if name in blocks:
            k = blocks.index(name)
            columns = f"[{k}H:{k + 1}H]" if k else "[:H]"
            return f"{code(stacked + '[..., ' + columns.strip('[]') + ']')}"
    return f"{code(name)} (stored as it is)"


def _params(cell: Cell) -> str:
    rows = []
    for p in cell.params:
        shape = {"D": "(D, H)", "H": "(H, H)", None: "(H,)"}[p.rows]
        rows.append([code(p.name), math(p.latex), shape, p.meaning or "", _stack_of(cell, p.name)])
    return table(["name", "written", "shape", "what it is", "in rnnnum"], rows)


def _locals(cell: Cell) -> str:
    """Each equation's local derivatives with respect to what it reads (one equation)."""
    notation = cell.notation
    rows = []
    for eq in cell.equations:
        for leaf in cell.leaves(eq.name):
            local = cell.local_jacobian(eq.name, leaf)
            lhs = local_derivative(notation.at(eq.name, "t"), leaf.latex("t", notation))
            rows.append(f"{lhs} &= {local.latex('t', notation)}")
    return display(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}")


def _blocks(cell: Cell, key: str) -> list[str]:
    notation = cell.notation
    blocks = cell.step_jacobian_blocks()
    out = []
    if len(cell.state_names) > 1:
        matrix, where = block_matrix_latex(cell)
        jt = total_derivative(r"s_{t}", r"s_{t-1}")
        out += [
            "With the stacked state "
            + math(r"s_t = (" + ", ".join(notation.at(s, "t") for s in cell.state_names) + ")")
            + ", the one-step Jacobian in block form (rows by the state at t - 1, columns "
            "by the state at t; row convention, " + math(r"\Delta s_t = \Delta s_{t-1} J_t") + "):",
            display(rf"J_t = {jt} = {matrix}"),
            "where the long blocks are",
            display(r"\begin{aligned}" + r" \\ ".join(where) + r"\end{aligned}"),
        ]
    for (s, s2), block in blocks.items():
        lhs = block_derivative(cell, s, s2)  # ∂ or d by the rule of derivations.core.notation
        if not block:
            out.append(f"- {math(lhs + ' = 0')}: no path.")
            continue
        out.append(f"- {math(lhs)}: {count_words(block_paths(block), len(block))}.")
    said = prose.find(key, "blocks")
    if said is not None:
        if key not in BLOCK_CLAIMS:
            raise ChecksFailed(f"{said.path} states something no claim checks: add BLOCK_CLAIMS")
        BLOCK_CLAIMS[key](blocks)
        out.append("\n" + prose.fill(said, {}))
    return out + _path_and_product(cell)


def _path_and_product(cell: Cell) -> list[str]:
    """What a path and a product are, where a cell has more products than paths."""
    repeated = repeated_reads(cell)
    blocks = cell.step_jacobian_blocks().values()
    claim(
        bool(repeated) == any(block_paths(b) < len(b) for b in blocks),
        "a block has more products than paths exactly where an equation reads a variable twice",
    )
    if not repeated:
        return []
    notation = cell.notation
    places = "; ".join(
        f"{math(notation.at(eq, 't'))} reads {math(notation.at(var, 't'))} in {n} places"
        for var, eq, n in repeated
    )
    return [
        "",
        "A path is a path in the graph of the step; a product is one term of the chain "
        "rule's sum, and the expanded sums below are sums of products. The two counts "
        f"differ where an equation reads a variable in more than one place ({places}): "
        "a path through that variable gives one product per place.",
    ]


def _routes(cell: Cell, key: str, files: dict[str, str]) -> list[str]:
    i, k = PAGE_STEPS, 1
    found = routes(cell, i, k, "h", "h")
    paths, products = sum(r.paths for r in found), sum(r.products for r in found)
    files[figure_uri(key, "routes-h")] = cell_path_svg(cell, i, "h", "h", k=k)
    out = [
        f"From {math(f'h_{i}')} back to {math(f'h_{k}')} there "
        f"{'are' if len(found) != 1 else 'is'} {len(found)} "
        f"route{'s' if len(found) != 1 else ''} through the states, "
        f"{count_words(paths, products)} in all. Each route, its blocks earliest step first:",
        "",
    ]
    for r in found:
        label = r" \leftarrow ".join(f"{s}_{{{r.i - j}}}" for j, s in enumerate(r.states))
        out.append(f"{math(label)} ({count_words(r.paths, r.products)}):")
        out.append(_route_display(cell, r))
    out += [
        "",
        f"![The unrolled {cell.name} graph over {i} steps with every route from h_{i} back "
        f"to h_{k} in red, everything else grey.](../{figure_uri(key, 'routes-h')})",
    ]
    said = prose.find(key, "routes-along-c")
    if said is not None:
        files[figure_uri(key, "routes-c")] = cell_path_svg(cell, i, "c", "c", k=k, within=("c",))
        along_c = [r for r in routes(cell, i, k, "c", "c") if set(r.states) == {"c"}]
        claim(len(along_c) == 1 and along_c[0].paths == 1, "one route runs along c alone")
        values = {"i": str(i), "k": str(k), "c_i": math(f"c_{i}"), "c_k": math(f"c_{k}")}
        out += ["", prose.fill(said, {**values, "figure": figure_uri(key, "routes-c")})]
    return out


def _route_display(cell: Cell, route: Route) -> str:
    """The blocks of one route, earliest step first, each path of a block on its own row."""
    rows = []
    for factor, j in zip(
        route.factors_latex(cell), reversed(range(len(route.blocks))), strict=True
    ):
        lhs = factor.split(" = ", 1)[0]
        t, block = route.i - j, route.blocks[j]
        parts = [LocalSum((term,)).latex(t, cell.notation) for term in block.terms]
        rows.append(f"{lhs} &= {parts[0]}")
        rows += [rf"&\qquad {'-' if p.startswith('-') else '+'} {p.removeprefix('-')}"
                 for p in parts[1:]]  # fmt: skip
    return display(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}")


def _named(cell: Cell) -> list[str]:
    paths = named_paths(cell)
    if not paths:
        return ["This cell has no named path: h_t reads h_{t-1} only through a_t."]
    out = []
    for s, own in paths.items():
        lhs = local_derivative(cell.notation.at(s, "t"), cell.notation.at(s, "t", -1))
        out.append(
            f"The part of the block from {s} to {s} that {s}'s own equation reads directly "
            f"is {math(lhs + ' = ' + own.latex('t', cell.notation))}; over i - k steps, "
            f"with the other states held fixed, its product is"
        )
        span = named_path_latex(cell, s, PAGE_STEPS, 1)
        out.append(display(rf"{named_path_latex(cell, s)},\qquad i = 3,\ k = 1:\ {span}"))
    return out


def _loop(cell: Cell) -> list[str]:
    wrt = cell.param_names[0]
    mapping = cell_loop_map(cell, wrt, PAGE_STEPS)
    rows = [[str(t), ", ".join(f"({i}, {k})" for i, k in pairs)] for t, pairs in mapping.items()]
    claim(
        sorted(p for ps in mapping.values() for p in ps)
        == sorted((i, k) for i in range(1, PAGE_STEPS + 1) for k in range(1, i + 1)),
        "the loop's iterations together add every term (i, k) exactly once",
    )
    return [
        "The backward loop, printed from the cell's equations (one carry per state):",
        "",
        "```python",
        cell_loop_code(cell),
        "```",
        "",
        f"Iteration t of the loop adds, to {math(cell.notation.latex[wrt])}'s gradient, "
        f"the terms (i, k) of the expanded sum with k = t (T = {PAGE_STEPS}): every term "
        "exactly once.",
        table(["iteration t", "terms (i, k) it adds"], rows),
    ]


def cell_page(key: str, cell: Cell, files: dict[str, str]) -> str:
    """The page of one cell (module docstring); its figures go into `files`."""
    opening = prose.read(key, "opening")
    title = opening.meta["title"]
    files[figure_uri(key, "unrolled")] = unrolled_cell_svg(cell, PAGE_STEPS)
    rows_c = " and the c row" if "c" in cell.state_names else ""
    links = [f"- [{math(g)}]({key}/{name}.md)" for name, g in _gradient_titles(cell)]
    return "\n".join(
        [
            "---",
            f'title: "{title}"',
            "generated: true",
            "---",
            GENERATED_NOTE,
            "",
            f"# {title}",
            "",
            prose.fill(opening, {}),
            "",
            "## The equations",
            "",
            f"Printed from the cell's definition ({code(f'derivations.core.cells.{cell.name}')}):",
            _equations(cell),
            "## The parameters",
            _params(cell),
            "## The unrolled graph",
            "",
            "<figure markdown>",
            f"![The {cell.name} cell unrolled over {PAGE_STEPS} steps: the x row, the "
            f"h row{rows_c}, the outputs, each edge labelled by what it carries.]"
            f"(../{figure_uri(key, 'unrolled')})",
            f"<figcaption markdown>{graph_caption(cell, PAGE_STEPS, title)}</figcaption>",
            "</figure>",
            "",
            "## Local derivatives",
            "",
            "Each equation differentiated with respect to what it reads, the others held fixed:",
            _locals(cell),
            "## The one-step blocks",
            "",
            *_blocks(cell, key),
            "",
            "## Paths between two states",
            "",
            *_routes(cell, key, files),
            "",
            "## The named path",
            "",
            *_named(cell),
            "",
            "## The backward loop",
            "",
            *_loop(cell),
            "## The expanded sums",
            "",
            f"One generated page per gradient at T = {PAGE_STEPS}, each with its checks:",
            "",
            *links,
            "",
        ]
    )


def _gradient_titles(cell: Cell) -> list[tuple[str, str]]:
    from derivations.render.sums import gradient_lhs  # noqa: PLC0415

    return [(name, gradient_lhs(cell, name)) for name in cell.gradient_names]


def chapter_nav() -> list[object]:
    """The chapter's navigation: the intro, each cell with its sums, the lab pages."""
    entries: list[object] = [{"Gated cells": "gated/index.md"}]
    for key in GATED_CELLS:
        cell = BUILTIN_CELLS[key]()
        children = [cell_uri(key), *(sum_uri(key, name) for name in cell.gradient_names)]
        entries.append({nav_title(key): children})
    entries += [{title: uri} for title, uri in LAB_PAGES]
    return entries


def cell_pages_job() -> dict[str, object]:
    pages: dict[str, str] = {}
    files: dict[str, str] = {}
    expected: dict[str, dict[str, set[Pair]]] = {}
    for key in GATED_CELLS:
        cell = BUILTIN_CELLS[key]()
        pages[cell_uri(key)] = cell_page(key, cell, files)
        for name in cell.gradient_names:
            pages[sum_uri(key, name)] = sum_page(key, cell, name, nav_title(key))
            if written_out(cell, name):
                expected[sum_uri(key, name)] = expected_cell(cell, name, PAGE_STEPS)
    fragments = gated_fragments()
    check_written_sums({**pages, **fragments}, expected)
    nav = {SECTION: json.dumps({"after": AFTER, "entries": chapter_nav()})}
    inputs = list(prose.LOOKED_FOR)  # the snippets, found or not: the cache's key
    return {"pages": pages, "files": files, "fragments": fragments, "nav": nav, "inputs": inputs}
