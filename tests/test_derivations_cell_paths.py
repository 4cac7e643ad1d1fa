"""Routes between states: their sum is rnnnum's block Jacobian; the CLI lists them.

The routes and their blocks come from the cell's equations (`derivations.gradient.paths`);
the reference is `rnnnum.jacobian_products`, which multiplies its own hand-written
one-step Jacobians, and `rnnnum.cell_state_path` for the LSTM's route along c.
"""

from __future__ import annotations

import json
import subprocess
import sys
from math import prod

import numpy as np
import pytest
from notation_rule import cell_offsets, derivatives, violations
from test_derivations_cell_unroll import ATOL, RTOL, D, H, T, V, _numbers, _rnnnum_params

import rnnnum
from derivations import OutOfRangeError, UnknownChoiceError
from derivations.core.cell import Prev, Ref
from derivations.core.cells import BUILTIN_CELLS, gru, load_cell, lstm, residual, vanilla
from derivations.gradient.paths import (
    MAX_ROUTE_SPAN,
    block_derivative,
    held_fixed,
    routes,
    routes_json,
    routes_latex,
    routes_text,
)
from derivations.program.unroll import unroll_cell


def _route_value(route, program, trace) -> np.ndarray:
    """The route's product of blocks, earliest step first (row convention)."""
    out = np.eye(H)
    for j in reversed(range(len(route.blocks))):
        out = out @ route.blocks[j].value(program.numeric_scope(trace, route.i - j), H, H)
    return out


@pytest.mark.parametrize("reset", [None, "after", "before"], ids=["lstm", "gru", "gru-before"])
def test_routes_add_up_to_rnnnums_block_jacobians(reset, rng) -> None:
    cell = lstm() if reset is None else gru(reset)
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss="mse")
    numbers, targets = _numbers(program, rng, "mse")
    trace = program.trace(numbers)
    params = _rnnnum_params(program, numbers, reset)
    initial = {s: trace[s][0][None, :] for s in cell.state_names}
    cache = rnnnum.forward(
        params, trace["x"][None, 1:], targets, loss="mse", h0=initial["h"], c0=initial.get("c")
    )
    products = rnnnum.jacobian_products(params, cache)
    for i, k in ((3, 0), (3, 1), (2, 0)):
        for of in cell.state_names:
            for wrt in cell.state_names:
                found = routes(cell, i, k, of=of, wrt=wrt)
                total = sum((_route_value(r, program, trace) for r in found), np.zeros((H, H)))
                np.testing.assert_allclose(
                    total, products.block(of, wrt)[0, i, k], rtol=RTOL, atol=ATOL,
                    err_msg=f"{cell.name}: d{of}_{i}/d{wrt}_{k}",
                )  # fmt: skip
    if reset is None:  # the route along c alone: the product of forget gates
        (along_c,) = [r for r in routes(cell, 3, 0, of="c", wrt="c") if set(r.states) == {"c"}]
        path = rnnnum.cell_state_path(params, cache)[0, 3, 0]
        np.testing.assert_allclose(
            _route_value(along_c, program, trace), np.diag(path), rtol=RTOL, atol=ATOL
        )
        forget = np.prod([trace["f"][t] for t in (1, 2, 3)], axis=0)
        np.testing.assert_allclose(np.diag(path), np.diag(forget), rtol=RTOL, atol=ATOL)


def test_route_counts_follow_from_the_blocks() -> None:
    assert [r.paths for r in routes(vanilla("tanh"), 4, 1)] == [1]  # one path per step
    assert [r.paths for r in routes(residual("tanh"), 3, 1)] == [4]  # skip or through a_t
    lstm_routes = routes(lstm(), 3, 1, of="h", wrt="h")
    assert [r.label() for r in lstm_routes] == ["h_3 <- h_2 <- h_1", "h_3 <- c_2 <- h_1"]
    assert [r.paths for r in lstm_routes] == [16, 3]  # 4 x 4 through the gates; 3 x 1


def test_bad_spans_are_refused_with_the_fix() -> None:
    with pytest.raises(OutOfRangeError, match="Swap them"):
        routes(lstm(), 1, 3)
    with pytest.raises(OutOfRangeError, match="too long"):
        routes(lstm(), MAX_ROUTE_SPAN + 1, 0)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "derivations", *args], capture_output=True, text=True, check=False
    )


def test_cli_params_and_paths() -> None:
    params = _cli("params", "--cell", "lstm", "--format", "json")
    assert params.returncode == 0, params.stderr
    rows = json.loads(params.stdout)["params"]
    assert [r["name"] for r in rows][:3] == ["Wxi", "Whi", "bi"]
    assert {r["stacked_in"] for r in rows} == {"Wx", "Wh", "b"}
    text = _cli("paths", "--cell", "lstm", "--from", "3", "--to", "1", "--of", "c", "--wrt", "c")
    assert text.returncode == 0, text.stderr
    assert "c_3 <- c_2 <- c_1  (1 path)" in text.stdout
    assert r"\frac{\partial c_{3}}{\partial c_{2}} = \operatorname{diag}(f_{3})" in text.stdout
    assert r"\frac{\partial h_{2}}{\partial c_{1}} = " in text.stdout  # through c_2, h_1 fixed


@pytest.mark.parametrize("name", ["lstm", "gru", "gru-before", "residual", "vanilla"])
def test_paths_follow_the_derivative_rule_of_the_cell(name) -> None:
    """Local blocks with ∂, total ones with d, judged by the cell's own equations."""
    out = _cli("paths", "--cell", name, "--from", "4", "--to", "1")
    assert out.returncode == 0, out.stderr
    table = cell_offsets(BUILTIN_CELLS[name]())
    bad, undecided = violations(out.stdout, name, table)
    assert not bad, bad
    assert len(derivatives(out.stdout, name)) - undecided >= 3


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("paths", "--cell", "nope", "--from", "2", "--to", "1"), "vanilla, residual, lstm"),
        (("params", "--cell", "no_such_module_here:CELL"), "no_such_module_here"),
        (("params", "--cell", "os:nothing"), "no Cell among"),
        (("paths", "--cell", "lstm", "--from", "3", "--to", "1", "--of", "q"), "one of h, c"),
    ],
)
def test_cli_usage_errors_exit_2_without_traceback(args, said) -> None:
    out = _cli(*args)
    assert out.returncode == 2, out
    assert said in out.stderr and "Traceback" not in out.stderr


def _graph_paths(cell, state: str, previous: str) -> int:
    """Paths in the graph of one step from the previous `previous` to `state`, counted on
    the equations' leaves alone (each leaf read once, however often an equation uses it)."""

    def into(name: str) -> int:
        return sum(
            1 if leaf == Prev(previous) else into(leaf.name) if isinstance(leaf, Ref) else 0
            for leaf in cell.leaves(name)
        )

    return into(state)


@pytest.mark.parametrize("name", ["vanilla", "residual", "lstm", "gru", "gru-before"])
def test_a_path_is_a_path_in_the_graph_and_a_product_a_term_of_the_sum(name: str) -> None:
    from derivations.gradient.paths import block_paths, repeated_reads

    cell = load_cell(name)
    for (state, previous), block in cell.step_jacobian_blocks().items():
        assert block_paths(block) == _graph_paths(cell, state, previous), (state, previous)
        assert len(block) >= block_paths(block)
    for route in routes(cell, 3, 1):
        steps = zip(route.states, route.states[1:], strict=False)
        assert route.paths == prod(_graph_paths(cell, s, s2) for s, s2 in steps), route.label()
    expected_repeats = [("z", "h", 2)] if name.startswith("gru") else []
    assert repeated_reads(cell) == expected_repeats


def test_the_grus_update_gate_gives_two_products_on_one_path() -> None:
    (step,) = routes(load_cell("gru"), 2, 1)
    assert (step.paths, step.products) == (4, 5)  # skip, z, r then n, n: z's path twice
    text = _cli("paths", "--cell", "gru", "--from", "2", "--to", "1").stdout
    assert "1 route through the states of the gru cell, 4 paths, 5 products:" in text, text


def test_the_span_limit_and_the_steps_allowed() -> None:
    """Spans up to 8 steps are listed (the LSTM: 2^7 = 128 routes from h to h, each of
    the 7 states between h or c); the span counts, not how late the steps are."""
    assert len(routes(lstm(), 8, 0, of="h", wrt="h")) == 128
    with pytest.raises(OutOfRangeError, match="i - k = 9 steps is too long"):
        routes(lstm(), 9, 0)
    assert [r.label() for r in routes(vanilla(), 10, 5)] == [
        "h_10 <- h_9 <- h_8 <- h_7 <- h_6 <- h_5"
    ]
    with pytest.raises(OutOfRangeError, match="k < i; got i=2, k=2"):
        routes(lstm(), 2, 2)
    for i, k, said in (
        (True, 0, r"the later step i \(--from\) must be an integer >= 0; got True"),
        (3, -1, r"the earlier step k \(--to\) must be an integer >= 0; got -1"),
        (2.0, 1, r"the later step i \(--from\) must be an integer >= 0; got 2.0"),
    ):
        with pytest.raises(OutOfRangeError, match=said):
            routes(lstm(), i, k)
    with pytest.raises(UnknownChoiceError, match="--of must be a state of the lstm cell"):
        routes(lstm(), 3, 1, of="q")
    with pytest.raises(UnknownChoiceError, match="--wrt must be a state of the lstm cell"):
        routes(lstm(), 3, 1, wrt="q")


def test_held_fixed_and_the_symbol_of_a_block() -> None:
    """The LSTM's h_t reads c_t (h_t = o_t tanh(c_t)); c_t does not read h_t; the GRU has
    one state. dc_t/dc_{t-1} is one equation (∂), dh_t/dh_{t-1} follows every path (d)."""
    assert held_fixed(lstm(), "c") == ("h",)
    assert held_fixed(lstm(), "h") == ()
    assert held_fixed(gru(), "h") == ()
    assert block_derivative(lstm(), "c", "c") == r"\frac{\partial c_{t}}{\partial c_{t-1}}"
    assert block_derivative(lstm(), "h", "h") == (r"\frac{\mathrm{d} h_{t}}{\mathrm{d} h_{t-1}}")
    assert block_derivative(lstm(), "h", "c", 3) == r"\frac{\partial h_{3}}{\partial c_{2}}"


#: Written by hand from the LSTM's equations: the blocks of h_3 <- c_2 <- h_1.
C2_FROM_H1 = (
    r"\frac{\mathrm{d} c_{2}}{\mathrm{d} h_{1}} = "
    r"W_{hf}\,\operatorname{diag}(f_{2} \odot (1 - f_{2}))\,\operatorname{diag}(c_{1})"
    r" + W_{hi}\,\operatorname{diag}(i_{2} \odot (1 - i_{2}))\,\operatorname{diag}(g_{2})"
    r" + W_{hg}\,\operatorname{diag}(1 - g_{2}^{2})\,\operatorname{diag}(i_{2})"
)
H3_FROM_C2 = (
    r"\frac{\partial h_{3}}{\partial c_{2}} = \operatorname{diag}(f_{3})\,"
    r"\operatorname{diag}(1 - \tanh(c_{3})^{2})\,\operatorname{diag}(o_{3})"
)


def test_routes_as_json_text_and_latex() -> None:
    """h_3 from h_1 in the LSTM: through h_2 (4 x 4 ways) or through c_2 (3 gates into
    c_2, then c_2 -> c_3 -> h_3 with h_2 held fixed)."""
    cell = lstm()
    found = routes(cell, 3, 1, of="h", wrt="h")
    data = routes_json(cell, found)
    assert data["cell"] == "lstm"
    assert [r["states"] for r in data["routes"]] == [["h_3", "h_2", "h_1"], ["h_3", "c_2", "h_1"]]
    assert [(r["paths"], r["products"]) for r in data["routes"]] == [(16, 16), (3, 3)]
    gates = [["ao", "o", "h"], ["af", "f", "c", "h"], ["ai", "i", "c", "h"], ["ag", "g", "c", "h"]]
    assert data["routes"][0]["through"] == [gates, gates]  # earliest step first
    assert data["routes"][1]["through"] == [
        [["af", "f", "c"], ["ai", "i", "c"], ["ag", "g", "c"]],
        [["c", "h"]],
    ]
    assert data["routes"][1]["blocks"] == [C2_FROM_H1, H3_FROM_C2]
    assert data["routes"][0]["blocks"][0].startswith(
        r"\frac{\mathrm{d} h_{2}}{\mathrm{d} h_{1}} = W_{ho}\,"
    )
    lines = routes_text(cell, found).splitlines()
    assert lines[0] == "2 routes through the states of the lstm cell, 19 paths:"
    assert lines[1] == "h_3 <- h_2 <- h_1  (16 paths)"
    assert lines[2].startswith(r"    \frac{\mathrm{d} h_{2}}{\mathrm{d} h_{1}} = W_{ho}\,")
    assert lines[4:] == ["h_3 <- c_2 <- h_1  (3 paths)", f"    {C2_FROM_H1}", f"    {H3_FROM_C2}"]
    assert routes_text(gru(), []) == (
        "no path: the gru cell's later state does not depend on that one"
    )
    d = r"\frac{\mathrm{d} %s}{\mathrm{d} %s}"
    latex = routes_latex(cell, found, "h", "h")
    rows = latex.removeprefix(r"\begin{aligned}").removesuffix(r"\end{aligned}").split(r" \\ ")
    assert rows[0] == (
        d % ("h_{3}", "h_{1}") + " &= " + d % ("h_{2}", "h_{1}") + r"\," + d % ("h_{3}", "h_{2}")
        + " + " + d % ("c_{2}", "h_{1}") + r"\," + r"\frac{\partial h_{3}}{\partial c_{2}}"
    )  # fmt: skip
    assert len(rows) == 5  # and each of the four blocks defined once
    assert rows[3:] == [C2_FROM_H1.replace(" = ", " &= "), H3_FROM_C2.replace(" = ", " &= ")]


def test_the_vanilla_jacobian_over_two_steps_by_hand() -> None:
    d = r"\frac{\mathrm{d} %s}{\mathrm{d} %s}"
    found = routes(vanilla(), 2, 0, of="h", wrt="h")
    assert routes_latex(vanilla(), found, "h", "h") == (
        r"\begin{aligned}"
        + d % ("h_{2}", "h_{0}") + " &= " + d % ("h_{1}", "h_{0}") + r"\," + d % ("h_{2}", "h_{1}")
        + r" \\ " + d % ("h_{1}", "h_{0}") + r" &= W_{hh}\,\operatorname{diag}(1 - h_{1}^{2})"
        + r" \\ " + d % ("h_{2}", "h_{1}") + r" &= W_{hh}\,\operatorname{diag}(1 - h_{2}^{2})"
        + r"\end{aligned}"
    )  # fmt: skip
    with pytest.raises(OutOfRangeError, match="there is no route between them"):
        routes_latex(vanilla(), [], "h", "h")
