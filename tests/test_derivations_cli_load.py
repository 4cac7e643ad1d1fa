"""Loading a user's cell from the shell, as a new user does: the installed ``unrolled``
script, run in the folder that holds the module, with no PYTHONPATH.

Every way a user's module can fail (a syntax error, an exception at import, a factory
that raises, a factory returning something else, a Cell broken at module level) must
end as a load error: exit 2, no traceback, the file and the line named (the line
numbers below are those of the files the tests write, counted by hand). A degenerate
cell is derived, with a warning on stderr that says what it means for the gradient;
``jacobian --from i --to i`` prints the identity for a user's cell as for the vanilla one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: The console script a user runs (installed next to the venv's python).
UNROLLED = Path(sys.executable).parent / "unrolled"

#: An element-wise ReLU recurrence; lines 1-3 imports, the cell from line 5.
GOOD = """\
from derivations.core.cell import (
    Add, Bias, Cell, Equation, Func, Input, MatMul, Mul, Param, Prev, State,
)

def relu_cell():
    params = (Param("W", "D", latex="W"), Param("u", None, latex="u"), Param("b", None, latex="b"))
    a = Add(MatMul(Input(), "W"), Mul(Bias("u"), Prev("h")), Bias("b"))
    return Cell("ew", params, (State("h", "h"),), (Equation("h", Func("act", a), "h"),),
                activation="relu")

def raises():
    return 1 / 0

def wants_an_argument(size):
    return size

def not_a_cell():
    return [1, 2]

def feedforward():
    return Cell("ff", (Param("W", "D", latex="W"),), (State("h", "h"),),
                (Equation("h", Func("tanh", MatMul(Input(), "W")), "h"),))

RELU = relu_cell()
"""

#: A cell whose second state, c, nothing reads: h never looks at it.
IDLE_STATE = """\
from derivations.core.cell import Add, Cell, Equation, Func, Input, MatMul, Param, Prev, State

IDLE = Cell(
    "idle",
    (Param("W", "D", latex="W"), Param("U", "H", latex="U"), Param("V", "D", latex="V")),
    (State("h", "h"), State("c", "c")),
    (
        Equation("c", Add(Prev("c"), MatMul(Input(), "V")), "c"),
        Equation("h", Func("tanh", Add(MatMul(Input(), "W"), MatMul(Prev("h"), "U"))), "h"),
    ),
)
"""

#: Broken modules: what each holds, and the line the error must name.
BROKEN = {
    "syntax": ("CELL = (\n", 1, "SyntaxError: '(' was never closed"),
    "at_import": ("import math\n\nRATE = math.log(-1.0)\n", 3, "ValueError: math domain error"),
    # a module that ends the program at import (a script's guard run on import)
    "exits": ("import sys\n\nsys.exit('run me as a script')\n", 3, "SystemExit: run me as"),
    "bad_cell": (
        "from derivations.core.cell import Cell, Equation, Input, Param, State\n"
        "\n"
        "CELL = Cell('bad', (Param('W', 'D', latex='W'),), (State('h', 'h'),),\n"
        "            (Equation('h', Input(), 'h'),))\n",
        3,
        "CellDefinitionError: cell 'bad', equation 1 (h): state h must be H wide",
    ),
}


def unrolled(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(UNROLLED), *args],
        capture_output=True, text=True, check=False, timeout=600, cwd=cwd, env=env,
    )  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "mycells.py").write_text(GOOD)
    (tmp_path / "idle.py").write_text(IDLE_STATE)
    for name, (text, _, _) in BROKEN.items():
        (tmp_path / f"{name}.py").write_text(text)
    return tmp_path


def test_a_module_in_the_current_directory_is_found(folder: Path) -> None:
    out = unrolled("derive", "--cell", "mycells:relu_cell", "--param", "u", "--steps", "2",
                   cwd=folder)  # fmt: skip
    assert out.returncode == 0, out.stderr
    # the (2, 1) term by hand: h_1 e_1 ... through diag(u) and the ReLU's step function
    assert r"\frac{\mathrm{d} L}{\mathrm{d} u}" in out.stdout
    assert "warning" not in out.stderr


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_module_is_a_load_error_naming_file_and_line(folder: Path, name: str) -> None:
    _, line, said = BROKEN[name]
    out = unrolled("derive", "--cell", f"{name}:CELL", "--param", "W", cwd=folder)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    assert f"{folder / name}.py, line {line}" in out.stderr, out.stderr
    assert said in out.stderr, out.stderr
    assert out.stderr.startswith(f"unrolled derive: error: cell spec '{name}:CELL'")


@pytest.mark.parametrize(
    ("attribute", "said"),
    [
        ("raises", "calling raises() failed at {folder}/mycells.py, line 12: ZeroDivisionError"),
        ("wants_an_argument", "a function of no arguments returning one; calling it with none"),
        ("not_a_cell", "must be a derivations Cell or a function of no arguments returning one; "
                       "got list"),
        ("missing", "module mycells has no attribute 'missing' (its cells: RELU)"),
    ],
)  # fmt: skip
def test_a_factory_that_fails_is_a_load_error(folder: Path, attribute: str, said: str) -> None:
    out = unrolled("verify", "--cell", f"mycells:{attribute}", "--steps", "1", cwd=folder)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    assert said.format(folder=folder) in out.stderr, out.stderr


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("nosuch:CELL", "no module named 'nosuch' in the current directory ({folder})"),
        ("mycells.py:relu_cell", "write mycells:relu_cell"),
    ],
)
def test_a_module_that_is_not_there_says_where_it_was_looked_for(
    folder: Path, spec: str, said: str
) -> None:
    out = unrolled("params", "--cell", spec, cwd=folder)
    assert out.returncode == 2
    assert said.format(folder=folder) in out.stderr, out.stderr
    assert "run from its directory" not in out.stderr  # the advice the user already followed


def test_a_state_nothing_reads_is_derived_with_a_warning(folder: Path) -> None:
    out = unrolled("derive", "--cell", "idle:IDLE", "--param", "V", "--steps", "2", cwd=folder)
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("unrolled derive: warning: cell 'idle': state c never reaches "
                                 "the loss")  # fmt: skip
    assert "every term through c is zero" in out.stderr
    assert out.stderr.count("warning") == 1  # h is sound: one warning, for c


def test_a_state_that_never_feeds_back_is_derived_with_a_warning(folder: Path) -> None:
    out = unrolled("derive", "--cell", "mycells:feedforward", "--param", "W", cwd=folder)
    assert out.returncode == 0, out.stderr
    assert "warning: cell 'ff': state h never feeds back (no equation reads Prev('h'))" in (
        out.stderr
    )
    assert "every term with k < i through it vanishes (the cell is not recurrent)" in out.stderr


#: dX_3/dY_3 as the pages write it, with X and Y states of the cell.
SAME_STEP = r"\frac{\mathrm{d} %s_{3}}{\mathrm{d} %s_{3}} = %s"


@pytest.mark.parametrize(
    ("args", "printed"),
    [
        (("--cell", "mycells:relu_cell"), SAME_STEP % ("h", "h", "I")),
        (("--cell", "lstm", "--of", "c", "--wrt", "c"), SAME_STEP % ("c", "c", "I")),
        (("--cell", "lstm", "--of", "c", "--wrt", "h"), SAME_STEP % ("c", "h", "0")),
        (("--cell", "gru", "--form", "compact"), SAME_STEP % ("h", "h", "I")),  # one state
        (("--cell", "lstm", "--form", "compact"), SAME_STEP % ("s", "s", "I")),  # stacked
        ((), SAME_STEP % ("h", "h", "I")),  # the vanilla path, as before
    ],
)
def test_jacobian_at_k_equal_i_is_the_identity(
    folder: Path, args: tuple[str, ...], printed: str
) -> None:
    out = unrolled("jacobian", "--from", "3", "--to", "3", *args, cwd=folder)
    assert out.returncode == 0, out.stderr
    assert out.stdout == printed + "\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("jacobian", "--cell", "gru", "--from", "2", "--to", "3"), "needs k <= i"),
        (("jacobian", "--cell", "lstm", "--from", "3", "--to", "3", "--of", "q"), "one of h, c"),
        (("paths", "--cell", "lstm", "--from", "3", "--to", "3"), "Within one step there is no"),
    ],
)
def test_step_errors_say_the_rule_they_apply(
    folder: Path, args: tuple[str, ...], said: str
) -> None:
    out = unrolled(*args, cwd=folder)
    assert out.returncode == 2, out.stdout
    assert said in out.stderr and "Traceback" not in out.stderr
    assert "Swap them (--from 3 --to 3)" not in out.stderr


def test_the_module_folder_is_not_left_on_the_path(folder: Path) -> None:
    """Python side: load_cell finds the module from the current directory, then leaves
    sys.path as it was."""
    code = textwrap.dedent(
        """
        import os, sys
        from derivations.core.cells import load_cell
        sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
        before = list(sys.path)
        print(load_cell("mycells:relu_cell").name, sys.path == before)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, cwd=folder, timeout=300)  # fmt: skip
    assert out.stdout.split() == ["ew", "True"], out.stderr


def test_verify_of_a_users_cell_says_which_checks_ran(folder: Path) -> None:
    out = unrolled("verify", "--cell", "mycells:relu_cell", "--steps", "2", cwd=folder)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-3] == (
        "checks run: loop vs finite differences, terms vs finite differences, sum of terms vs loop"
    )
    assert lines[-2].startswith(
        "not run: loop vs rnnnum.bptt, terms vs rnnnum.components, Jacobian products vs "
        "rnnnum: the cell names no rnnnum twin"
    )
    # 7 gradients x 3 kinds x 2 losses x T = 1, 2
    assert lines[-1] == "84 checks, 0 failed: PASSED"
    for kind in ("terms vs finite differences", "sum of terms vs loop"):
        assert sum(line.startswith(kind) for line in lines) == 7  # one summary row per gradient
