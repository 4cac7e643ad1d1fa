"""Proofs for every built-in cell and a user's own: exactly at small sizes, numerically at T = 6.

The user cell (a peephole LSTM, Gers and Schmidhuber 2000: c_{t-1} enters the input and
forget gates, c_t the output gate, element-wise through a parameter vector) is written
only here; with no other code it derives, proves exactly, and its summed terms pass a
central finite-difference check of a loss computed by its own `Cell.evaluate`.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derivations.check.proof import NUMERIC_RTOL, ProofRefused
from derivations.check.proofs import _regions, check_cell_sums, prove_cell_sums, prove_nested
from derivations.core.cell import (
    Add,
    Bias,
    Cell,
    Equation,
    Func,
    Input,
    MatMul,
    Mul,
    Param,
    Prev,
    Ref,
    State,
)
from derivations.core.cells import gru, lstm, residual, vanilla
from derivations.core.factors import Scope
from derivations.gradient.sums import cell_expanded_sum
from derivations.program.unroll import unroll_cell
from derivations.render.sums import cell_written_out_latex

#: Central differences with step 1e-6 on a smooth loss of O(1) numbers: truncation error
#: ~ h^2 |f'''| ~ 1e-12 and rounding ~ eps / h ~ 1e-10, so 1e-7 relative (to the largest
#: gradient entry) leaves room without hiding a wrong term (those differ by O(1)).
FD_STEP = 1e-6
FD_RTOL = 1e-7

#: (cell, T, D, H, loss): the exact proofs the suite runs (see the module docstring of
#: derivations.check.proofs for what they show); each gated case takes a few seconds.
EXACT = [
    (vanilla(), 3, 1, 1, "cross_entropy"),
    (vanilla(), 2, 2, 2, "mse"),
    (residual(), 3, 1, 1, "mse"),
    (residual(), 2, 2, 2, "cross_entropy"),
    (lstm(), 2, 1, 1, "cross_entropy"),
    (lstm(), 2, 1, 1, "mse"),
    (gru(), 2, 1, 1, "cross_entropy"),
    (gru("before"), 2, 1, 1, "mse"),
]


@pytest.mark.parametrize(
    ("cell", "T", "D", "H", "loss"), EXACT, ids=lambda v: getattr(v, "name", str(v))
)
def test_every_gradient_of_every_builtin_cell_is_proven_exactly(cell, T, D, H, loss) -> None:
    proofs = prove_cell_sums(cell, T=T, D=D, H=H, V=2, loss=loss)
    assert [p.wrt for p in proofs] == list(cell.gradient_names)
    for proof in proofs:
        assert proof.holds, (proof.wrt, proof.detail)
        assert proof.entries > 0


def test_the_literal_nested_proof_where_it_is_affordable() -> None:
    for cell, T in ((vanilla(), 2), (lstm(), 1), (gru("before"), 1)):
        assert all(p.holds for p in prove_nested(cell, T=T)), cell.name


def test_both_exact_proofs_fail_on_a_wrong_term(monkeypatch) -> None:
    """The proofs can fail: the term (2, 1) of every gradient negated (the sign of one
    path product lost) must be an entry that differs, for every gradient it belongs to."""
    from derivations.gradient.sums import CellTerm

    right = CellTerm.matrix

    def wrong(term: CellTerm, program):  # type: ignore[no-untyped-def]
        matrix = right(term, program)
        return -matrix if (term.loss, term.step) == (2, 1) else matrix

    monkeypatch.setattr(CellTerm, "matrix", wrong)
    for proofs in (prove_cell_sums(vanilla(), T=2), prove_nested(vanilla(), T=2)):
        verdicts = {p.wrt: p.holds for p in proofs}
        assert verdicts == {name: name in ("Wyh", "by") for name in vanilla().gradient_names}
        assert all("differs" in p.detail for p in proofs if not p.holds)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize(
    "cell", [vanilla(), residual(), lstm(), gru(), gru("before")], ids=lambda c: c.name
)
def test_every_builtin_cell_numerically_at_T6(cell, loss) -> None:
    for check in check_cell_sums(cell, T=6, D=2, H=2, V=2, loss=loss, seed=7):
        assert check.holds, (check.wrt, check.max_error)
        assert check.tolerance == NUMERIC_RTOL


def peephole_lstm() -> Cell:
    """An LSTM whose gates i, f read c_{t-1} and whose o reads c_t, each through p ⊙ c."""
    params: list[Param] = []
    equations = []

    def gate(name: str, peep: object) -> None:
        params.extend(
            [
                Param(f"Wx{name}", "D", latex=f"W_{{x{name}}}"),
                Param(f"Wh{name}", "H", latex=f"W_{{h{name}}}"),
                Param(f"b{name}", None, latex=f"b_{{{name}}}"),
            ]
        )
        terms = [MatMul(Input(), f"Wx{name}"), MatMul(Prev("h"), f"Wh{name}"), Bias(f"b{name}")]
        if peep is not None:
            params.append(Param(f"p{name}", None, latex=f"p_{{{name}}}"))
            terms.append(Mul(Bias(f"p{name}"), peep))
        equations.append(Equation(f"a{name}", Add(*terms), f"a^{{{name}}}"))
        kind = "tanh" if name == "g" else "sigmoid"
        equations.append(Equation(name, Func(kind, Ref(f"a{name}")), name))

    gate("i", Prev("c"))
    gate("f", Prev("c"))
    gate("g", None)
    equations.append(Equation("c", Add(Mul(Ref("f"), Prev("c")), Mul(Ref("i"), Ref("g"))), "c"))
    gate("o", Ref("c"))
    equations.append(Equation("h", Mul(Ref("o"), Func("tanh", Ref("c"))), "h"))
    states = (State("h", "h"), State("c", "c"))
    return Cell("peephole", tuple(params), states, tuple(equations))


def test_a_peephole_lstm_written_here_derives_and_proves() -> None:
    cell = peephole_lstm()
    assert "pf" in cell.gradient_names
    latex = cell_written_out_latex(cell, "pf", 2)
    assert r"\operatorname{diag}(c_{0})" in latex  # dL/dp_f closes with diag(c_{k-1})
    proofs = prove_cell_sums(cell, T=2, D=1, H=1, V=2, loss="cross_entropy")
    assert all(p.holds for p in proofs), [(p.wrt, p.detail) for p in proofs if not p.holds]


def _loss(cell: Cell, arrays: dict[str, np.ndarray], R: np.ndarray, T: int) -> float:
    """L = sum_t of cross-entropy, run by the cell's own NumPy forward (no rnnnum, no SymPy)."""
    prev = {s: arrays[f"{s}0"] for s in cell.state_names}
    total = 0.0
    for t in range(T):
        params = {p: arrays[p] for p in cell.param_names}
        refs = cell.evaluate(Scope(arrays["X"][t], prev, {}, params, cell.activation))
        prev = {s: refs[s] for s in cell.state_names}
        y = prev["h"] @ arrays["Wyh"] + arrays["by"]
        total += float(np.log(np.exp(y).sum()) - R[t] @ y)
    return total


def test_a_peephole_lstm_passes_central_differences(rng) -> None:
    cell = peephole_lstm()
    T, D, H, V = 3, 2, 2, 3
    program = unroll_cell(cell, T=T, D=D, H=H, V=V)
    numbers = {s: float(rng.uniform(-1.0, 1.0)) for s in program.inputs()}
    R = np.eye(V)[rng.integers(0, V, size=T)]
    for t, row in program.targets.items():
        numbers.update({s: float(R[t - 1, v]) for v, s in enumerate(row)})
    trace = program.trace(numbers)
    arrays = {name: np.array(trace[name], dtype=float) for name in (*cell.param_names, "Wyh", "by")}
    arrays["X"] = trace["x"][1:].copy()
    arrays.update({f"{s}0": trace[s][0].copy() for s in cell.state_names})
    values = program.evaluate(numbers)  # the same loss, from the SymPy program
    assert np.isclose(_loss(cell, arrays, R, T), sum(values[L] for L in program.L.values()))
    for wrt in cell.gradient_names:
        terms = cell_expanded_sum(cell, wrt, T)
        key = wrt
        if wrt == "X":
            ours = np.stack(
                [
                    sum(t.value(program, trace) for t in terms if t.step == k)
                    for k in range(1, T + 1)
                ]
            )
        else:
            ours = sum(t.value(program, trace) for t in terms)
        base = arrays[key]
        fd = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            for sign in (1, -1):
                shifted = dict(arrays)
                shifted[key] = base.copy()
                shifted[key][index] += sign * FD_STEP
                fd[index] += sign * _loss(cell, shifted, R, T) / (2 * FD_STEP)
        scale = np.abs(fd).max()
        np.testing.assert_allclose(ours, fd, rtol=0, atol=FD_RTOL * scale, err_msg=wrt)


def _elementwise_relu() -> Cell:
    r"""A user's ReLU cell: $h_t = \mathrm{relu}(x_t W + u \odot h_{t-1} + b)$."""
    params = (Param("W", "D", latex="W"), Param("u", None, latex="u"), Param("b", None, latex="b"))
    a = Add(MatMul(Input(), "W"), Mul(Bias("u"), Prev("h")), Bias("b"))
    return Cell("ew", params, (State("h", "h"),), (Equation("h", Func("act", a), "h"),), "relu")


def test_a_users_relu_cell_is_proven_region_by_region() -> None:
    """Issue 23: these proofs answered "does not hold" on a ReLU cell; each region between
    the kinks is a polynomial identity again, and every one must hold."""
    cell = _elementwise_relu()
    for proofs in (prove_cell_sums(cell, T=2, H=2), prove_nested(cell, T=1)):
        assert [p.wrt for p in proofs] == list(cell.gradient_names)
        for proof in proofs:
            assert proof.holds, (proof.wrt, proof.detail)
            assert proof.detail == (
                "difference expands to 0 on every activation pattern of its kinks"
            )


def test_the_relu_proof_can_fail(monkeypatch) -> None:
    """The same negated (2, 1) term as above, on the ReLU cell: the regions must not hide it."""
    from derivations.gradient.sums import CellTerm

    right = CellTerm.matrix

    def wrong(term: CellTerm, program):  # type: ignore[no-untyped-def]
        matrix = right(term, program)
        return -matrix if (term.loss, term.step) == (2, 1) else matrix

    monkeypatch.setattr(CellTerm, "matrix", wrong)
    cell = _elementwise_relu()
    verdicts = {p.wrt: p.holds for p in prove_cell_sums(cell, T=2)}
    assert verdicts == {name: name in ("Wyh", "by") for name in cell.gradient_names}


@pytest.mark.parametrize(
    ("difference", "said"),
    [
        (sp.Heaviside(sp.Symbol("a")) - 1, "holds Heaviside, which sign patterns cannot split"),
        (sp.Max(0, sp.Symbol("a")), "holds Max"),
        (sp.Piecewise((1, sp.Symbol("a") > 1), (0, True)), "got the condition a > 1"),
    ],
)
def test_what_sign_patterns_cannot_decide_is_refused(difference, said) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProofRefused) as info:
        _regions(difference)
    assert said in str(info.value)
    assert "numerically" in str(info.value)
