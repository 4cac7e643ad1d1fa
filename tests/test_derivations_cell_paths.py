"""Routes between states: their sum is rnnnum's block Jacobian; the CLI lists them.

The routes and their blocks come from the cell's equations (`derivations.cell_paths`);
the reference is `rnnnum.jacobian_products`, which multiplies its own hand-written
one-step Jacobians, and `rnnnum.cell_state_path` for the LSTM's route along c.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from notation_rule import cell_offsets, derivatives, violations
from test_derivations_cell_unroll import ATOL, RTOL, D, H, T, V, _numbers, _rnnnum_params

import rnnnum
from derivations import OutOfRangeError
from derivations.cell_paths import MAX_ROUTE_SPAN, routes
from derivations.cell_unroll import unroll_cell
from derivations.cells import BUILTIN_CELLS, gru, lstm, residual, vanilla


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
