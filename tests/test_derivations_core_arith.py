"""core/arith and the element-wise functions (issue 23): each new operation's local rule
against `sympy.diff` of the same map written here by hand, and against central finite
differences of its own float forward; then a cell using each, through the whole engine
(expanded sum vs forward-mode diff of the program, backward loop vs finite differences).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from derivations.check.proofs import check_cell_sums
from derivations.check.verify import verify_cell
from derivations.core.arith import Div, Gain, Offset, Pow, Scale, Shift, number_latex
from derivations.core.cell import Cell, CellDefinitionError, Equation, Param, State
from derivations.core.define import cell
from derivations.core.factors import Notation, Scope
from derivations.core.functions import ELEMENTWISE
from derivations.core.nodes import Prev, Ref
from derivations.core.ops import Bias, Func, Mul
from derivations.core.spec import derivative_supremum
from derivations.core.write import (
    exp,
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

H = 3
#: Symbolic and numeric values of the same Jacobian agree to rounding (float64, a few ops).
EXACT_TOL = 1e-12
#: Central differences with step 1e-6 on O(1) values: truncation ~1e-12, rounding ~1e-10.
FD_STEP = 1e-6
FD_TOL = 1e-7

h = sp.symbols(f"h0:{H}", positive=True)
u = sp.symbols(f"u0:{H}", positive=True)
s_ = sp.Symbol("s", positive=True)
#: The scalar parameter's value in the numeric checks.
S_VALUE = 0.7
HP, U = Prev("h"), Bias("u")

#: (node, the same map written by hand in SymPy, entry by entry, as a function of (h, u))
CASES = {
    "half": (Scale(Fraction(1, 2), HP), lambda h, u: [v / 2 for v in h]),
    "float-scale": (Scale(0.25, HP), lambda h, u: [sp.Rational(1, 4) * v for v in h]),
    "negate": (Scale(-1, HP), lambda h, u: [-v for v in h]),
    "shift": (Shift(3, Mul(HP, HP)), lambda h, u: [v**2 + 3 for v in h]),
    "cube": (Pow(HP, 3), lambda h, u: [v**3 for v in h]),
    "reciprocal": (Pow(HP, -1), lambda h, u: [1 / v for v in h]),
    "sqrt": (Pow(HP, 0.5), lambda h, u: [sp.sqrt(v) for v in h]),
    "h-over-u": (Div(HP, U), lambda h, u: [a / b for a, b in zip(h, u, strict=True)]),
    "u-over-h": (Div(U, HP), lambda h, u: [b / a for a, b in zip(h, u, strict=True)]),
    # two minus signs on one path (-I, then -diag(u/h^2)): their product is +1
    "minus-u-over-h": (
        Scale(-1, Div(U, HP)),
        lambda h, u: [-b / a for a, b in zip(h, u, strict=True)],
    ),
    "over-itself": (
        Div(Mul(HP, HP), Shift(1, HP)),
        lambda h, u: [v**2 / (v + 1) for v in h],
    ),
    "exp": (
        Func("exp", Mul(U, HP)),
        lambda h, u: [sp.exp(a * b) for a, b in zip(h, u, strict=True)],
    ),
    "log": (Func("log", Shift(2, Mul(HP, HP))), lambda h, u: [sp.log(v**2 + 2) for v in h]),
    "softplus": (
        Func("softplus", Scale(-2, HP)),
        lambda h, u: [sp.log(1 + sp.exp(-2 * v)) for v in h],
    ),
    "gain": (Gain("s", Mul(HP, U)), lambda h, u: [s_ * a * b for a, b in zip(h, u, strict=True)]),
    "offset": (Offset("s", Func("exp", HP)), lambda h, u: [sp.exp(v) + s_ for v in h]),
    "relu-beside-sigmoid": (
        Mul(Func("relu", HP), Func("sigmoid", U)),
        lambda h, u: [a / (1 + sp.exp(-b)) for a, b in zip(h, u, strict=True)],  # h > 0
    ),
}


def _scope(hv, uv, sv=s_, activation: str = "tanh") -> Scope:
    params = {"u": sp.Matrix([list(uv)]), "s": sp.Matrix([[sv]])}
    return Scope([], {"h": list(hv)}, {}, params, activation)


def _float_scope(hv: np.ndarray, uv: np.ndarray, sv: float = S_VALUE) -> Scope:
    return Scope(np.zeros(0), {"h": hv}, {}, {"u": uv, "s": np.array([sv])}, "tanh")


def _point(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(0.5, 1.5, H), rng.uniform(0.5, 1.5, H)  # positive: log, sqrt, relu


@pytest.mark.parametrize("case", CASES)
def test_each_rule_is_sympy_diff_of_the_map_written_by_hand(case: str, rng) -> None:
    node, by_hand = CASES[case]
    hv, uv = _point(rng)
    at = {**dict(zip(h, hv, strict=True)), **dict(zip(u, uv, strict=True)), s_: S_VALUE}
    expected = by_hand(h, u)
    forward = node.forward(_scope(h, u))
    assert [float(a.subs(at)) for a in forward] == pytest.approx(
        [float(e.subs(at)) for e in expected], abs=EXACT_TOL
    )
    # row convention: entry (j, l) is d out_l / d h_j, the transpose of sympy's jacobian
    reference = sp.Matrix(expected).jacobian(h).T
    for wrt, symbols in ((HP, h),):
        ours = node.jacobian(wrt).matrix(_scope(h, u), H, H)
        np.testing.assert_allclose(
            np.array(ours.subs(at), dtype=float),
            np.array(reference.subs(at), dtype=float),
            atol=EXACT_TOL,
            err_msg=f"{case}: d/d{symbols[0]}",
        )


@pytest.mark.parametrize("case", CASES)
def test_each_rule_matches_finite_differences_of_its_float_forward(case: str, rng) -> None:
    node, _ = CASES[case]
    hv, uv = _point(rng)
    ours = node.jacobian(HP).value(_float_scope(hv, uv), H, H)
    fd = np.empty((H, H))
    for j in range(H):
        step = np.eye(H)[j] * FD_STEP
        up = node.evaluate(_float_scope(hv + step, uv))
        down = node.evaluate(_float_scope(hv - step, uv))
        fd[j] = (up - down) / (2 * FD_STEP)
    np.testing.assert_allclose(ours, fd, rtol=FD_TOL, atol=FD_TOL, err_msg=case)


@pytest.mark.parametrize("case", ["gain", "offset"])
def test_a_scalar_parameters_derivative_is_sympy_diff_and_finite_differences(
    case: str, rng
) -> None:
    """d out_l / d s: the row the scalar carries to the value (a for s a, ones for a + s)."""
    node, by_hand = CASES[case]
    hv, uv = _point(rng)
    at = {**dict(zip(h, hv, strict=True)), **dict(zip(u, uv, strict=True)), s_: S_VALUE}
    (use,) = node.param_uses("s")
    ours = use.derivative(_scope(h, u), 1, 1, H)[0][0]  # [l]: d out_l / d s
    reference = [sp.diff(e, s_) for e in by_hand(h, u)]
    assert [float(sp.sympify(o).subs(at)) for o in ours] == pytest.approx(
        [float(r.subs(at)) for r in reference], abs=EXACT_TOL
    )
    up = node.evaluate(_float_scope(hv, uv, S_VALUE + FD_STEP))
    down = node.evaluate(_float_scope(hv, uv, S_VALUE - FD_STEP))
    fd = (up - down) / (2 * FD_STEP)
    assert [float(sp.sympify(o).subs(at)) for o in ours] == pytest.approx(list(fd), abs=FD_TOL)


def test_the_functions_derivatives_are_sympy_diff_of_their_forward() -> None:
    a = sp.Symbol("a", positive=True)
    for name, f in ELEMENTWISE.items():
        out = f.forward(a)
        assert sp.simplify(f.derivative(a, out) - sp.diff(out, a)) == 0, name


def test_the_functions_names_and_bounds_are_as_written_by_hand() -> None:
    """gamma = sup |f'| (the vanishing/exploding constant): SymPy's own supremum of the
    derivative of each forward map agrees, and is never reached (an empty set)."""
    assert {k: (f.name, f.gamma) for k, f in ELEMENTWISE.items()} == {
        "exp": ("exp", sp.oo),  # e^a grows without bound
        "log": ("log", sp.oo),  # 1/a as a -> 0+
        "softplus": ("softplus", 1),  # the sigmoid, tending to 1
    }
    for name, f in ELEMENTWISE.items():
        assert derivative_supremum(f) == (f.gamma, sp.EmptySet), name


def test_a_quotient_of_rows_of_two_widths_is_refused_not_truncated() -> None:
    with pytest.raises(ValueError, match="shorter"):
        Div(HP, U).forward(_scope(h, u[:2]))


def test_the_new_operations_print_as_written_by_hand() -> None:
    notation = Notation("tanh", {"h": "h", "u": "u", "s": "s"})
    shown = {name: node.latex("t", notation) for name, (node, _) in CASES.items()}
    assert shown["half"] == r"\tfrac{1}{2}\,h_{t-1}"
    assert shown["negate"] == "-h_{t-1}"
    assert shown["shift"] == r"h_{t-1} \odot h_{t-1} + 3"
    assert shown["reciprocal"] == "h_{t-1}^{-1}"
    assert shown["over-itself"] == r"\frac{h_{t-1} \odot h_{t-1}}{h_{t-1} + 1}"
    assert shown["exp"] == r"\exp(u \odot h_{t-1})"
    assert shown["softplus"] == r"\operatorname{softplus}(-2\,h_{t-1})"
    assert shown["log"] == r"\log(h_{t-1} \odot h_{t-1} + 2)"
    assert shown["minus-u-over-h"] == r"-\frac{u}{h_{t-1}}"
    assert shown["gain"] == r"s\,h_{t-1} \odot u"
    assert shown["offset"] == r"\exp(h_{t-1}) + s"
    assert shown["relu-beside-sigmoid"] == r"\max(0, h_{t-1}) \odot \sigma(u)"
    assert Div(HP, U).code("tanh") == "h[t-1] / u"
    assert Pow(Shift(1, HP), 2).code("tanh") == "(h[t-1] + 1) ** 2"
    assert [number_latex(c) for c in (2, 0.5, Fraction(-1, 3))] == ["2", "0.5", r"-\tfrac{1}{3}"]


@cell
class everything:
    """A cell that uses every new operation once, each in its own equation."""

    W_xz = matrix(rows="D")
    W_hz = matrix(rows="H")
    b_z = vector()
    W_xn = matrix(rows="D")
    gain = vector()
    z = sigmoid(x @ W_xz + prev.h @ W_hz + b_z)
    n = relu(x @ W_xn + 0.5 * prev.h - 0.1)
    s = softplus(gain) / (1 + exp(prev.h) ** 2) + log(1 + prev.h * prev.h)
    h = (1 - z) * n + z * s / 2


@cell
class leaky:
    """A leaky cell with a learnt scalar rate and a scalar offset."""

    W_xh = matrix(rows="D")
    W_hh = matrix(rows="H")
    b_h = vector()
    lam = scalar(latex=r"\lambda")
    beta = scalar()
    a = tanh(x @ W_xh + prev.h @ W_hh + b_h)
    h = lam * prev.h + a - lam * a + beta


@pytest.mark.parametrize("mine", [everything, leaky], ids=lambda c: c.name)
def test_a_cell_of_every_new_operation_passes_the_engines_checks(mine) -> None:
    table = verify_cell(mine, steps=(2,))  # the compiled loop vs finite differences
    assert table.passed, [row for row in table.rows if not row.passed]
    assert {row.wrt for row in table.rows} == set(mine.gradient_names)
    for check in check_cell_sums(mine, T=3, points=1):  # the expanded sum vs forward diff
        assert check.holds, check


def test_a_scalar_parameter_is_one_number_and_its_sum_reads_as_one() -> None:
    assert [(p.name, p.shape(2, 3)) for p in leaky.params][-2:] == [
        ("lam", (1, 1)),
        ("beta", (1, 1)),
    ]
    assert leaky.equation_latex()[1] == r"h_{t} = \lambda\,h_{t-1} + a_{t} - \lambda\,a_{t} + \beta"


def test_signs_sums_and_scalars_print_as_written_by_hand() -> None:
    notation = Notation("tanh", {"h": "h", "u": "u", "s": "s", "ai": "a^{i}"})
    cases = [
        (Scale(-1, HP), "-h_{t-1}", "-h[t-1]"),
        (Scale(2, HP), r"2\,h_{t-1}", "2 * h[t-1]"),
        (Scale(Fraction(1, 2), HP), r"\tfrac{1}{2}\,h_{t-1}", "(1 / 2) * h[t-1]"),
        (Shift(-2, HP), "h_{t-1} - 2", "h[t-1] - 2"),
        (Shift(0.5, HP), "h_{t-1} + 0.5", "h[t-1] + 0.5"),
        (Shift(0, HP), "h_{t-1} + 0", "h[t-1] + 0"),  # a + 0 as typed, no sign of its own
        (Shift(0.0, HP), "h_{t-1} + 0.0", "h[t-1] + 0.0"),
        (Shift(3, Scale(-1, HP), True), "3 - h_{t-1}", "3 - h[t-1]"),
        (Shift(1, HP, True), "1 + h_{t-1}", "1 + h[t-1]"),
        (Mul(Shift(1, HP), HP), r"(h_{t-1} + 1) \odot h_{t-1}", "(h[t-1] + 1) * h[t-1]"),
        (Gain("s", HP), r"s\,h_{t-1}", "s * h[t-1]"),
        (Offset("s", HP), "h_{t-1} + s", "h[t-1] + s"),
        (Mul(Offset("s", HP), HP), r"(h_{t-1} + s) \odot h_{t-1}", "(h[t-1] + s) * h[t-1]"),
        (Pow(Ref("ai"), 2), "(a^{i}_{t})^{2}", "ai[t] ** 2"),
        (Div(HP, Mul(U, HP)), r"\frac{h_{t-1}}{u \odot h_{t-1}}", "h[t-1] / (u * h[t-1])"),
    ]
    for node, latex, code in cases:
        assert (node.latex("t", notation), node.code("tanh")) == (latex, code)


def test_a_scalar_node_refuses_a_row_or_a_matrix_parameter() -> None:
    for rows in (None, "H"):  # a (1, H) row, an (H, H) matrix: neither is a scalar
        for node in (Gain("u", Prev("h")), Offset("u", Prev("h"))):
            with pytest.raises(CellDefinitionError, match=r"reads a scalar parameter .* u is not"):
                Cell("bad", (Param("u", rows),), (State("h"),), (Equation("h", node),))


def test_the_local_jacobians_print_as_written_by_hand() -> None:
    notation = Notation("tanh", {"h": "h", "u": "u", "s": "s"})
    cases = [
        (Scale(-1, HP), "-I"),
        (Scale(3, HP), r"\operatorname{diag}(3)"),
        (Shift(3, HP), "I"),
        (Pow(HP, 3), r"\operatorname{diag}(3\,h_{t-1}^{2})"),
        (Div(U, HP), r"-\operatorname{diag}(\frac{u}{h_{t-1}^{2}})"),
        (Div(HP, U), r"\operatorname{diag}(u^{-1})"),
        (Gain("s", HP), r"\operatorname{diag}(s)"),
        (Func("exp", HP), r"\operatorname{diag}(\exp(h_{t-1}))"),
        (Func("log", HP), r"\operatorname{diag}(\frac{1}{h_{t-1}})"),
        (Func("softplus", HP), r"\operatorname{diag}(\sigma(h_{t-1}))"),
    ]
    for node, latex in cases:
        assert node.jacobian(HP).latex("t", notation) == latex
