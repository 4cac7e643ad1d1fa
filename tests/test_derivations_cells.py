"""The built-in cells and a user's own: equations, local Jacobians, step blocks, loading.

Every local Jacobian of every equation of every built-in cell, every parameter
derivative, and every one-step block between states is compared with `sympy.diff` of
the cell's own program, entry by entry, at H = D = 2. A minimal gated unit written
only here goes through the loader and the same checks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sympy as sp

import rnnnum
from derivations import UnknownChoiceError
from derivations.core.cell import (
    Add,
    Bias,
    Cell,
    Equation,
    Func,
    Input,
    MatMul,
    Mul,
    OneMinus,
    Param,
    Prev,
    Ref,
    State,
)
from derivations.core.cells import (
    BUILTIN_CELLS,
    CellLoadError,
    gru,
    load_cell,
    lstm,
    residual,
    vanilla,
)
from derivations.core.nodes import Node
from derivations.program.unroll import UnrolledCell, unroll_cell
from rnnnum.gated_params import GRU_GATES, LSTM_GATES

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_derivations_cell import same  # the exact comparison of two expressions

D = H = 2  # small enough for exact comparison of every entry


def gated_unit() -> Cell:
    r"""A minimal gated unit, written only in this test file.

    f = σ(x W_xf + h_{t-1} W_hf + b_f),
    h = (1 - f) ⊙ h_{t-1} + f ⊙ tanh(x W_xh + (f ⊙ h_{t-1}) W_hh + b_h).
    """
    params = (
        Param("Wxf", "D", latex="W_{xf}"),
        Param("Whf", "H", latex="W_{hf}"),
        Param("bf", None, latex="b_{f}"),
        Param("Wxh", "D", latex="W_{xh}"),
        Param("Whh", "H", latex="W_{hh}"),
        Param("bh", None, latex="b_{h}"),
    )
    hp = Prev("h")
    f = Func("sigmoid", Add(MatMul(Input(), "Wxf"), MatMul(hp, "Whf"), Bias("bf")))
    candidate = Add(MatMul(Input(), "Wxh"), MatMul(Mul(Ref("f"), hp), "Whh"), Bias("bh"))
    h = Add(Mul(OneMinus(Ref("f")), hp), Mul(Ref("f"), Func("tanh", candidate)))
    return Cell(
        "gated-unit", params, (State("h", "h"),), (Equation("f", f, "f"), Equation("h", h, "h"))
    )


GATED_UNIT = gated_unit()
NOT_A_CELL = 42

CELLS = {
    **{name: load_cell(name) for name in BUILTIN_CELLS},
    "vanilla-relu": vanilla("relu"),
    "vanilla-sigmoid": vanilla("sigmoid"),
    "residual-leaky": residual("leaky_relu"),
    "user": GATED_UNIT,
}


@pytest.fixture(scope="module", params=sorted(CELLS))
def program(request: pytest.FixtureRequest) -> UnrolledCell:
    return unroll_cell(CELLS[request.param], T=1, D=D, H=H, V=2, loss="mse")


def _width(leaf: Node, program: UnrolledCell) -> int:
    scope = program.step_scope(1)
    return len(leaf.forward(scope))


def test_every_local_jacobian_is_diff_of_its_equation(program: UnrolledCell) -> None:
    cell, scope = program.cell, program.step_scope(1)
    checked = 0
    for eq in cell.equations:
        rows = eq.expr.forward(scope)
        own = dict(zip(program.values[eq.name][1], rows, strict=True))  # f'(a) reads the value
        for leaf in cell.leaves(eq.name):
            width = _width(leaf, program)
            stated = cell.local_jacobian(eq.name, leaf).matrix(scope, width, len(rows))
            stated = stated.xreplace(own)
            leaf_row = leaf.forward(scope)
            for j in range(width):
                for m in range(len(rows)):
                    exact = sp.diff(rows[m], leaf_row[j])
                    assert same(stated[j, m], exact), (cell.name, eq.name, leaf, j, m)
            checked += 1
    assert checked >= len(cell.equations)


def test_every_parameter_derivative_is_diff_of_its_equation(program: UnrolledCell) -> None:
    cell, scope = program.cell, program.step_scope(1)
    for eq in cell.equations:
        rows = eq.expr.forward(scope)
        own = dict(zip(program.values[eq.name][1], rows, strict=True))
        for param in cell.param_names:
            matrix = program.params[param]
            for j in range(matrix.rows):
                for k in range(matrix.cols):
                    for m in range(len(rows)):
                        stated = sum(
                            (
                                u.derivative(scope, matrix.rows, matrix.cols, len(rows))[j][k][m]
                                for u in cell.param_uses(eq.name, param)
                            ),
                            sp.Integer(0),
                        )
                        exact = sp.diff(rows[m], matrix[j, k])
                        assert same(sp.sympify(stated).xreplace(own), exact), (eq.name, param)


def test_step_blocks_are_diff_of_the_program(program: UnrolledCell) -> None:
    r"""d s_1/d s'_0 from `step_jacobian_blocks`, against sympy.diff of s_1 in the inputs."""
    cell, scope = program.cell, program.step_scope(1)
    blocks = cell.step_jacobian_blocks()
    assert set(blocks) == {(s, r) for s in cell.state_names for r in cell.state_names}
    for (target, source), block in blocks.items():
        stated = program.nested(block.matrix(scope, H, H))
        s1 = [program.nested(s) for s in program.values[target][1]]
        for j, s0 in enumerate(program.values[source][0]):
            for m in range(H):
                exact = sp.diff(s1[m], s0)
                assert same(stated[j, m], exact), (cell.name, target, source, j, m)


def test_lstm_blocks_and_paths() -> None:
    """The constant error carousel: dc_t/dc_{t-1} is diag(f_t), one path; dh_t/dh_{t-1} has four."""
    cell = lstm()
    blocks = cell.step_jacobian_blocks()
    assert blocks["c", "c"].latex("t", cell.notation) == r"\operatorname{diag}(f_{t})"
    assert [term.via for term in blocks["c", "c"].terms] == [("c",)]
    assert len(blocks["h", "h"]) == 4  # through a^o, a^f, a^i, a^g
    assert {term.via[0] for term in blocks["h", "h"].terms} == {"ai", "af", "ao", "ag"}
    assert blocks["h", "c"].latex("t", cell.notation) == (
        r"\operatorname{diag}(f_{t})\,\operatorname{diag}(1 - \tanh(c_{t})^{2})"
        r"\,\operatorname{diag}(o_{t})"
    )


def test_equations_are_printed_from_the_trees() -> None:
    assert lstm().equation_latex()[-2:] == (
        r"c_{t} = f_{t} \odot c_{t-1} + i_{t} \odot g_{t}",
        r"h_{t} = o_{t} \odot \tanh(c_{t})",
    )
    assert lstm().equation_latex(3)[0] == r"a^{i}_{3} = x_{3} W_{xi} + h_{2} W_{hi} + b_{i}"
    assert gru().equation_latex()[2:] == (
        r"v^{n}_{t} = h_{t-1} W_{hn} + b_{hn}",
        r"a^{n}_{t} = x_{t} W_{xn} + b_{xn} + r_{t} \odot v^{n}_{t}",
        r"n_{t} = \tanh(a^{n}_{t})",
        r"h_{t} = (1 - z_{t}) \odot n_{t} + z_{t} \odot h_{t-1}",
    )
    assert gru("before").equation_latex()[2] == r"v^{n}_{t} = (r_{t} \odot h_{t-1}) W_{hn} + b_{hn}"
    assert vanilla("relu").equation_latex() == (
        r"a_{t} = x_{t} W_{xh} + h_{t-1} W_{hh} + b_h",
        r"h_{t} = \max(0, a_{t})",
    )
    assert residual().equation_latex()[1] == r"h_{t} = h_{t-1} + \tanh(a_{t})"


def test_names_and_stacking_are_rnnnums() -> None:
    """The contract with rnnnum: per-gate names, shapes and gate order of the stacked arrays."""
    cell = lstm()
    assert cell.param_names == tuple(n for g in LSTM_GATES for n in (f"Wx{g}", f"Wh{g}", f"b{g}"))
    assert cell.stacking() == {
        "Wx": ("Wxi", "Wxf", "Wxo", "Wxg"),
        "Wh": ("Whi", "Whf", "Who", "Whg"),
        "b": ("bi", "bf", "bo", "bg"),
    }
    assert tuple(cell.stacking()) == rnnnum.LSTMParams.param_names[:3]
    for gates, cell in ((GRU_GATES, gru()), (GRU_GATES, gru("before"))):
        assert cell.stacking() == {
            s: tuple(f"{s}{g}" for g in gates) for s in ("Wx", "Wh", "bx", "bh")
        }
        assert tuple(cell.stacking()) == rnnnum.GRUParams.param_names[:4]
        for blocks in cell.stacking().values():  # every block is a view rnnnum offers
            assert all(hasattr(rnnnum.GRUParams, name) for name in blocks)
    assert all(hasattr(rnnnum.LSTMParams, n) for b in lstm().stacking().values() for n in b)
    assert vanilla().stacking() == {}
    assert vanilla().param_names == (*rnnnum.PARAM_NAMES[:2], "bh")
    assert {p.name: p.shape(3, 5) for p in lstm().params}["Wxf"] == (3, 5)
    assert {p.name: p.shape(3, 5) for p in gru().params}["bhn"] == (1, 5)


# --- loading -----------------------------------------------------------------------------


def test_builtins_load_by_name() -> None:
    assert load_cell("lstm").state_names == ("h", "c")
    assert load_cell("gru-before").name == "gru-before"
    assert load_cell("vanilla", activation="relu").activation == "relu"
    assert load_cell("residual").equation_latex() == residual().equation_latex()


def test_a_users_cell_loads_by_module_and_attribute() -> None:
    assert load_cell(f"{__name__}:GATED_UNIT") is GATED_UNIT
    built = load_cell(f"{__name__}:gated_unit")  # a function of no arguments
    assert built == GATED_UNIT
    assert built.equation_latex()[1] == (
        r"h_{t} = (1 - f_{t}) \odot h_{t-1} + f_{t} \odot \tanh(x_{t} W_{xh} + "
        r"(f_{t} \odot h_{t-1}) W_{hh} + b_{h})"
    )


@pytest.mark.parametrize(
    ("spec", "error", "words"),
    [
        ("lsmt", UnknownChoiceError, ["cell must be one of vanilla, residual, lstm, gru"]),
        (
            "no_such_module_xyz:CELL",
            CellLoadError,
            ["no module named 'no_such_module_xyz'", "without .py"],
        ),
        (f"{__name__}:MISSING", CellLoadError, ["has no attribute 'MISSING'", "GATED_UNIT"]),
        (f"{__name__}:NOT_A_CELL", CellLoadError, ["must be a derivations Cell", "got int"]),
        ("a:b:c", CellLoadError, ["one colon"]),
        (":CELL", CellLoadError, ["'package.module:attribute'"]),
        ("", CellLoadError, ["built-in name"]),
    ],
    ids=[
        "unknown-builtin",
        "no-module",
        "no-attribute",
        "not-a-cell",
        "colons",
        "no-module-name",
        "empty",
    ],
)
def test_bad_specs_say_which_part_failed(spec: str, error: type, words: list[str]) -> None:
    with pytest.raises(error) as info:
        load_cell(spec)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    if error is CellLoadError:
        assert "vanilla, residual, lstm, gru, gru-before" in str(info.value)


def test_activation_only_where_the_cell_takes_one() -> None:
    with pytest.raises(UnknownChoiceError, match="fixes its own functions"):
        load_cell("lstm", activation="relu")
    with pytest.raises(UnknownChoiceError, match="carries its own activation"):
        load_cell(f"{__name__}:GATED_UNIT", activation="relu")
    with pytest.raises(UnknownChoiceError, match="reset must be one of after, before"):
        gru("middle")


def test_each_parameter_is_named_after_the_gate_or_candidate_it_feeds() -> None:
    from derivations.core.cells import unit_of

    expected = {
        lstm(): {"Wxf": "gate f", "Whi": "gate i", "bo": "gate o", "Whg": "candidate g"},
        gru(): {"Whr": "gate r", "bxz": "gate z", "Whn": "candidate n", "bhn": "candidate n"},
        gru("before"): {"Whn": "candidate n", "Wxn": "candidate n", "Whz": "gate z"},
    }
    for cell, units in expected.items():
        for name, unit in units.items():
            assert " ".join(unit_of(cell, name)) == unit, (cell.name, name)
            assert cell.param(name).meaning.endswith(f"of the {unit}"), cell.param(name)


def test_the_unit_word_comes_from_the_equation_not_the_name() -> None:
    from derivations.core.cells import unit_of

    def pre(u: str) -> Add:
        return Add(MatMul(Input(), f"Wx{u}"), MatMul(Prev("h"), f"Wh{u}"), Bias(f"b{u}"))

    # an MGU-like cell whose "f" is a tanh candidate and whose "n" is a sigmoid gate
    swapped = Cell(
        "swapped",
        params=(
            *(Param(f"W{w}{u}", rows) for u in ("f", "n") for w, rows in (("x", "D"), ("h", "H"))),
            Param("bf", None),
            Param("bn", None),
        ),
        states=(State("h", "h"),),
        equations=(
            Equation("f", Func("tanh", pre("f")), "f"),
            Equation("n", Func("sigmoid", pre("n")), "n"),
            Equation("h", Add(Mul(OneMinus(Ref("n")), Prev("h")), Mul(Ref("n"), Ref("f"))), "h"),
        ),
    )
    assert unit_of(swapped, "Whf") == ("candidate", "f")
    assert unit_of(swapped, "bn") == ("gate", "n")
    linear = Cell(  # no element-wise function at all
        "linear", (Param("Whh", "H"),), (State("h", "h"),),
        (Equation("h", MatMul(Prev("h"), "Whh"), "h"),),
    )  # fmt: skip
    with pytest.raises(UnknownChoiceError, match="feeds no equation with an element-wise"):
        unit_of(linear, "Whh")
