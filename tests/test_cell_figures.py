"""The gated chapter's figures: the unrolled graph of any cell and the lab's gated plots.

- the graph's edges are checked against `sympy.diff` of one step of each cell, each state
  of the step standing for itself in the equations after it (an edge q -> s_t exactly
  where s_t's expression depends on q: x_t, a state of step t-1, or a state of step t),
  against a list written by hand for the LSTM (its h_t = o_t tanh(c_t) reads c_t, not
  c_{t-1}), and against sets written by hand for a user cell whose second state does
  not feed the first, and for the routes of the LSTM;
- each SVG is byte-identical from call to call, requests no font, carries no date and
  names the nodes it should (matplotlib writes each text as a comment before its glyphs);
- the caption names every drawn edge and nothing else;
- the plots' labels follow the notation rule, and their module imports no SymPy.

The hook modules are loaded from their files, as `site_hooks_loader` loads the hooks.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
from notation_rule import cell_offsets, violations
from site_hooks_loader import load_hook

from derivations.core.cell import Add, Bias, Cell, Equation, Func, MatMul, Param, Prev, Ref, State
from derivations.core.cells import BUILTIN_CELLS, load_cell
from derivations.core.degenerate import DegenerateCellWarning
from derivations.core.errors import OutOfRangeError, UnknownChoiceError
from derivations.core.factors import Scope
from derivations.core.nodes import Input
from rnnnum import lab

HOOKS = Path(__file__).resolve().parent.parent / "docs" / "hooks"
#: Sizes of the one symbolic step whose derivatives decide the edges (small: exact SymPy).
D, H = 2, 2
#: Small lab results for the plots (the plots only draw them).
LAB_T, LAB_H = 12, 4


figures = load_hook("gen_cell_figures")
graph = load_hook("gen_cell_graph")
plots = load_hook("gen_gated_plots")


def two_state_cell() -> Cell:
    r"""A user cell: $h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)$ and
    $m_t = \tanh(h_{t-1} W_{hm} + m_{t-1} W_{mm})$: m reads h, h never reads m."""
    params = (
        Param("Wxh", "D", latex="W_{xh}"),
        Param("Whh", "H", latex="W_{hh}"),
        Param("bh", None, latex="b_h"),
        Param("Whm", "H", latex="W_{hm}"),
        Param("Wmm", "H", latex="W_{mm}"),
    )
    a = Add(MatMul(Input(), "Wxh"), MatMul(Prev("h"), "Whh"), Bias("bh"))
    m = Func("act", Add(MatMul(Prev("h"), "Whm"), MatMul(Prev("m"), "Wmm")))
    equations = (
        Equation("a", a, "a"),
        Equation("h", Func("act", Ref("a")), "h"),
        Equation("m", m, "m"),
    )
    # m reaches no loss: the cell says so, and the figures must still draw it
    with pytest.warns(DegenerateCellWarning, match="state m never reaches the loss"):
        return Cell("twostate", params, (State("h", "h"), State("m", "m")), equations)


CELLS = {name: load_cell(name) for name in BUILTIN_CELLS} | {"twostate": two_state_cell()}


def _sympy_reads(cell: Cell) -> set[tuple[str, str]]:
    """(q, s): s_t's expression depends on q, where q is ``x``, ``s'@t-1`` or ``s'@t``, by
    `sympy.diff` of the step written with fresh symbols, each state of step t replaced by
    a symbol of its own in the equations after it (so that only direct reads count)."""
    x = list(sp.symbols(f"x0:{D}"))
    prev = {s: list(sp.symbols(f"{s}prev0:{H}")) for s in cell.state_names}
    now = {s: list(sp.symbols(f"{s}now0:{H}")) for s in cell.state_names}
    params = {
        p.name: sp.Matrix(*p.shape(D, H), sp.symbols(f"{p.name}0:{p.shape(D, H)[0] * H}"))
        for p in cell.params
    }
    refs: dict[str, list[sp.Expr]] = {}
    rows: dict[str, list[sp.Expr]] = {}
    for eq in cell.equations:
        rows[eq.name] = eq.expr.forward(Scope(x, prev, refs, params, cell.activation))
        refs[eq.name] = now[eq.name] if eq.name in now else rows[eq.name]

    def depends(state: str, symbols: list[sp.Symbol]) -> bool:
        return any(sp.diff(e, v) != 0 for e in rows[state] for v in symbols)

    reads = {("x", s) for s in cell.state_names if depends(s, x)}
    for s in cell.state_names:
        for q in cell.state_names:
            reads |= {(f"{q}@t-1", s)} if depends(s, prev[q]) else set()
            reads |= {(f"{q}@t", s)} if depends(s, now[q]) else set()
    return reads


def _drawn_reads(cell: Cell, steps: int) -> set[tuple[str, str]]:
    """The drawn edges into states, as (q, s) at a general step; each must repeat at every
    step (asserted), and nothing may be drawn from a later step or skip one."""
    found = {}
    for e in graph.cell_edges(cell, steps):
        if e.kind in ("readout", "loss"):
            continue
        source, target = e.source.rstrip("0123456789"), e.target.rstrip("0123456789")
        t0, t = int(e.source[len(source) :]), int(e.target[len(target) :])
        q = "x" if source == "x" else f"{source}@t" + ("" if t0 == t else f"-{t - t0}")
        found.setdefault((q, target), set()).add(t)
    assert all(ts == set(range(1, steps + 1)) for ts in found.values()), found
    return set(found)


#: The LSTM's edges, read by hand off c_t = f_t c_{t-1} + i_t g_t, h_t = o_t tanh(c_t)
#: (the gates read x_t and h_{t-1}).
LSTM_READS = {
    ("x", "c"),
    ("h@t-1", "c"),
    ("c@t-1", "c"),
    ("x", "h"),
    ("h@t-1", "h"),
    ("c@t", "h"),
}


@pytest.mark.parametrize("name", list(CELLS))
def test_the_graph_has_an_edge_exactly_where_an_equation_reads_a_quantity(name):
    cell = CELLS[name]
    expected = _sympy_reads(cell)
    assert _drawn_reads(cell, 3) == expected
    if name == "lstm":
        assert expected == LSTM_READS


def test_the_lstm_graph_is_the_one_read_by_hand():
    assert _drawn_reads(CELLS["lstm"], 3) == LSTM_READS
    edges = {(e.source, e.target) for e in graph.cell_edges(CELLS["lstm"], 2)}
    assert ("c2", "h2") in edges and ("c1", "h2") not in edges


def test_the_user_cells_second_state_does_not_feed_the_first():
    assert _drawn_reads(CELLS["twostate"], 2) == {
        ("x", "h"),
        ("h@t-1", "h"),
        ("h@t-1", "m"),
        ("m@t-1", "m"),
    }


def test_the_caption_names_every_drawn_edge_and_nothing_else():
    for name, cell in CELLS.items():
        caption = graph.graph_caption(cell, 3)
        named = set(re.findall(r"\\\((\S+) \\rightarrow (\S+)\\\)", caption))
        notation = cell.notation
        spelt = {
            (
                "x_{t}" if q == "x" else notation.at(q.split("@")[0], "t", -1 if "-" in q else 0),
                notation.at(s, "t"),
            )
            for q, s in _drawn_reads(cell, 3)
        }
        assert named == spelt, name
        for v in graph.hidden_variables(cell):
            assert notation.at(v, "t") in caption, (name, v)


def test_each_edge_is_named_by_what_it_carries():
    def heads(name: str, source: str, target: str) -> tuple[str, ...]:
        cell = CELLS[name]
        read = Ref(source) if (name, source, target) == ("lstm", "c", "h") else Prev(source)
        return graph.carried(graph.state_reads(cell)[read, target], "t", cell.notation)

    assert heads("vanilla", "h", "h") == ("W_{hh}",)  # as in the vanilla figure
    assert heads("residual", "h", "h") == ("I", "W_{hh}")
    assert heads("lstm", "c", "c") == (r"\operatorname{diag}(f_{t})",)
    assert set(heads("lstm", "h", "c")) == {"W_{hf}", "W_{hi}", "W_{hg}"}
    assert heads("gru", "h", "h")[0] == r"\operatorname{diag}(z_{t})"
    # reset before: the path through r multiplies by W_hr, then by W_hn; named by W_hr
    assert heads("gru-before", "h", "h") == (
        r"\operatorname{diag}(z_{t})",
        "W_{hz}",
        "W_{hn}",
        "W_{hr}",
    )
    assert heads("lstm", "c", "h") == (r"\operatorname{diag}(1 - \tanh(c_{t})^{2})\cdots",)
    carry = {(e.source, e.target) for e in graph.cell_edges(CELLS["lstm"], 1) if e.carry}
    assert carry == {("c0", "c1"), ("c1", "h1")}  # paths through no weight matrix


def _texts(svg: str) -> list[str]:
    """The texts matplotlib drew (it writes each as a comment before its glyph paths)."""
    return re.findall(r"<!-- (.*?) -->", svg)


def _assert_clean(svg: str) -> None:
    assert "<text" not in svg and "font-family" not in svg and "@font-face" not in svg
    assert "dc:date" not in svg and not re.search(r"\b20\d\d-\d\d-\d\d", svg)


@pytest.mark.parametrize("name", ["vanilla", "lstm", "gru", "twostate"])
def test_the_graph_svg_is_stable_and_names_every_node(name):
    cell = CELLS[name]
    svg = figures.unrolled_cell_svg(cell)
    assert svg == figures.unrolled_cell_svg(cell)
    _assert_clean(svg)
    texts = set(_texts(svg))
    for t in range(4):
        for s in cell.state_names:
            assert f"${s}_{{{t}}}$" in texts
    for t in range(1, 4):
        assert {f"$x_{{{t}}}$", f"$y_{{{t}}}$", f"$L_{{{t}}}$"} <= texts
    if name != "lstm":
        assert not any(text.startswith("$c_") for text in texts)


def test_the_vanilla_graph_draws_what_the_vanilla_figure_draws():
    gen_figures = load_hook("gen_figures")
    old = _texts(gen_figures.draw_graph())
    new = _texts(figures.unrolled_cell_svg(CELLS["vanilla"]))
    normalise = {"$h_0$": "$h_{0}$"}  # QUANTITIES["h0"] writes the step without braces
    assert sorted(normalise.get(t, t) for t in old) == sorted(new)


def test_the_lstm_graph_labels_its_cell_state_path():
    texts = _texts(figures.unrolled_cell_svg(CELLS["lstm"]))
    assert texts.count(r"$\mathrm{diag}(f_{t})$") == 3  # on c_{t-1} -> c_t, every step


def test_routes_are_highlighted_along_the_cells_own_paths():
    lstm = CELLS["lstm"]
    along_c = graph.route_edges(lstm, 3, 1, "c", "c", within=("c",))
    assert along_c == {("c1", "c2"), ("c2", "c3")}
    all_h = graph.route_edges(lstm, 3, 1, "h", "h")
    # every path of the drawn graph from h_1 to h_3: h_2 reads c_2, h_3 reads c_3
    assert all_h == {
        ("h1", "h2"),
        ("h2", "h3"),
        ("h1", "c2"),
        ("c2", "h2"),
        ("c2", "c3"),
        ("h2", "c3"),
        ("c3", "h3"),
    }
    assert graph.route_edges(CELLS["twostate"], 3, 1, "m", "h") == {  # m_3 back to h_1
        ("h1", "h2"),
        ("h2", "m3"),
        ("h1", "m2"),
        ("m2", "m3"),
    }
    svg = figures.cell_path_svg(lstm, 3, "c", "c", within=("c",))
    assert svg == figures.cell_path_svg(lstm, 3, "c", "c", within=("c",))
    _assert_clean(svg)
    assert svg.count(figures.ROUTE_COLOUR) >= 2


def test_a_route_that_does_not_exist_is_refused():
    with pytest.raises(OutOfRangeError, match="no route joins h_3 back to m_1"):
        figures.cell_path_svg(CELLS["twostate"], 3, "h", "m")
    with pytest.raises(UnknownChoiceError, match="one of h, c; got 'z'"):
        figures.cell_path_svg(CELLS["lstm"], 3, "z", "c")
    with pytest.raises(OutOfRangeError, match="from 1 to 6"):
        figures.unrolled_cell_svg(CELLS["lstm"], steps=0)


def test_labels_are_converted_for_mathtext_or_refused():
    assert figures.mathtext(r"\operatorname{diag}(f_{t})") == r"$\mathrm{diag}(f_{t})$"
    assert figures.mathtext(r"\lVert x \rVert") == r"$\Vert x \Vert$"
    with pytest.raises(ValueError, match="does not render"):
        figures.mathtext(r"\notacommand{x}")


# --- the numeric plots -----------------------------------------------------------------


@pytest.fixture(scope="module")
def results():
    regimes = lab.lstm_regimes(T=LAB_T, H=LAB_H, seeds=(2013,))
    shares = lab.shares_beside(T=LAB_T, H=LAB_H)
    resets = lab.reset_difference(T=LAB_T, H=LAB_H)
    opened = lab.reset_difference(T=LAB_T, H=LAB_H, reset_bias=lab.OPEN_RESET_BIAS)
    return regimes, shares, resets, opened


def _plots(results) -> dict[str, str]:
    regimes, shares, resets, opened = results
    return {
        "cell path": plots.cell_path_figure(regimes),
        "regimes": plots.regimes_figure(regimes),
        "shares": plots.shares_figure(shares),
        "by distance": plots.shares_by_distance_figure(shares),
        "resets": plots.resets_figure(resets, opened),
    }


def test_the_plots_are_stable_and_labelled_in_the_sites_notation(results):
    first, second = _plots(results), _plots(results)
    table = cell_offsets(BUILTIN_CELLS["lstm"](), BUILTIN_CELLS["gru"]())
    for name, svg in first.items():
        assert svg == second[name], name
        _assert_clean(svg)
        bad, _ = violations("\n".join(_texts(svg)), name, table)
        assert bad == [], name
    texts = _texts(first["cell path"])
    for label, _, _ in plots.CURVES.values():
        assert label in texts
    assert r"$\Vert \mathrm{d} h_t / \mathrm{d} h_{t-1} \Vert$ (median over steps)" in _texts(
        first["resets"]
    )
    assert "log10 share of loss i's gradient" in _texts(first["shares"])


def test_the_heat_maps_refuse_networks_of_different_lengths(results):
    _, shares, _, _ = results
    other = lab.shares_beside({"gru": lab.SHARE_CASES["gru"]}, T=LAB_T + 1, H=LAB_H)
    with pytest.raises(ValueError, match="one sequence"):
        plots.shares_figure({**shares, "gru": other["gru"]})


def test_the_plots_module_reads_no_sympy_and_no_derivations():
    code = (
        f"import sys; sys.path.insert(0, {str(HOOKS)!r}); import gen_gated_plots; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sympy', 'derivations')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
