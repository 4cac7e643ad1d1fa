r"""derivations.core.ops: each operation as the equations print it, in LaTeX and in code.

The expected text is written here by hand from the mathematics (the GRU with the reset
before the product, and a cell nesting every operation inside another), not printed by
the code under test: where a sum or a product sits inside a product or under $1 - \cdot$,
the parentheses must be there.
"""

from __future__ import annotations

import numpy as np
import pytest

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
from derivations.core.cells import load_cell

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
