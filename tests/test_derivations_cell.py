"""Every node type's local chain rule is sympy.diff of its own forward map; bad cells fail clearly.

The rules of `derivations.core.nodes` and `derivations.core.ops` (leaf Jacobians J,
parameter derivatives) are checked entry by entry against `sympy.diff` on small
symbolic rows with D != H, so that a transposed factor cannot pass; the numeric value
of each `LocalSum` is checked against its SymPy matrix at a random point.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derivations import DerivationError, UnknownChoiceError
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
from derivations.core.factors import ONE, ZERO, LocalFactor, LocalSum, Notation, Scope, Weight
from derivations.core.nodes import Node
from derivations.core.notation import ACTIVATION_NAMES

D, H = 2, 3  # different, so that a transposed factor has the wrong shape
#: float64 against SymPy evaluated in float64: a few roundings apart
RTOL = 1e-12

X, U = Input(), Ref("u")
HP = Prev("h")
LEAVES = {X: D, HP: H, U: H}


def _row(name: str, n: int) -> list[sp.Symbol]:
    return [sp.Symbol(f"{name}{j}", real=True) for j in range(1, n + 1)]


def _scope(activation: str = "tanh") -> Scope:
    params = {
        "Wx": sp.Matrix(D, H, lambda i, j: sp.Symbol(f"Wx{i}{j}", real=True)),
        "Wh": sp.Matrix(H, H, lambda i, j: sp.Symbol(f"Wh{i}{j}", real=True)),
        "b": sp.Matrix([_row("b", H)]),
    }
    return Scope(_row("x", D), {"h": _row("h", H)}, {"u": _row("u", H)}, params, activation)


def _numeric(scope: Scope, rng: np.random.Generator) -> tuple[dict[sp.Symbol, float], Scope]:
    """Random numbers for every symbol of `scope`, as a substitution and as a numeric Scope."""
    values: dict[sp.Symbol, float] = {}

    def draw(row: object) -> np.ndarray:
        out = rng.uniform(-1.5, 1.5, size=len(row))  # type: ignore[arg-type]
        values.update(zip(row, out, strict=True))  # type: ignore[call-overload]
        return out

    params = {k: draw(list(m)).reshape(m.shape) for k, m in scope.params.items()}
    params["b"] = params["b"].reshape(-1)
    numeric = Scope(
        draw(scope.x),
        {"h": draw(scope.prev["h"])},
        {"u": draw(scope.refs["u"])},
        params,
        scope.activation,
    )
    return values, numeric


NODES: list[Node] = [
    X,
    HP,
    U,
    MatMul(X, "Wx"),
    MatMul(HP, "Wh"),
    Bias("b"),
    Add(MatMul(X, "Wx"), MatMul(HP, "Wh"), Bias("b")),
    Mul(U, HP),
    Mul(U, U),  # both factors the same leaf: two terms
    Func("sigmoid", U),
    Func("tanh", Add(U, HP)),
    OneMinus(U),
    # a GRU-like tree: every rule composed
    Add(Mul(OneMinus(Func("sigmoid", U)), MatMul(Mul(U, HP), "Wh")), Mul(U, HP), Bias("b")),
]


#: random points at which a difference that `expand` leaves must vanish before `simplify`
PROBES = 3
#: |difference| at 40 digits beyond which two expressions surely differ
PROBE_ZERO = 1e-30


def same(a: sp.Expr, b: sp.Expr, seed: int = 0) -> bool:
    """a == b exactly: zero after `expand`, or else zero at random points and after `simplify`.

    The numeric probe first makes a wrong rule fail in milliseconds: `simplify` of a
    difference that is not zero can take minutes.
    """
    difference = sp.expand(a - b)
    if difference == 0:
        return True
    rng = np.random.default_rng(seed)
    symbols = sorted(difference.free_symbols, key=str)
    for _ in range(PROBES):
        point = {s: sp.Rational(int(rng.integers(-900, 900)), 617) for s in symbols}
        if abs(difference.xreplace(point).evalf(40)) > PROBE_ZERO:
            return False
    return bool(sp.simplify(difference) == 0)


def _check_jacobian(node: Node, scope: Scope, out_name: str) -> None:
    out = node.forward(scope)
    for leaf, width in LEAVES.items():
        stated = node.jacobian(leaf).matrix(scope, width, len(out))
        row = leaf.forward(scope)
        for j in range(width):
            for m in range(len(out)):
                exact = sp.diff(out[m], row[j])
                assert same(stated[j, m], exact), (out_name, leaf, j, m, stated[j, m], exact)


@pytest.mark.parametrize("node", NODES, ids=repr)
def test_leaf_jacobian_is_diff_of_forward(node: Node) -> None:
    _check_jacobian(node, _scope(), repr(node))


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_the_chosen_activation_rule_is_diff_of_forward(activation: str) -> None:
    _check_jacobian(Func("act", Add(MatMul(X, "Wx"), U)), _scope(activation), activation)


@pytest.mark.parametrize("node", NODES, ids=repr)
@pytest.mark.parametrize("param", ["Wx", "Wh", "b"])
def test_parameter_derivative_is_diff_of_forward(node: Node, param: str) -> None:
    scope = _scope()
    out = node.forward(scope)
    matrix = scope.params[param]
    rows, cols = matrix.shape
    stated = [[[sp.Integer(0)] * len(out) for _ in range(cols)] for _ in range(rows)]
    for use in node.param_uses(param):
        part = use.derivative(scope, rows, cols, len(out))
        for j in range(rows):
            for k in range(cols):
                for m in range(len(out)):
                    stated[j][k][m] += part[j][k][m]
    for j in range(rows):
        for k in range(cols):
            for m in range(len(out)):
                exact = sp.diff(out[m], matrix[j, k])
                assert same(stated[j][k][m], exact), (node, param, j, k, m)


@pytest.mark.parametrize("node", NODES, ids=repr)
def test_numeric_value_is_the_symbolic_matrix(node: Node, rng: np.random.Generator) -> None:
    scope = _scope()
    values, numeric = _numeric(scope, rng)
    out = node.forward(scope)
    np.testing.assert_allclose(
        node.evaluate(numeric),
        [float(e.xreplace(values)) for e in out],
        rtol=RTOL,
        atol=RTOL,
    )
    for leaf, width in LEAVES.items():
        jac = node.jacobian(leaf)
        symbolic = jac.matrix(scope, width, len(out)).xreplace(values)
        np.testing.assert_allclose(
            jac.value(numeric, width, len(out)),
            np.array(symbolic, dtype=np.float64),
            rtol=RTOL,
            atol=RTOL,
        )


def test_transpose_reverses_and_transposes_the_pieces() -> None:
    scope = _scope()
    node = Add(Mul(OneMinus(Func("sigmoid", U)), MatMul(Mul(U, HP), "Wh")), Mul(U, HP))
    jac = node.jacobian(HP)
    assert jac.transpose().matrix(scope, H, H) == jac.matrix(scope, H, H).T
    assert Weight("Wh").transpose() == Weight("Wh", transposed=True)


def test_local_sums_add_and_multiply_as_matrices() -> None:
    assert not ZERO
    assert len(ONE + ONE) == 2
    assert (ZERO @ ONE) == ZERO
    minus = LocalSum((LocalFactor((), -1),))
    assert (minus @ minus).terms[0].sign == 1


def test_latex_of_pieces() -> None:
    notation = Notation("tanh", {"Wh": "W_{hh}", "h": "h", "u": "u", "c": "c"})
    jac = Func("act", U).jacobian(HP)
    assert jac.latex(3, notation) == "0"
    jac = MatMul(HP, "Wh").jacobian(HP) @ Func("act", Add(HP, U)).jacobian(HP)
    assert jac.latex(3, notation) == (r"W_{hh}\,\operatorname{diag}(1 - \tanh(h_{2} + u_{3})^{2})")
    assert jac.transpose().latex("t", notation) == (
        r"\operatorname{diag}(1 - \tanh(h_{t-1} + u_{t})^{2})\,W_{hh}^\top"
    )
    assert OneMinus(U).jacobian(U).latex("t", notation) == "-I"
    both = Mul(U, Prev("c")).jacobian(U) + OneMinus(U).jacobian(U)
    assert both.latex("t", notation) == r"\operatorname{diag}(c_{t-1}) - I"


# --- definitions that break a rule ---------------------------------------------------------


def _cell(equations: tuple[Equation, ...], params: tuple[Param, ...] | None = None) -> Cell:
    params = params or (Param("Wx", "D", latex="W_{x}"), Param("Wh", "H", latex="W_{h}"))
    return Cell("broken", params, (State("h", "h"),), equations)


A = Add(MatMul(X, "Wx"), MatMul(HP, "Wh"))


@pytest.mark.parametrize(
    ("equations", "params", "words"),
    [
        (
            (Equation("h", Func("tanh", Ref("a")), "h"), Equation("a", A, "a")),
            None,
            ["Ref('a') is used before the equation that defines a", "Move the equation"],
        ),
        (
            (Equation("h", Func("tanh", Ref("q")), "h"),),
            None,
            ["Ref('q') names no equation", "equations: h"],
        ),
        (
            (Equation("h", Add(MatMul(X, "Wz"), MatMul(HP, "Wh")), "h"),),
            None,
            ["unknown parameter 'Wz'", "declares Wx, Wh", "Add Param('Wz'"],
        ),
        (
            (Equation("a", A, "a"),),
            None,
            ["every state needs an equation", "none defines h"],
        ),
        (
            (Equation("h", Func("tanh", MatMul(HP, "Wh")), "h"),),
            None,
            ["every parameter must appear", "Wx never does"],
        ),
        (
            (Equation("h", Add(X, MatMul(HP, "Wh")), "h"),),
            None,
            ["one width", "D, H"],
        ),
        (
            (Equation("h", Add(MatMul(HP, "Wx"), MatMul(X, "Wh")), "h"),),
            None,
            ["row of width H by Wx", "rows='H'"],
        ),
        (
            (Equation("h", Add(MatMul(X, "Wx"), MatMul(Prev("c"), "Wh")), "h"),),
            None,
            ["Prev('c') reads a state the cell does not declare"],
        ),
        (
            (Equation("h", Func("swish", A), "h"),),
            None,
            ["Func kind must be one of sigmoid, tanh, act, relu", "softplus; got 'swish'"],
        ),
        (
            (Equation("h_1", A, "h"),),
            None,
            ["ASCII letters only", "'h_1'"],
        ),
        (
            (Equation("y", A, "y"), Equation("h", Ref("y"), "h")),
            None,
            ["'y' is taken by the read-out"],
        ),
        (
            (Equation("h", Add(A, Bias("Wx")), "h"),),
            None,
            ["Bias('Wx') needs a bias"],
        ),
        (
            (Equation("h", A, "h"),),
            (Param("Wx", "D"), Param("Wh", "X")),
            ["rows 'D', 'H' or None", "rows='X'"],
        ),
        (
            (Equation("h", "x W + h U", "h"),),  # type: ignore[arg-type]
            None,
            ["must be an expression tree", "'x W + h U'"],
        ),
    ],
    ids=[
        "ref-before-definition",
        "ref-unknown",
        "unknown-parameter",
        "state-never-defined",
        "unused-parameter",
        "widths-differ",
        "matrix-rows-mismatch",
        "unknown-state",
        "unknown-function",
        "bad-name",
        "reserved-name",
        "bias-is-matrix",
        "bad-rows",
        "not-a-tree",
    ],
)
def test_bad_definitions_raise_clear_errors(
    equations: tuple[Equation, ...], params: tuple[Param, ...] | None, words: list[str]
) -> None:
    with pytest.raises(CellDefinitionError) as info:
        _cell(equations, params)
    message = str(info.value)
    assert "cell 'broken'" in message
    for word in words:
        assert word in message, (word, message)
    assert isinstance(info.value, DerivationError)
    assert isinstance(info.value, ValueError)


def test_unknown_activation_lists_the_choices() -> None:
    with pytest.raises(UnknownChoiceError, match="activation must be one of tanh, sigmoid"):
        Cell(
            "x",
            (Param("Wh", "H"),),
            (State("h", "h"),),
            (Equation("h", Func("act", MatMul(HP, "Wh")), "h"),),
            activation="swish",
        )
