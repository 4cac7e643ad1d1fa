"""``--cell`` on derive, jacobian and verify, run as a user would: a fresh process.

What is checked against what: the JSON's (i, k) pairs and path counts against the
closed forms (T(T+1)/2 pairs; a route product per choice of states), the loop map
against "iteration t adds exactly the terms with k = t", a user's own cell written in
a file the test creates, derived and verified from the shell with no other code, the
derivative rule of every output judged by the cell's own equations, and every usage
error exiting 2 with the rule and no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from notation_rule import cell_offsets, derivatives, violations

from derivations.core.cells import load_cell

ROOT = Path(__file__).resolve().parents[1]

#: A minimal gated unit: one gate f decides between keeping h_{t-1} and a tanh candidate.
USER_CELL = """
from derivations.core.cell import (
    Add, Bias, Cell, Equation, Func, Input, MatMul, Mul, OneMinus, Param, Prev, Ref, State,
)

def _pre(gate):
    return Add(MatMul(Input(), f"Wx{gate}"), MatMul(Prev("h"), f"Wh{gate}"), Bias(f"b{gate}"))

MGU = Cell(
    "mgu",
    params=tuple(
        Param(f"{w}{g}", rows, latex=f"{w[0]}_{{{w[1:]}{g}}}")
        for g in ("f", "n") for w, rows in (("Wx", "D"), ("Wh", "H"), ("b", None))
    ),
    states=(State("h", "h"),),
    equations=(
        Equation("f", Func("sigmoid", _pre("f")), "f"),
        Equation("n", Func("tanh", _pre("n")), "n"),
        Equation("h", Add(Mul(OneMinus(Ref("f")), Prev("h")), Mul(Ref("f"), Ref("n"))), "h"),
    ),
)
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if cwd is not None:  # the user's module is found from its own directory
        env["PYTHONPATH"] = os.pathsep.join([str(cwd), str(ROOT)])
    return subprocess.run(
        [sys.executable, "-m", "derivations", *args],
        capture_output=True, text=True, check=False, timeout=600, cwd=cwd or ROOT, env=env,
    )  # fmt: skip


@pytest.mark.parametrize(("cell", "param"), [("lstm", "Wxf"), ("gru", "bhn"), ("residual", "X")])
def test_derive_json_pairs_and_loop_map(cell: str, param: str) -> None:
    T = 3
    out = run("derive", "--cell", cell, "--param", param, "--steps", str(T), "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    pairs = [(t["loss"], t["step"]) for t in data["terms"]]
    assert pairs == [(i, k) for i in range(1, T + 1) for k in range(1, i + 1)]
    for entry in data["loop_map"]:
        t = entry["iteration"]
        assert sorted(map(tuple, entry["adds"])) == [(i, t) for i in range(t, T + 1)]
    assert all(t["paths"] and t["latex"] for t in data["terms"])


def test_lstm_term_paths_count_the_routes() -> None:
    """The (3, 1) term of dL/dc_0 takes one path per route from h_3 to c_0's step-1 states."""
    data = json.loads(run("derive", "--cell", "lstm", "--param", "c0", "--format", "json").stdout)
    (term,) = [t for t in data["terms"] if (t["loss"], t["step"]) == (1, 1)]
    # L_1 reaches c_0 only through c_1 -> h_1 (h_1 = o_1 tanh(c_1)): one path
    assert len(term["paths"]) == 1


def test_jacobian_along_the_cell_state() -> None:
    out = run("jacobian", "--cell", "lstm", "--from", "3", "--to", "1", "--of", "c", "--wrt", "c")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    # the route that stays on c is the product of the two local blocks, each diag(f_t)
    assert r"\frac{\partial c_{2}}{\partial c_{1}}\,\frac{\partial c_{3}}{\partial c_{2}}" in text
    assert r"\frac{\partial c_{2}}{\partial c_{1}} &= \operatorname{diag}(f_{2})" in text
    assert r"\frac{\partial c_{3}}{\partial c_{2}} &= \operatorname{diag}(f_{3})" in text
    compact = run("jacobian", "--cell", "lstm", "--from", "3", "--to", "1", "--form", "compact")
    assert r"\prod_{t=2}^{3} J_t" in compact.stdout and "pmatrix" in compact.stdout


def test_markdown_has_the_printed_loop() -> None:
    out = run("derive", "--cell", "gru", "--param", "Whz", "--format", "markdown")
    assert out.returncode == 0, out.stderr
    assert "```python" in out.stdout and "dWhz += h[t-1].T @ " in out.stdout
    assert "| 1 | (1, 1), (2, 1), (3, 1) |" in out.stdout


def test_a_users_cell_derives_and_verifies_from_the_shell(tmp_path: Path) -> None:
    (tmp_path / "mycells.py").write_text(textwrap.dedent(USER_CELL))
    out = run("derive", "--cell", "mycells:MGU", "--param", "Whf", "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["cell"] == "mgu"
    checked = run("verify", "--cell", "mycells:MGU", "--steps", "2", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "0 failed: PASSED" in checked.stdout
    assert "loop vs finite differences" in checked.stdout


@pytest.mark.parametrize("cell", ["lstm", "gru", "gru-before", "residual"])
def test_cell_outputs_follow_the_derivative_rule(cell: str) -> None:
    table = cell_offsets(load_cell(cell))
    runs = [
        ("derive", "--cell", cell, "--param", "Wyh" if cell == "residual" else "X"),
        ("derive", "--cell", cell, "--param", "h0", "--form", "compact"),
        ("jacobian", "--cell", cell, "--from", "3", "--to", "1"),
    ]
    judged = 0
    for argv in runs:
        out = run(*argv)
        assert out.returncode == 0, (argv, out.stderr)
        bad, undecided = violations(out.stdout, " ".join(argv), table)
        assert not bad, bad[:10]
        judged += len(derivatives(out.stdout, "")) - undecided
    assert judged > 10, judged


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("derive", "--cell", "lstm", "--param", "Wxh"), "Wxi, Whi, bi"),
        (("derive", "--param", "Wxf"), "add --cell lstm"),
        (("derive", "--cell", "lstm", "--param", "Wxf", "--activation", "relu"), "fixes its own"),
        (("derive", "--cell", "no_such_module:X", "--param", "h0"), "no module named"),
        (("derive", "--cell", "json:dumps", "--param", "h0"), "function of no arguments"),
        (("derive", "--cell", "json:JSONDecodeError", "--param", "h0"), "function of no"),
        (("derive", "--cell", "os:getcwd", "--param", "h0"), "must be a derivations Cell"),
        (("derive", "--cell", "lstm", "--param", "Wxf", "--steps", "40"), "compact form"),
        (("jacobian", "--from", "3", "--to", "1", "--of", "c"), "one of h"),
        (("jacobian", "--cell", "lstm", "--from", "1", "--to", "3"), "Swap them"),
        (("verify", "--activation", "relu"), "Add --cell vanilla"),
        (("verify", "--cell", "lstm", "--steps", "0"), "from 1 to"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args: tuple[str, ...], said: str) -> None:
    out = run(*args)
    assert out.returncode == 2, (args, out.stdout, out.stderr)
    assert said in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
