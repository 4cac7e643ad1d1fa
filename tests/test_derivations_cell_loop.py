"""The backward loop of every built-in cell against rnnnum.bptt, its listing run with NumPy.

`derivations.gradient.loop` builds the loop from the cell's equations; `rnnnum.bptt` is the
hand-written numeric twin (names, shapes and gate order shared, never equations). The
residual cell has no rnnnum.bptt: its reference is central differences of a NumPy
forward written here from rnnnum's activation and loss (checked against rnnnum's
residual training cell), the only independent float forward of it there is.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
from test_derivations_cell_unroll import _rnnnum_params

import rnnnum
from derivations.check.loop_proofs import prove_cell_loop, vanishes
from derivations.core.cell import Cell, Equation, Func, Input, MatMul, Mul, Param, Prev, Ref, State
from derivations.core.cells import gru, lstm, residual, vanilla
from derivations.core.degenerate import DegenerateCellWarning
from derivations.core.errors import TooLargeError, UnknownChoiceError
from derivations.core.nodes import CellDefinitionError
from derivations.core.notation import LOSS_NAMES
from derivations.gradient.loop import (
    Signal,
    cell_backward_loop,
    cell_loop_map,
    loop_plan,
    signal_symbol_name,
)
from derivations.program.unroll import UnrolledCell, unroll_cell
from derivations.render.loop import LISTING_WIDTH, cell_elementwise_latex, cell_loop_code
from rnnnum.bptt import output_signals
from rnnnum.losses import get_loss

#: float64 against float64, the same sums in other orders (see tests/problems.py)
ROUNDOFF = 1e-12
#: central differences with rnnnum.FD_STEP (1e-6) on O(1) quantities: truncation
#: error ~ h^2 = 1e-12 and rounding ~ eps/h = 2e-10 of the loss scale
FD_RTOL, FD_ATOL = 1e-6, 1e-8
D, H, V = 2, 2, 3

CELLS = {
    "vanilla-tanh": vanilla("tanh"),
    "vanilla-sigmoid": vanilla("sigmoid"),
    "residual": residual("tanh"),
    "lstm": lstm(),
    "gru": gru("after"),
    "gru-before": gru("before"),
}
#: the piecewise-linear activations: proved region by region (one activation pattern each)
PIECEWISE = {"vanilla-relu": vanilla("relu"), "vanilla-leaky_relu": vanilla("leaky_relu")}


def problem(cell: Cell, T: int, loss: str, rng: np.random.Generator):
    """A program, numbers for its inputs (initial states non-zero) and rnnnum's targets."""
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    numbers = {s: rng.uniform(-1.0, 1.0) for s in program.inputs()}
    if loss == "cross_entropy":
        classes = rng.integers(0, V, size=(1, T))
        for t in range(1, T + 1):
            for v, symbol in enumerate(program.targets[t]):
                numbers[symbol] = float(v == classes[0, t - 1])
        return program, numbers, classes
    targets = np.array([[[numbers[s] for s in program.targets[t]] for t in range(1, T + 1)]])
    return program, numbers, targets


def array(matrix: sp.Matrix, values: dict) -> np.ndarray:
    return np.array([[float(sp.sympify(e).xreplace(values)) for e in matrix.row(i)]
                     for i in range(matrix.rows)])  # fmt: skip


def run_loop(program: UnrolledCell, numbers: dict) -> dict[str, np.ndarray]:
    """The loop's gradients evaluated on numbers, one assignment at a time (rnnnum's shapes)."""
    loop = cell_backward_loop(program)
    values = program.evaluate(numbers)
    for symbol, expr in loop.assignments:
        values[symbol] = float(expr.xreplace(values))
    out = {}
    for name in program.cell.gradient_names:
        gradient = loop.gradients[name]
        out[name] = array(sp.Matrix.vstack(*gradient) if name == "X" else gradient, values)
    return out


def residual_forward_loss(arrays: dict[str, np.ndarray], X, targets, loss: str) -> float:
    """h_t = h_{t-1} + tanh(x_t W_xh + h_{t-1} W_hh + b_h) and the read-out, in NumPy."""
    f = rnnnum.ACTIVATIONS["tanh"]
    h, total = arrays["h0"].reshape(1, -1), 0.0
    for t in range(X.shape[1]):
        h = h + f.forward(X[:, t] @ arrays["Wxh"] + h @ arrays["Whh"] + arrays["bh"])
        y = h @ arrays["Wyh"] + arrays["by"]
        total += get_loss(loss).value(y[:, None], targets[:, t : t + 1])
    return total


def reference(cell: Cell, program: UnrolledCell, numbers: dict, targets, loss: str):
    """rnnnum's gradients by the cell's names (per gate), for these numbers."""
    T = program.T
    X = np.array([[[numbers[s] for s in program.x[t]] for t in range(1, T + 1)]])
    init = {s: np.array([[numbers[v] for v in program.values[s][0]]]) for s in cell.state_names}
    arrays = {n: array(program.params[n], numbers) for n in (*cell.param_names, "Wyh", "by")}
    arrays = {n: a[0] if a.shape[0] == 1 else a for n, a in arrays.items()}
    if cell.name == "residual":
        arrays["h0"] = init["h"][0]
        out = {}
        for name in (*cell.param_names, "Wyh", "by", "h0", "X"):
            base = X if name == "X" else arrays[name]
            numeric = np.zeros_like(base)
            for index in np.ndindex(base.shape):
                original = base[index]
                losses = []
                for step in (rnnnum.FD_STEP, -rnnnum.FD_STEP):
                    base[index] = original + step
                    losses.append(residual_forward_loss(arrays, X, targets, loss))
                base[index] = original
                numeric[index] = (losses[0] - losses[1]) / (2 * rnnnum.FD_STEP)
            out[name] = numeric
        return out, None
    if cell.name == "vanilla":
        params = rnnnum.RNNParams(**arrays)
        cache = rnnnum.forward(params, X, targets, loss=loss, h0=init["h"],
                               activation=cell.activation)  # fmt: skip
    else:
        params = _rnnnum_params(program, numbers, None if cell.name == "lstm" else
                                ("after" if cell.name == "gru" else "before"))  # fmt: skip
        cache = rnnnum.forward(params, X, targets, loss=loss, h0=init["h"], c0=init.get("c"))
    grads = rnnnum.bptt(params, cache).as_dict()
    out = {}
    for name in cell.gradient_names:
        for stacked, blocks in cell.stacking().items():
            if name in blocks:
                k = blocks.index(name)
                out[name] = grads[stacked][..., k * H : (k + 1) * H]
                break
        else:
            out[name] = grads[name]
    return out, cache


def assert_gradients(cell: Cell, mine: dict, theirs: dict, label: str) -> None:
    close = {"rtol": FD_RTOL, "atol": FD_ATOL} if cell.name == "residual" else {
        "rtol": ROUNDOFF, "atol": ROUNDOFF}  # fmt: skip
    for name in cell.gradient_names:
        expected = theirs[name]
        np.testing.assert_allclose(np.reshape(mine[name], expected.shape), expected, **close,
                                   err_msg=f"{label}: dL/d{name}")  # fmt: skip


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("T", [1, 2, 5])
@pytest.mark.parametrize("key", [*CELLS, *PIECEWISE])
def test_loop_gradients_match_rnnnum(key: str, T: int, loss: str, rng) -> None:
    cell = {**CELLS, **PIECEWISE}[key]
    program, numbers, targets = problem(cell, T, loss, rng)
    theirs, _ = reference(cell, program, numbers, targets, loss)
    assert_gradients(cell, run_loop(program, numbers), theirs, f"{key}, T={T}, {loss}")


def forward_rows(cell: Cell, program: UnrolledCell, numbers: dict) -> dict[str, np.ndarray]:
    """Every variable of the cell at t = 0..T as (T+1, 1, width), by the cell's numeric forward."""
    T = program.T
    rows = {eq.name: [None] * (T + 1) for eq in cell.equations}
    for s in cell.state_names:
        rows[s][0] = np.array([[numbers[v] for v in program.values[s][0]]])
    params = {p: array(program.params[p], numbers) for p in cell.param_names}
    from derivations.core.factors import Scope

    for t in range(1, T + 1):
        x = np.array([[numbers[s] for s in program.x[t]]])
        prev = {s: rows[s][t - 1] for s in cell.state_names}
        values = cell.evaluate(Scope(x, prev, {}, params, cell.activation))
        for name, value in values.items():
            rows[name][t] = value
    width = {name: family[1].shape[1] for name, family in rows.items()}
    return {n: np.array([r if r is not None else np.full((1, width[n]), np.nan)
                         for r in family]) for n, family in rows.items()}  # fmt: skip


def listing_namespace(program: UnrolledCell, numbers: dict, dy: np.ndarray) -> dict:
    """What a printed listing reads: forward rows by t, x[t], dy[t], parameters, functions."""
    cell, T = program.cell, program.T
    inputs = np.array([[numbers[s] for s in program.x[t]] for t in range(1, T + 1)])
    return {
        **forward_rows(cell, program, numbers),
        "x": np.vstack([np.full((1, D), np.nan), inputs])[:, None, :],
        "dy": np.concatenate([np.full((1, V), np.nan), dy])[:, None, :],
        **{n: array(program.params[n], numbers) for n in (*cell.param_names, "Wyh", "by")},
        "T": T,
        "D": D,
        "H": H,
        "zeros": np.zeros,
        "zeros_like": np.zeros_like,
        "tanh": np.tanh,
        "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
        "relu": lambda a: np.maximum(a, 0.0),
        "leaky_relu": lambda a: np.where(a > 0, a, 0.01 * a),
        **{name: getattr(np, name) for name in ("select", "greater", "nan")},  # SymPy's print
    }


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("key", [*CELLS, *PIECEWISE])
def test_the_printed_listing_runs_and_gives_rnnnums_gradients(key: str, loss: str, rng) -> None:
    cell, T = {**CELLS, **PIECEWISE}[key], 3
    listing = cell_loop_code(cell)
    assert max(len(line) for line in listing.splitlines()) <= LISTING_WIDTH
    program, numbers, targets = problem(cell, T, loss, rng)
    theirs, cache = reference(cell, program, numbers, targets, loss)
    forward = forward_rows(cell, program, numbers)
    if cache is not None:  # the cell's own forward is rnnnum's
        np.testing.assert_allclose(forward["h"][1:, 0], cache.h[0], rtol=ROUNDOFF, atol=ROUNDOFF)
        dy = output_signals(cache)[0]
    else:
        Wyh, by = array(program.params["Wyh"], numbers), array(program.params["by"], numbers)
        y = forward["h"][1:, 0] @ Wyh + by
        dy = get_loss(loss).gradient(y[None], targets)[0]
    namespace = listing_namespace(program, numbers, dy)
    exec(compile(listing, f"<{key} listing>", "exec"), namespace)  # the point of the test
    mine = {n: namespace[f"d{n}"] for n in cell.gradient_names if n != "X"}
    mine["X"] = namespace["dX"][1:]
    assert_gradients(cell, mine, theirs, f"{key} listing, {loss}")


def test_one_carry_per_state_and_the_lstm_cell_state_path() -> None:
    plan = loop_plan(lstm())
    assert list(plan.carries) == ["h", "c"]
    listing = cell_loop_code(lstm())
    assert "    dc_next = dc * f[t]" in listing.splitlines()  # dc_{t-1} = dc_t ⊙ f_t, h held fixed
    assert list(loop_plan(gru()).carries) == ["h"]
    assert "dh_next = dh + da @ Whh.T" in cell_loop_code(residual())  # the skip path: + I
    program = unroll_cell(lstm(), T=2, D=1, H=1, V=2)
    loop = cell_backward_loop(program)
    assert set(loop.carries) == {"h", "c"} and set(loop.carries["c"]) == {1, 2}
    assert loop.increments["c0"] == {1: loop.carries["c"][1]}


def test_loop_map_pairs() -> None:
    cell = lstm()
    assert cell_loop_map(cell, "Wxi", 3) == {
        3: [(3, 3)], 2: [(2, 2), (3, 2)], 1: [(1, 1), (2, 1), (3, 1)]}  # fmt: skip
    assert cell_loop_map(cell, "Wyh", 2) == {2: [(2, 2)], 1: [(1, 1)]}
    assert cell_loop_map(cell, "by", 2) == {2: [(2, 2)], 1: [(1, 1)]}  # through y_i alone
    assert cell_loop_map(cell, "c0", 3) == {3: [], 2: [], 1: [(1, 1), (2, 1), (3, 1)]}
    with pytest.raises(UnknownChoiceError, match=r"^the gradient of the lstm cell must be one of"):
        cell_loop_map(cell, "Wxh", 3)


def test_listing_names_and_bad_choices() -> None:
    with pytest.raises(UnknownChoiceError, match="Wxi, Whi, bi"):
        cell_loop_code(lstm(), ("Wq",))
    only = cell_loop_code(lstm(), ("Wxi",))
    assert "dWxi += x[t].T @ dai" in only and "dWhi" not in only and "dh0" not in only
    with pytest.warns(DegenerateCellWarning, match="not recurrent"):  # no Prev: beside the point
        clash = Cell(
            "clash",
            (Param("Wxh", "D", latex="W"),),
            (State("h", "h"),),
            (
                Equation("dh", MatMul(Input(), "Wxh"), "u"),
                Equation("h", Func("act", Ref("dh")), "h"),
            ),
        )
    with pytest.raises(CellDefinitionError, match="dh is also a name the listing reads"):
        cell_loop_code(clash)


def test_elementwise_form_names_the_loops_signals() -> None:
    text = cell_elementwise_latex(lstm(), "Wxf", 2, D=1, H=1, V=2)
    assert text.count(r"\frac{\mathrm{d} L}{\mathrm{d} (W_{xf})_{1,1}}") == 1
    assert r"\bar{c}_{2,1} &=" in text and r"\bar{h}_{1,1} &=" in text
    assert r"\kappa" not in text  # carries are written out through their definitions
    gru_text = cell_elementwise_latex(gru(), "Whr", 2, D=1, H=1, V=2)
    assert r"\delta^{r}_{1}[1] &=" in gru_text  # entry 1 of step 1, not a loss and a step
    assert r"\bar{" not in cell_elementwise_latex(lstm(), "by", 2, D=1, H=1, V=2)
    with pytest.raises(TooLargeError, match="at most 10 steps"):
        cell_elementwise_latex(lstm(), "Wxf", 11)


@pytest.mark.parametrize("key", CELLS)
def test_every_symbol_of_the_elementwise_form_has_a_latex_name(key: str) -> None:
    cell = CELLS[key]
    for wrt in (cell.param_names[1], "X", "h0"):
        text = cell_elementwise_latex(cell, wrt, 2, D=1, H=2, V=2)
        # an unnamed symbol bar_c_2_1 would print as bar_{c 2 1}: a subscript with spaces
        assert not re.search(r"_\{[^{}]* [^{}]*\}", text), (wrt, text)


#: the sizes of the exact proofs: every built-in cell, every gradient, both losses;
#: the gated cells at D = H = 1 (about 2 s per loss; at H = 2 a proof takes minutes)
EXACT_SIZES = {
    "vanilla-tanh": (2, 2, 2, 2),
    "vanilla-sigmoid": (2, 2, 2, 2),
    "residual": (2, 2, 2, 2),
}


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("key", CELLS)
def test_exact_proof_loop_equals_sympy_diff(key: str, loss: str) -> None:
    cell = CELLS[key]
    proofs = prove_cell_loop(cell, *EXACT_SIZES.get(key, (2, 1, 1, 2)), loss=loss)
    assert [p.wrt for p in proofs] == list(cell.gradient_names)
    assert all(p.holds for p in proofs), [p.detail for p in proofs if not p.holds]


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("key", [*PIECEWISE, "residual-relu"])
def test_exact_proof_of_a_piecewise_cell_runs_every_activation_pattern(key: str, loss: str) -> None:
    """T = 2, H = 1: two kinked pre-activations, four patterns, each proved exactly."""
    cell = PIECEWISE.get(key) or residual("relu")
    proofs = prove_cell_loop(cell, 2, 1, 1, 2, loss=loss)
    assert all(p.holds for p in proofs), [p.detail for p in proofs if not p.holds]
    assert {p.detail for p in proofs} == {
        "every difference cancels to 0 in each of 4 activation patterns"
    }


def test_a_wrong_slope_below_the_kink_fails_in_that_pattern(monkeypatch) -> None:
    """The loop's ReLU derivative 1/2 below the kink (the forward unchanged): the proof
    must fail, and say in which activation pattern."""
    from dataclasses import replace

    from derivations.core.spec import ACTIVATIONS

    wrong = replace(
        ACTIVATIONS["relu"],
        derivative=lambda a, h: sp.Piecewise((1, a > 0), (sp.Rational(1, 2), True)),
    )
    monkeypatch.setitem(ACTIVATIONS, "relu", wrong)
    proofs = prove_cell_loop(vanilla("relu"), 2, 1, 1, 2, loss="mse", names=("Whh", "Wyh"))
    assert [p.holds for p in proofs] == [False, True]  # W_yh never meets f'
    assert "differs from sympy.diff(L) where " in proofs[0].detail
    assert "<= 0" in proofs[0].detail


def test_what_sign_patterns_cannot_decide_is_refused() -> None:
    from derivations.check.proof import MAX_KINKS, ProofRefused, kinks, patterns

    a, b = sp.symbols("a b", real=True)
    with pytest.raises(ProofRefused, match=r"sign of its argument \(a > 0\); got the condition"):
        kinks([sp.Piecewise((a, a > b), (0, True))])
    many = sp.symbols(f"a0:{MAX_KINKS + 1}", real=True)
    with pytest.raises(ProofRefused, match="activation patterns, more than the 256"):
        patterns(list(many))
    assert len(patterns(list(many[:2]))) == 4 and patterns([]) == [{}]


def test_vanishes_decides_polynomial_identities_in_opaque_subexpressions() -> None:
    x, y = sp.symbols("x y", real=True)
    s = (1 + sp.tanh(x / 2)) / 2  # sigmoid as the cells write it
    assert vanishes(sp.diff(s, x) - s * (1 - s))
    assert vanishes(sp.diff(sp.log(sp.exp(x) + sp.exp(y)), x) - sp.exp(x) / (sp.exp(x) + sp.exp(y)))
    assert not vanishes(sp.diff(s, x) - s * (1 + s))
    assert not vanishes(sp.tanh(x) ** 2 - sp.tanh(y) ** 2)
    with pytest.raises(TypeError, match="float"):
        vanishes(sp.Float(0.5) * x)


def test_a_transposed_weight_in_the_loop_fails_the_exact_proof(monkeypatch) -> None:
    """The proof can fail: W instead of W^T in every pull makes dL/dW_hh differ."""
    from derivations.core.factors import Weight

    monkeypatch.setattr(Weight, "pull", lambda self, row, scope: row * scope.params[self.name])
    proofs = prove_cell_loop(vanilla("tanh"), 2, 2, 2, 2, names=("Whh", "bh"))
    assert [p.holds for p in proofs] == [False, False]
    assert "differs from sympy.diff(L)" in proofs[0].detail


def test_a_cell_written_only_in_a_test_file_derives_proves_and_runs(rng) -> None:
    """The minimal gated unit of test_derivations_cells: no code of its own anywhere else."""
    from test_derivations_cells import GATED_UNIT

    proofs = prove_cell_loop(GATED_UNIT, 2, 1, 1, 2, loss="mse")
    assert all(p.holds for p in proofs), [p.detail for p in proofs if not p.holds]
    program, numbers, _ = problem(GATED_UNIT, 3, "mse", rng)
    proven = run_loop(program, numbers)  # the loop the proof covers, at T = 3
    values = program.evaluate(numbers)
    dy = np.array([[values[s] for s in program.dy[t]] for t in range(1, 4)])
    namespace = listing_namespace(program, numbers, dy)
    exec(compile(cell_loop_code(GATED_UNIT), "<gated-unit listing>", "exec"), namespace)
    for name in GATED_UNIT.gradient_names:
        got = namespace["dX"][1:] if name == "X" else namespace[f"d{name}"]
        np.testing.assert_allclose(np.reshape(got, proven[name].shape), proven[name],
                                   rtol=ROUNDOFF, atol=ROUNDOFF, err_msg=name)  # fmt: skip


def two_gate_unit() -> Cell:
    r"""h = tanh(h_{t-1} W_a) ⊙ σ(h_{t-1} W_b), written only here: two parameters enter one
    equation through two different products (two signals of h), nothing reads x_t, and
    nothing reads u = h_{t-1} W_u (its adjoint is zero, and so is dL/dW_u)."""
    params = tuple(Param(f"W{p}", "H", latex=f"W_{{{p}}}") for p in "abu")
    hp = Prev("h")
    h = Mul(Func("tanh", MatMul(hp, "Wa")), Func("sigmoid", MatMul(hp, "Wb")))
    equations = (Equation("u", MatMul(hp, "Wu"), "u"), Equation("h", h, "h"))
    return Cell("two-gate", params, (State("h", "h"),), equations)


def test_two_signals_of_one_equation_are_two_symbols_and_the_proof_holds() -> None:
    """The second place of h gets delta2_h, written \\delta^{h,2}; x_t gets zeros."""
    cell = two_gate_unit()
    proofs = prove_cell_loop(cell, 2, 1, 1, 2, loss="mse")
    assert all(p.holds for p in proofs), [p.detail for p in proofs if not p.holds]
    loop = cell_backward_loop(unroll_cell(cell, T=2, D=2, H=1, V=2))
    assert set(loop.signals) == {"delta_h", "delta2_h"}
    names = loop.latex_names
    assert names[loop.signals["delta_h"][2][0]] == r"\delta^{h}_{2}[1]"
    assert names[loop.signals["delta2_h"][1][0]] == r"\delta^{h,2}_{1}[1]"
    assert loop.gradients["X"] == [sp.zeros(1, 2), sp.zeros(1, 2)]
    assert loop.adjoints["u"][1] == sp.zeros(1, 1)
    assert loop.gradients["Wu"] == sp.zeros(1, 1)


def test_signal_names() -> None:
    """``delta_r`` for the first place a parameter enters r, ``delta2_r`` for a second."""
    assert signal_symbol_name(Signal("r")) == "delta_r"
    assert signal_symbol_name(Signal("r", 2)) == "delta2_r"


def test_the_latex_names_of_targets_and_carries_and_a_short_repr() -> None:
    """Targets are r_{t,v} unless the cell has an r (the GRU's reset gate); carries are
    \\kappa^{s}_{t,j}; a loop prints without its (long) assignments and sums."""
    for cell, target in ((lstm(), "r"), (gru(), r"\mathrm{target}")):
        loop = cell_backward_loop(unroll_cell(cell, T=2, D=1, H=2, V=2))
        names = loop.latex_names
        assert names[loop.program.targets[2][1]] == target + "_{2,2}"
        assert names[loop.carries["h"][2][1]] == r"\kappa^{h}_{2,2}"
        assert names[loop.adjoints["h"][1][0]] == r"\bar{h}_{1,1}"
        # the symbols are named as the CellLoop docstring says: bar_v_t_j, carry_s_t_j
        assert str(loop.adjoints["h"][1][0]) == "bar_h_1_1"
        assert str(loop.carries["h"][2][1]) == "carry_h_2_2"
        text = repr(loop)
        assert "assignments=" not in text and "increments=" not in text
        assert "gradients=" not in text


def test_the_grus_carry_and_input_reuse_the_gate_signals() -> None:
    """h_{t-1} and x_t enter r and z through W_hr, W_hz (W_xr, W_xz), after the sigmoids:
    the signals delta^r, delta^z the weights' updates use are sent back as they are."""
    lines = [line.strip() for line in cell_loop_code(gru()).splitlines()]
    assert "dh_next = dh * z[t] + dhn @ Whn.T + delta_z @ Whz.T + delta_r @ Whr.T" in lines
    assert "dX[t] = dan @ Wxn.T + delta_z @ Wxz.T + delta_r @ Wxr.T" in lines
