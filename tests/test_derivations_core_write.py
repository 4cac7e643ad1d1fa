"""core/write and core/define, the front door (issue 23): a cell written as its equations.

Each built-in cell, written in the front door's form (`derivations.core.cells`), is equal
node for node to its definition with the engine's constructors (`reference_cells`, the
code before the rewrite), so every derivation of it is the same; the issue's two user
cells likewise against constructors written here by hand; names become LaTeX as a
table written by hand says; every misuse is refused with its rule, value and fix.
"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
import reference_cells as old

from derivations.core.arith import Div, Gain, Offset, Pow, Scale, Shift
from derivations.core.cell import (
    Add,
    Bias,
    Cell,
    CellDefinitionError,
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
from derivations.core.cells import gru, lstm, residual, vanilla
from derivations.core.define import cell, define_cell
from derivations.core.degenerate import DegenerateCellWarning
from derivations.core.names import derived_latex, engine_name
from derivations.core.notation import ACTIVATION_NAMES
from derivations.core.write import (
    act,
    exp,
    leaky_relu,
    log,
    matrix,
    prev,
    relu,
    scalar,
    sigmoid,
    softplus,
    tanh,
    vector,
    x,
)
from derivations.gradient.sums import cell_expanded_sum
from derivations.render.page import cell_derivation_markdown

BUILT_BOTH_WAYS = [
    *((f"vanilla-{a}", vanilla(a), old.vanilla(a)) for a in ACTIVATION_NAMES),
    *((f"residual-{a}", residual(a), old.residual(a)) for a in ACTIVATION_NAMES),
    ("lstm", lstm(), old.lstm()),
    ("gru", gru(), old.gru()),
    ("gru-before", gru("before"), old.gru("before")),
]


@pytest.mark.parametrize(
    ("name", "new", "reference"), BUILT_BOTH_WAYS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_builtin_written_both_ways_is_the_same_cell(
    name: str, new: Cell, reference: Cell
) -> None:
    assert new == reference, name
    assert new.equation_latex() == reference.equation_latex()


def test_the_gated_builtins_give_the_same_sums_at_three_steps() -> None:
    for new, reference in ((lstm(), old.lstm()), (gru("before"), old.gru("before"))):
        for wrt in new.gradient_names:
            ours = [(t.loss, t.step, t.paths) for t in cell_expanded_sum(new, wrt, 3)]
            theirs = [(t.loss, t.step, t.paths) for t in cell_expanded_sum(reference, wrt, 3)]
            assert ours  # every gradient has terms at T = 3
            assert ours == theirs, (new.name, wrt)


@cell
class elementwise_relu:  # the issue's first cell: one line of math
    W = matrix(rows="D")
    u = vector()
    b = vector()
    h = relu(x @ W + u * prev.h + b)


@cell
class mi_rnn:  # the issue's second: multiplicative integration
    W_xh = matrix(rows="D")
    W_hh = matrix(rows="H")
    b_h = vector()
    alpha = vector()
    h = tanh(alpha * (x @ W_xh) * (prev.h @ W_hh) + b_h)


def test_the_issues_cells_are_the_constructors_written_by_hand() -> None:
    relu_cell = Cell(
        "elementwise_relu",
        (Param("W", "D", latex="W"), Param("u", None, latex="u"), Param("b", None, latex="b")),
        (State("h", "h"),),
        (
            Equation(
                "h",
                Func("relu", Add(MatMul(Input(), "W"), Mul(Bias("u"), Prev("h")), Bias("b"))),
                "h",
            ),
        ),
    )
    assert elementwise_relu == relu_cell
    assert elementwise_relu.equation_latex() == (r"h_{t} = \max(0, x_{t} W + u \odot h_{t-1} + b)",)
    product = Mul(Mul(Bias("alpha"), MatMul(Input(), "Wxh")), MatMul(Prev("h"), "Whh"))
    assert mi_rnn.equations == (Equation("h", Func("tanh", Add(product, Bias("bh"))), "h"),)
    assert [(p.name, p.rows, p.latex) for p in mi_rnn.params] == [
        ("Wxh", "D", "W_{xh}"),
        ("Whh", "H", "W_{hh}"),
        ("bh", None, "b_h"),
        ("alpha", None, r"\alpha"),
    ]


def test_lines_read_earlier_lines_by_name_and_sums_flatten() -> None:
    @cell(activation="relu")
    class two_states:
        W = matrix(rows="D")
        U = matrix(rows="H")
        s = x @ W + prev.h @ U
        z = sigmoid(s)
        c = z * prev.c + (1 - z) * act(s + prev.c)
        h = -c + 2 * prev.h - 1

    assert two_states.state_names == ("h", "c")  # in the order first read
    assert two_states.activation == "relu"
    eqs = {eq.name: eq.expr for eq in two_states.equations}
    assert eqs["s"] == Add(MatMul(Input(), "W"), MatMul(Prev("h"), "U"))
    assert eqs["z"] == Func("sigmoid", Ref("s"))
    assert eqs["c"] == Add(
        Mul(Ref("z"), Prev("c")), Mul(OneMinus(Ref("z")), Func("act", Add(Ref("s"), Prev("c"))))
    )
    assert eqs["h"] == Shift(-1, Add(Scale(-1, Ref("c")), Scale(2, Prev("h"))))
    assert two_states.equation_latex()[-1] == r"h_{t} = -c_{t} + 2\,h_{t-1} - 1"


def test_constants_are_written_where_they_were_typed() -> None:
    @cell
    class constants:
        W = matrix(rows="D")
        g = vector()
        a = 1 + x @ W
        b = 2 - g * prev.h
        c = (a / b) ** 2 + 1 / a - a / 4 + 0.5 * b
        h = tanh(c)

    assert constants.equation_latex()[:3] == (
        r"a_{t} = 1 + x_{t} W",
        r"b_{t} = 2 - g \odot h_{t-1}",
        r"c_{t} = (\frac{a_{t}}{b_{t}})^{2} + a_{t}^{-1} - \tfrac{1}{4}\,a_{t} + 0.5\,b_{t}",
    )


@pytest.mark.parametrize(
    ("code", "latex", "engine"),
    [
        ("W_xh", "W_{xh}", "Wxh"),
        ("b_h", "b_h", "bh"),
        ("alpha", r"\alpha", "alpha"),
        ("alpha_f", r"\alpha_f", "alphaf"),
        ("W_hh_two", "W_{hh,two}", "Whhtwo"),
        ("Wxh", "W_{xh}", "Wxh"),
        ("bh", "b_h", "bh"),
        ("h", "h", "h"),
        ("Gamma", r"\Gamma", "Gamma"),
    ],
)
def test_names_become_latex_as_on_paper(code: str, latex: str, engine: str) -> None:
    assert derived_latex(code) == latex
    assert engine_name(code) == engine


def test_a_param_without_latex_is_written_by_its_name_never_blank() -> None:
    """The issue's bug: Param("W", "D") printed h_t = tanh(x_t + h_{t-1} + )."""
    plain = Cell(
        "plain",
        (Param("W", "D"), Param("u", None), Param("b", None)),
        (State("h"),),
        (
            Equation(
                "h", Func("tanh", Add(MatMul(Input(), "W"), Mul(Bias("u"), Prev("h")), Bias("b")))
            ),
        ),
    )
    assert plain.equation_latex() == (r"h_{t} = \tanh(x_{t} W + u \odot h_{t-1} + b)",)
    page = cell_derivation_markdown(plain, "W", 2)  # raised KeyError: 'W' before
    assert r"\frac{\mathrm{d} L}{\mathrm{d} W}" in page
    assert r"\mathrm{d} }" not in page


def _cell_of(**lines: object) -> Cell:
    return define_cell("bad", lines)


W, U, B, S = matrix(rows="D"), matrix(rows="H"), vector(), scalar()
MISUSES = {
    "vector-in-product": (
        lambda: x @ B,
        ["row @ W multiplies a row by a weight matrix", "vector", "v * e"],
    ),
    "number-in-product": (lambda: x @ 3, ["right side here is int 3"]),
    "row-on-the-right": (lambda: 3 @ x, ["row @ W with the row on the left", "Put the row first"]),
    "text-operand": (lambda: x + "h", ["the operand of '+' is str 'h'", "matrix() or vector()"]),
    "power-of-a-row": (lambda: x**x, ["exponent must be a number", "exp(b * log(a))"]),
    "divide-by-zero": (lambda: x / 0, ["divides by zero"]),
    "branch-on-a-row": (lambda: bool(x), ["not a truth value", "relu"]),
    "matrix-rows": (lambda: matrix(rows="V"), ["'D' (it multiplies x) or 'H'", "rows='V'"]),
    "function-of-text": (lambda: tanh("a"), ["tanh(...) applies to a row", "str 'a'"]),
    "state-without-a-line": (
        lambda: _cell_of(W=W, U=U, h=tanh(x @ W + prev.c @ U)),
        ["prev.c reads the state c at t-1", "no line defines c", "Add c = ..."],
    ),
    "no-h": (lambda: _cell_of(W=W, s=tanh(x @ W)), ["reads a state h", "Add h = ..."]),
    "bad-name": (lambda: _cell_of(W_2=W, h=x @ W), ["ASCII letters", "'W_2'"]),
    "matrix-alone": (lambda: _cell_of(W=W, U=U, h=x @ W + U), ["U is a matrix", "x @ W"]),
    "undeclared": (
        lambda: _cell_of(W=W, h=x @ W + B),
        ["the vector (vector()) is used but declared outside"],
    ),
    "same-object": (lambda: _cell_of(W=W, V=W, h=x @ W), ["V is the same object as W"]),
    "renamed-leaf": (lambda: _cell_of(W=W, p=prev.h, h=x @ W), ["only renames a leaf"]),
    "shown-as-unnamed": (
        lambda: _cell_of(W=W, h=tanh((x @ W).shown_as("a"))),
        ["shown_as('a') says how a variable is written", "assign it to a name"],
    ),
    "scalar-alone": (
        lambda: _cell_of(W=W, S=S, h=x @ W * (1 - S)),
        ["S is a scalar: it scales a row (s * e) or is added to one (e + s)"],
    ),
    "scalar-subtracted": (lambda: x - S, ["a scalar parameter is added, not subtracted"]),
    "engine-rule-in-written-names": (
        lambda: _cell_of(W_xh=W, h=tanh(prev.h @ W)),
        ["a row of width H by Wxh, which is a (D, H) matrix", "In the class body: Wxh is W_xh"],
    ),
    "not-a-class": (lambda: cell(lambda: None), ["@cell decorates a class"]),  # type: ignore[call-overload]
}


@pytest.mark.parametrize("case", MISUSES)
def test_every_misuse_is_refused_with_its_rule_and_fix(case: str) -> None:
    make, words = MISUSES[case]
    with pytest.raises(CellDefinitionError) as error:
        make()
    for word in words:
        assert word in str(error.value), (case, str(error.value))


def test_each_operator_builds_the_node_of_its_rule() -> None:
    g, s = vector(), scalar()
    a = x @ W
    lines = {"W": W, "g": g, "s": s, "a": a}
    made = {
        "two": (2 * a, Scale(2, Ref("a"))),
        "twice": (a * 2, Scale(2, Ref("a"))),
        "half": (a / 2, Scale(Fraction(1, 2), Ref("a"))),
        "quarter": (a / 4.0, Scale(0.25, Ref("a"))),
        "over": (2 / a, Scale(2, Pow(Ref("a"), -1))),
        "inverse": (1 / a, Pow(Ref("a"), -1)),
        "plus": (a + 1, Shift(1, Ref("a"))),
        "onePlus": (1 + a, Shift(1, Ref("a"), True)),
        "minus": (a - 1, Shift(-1, Ref("a"))),
        "complement": (1 - a, OneMinus(Ref("a"))),
        "three": (3 - a, Shift(3, Scale(-1, Ref("a")), True)),
        "gained": (s * a, Gain("s", Ref("a"))),
        "gainedRight": (a * s, Gain("s", Ref("a"))),
        "shifted": (a + s, Offset("s", Ref("a"))),
        "shiftedLeft": (s + a, Offset("s", Ref("a"))),
        "negated": (-a, Scale(-1, Ref("a"))),
        "squared": (a**2, Pow(Ref("a"), 2)),
        "ratio": (a / g, Div(Ref("a"), Bias("g"))),
        "product": (a * g, Mul(Ref("a"), Bias("g"))),
        "difference": (a - x @ W, Add(Ref("a"), Scale(-1, MatMul(Input(), "W")))),
        **{
            f.__name__.replace("_", ""): (f(a), Func(f.__name__, Ref("a")))
            for f in (exp, log, softplus, relu, leaky_relu, sigmoid, tanh, act)
        },
    }
    body = {**lines, **{k: e for k, (e, _) in made.items()}, "h": tanh(a) * prev.h}
    mine = define_cell("ops", body)
    assert mine.activation == "tanh"  # the default
    assert [(p.name, p.rows, p.cols, p.meaning) for p in mine.params] == [
        ("W", "D", "H", ""),  # no meaning given: none shown
        ("g", None, "H", ""),
        ("s", None, "1", ""),
    ]
    rate = scalar(meaning="a rate")
    told = define_cell("told", {"W": W, "r": rate, "h": rate * prev.h + x @ W})
    assert [p.meaning for p in told.params] == ["", "a rate"]
    eqs = {eq.name: eq.expr for eq in mine.equations}
    for name, (_, node) in made.items():
        assert eqs[name] == node, name
    assert [f.__name__ for f in (tanh, leaky_relu, softplus)] == ["tanh", "leaky_relu", "softplus"]
    assert log.__doc__ == "``log`` applied element-wise (its derivative is derived)."


def test_what_is_not_a_line_is_left_out_and_h_comes_first() -> None:
    with pytest.warns(DegenerateCellWarning, match="state h never feeds back"):  # on purpose

        @cell
        class c_first:
            """A docstring, a number and a method are not lines of the cell."""

            k = 3

            def helper(self) -> None: ...

            W = matrix(rows="D")
            U = matrix(rows="H")
            c = tanh(x @ W + prev.c @ U)
            h = c * 2

    assert c_first.state_names == ("h", "c")  # h feeds the read-out; first
    assert [eq.name for eq in c_first.equations] == ["c", "h"]
    assert [p.name for p in c_first.params] == ["W", "U"]


def test_leaves_and_parameters_describe_themselves_in_messages() -> None:
    assert repr(x) == "<x (the input row)>"
    assert repr(prev.h) == "<prev.h>"
    assert repr(x + x) == "<an expression (add)>"
    assert not hasattr(prev, "__len__")  # no state is named by a dunder
    assert define_cell("called", {"W": W, "h": x @ W + prev("h")}) == define_cell(
        "called", {"W": W, "h": x @ W + prev.h}
    )
    with pytest.raises(CellDefinitionError, match=r"side here is the vector b_h \(vector\(\)\)\."):
        x @ vector("b_h")
    with pytest.raises(CellDefinitionError, match=r"side here is the scalar s \(scalar\(\)\)\."):
        x @ scalar("s")
    with pytest.raises(CellDefinitionError, match=r"got 1 @ the matrix W \(matrix\(rows='D'\)\)"):
        1 @ matrix("W", rows="D")  # type: ignore[operator]
    with pytest.raises(CellDefinitionError, match=r"got 3 @ x \(the input row\)"):
        3 @ x  # type: ignore[operator]
    with pytest.raises(CellDefinitionError, match=r"x \(the input row\) only renames a leaf"):
        _cell_of(W=W, p=x, h=x @ W)
    with pytest.raises(CellDefinitionError, match=r"prev.h only renames a leaf"):
        _cell_of(W=W, p=prev.h, h=x @ W)
    with pytest.raises(CellDefinitionError, match=r"\(lines: s\)"):
        _cell_of(W=W, s=tanh(x @ W))
    with pytest.raises(CellDefinitionError, match=r"shown_as takes the variable's LaTeX"):
        x.shown_as("")


@pytest.mark.parametrize(
    ("op", "make"),
    [
        ("+", lambda: "h" + x),
        ("-", lambda: x - "h"),
        ("-", lambda: "h" - x),
        ("*", lambda: x * "h"),
        ("*", lambda: "h" * x),
        ("/", lambda: x / "h"),
        ("/", lambda: "h" / x),
    ],
)
def test_text_is_no_operand_of_any_operator(op: str, make) -> None:
    with pytest.raises(
        CellDefinitionError, match=f"the operand of '{re.escape(op)}' is str 'h'"
    ) as e:
        make()
    assert str(e.value).startswith("Write a cell's expressions with x, prev.<state>, parameters")
