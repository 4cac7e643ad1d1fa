r"""derivations.core.ops: each operation as the equations print it, in LaTeX and in code.

The expected text is written here by hand from the mathematics (the GRU with the reset
before the product, and a cell nesting every operation inside another), not printed by
the code under test: where a sum or a product sits inside a product or under $1 - \cdot$,
the parentheses must be there.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

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
from derivations.core.cells import load_cell
from derivations.core.factors import Scope
from derivations.core.nodes import Node
from derivations.core.notation import ACTIVATION_NAMES
from derivations.core.ops import Slope

#: The GRU (reset before the product): r_t, z_t, v^n_t, a^n_t, n_t, h_t.
GRU_BEFORE = {
    "r": (r"\sigma(x_{t} W_{xr} + b_{xr} + h_{t-1} W_{hr} + b_{hr})",
          "sigmoid(x[t] @ Wxr + bxr + h[t-1] @ Whr + bhr)"),
    "hn": (r"(r_{t} \odot h_{t-1}) W_{hn} + b_{hn}", "(r[t] * h[t-1]) @ Whn + bhn"),
    "an": (r"x_{t} W_{xn} + b_{xn} + v^{n}_{t}", "x[t] @ Wxn + bxn + hn[t]"),
    "n": (r"\tanh(a^{n}_{t})", "tanh(an[t])"),
    "h": (r"(1 - z_{t}) \odot n_{t} + z_{t} \odot h_{t-1}", "(1 - z[t]) * n[t] + z[t] * h[t-1]"),
}  # fmt: skip


def nested() -> Cell:
    """s = x W + b, g = sigmoid(s), m = (h_{t-1} + g) U, h = (1 - (g + s)) * (m + h_{t-1})."""
    params = (Param("W", "D", latex="W"), Param("U", "H", latex="U"), Param("b", None, latex="b"))
    equations = (
        Equation("s", Add(MatMul(Input(), "W"), Bias("b")), "s"),
        Equation("g", Func("sigmoid", Ref("s")), "g"),
        Equation("m", MatMul(Add(Prev("h"), Ref("g")), "U"), "m"),
        Equation("h", Mul(OneMinus(Add(Ref("g"), Ref("s"))), Add(Ref("m"), Prev("h"))), "h"),
    )
    return Cell("nested", params, (State("h", "h"),), equations)


NESTED = {
    "s": ("x_{t} W + b", "x[t] @ W + b"),
    "g": (r"\sigma(s_{t})", "sigmoid(s[t])"),
    "m": ("(h_{t-1} + g_{t}) U", "(h[t-1] + g[t]) @ U"),
    "h": (r"(1 - (g_{t} + s_{t})) \odot (m_{t} + h_{t-1})",
          "(1 - (g[t] + s[t])) * (m[t] + h[t-1])"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(load_cell("gru-before"), GRU_BEFORE), (nested(), NESTED)],
    ids=["gru-before", "nested"],
)
def test_each_equation_prints_as_written_by_hand(cell: Cell, expected: dict) -> None:
    for name, (latex, code) in expected.items():
        expr = cell.equation(name).expr
        assert expr.latex("t", cell.notation) == latex, name
        assert expr.code("tanh") == code, name


def test_the_chosen_activation_prints_by_its_name() -> None:
    cell = load_cell("vanilla", activation="relu")
    expr = cell.equation("h").expr
    assert expr.code("relu") == "relu(a[t])"
    assert expr.latex("t", cell.notation) == r"\max(0, a_{t})"


def test_the_printed_code_computes_what_the_cell_computes(rng) -> None:
    """The nested cell's code lines, run by NumPy, give the values of its equations
    computed here by hand."""
    cell = nested()
    D, H = 2, 3
    W, U, b = rng.normal(size=(D, H)), rng.normal(size=(H, H)), rng.normal(size=H)
    x, h_prev = rng.normal(size=(1, D)), rng.normal(size=(1, H))
    values = {"x": {1: x}, "h": {0: h_prev}}
    space = {"W": W, "U": U, "b": b, "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "t": 1}
    for eq in cell.equations:
        space.update(values)
        values[eq.name] = {**values.get(eq.name, {}), 1: eval(eq.expr.code("tanh"), space)}
    s = x @ W + b
    g = 1 / (1 + np.exp(-s))
    m = (h_prev + g) @ U
    np.testing.assert_allclose(values["h"][1], (1 - (g + s)) * (m + h_prev), rtol=1e-15)


def test_one_minus_has_the_local_derivative_minus_one() -> None:
    """d(1 - z)/dz = -I: one product of no pieces, sign -1 (nothing else is negative)."""
    from derivations.core.factors import LocalFactor, LocalSum

    edge = OneMinus(Ref("z")).edges(Ref("h"))
    assert edge == (LocalSum((LocalFactor((), -1),)),)
    assert [f.sign for s in MatMul(Ref("z"), "U").edges(Ref("h")) for f in s.terms] == [1]


# --- the slope's code, the shape rules, and rows that do not match ----------------------

#: Central differences with step FD_STEP: truncation ~ FD_STEP^2 |f'''| / 6 ~ 1e-11 and
#: rounding ~ eps / FD_STEP ~ 1e-11 for these activations on [-2, 2]; FD_TOL leaves a
#: hundredfold margin and is still far below any wrong slope (off by 1e-2 at least).
FD_STEP = 1e-5
FD_TOL = 1e-9
#: Three products summed in another order than BLAS sums them: a few ulps of O(1) values
ROUNDOFF = 1e-14

#: Each activation written here in NumPy from its definition, not read from derivations.
BY_HAND = {
    "tanh": np.tanh,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "relu": lambda a: np.maximum(a, 0.0),
    "leaky_relu": lambda a: np.where(a > 0, a, 0.01 * a),
    "identity": lambda a: a,
}


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_the_slope_is_the_derivative_by_finite_differences(activation: str, rng) -> None:
    """f'(a) as the loop listing prints it (run with NumPy's names unqualified, as after
    ``from numpy import *``) and as Slope evaluates it, against central differences of f
    written by hand, at points away from the kink of the ReLUs."""
    f = BY_HAND[activation]
    a = rng.uniform(0.1, 2.0, size=(1, 5)) * rng.choice([-1.0, 1.0], size=(1, 5))
    expected = (f(a + FD_STEP) - f(a - FD_STEP)) / (2 * FD_STEP)
    slope = Slope("act", Ref("a"), Ref("h"))
    space = {name: getattr(np, name) for name in np.__all__}
    printed = eval(slope.code(activation), {**space, "a": {1: a}, "h": {1: f(a)}, "t": 1})
    np.testing.assert_allclose(
        np.broadcast_to(printed, a.shape), expected, rtol=FD_TOL, atol=FD_TOL, err_msg=activation
    )
    scope = Scope(a[0], {}, {"a": a[0], "h": f(a[0])}, {}, activation)
    np.testing.assert_allclose(
        slope.evaluate(scope), expected[0], rtol=FD_TOL, atol=FD_TOL, err_msg=activation
    )


def _one_state_cell(expr: Node) -> Cell:
    params = (Param("W", "D", latex="W"), Param("U", "H", latex="U"), Param("b", None, latex="b"))
    return Cell("shapes", params, (State("h", "h"),), (Equation("h", expr, "h"),))


@pytest.mark.parametrize(
    ("param", "what"), [("b", "a bias (use Bias)"), ("U", "a (H, H) matrix")], ids=["bias", "HxH"]
)
def test_a_matmul_of_the_wrong_parameter_says_what_the_parameter_is(param: str, what: str) -> None:
    """x_t (width D) times a bias, or times an (H, H) matrix: the message names which."""
    expr = Add(MatMul(Input(), param), MatMul(Prev("h"), "U"), MatMul(Input(), "W"), Bias("b"))
    with pytest.raises(CellDefinitionError) as info:
        _one_state_cell(Func("tanh", expr))
    assert f"multiplies a row of width D by {param}, which is {what};" in str(info.value)
    # what to do instead: a bias is added, not multiplied; a matrix needs its rows
    fix = "add it as a bias (Bias)" if param == "b" else "or multiply a row of width H."
    assert fix in str(info.value) and "width None" not in str(info.value)


def test_a_sum_of_one_term_is_that_term(rng) -> None:
    """Add with a single term: the term's width, and the term's value."""
    one = Add(MatMul(Prev("h"), "U"))
    _one_state_cell(Func("tanh", Add(one, MatMul(Input(), "W"), Bias("b"))))  # widths agree
    h, U = rng.normal(size=3), rng.normal(size=(3, 3))
    got = one.evaluate(Scope(np.zeros(2), {"h": h}, {}, {"U": U}, "tanh"))
    by_hand = [sum(h[j] * U[j, k] for j in range(3)) for k in range(3)]
    np.testing.assert_allclose(got, by_hand, rtol=ROUNDOFF, atol=ROUNDOFF)


@pytest.mark.parametrize(
    "node",
    [Add(Input(), Prev("h")), Mul(Input(), Prev("h")), Slope("act", Input(), Prev("h"))],
    ids=["Add", "Mul", "Slope"],
)
def test_rows_of_unequal_width_are_refused_not_cut_short(node: Node) -> None:
    """A row of width 2 against one of width 3 (relu's slope reads a and f(a) together):
    an error, never a row of the shorter width."""
    x, h = list(sp.symbols("x1 x2", real=True)), list(sp.symbols("h1 h2 h3", real=True))
    with pytest.raises(ValueError, match="zip"):
        node.forward(Scope(x, {"h": h}, {}, {}, "relu"))
