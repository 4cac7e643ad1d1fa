r"""A cell's own read-out (`derivations.core.readout`), checked against a loss written by hand.

Three cells define $y_t$ in their class bodies: ``squashed`` reads $\tanh(h_t)$,
``squashed_out`` squashes its output and uses $W_{yh}$ twice,
$y_t = \tanh(h_t W_{yh} + \tanh(h_t) W_{yh} + b_y)$ (its local derivative reads $y_t$
itself, $1 - y_t^2$, and each term of $W_{yh}$ adds two uses), and ``gated_out`` reads two states
through a product, $y_t = (h_t W_{yh}) \odot (c_t W_{yc}) + b_y$, so
$\partial y_t/\partial s_t$ is neither $W_{yh}$ nor one state's. Each is
written a second time below as plain SymPy (`_hand_loss`: the forward pass and the
MSE loss $\tfrac12\lVert y_t - r_t\rVert^2$, no engine code); `sympy.diff` of that loss
is the reference for the expanded sum (its terms added up) and for the compiled loop,
and central differences of a NumPy forward written the same way check the terms one
by one. The default read-out is left as it was: the golden files hold its outputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import rnnnum
from derivations import cell_derivation_markdown
from derivations.check.loop_proofs import prove_cell_loop
from derivations.check.proofs import prove_cell_sums
from derivations.check.readback import expected_cell, read_written, written_errors
from derivations.check.verify import verify_cell
from derivations.compile.lambdify import lambdify_cell
from derivations.core.cell import CellDefinitionError
from derivations.core.cells import load_cell
from derivations.core.define import cell, define_cell
from derivations.core.twin import NumericTwin
from derivations.core.write import matrix, prev, scalar, sigmoid, tanh, vector, x
from derivations.gradient.sums import cell_expanded_sum
from derivations.program.unroll import unroll_cell
from derivations.render.loop import cell_loop_code, cell_loop_update_latex
from derivations.render.model import local_jacobians_latex
from derivations.render.sums import cell_compact_latex

#: Sizes and steps of the exact comparison: small enough for sympy.diff of the whole loss.
T, D, H, V = 2, 2, 2, 3
#: Float64 evaluations of the same expressions in a different order: a few ulps of O(1).
EXACT_ATOL = 1e-12
#: Central differences (step rnnnum.FD_STEP): truncation and rounding near 1e-9.
FD_RTOL, FD_ATOL = rnnnum.FD_RTOL, rnnnum.FD_ATOL


@cell
class squashed:
    W_xh = matrix(rows="D")
    W_hh = matrix(rows="H")
    b_h = vector()
    h = tanh(x @ W_xh + prev.h @ W_hh + b_h)
    W_yh = matrix(rows="H")
    b_y = vector()
    y = tanh(h) @ W_yh + b_y


@cell
class squashed_out:
    W_xh = matrix(rows="D")
    W_hh = matrix(rows="H")
    b_h = vector()
    h = tanh(x @ W_xh + prev.h @ W_hh + b_h)
    W_yh = matrix(rows="H")
    b_y = vector()
    y = tanh(h @ W_yh + tanh(h) @ W_yh + b_y)


@cell
class gated_out:
    W_xf = matrix(rows="D")
    W_hf = matrix(rows="H")
    f = sigmoid(x @ W_xf + prev.h @ W_hf)
    W_xc = matrix(rows="D")
    c = f * prev.c + tanh(x @ W_xc)
    h = tanh(c) * f
    W_yh = matrix(rows="H")
    W_yc = matrix(rows="H")
    b_y = vector()
    y = (h @ W_yh) * (c @ W_yc) + b_y


def _forward(name: str, p: dict, xs: list, s0: dict, act: tuple) -> list:
    """y_1..y_T of the cell `name`, written out by hand in `act` = (tanh, sigmoid)."""
    th, sg = act
    h, c, ys = s0["h"], s0.get("c"), []
    for xt in xs:
        if name == "squashed":
            h = (xt @ p["Wxh"] + h @ p["Whh"] + p["bh"]).applyfunc(th)
            ys.append(h.applyfunc(th) @ p["Wyh"] + p["by"])
        elif name == "squashed_out":
            h = (xt @ p["Wxh"] + h @ p["Whh"] + p["bh"]).applyfunc(th)
            ys.append((h @ p["Wyh"] + h.applyfunc(th) @ p["Wyh"] + p["by"]).applyfunc(th))
        else:
            f = (xt @ p["Wxf"] + h @ p["Whf"]).applyfunc(sg)
            c = f.multiply_elementwise(c) + (xt @ p["Wxc"]).applyfunc(th)
            h = c.applyfunc(th).multiply_elementwise(f)
            ys.append((h @ p["Wyh"]).multiply_elementwise(c @ p["Wyc"]) + p["by"])
    return ys


def _shapes(c) -> dict[str, tuple[int, int]]:
    out = {q.name: q.shape(D, H) for q in c.params}
    out |= {q.name: q.shape(D, H, V) for q in c.read_out.params}
    return out


def _point(c, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = {n: rng.standard_normal(s) * 0.8 for n, s in _shapes(c).items()}
    values |= {f"{s}0": rng.standard_normal((1, H)) * 0.5 for s in c.state_names}
    values["X"] = rng.standard_normal((T, D))
    values["targets"] = rng.standard_normal((T, V))
    return values


def _hand_loss(c, values: dict[str, np.ndarray]) -> tuple[sp.Expr, dict]:
    """The MSE loss of `c` at `values` as a SymPy expression in one symbol per entry."""
    syms = {
        n: sp.Matrix(*np.shape(v), lambda i, j, n=n: sp.Symbol(f"{n}_{i}_{j}"))
        for n, v in values.items()
        if n != "targets"
    }
    p = {n: syms[n] for n in _shapes(c)}
    xs = [syms["X"][t, :] for t in range(T)]
    s0 = {s: syms[f"{s}0"] for s in c.state_names}
    ys = _forward(c.name, p, xs, s0, (sp.tanh, lambda a: 1 / (1 + sp.exp(-a))))
    r = values["targets"]
    loss = sum(sum((ys[t][j] - r[t, j]) ** 2 for j in range(V)) / 2 for t in range(T))
    point = {syms[n][i, j]: float(v[i, j]) for n, v in values.items() if n in syms
             for i in range(v.shape[0]) for j in range(v.shape[1])}  # fmt: skip
    return loss, {"syms": syms, "point": point}


def _numeric_loss(c, values: dict[str, np.ndarray], losses_of: int | None = None) -> float:
    """The same loss in NumPy (L_i alone when `losses_of` = i)."""
    p = {n: sp.Matrix(values[n]) for n in _shapes(c)}
    xs = [sp.Matrix(values["X"][t : t + 1]) for t in range(T)]
    s0 = {s: sp.Matrix(values[f"{s}0"]) for s in c.state_names}
    ys = _forward(c.name, p, xs, s0, (sp.tanh, lambda a: 1 / (1 + sp.exp(-a))))
    r = values["targets"]
    steps = range(T) if losses_of is None else [losses_of - 1]
    return float(sum(sum((ys[t][j] - r[t, j]) ** 2 for j in range(V)) / 2 for t in steps))


CELLS = [squashed, squashed_out, gated_out]


@pytest.mark.parametrize("c", CELLS, ids=lambda c: c.name)
def test_the_sum_and_the_loop_are_sympy_diff_of_a_loss_written_by_hand(c) -> None:
    values = _point(c, seed=3)
    loss, data = _hand_loss(c, values)
    program = unroll_cell(c, T=T, D=D, H=H, V=V, loss="mse")
    numbers = {k: v for k, v in values.items() if k not in ("targets",)}
    numbers = {k: v.ravel() if v.shape[0] == 1 and k != "X" else v for k, v in numbers.items()}
    evaluation = lambdify_cell(program)({**numbers, "targets": values["targets"]})
    assert c.gradient_names[-len(c.state_names) - 1] == "X"
    inputs = list(data["point"])
    at = [data["point"][s] for s in inputs]

    def gradient(sym: sp.Matrix) -> np.ndarray:  # sympy.diff, evaluated in float64
        derivative = sym.applyfunc(lambda v: sp.diff(loss, v))
        return np.asarray(sp.lambdify(inputs, derivative, "numpy")(*at), dtype=np.float64)

    for name in c.gradient_names:
        sym = data["syms"][name]
        exact = gradient(sym)
        loop = np.asarray(evaluation.gradients[name]).reshape(exact.shape)
        np.testing.assert_allclose(loop, exact, rtol=0, atol=EXACT_ATOL, err_msg=f"loop {name}")
        terms = cell_expanded_sum(c, name, T)
        summed = np.zeros(exact.shape)
        for term in terms:
            value = np.asarray(term.value(program, evaluation.trace))
            if name == "X":
                summed[term.step - 1] += value
            else:
                summed += value.reshape(exact.shape)
        np.testing.assert_allclose(summed, exact, rtol=0, atol=EXACT_ATOL, err_msg=f"sum {name}")


@pytest.mark.parametrize("c", CELLS, ids=lambda c: c.name)
def test_each_term_of_a_readout_parameter_is_a_difference_of_its_loss(c) -> None:
    """Term (i, i) of a read-out parameter: L_i moved by that parameter alone (it reaches
    L_i through y_i only, so the difference of L_i in the shared parameter is the term)."""
    values = _point(c, seed=4)
    program = unroll_cell(c, T=T, D=D, H=H, V=V, loss="mse")
    flat = {k: v.ravel() if v.shape[0] == 1 and k != "X" else v for k, v in values.items()}
    evaluation = lambdify_cell(program)(flat)
    for name in c.read_out.param_names:
        for term in cell_expanded_sum(c, name, T):
            fd = np.zeros(values[name].shape)
            for idx in np.ndindex(*fd.shape):
                moved = []
                for sign in (1.0, -1.0):
                    shifted = dict(values)
                    shifted[name] = values[name].copy()
                    shifted[name][idx] += sign * rnnnum.FD_STEP
                    moved.append(_numeric_loss(c, shifted, losses_of=term.loss))
                fd[idx] = (moved[0] - moved[1]) / (2 * rnnnum.FD_STEP)
            ours = np.asarray(term.value(program, evaluation.trace)).reshape(fd.shape)
            np.testing.assert_allclose(ours, fd, rtol=FD_RTOL, atol=FD_ATOL, err_msg=name)


def test_verify_checks_every_gradient_of_a_cell_with_its_own_readout() -> None:
    table = verify_cell(gated_out, steps=(1, 3), sizes=(2, 3, 4))
    assert table.passed, "\n".join(map(str, table.failures))
    checked = {row.wrt for row in table.rows}
    assert {"Wyh", "Wyc", "by"} <= checked


def test_the_readout_shows_in_the_sum_the_loop_and_the_local_rules() -> None:
    assert "dh = dy[t] @ Wyh.T * (1 - tanh(h[t])**2) + dh_next" in cell_loop_code(squashed)
    assert (
        cell_loop_update_latex(squashed, "Wyh")
        == r"\bar W_{yh} \mathrel{+}= \tanh(h_{t})^\top g_{t}"
    )
    rule = (
        r"\frac{\partial y_{t}}{\partial h_{t}} &= "
        r"\operatorname{diag}(1 - \tanh(h_{t})^{2})\,W_{yh}"
    )
    assert rule in local_jacobians_latex(squashed)
    assert rule in cell_compact_latex(squashed, "Wxh", 3)
    term = cell_expanded_sum(squashed, "Wyh", 2)[0]
    assert term.latex() == r"(\tanh(h_{1}))^\top\,\frac{\partial L_{1}}{\partial y_{1}}"


def test_the_default_readout_is_unchanged() -> None:
    vanilla = load_cell("vanilla")
    assert vanilla.readout is None
    assert vanilla.gradient_names == ("Wxh", "Whh", "bh", "Wyh", "by", "X", "h0")
    assert [p.shape(2, 3, 4) for p in vanilla.read_out.params] == [(3, 4), (1, 4)]


def _body(**lines: object) -> dict[str, object]:
    base: dict[str, object] = {"W_xh": matrix(rows="D"), "b_h": vector()}
    base["h"] = tanh(x @ base["W_xh"] + prev.h * base["b_h"])
    return base | lines


def _too_narrow(b: dict[str, object]) -> dict[str, object]:
    return {"y": tanh(b["h"])}


def _reads_a_variable(b: dict[str, object]) -> dict[str, object]:
    a, W = tanh(b["h"]) * 2, matrix(rows="H")
    return {"a": a, "W_yh": W, "y": a @ W}


def _shares_a_parameter(b: dict[str, object]) -> dict[str, object]:
    return {"y": b["h"] * b["b_h"]}


def _scales_by_a_scalar(b: dict[str, object]) -> dict[str, object]:
    W, s = matrix(rows="H"), scalar()
    return {"W_yh": W, "s": s, "y": s * (b["h"] @ W)}


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        (_too_narrow, "y_t must be V wide"),
        (_reads_a_variable, "it reads a, which is not a state"),
        (_shares_a_parameter, "is used in y and in h"),
        (_scales_by_a_scalar, "s is a scalar. Use a vector"),
    ],
)
def test_a_readout_breaking_a_rule_says_which(lines, said: str) -> None:
    body = _body()
    with pytest.raises(CellDefinitionError, match=said):
        define_cell("bad", body | lines(body))


def test_a_readout_reading_the_previous_state_is_refused() -> None:
    body = _body()
    W = matrix(rows="H")
    with pytest.raises(CellDefinitionError, match=r"not prev\.h \(step t-1\)"):
        define_cell("bad", body | {"W_yh": W, "y": (prev.h + body["h"]) @ W})


def test_a_twin_computes_the_default_readout_only() -> None:
    with pytest.raises(CellDefinitionError, match="leave twin out"):
        cell(twin=NumericTwin("vanilla"))(type("c", (), dict(vars(squashed_body))))


class squashed_body:
    W_xh = matrix(rows="D")
    h = tanh(x @ W_xh + prev.h)
    W_yh = matrix(rows="H")
    y = tanh(h) @ W_yh


@pytest.mark.parametrize("c", CELLS[:2], ids=lambda c: c.name)
def test_each_terms_matrix_is_its_value(c) -> None:
    """`CellTerm.matrix` (SymPy, through `readout_signal`) against `CellTerm.value` (NumPy,
    checked against sympy.diff above), every term of every gradient of the two cells with
    one state."""
    values = _point(c, seed=5)
    program = unroll_cell(c, T=T, D=D, H=H, V=V, loss="mse")
    flat = {k: v.ravel() if v.shape[0] == 1 and k != "X" else v for k, v in values.items()}
    evaluation = lambdify_cell(program)(flat)
    inputs = program.inputs()
    numbers = dict(zip(inputs, _flat_inputs(program, flat), strict=True))
    for name in c.gradient_names:
        for term in cell_expanded_sum(c, name, T):
            matrix = term.matrix(program).applyfunc(program.nested)
            ours = np.asarray(sp.lambdify(inputs, matrix, "numpy")(*numbers.values()), dtype=float)
            value = np.asarray(term.value(program, evaluation.trace)).reshape(ours.shape)
            np.testing.assert_allclose(ours, value, rtol=0, atol=EXACT_ATOL, err_msg=name)
            assert term.gradient.shape(D, H, V) == ours.shape, name
            assert term.path_count() == len(term.paths), name
            if name in c.read_out.param_names:  # from where it enters to y_i, nothing between
                assert {p.through for p in term.paths} == {(f"y_{term.loss}",)}, name


def _flat_inputs(program, flat: dict[str, np.ndarray]) -> list[float]:
    """The numbers of `UnrolledCell.inputs` in its order: parameters, x_t, s_0, targets."""
    c = program.cell
    out: list[float] = []
    for name in (*c.param_names, *c.read_out.param_names):
        out += list(np.ravel(flat[name]))
    out += list(np.ravel(flat["X"]))
    for s in c.state_names:
        out += list(np.ravel(flat[f"{s}0"]))
    return out + list(np.ravel(flat["targets"]))


def test_the_exact_proofs_hold_for_a_cell_with_its_own_readout() -> None:
    sums = prove_cell_sums(squashed, T=2, loss="mse")
    loops = prove_cell_loop(squashed, T=2)
    assert {p.wrt for p in sums} == {p.wrt for p in loops} == set(squashed.gradient_names)
    assert all(p.holds for p in (*sums, *loops)), [p for p in (*sums, *loops) if not p.holds]


@pytest.mark.parametrize("wrt", squashed.gradient_names)
def test_the_written_out_sum_reads_back_true(wrt: str) -> None:
    found, problems = read_written(cell_derivation_markdown(squashed, wrt, 3))
    assert written_errors(found, expected_cell(squashed, wrt, 3), problems) == []
