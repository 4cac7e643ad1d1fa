"""The expanded sums of every built-in cell: every (i, k) term against rnnnum, LaTeX, paths.

`derivations.gradient.sums` composes each term from the cell's own local Jacobians;
`rnnnum.components` carries each loss back through its own hand-written step functions
(the two share names, shapes and gate order only). The residual cell, which
`rnnnum.components` does not know, is checked against rnnnum's residual training cell.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from test_derivations_cell_unroll import ATOL, RTOL, D, H, T, V, _array, _numbers, _rnnnum_params

import rnnnum
from derivations.check.verify import verify_cell
from derivations.core.cells import gru, lstm, residual, vanilla
from derivations.core.define import cell
from derivations.core.errors import OutOfRangeError, TooLargeError, UnknownChoiceError
from derivations.core.factors import LocalSum
from derivations.core.spec import MAX_STEPS
from derivations.core.write import matrix, prev, scalar, tanh, x
from derivations.gradient.sums import cell_expanded_sum, cell_gradient, cell_pairs, to_states
from derivations.program.unroll import unroll_cell
from derivations.render.sums import (
    block_matrix_latex,
    cell_written_out_latex,
)
from rnnnum.cells import VanillaCell

GATED = {"lstm": None, "gru": "after", "gru-before": "before"}


def _cell(name: str):
    return {"vanilla": vanilla(), "residual": residual(), "lstm": lstm()}.get(name) or gru(
        GATED[name]
    )


def _problem(name: str, loss: str, rng: np.random.Generator):
    """The program, a trace at random inputs, and rnnnum's params and cache at the same point."""
    return _point(name, loss, rng)[1:]


def _point(name: str, loss: str, rng: np.random.Generator):
    """`_problem` after the random numbers of the inputs it is at."""
    cell = _cell(name)
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    numbers, targets = _numbers(program, rng, loss)
    trace = program.trace(numbers)
    initial = {s: trace[s][0][None, :] for s in cell.state_names}
    X = trace["x"][None, 1:]
    if name == "vanilla":
        fields = {n: _array(program, numbers, n) for n in ("Wxh", "Whh", "Wyh", "bh", "by")}
        params = rnnnum.RNNParams(**fields)
        cache = rnnnum.forward(params, X, targets, h0=initial["h"], activation="tanh", loss=loss)
    else:
        params = _rnnnum_params(program, numbers, GATED[name])
        cache = rnnnum.forward(
            params, X, targets, loss=loss, **{f"{s}0": v for s, v in initial.items()}
        )
    return numbers, cell, program, trace, params, cache


def _theirs(cell, wrt: str):
    """rnnnum's field and column block for `wrt` (a gate's block of a stacked array)."""
    for field, names in cell.stacking().items():
        if wrt in names:
            index = names.index(wrt)
            return field, slice(index * H, (index + 1) * H)
    return wrt, slice(None)


def _their_terms(cell, params, cache, wrt: str) -> np.ndarray:
    """rnnnum.components' (i, k) terms of dL/d`wrt` for N = 1, (T, T, *shape of wrt)."""
    field, columns = _theirs(cell, wrt)
    theirs = rnnnum.components(params, cache, field).terms  # (T, T, *shape)
    if wrt in ("X", "h0", "c0"):
        theirs = theirs[:, :, 0]  # N = 1
    return theirs[..., columns]


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("name", ["vanilla", "lstm", "gru", "gru-before"])
def test_every_term_of_every_gradient_matches_rnnnum(name: str, loss: str, rng) -> None:
    cell, program, trace, params, cache = _problem(name, loss, rng)
    grads = rnnnum.bptt(params, cache)
    checked = 0
    for wrt in cell.gradient_names:
        field, columns = _theirs(cell, wrt)
        theirs = _their_terms(cell, params, cache, wrt)
        ours = np.zeros_like(theirs)
        for term in cell_expanded_sum(cell, wrt, T):
            ours[term.loss - 1, term.step - 1] = term.value(program, trace)
            checked += 1
        label = f"{name}, {loss}: dL/d{wrt}"
        # every (i, k) term, and zero where cell_pairs says there is none
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=label)
        total = getattr(grads, field)[..., columns]
        mine = ours[:, 0].sum(axis=0) if wrt in ("h0", "c0") else ours.sum(axis=(0, 1))
        if wrt == "X":
            mine, total = ours.sum(axis=0), total[0]
        elif wrt in ("h0", "c0"):
            total = total[0]
        np.testing.assert_allclose(mine, total, rtol=RTOL, atol=ATOL, err_msg=label + " (bptt)")
    assert checked == sum(len(cell_pairs(cell, w, T)) for w in cell.gradient_names)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_residual_terms_match_rnnnums_residual_cell(loss: str, rng) -> None:
    """Per loss, the terms' sum over k is rnnnum's residual cell run back from dL_i/dh_i; each
    (i, k) term is the closed form from rnnnum's own one-step Jacobians and f'(a_k)."""
    cell = residual()
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    numbers, _ = _numbers(program, rng, loss)
    numbers.update(dict.fromkeys(program.values["h"][0], 0.0))  # VanillaCell starts at h_0 = 0
    trace = program.trace(numbers)
    params = {n: _array(program, numbers, n) for n in ("Wxh", "Whh", "bh")}
    rnn = VanillaCell("tanh", residual=True)
    X = trace["x"][None, 1:]
    for i in range(1, T + 1):
        h_i, tape = rnn.forward(params, X[:, :i])
        y = h_i[0] @ trace["Wyh"] + trace["by"]  # the read-out, in NumPy here
        r = np.array([numbers[s] for s in program.targets[i]])
        dy = np.exp(y) / np.exp(y).sum() - r if loss == "cross_entropy" else y - r
        theirs = rnn.backward(params, tape, (dy @ trace["Wyh"].T)[None, :])
        M, fprime = rnn.step_jacobians(params, tape)[0], tape.fprime[0]  # rnnnum's, (i, H, H)
        back = dy @ trace["Wyh"].T  # dL_i/dh_i, then dL_i/dh_k = dL_i/dh_{k+1} M_{k+1}^T
        for k in range(i, 0, -1):  # each (i, k) term in closed form from rnnnum's numbers
            delta = back * fprime[k - 1]  # dL_i/da_k
            closed = {
                "Wxh": np.outer(X[0, k - 1], delta),
                "Whh": np.outer(tape.h[0, k - 1], delta),
                "bh": delta,
                "X": delta @ params["Wxh"].T,
            }
            for wrt, expected in closed.items():
                (term,) = [t for t in cell_expanded_sum(cell, wrt, T) if (t.loss, t.step) == (i, k)]
                np.testing.assert_allclose(
                    term.value(program, trace), expected, rtol=RTOL, atol=ATOL,
                    err_msg=f"residual: ({i}, {k}) of dL/d{wrt}",
                )  # fmt: skip
            back = back @ M[k - 1].T
        for wrt in ("Wxh", "Whh", "bh"):
            ours = sum(
                t.value(program, trace) for t in cell_expanded_sum(cell, wrt, T) if t.loss == i
            )
            np.testing.assert_allclose(
                ours, theirs[wrt], rtol=RTOL, atol=ATOL, err_msg=f"{wrt}, L_{i}"
            )


@pytest.mark.parametrize("name", ["vanilla", "residual", "lstm", "gru", "gru-before"])
def test_the_paths_of_a_term_add_up_to_it(name: str, rng) -> None:
    """Listed one by one (what the page writes), the paths sum to the block-product value."""
    cell = _cell(name)
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss="mse")
    numbers, _ = _numbers(program, rng, "mse")
    trace = program.trace(numbers)
    for wrt in cell.gradient_names:
        for term in cell_expanded_sum(cell, wrt, T):
            paths = term.paths
            assert len(paths) == term.path_count()
            total = sum(p.value(program, trace) for p in paths)
            np.testing.assert_allclose(
                total, term.value(program, trace), rtol=RTOL, atol=ATOL,
                err_msg=f"{name}: dL/d{wrt} ({term.loss}, {term.step})",
            )  # fmt: skip


def _at(matrix: sp.Matrix, values: dict) -> np.ndarray:
    """A SymPy matrix in a program's symbols as float64 numbers at the point `values`."""
    return np.array(matrix.xreplace(values).evalf(), dtype=np.float64)


@pytest.mark.parametrize("name", ["vanilla", "lstm", "gru"])
def test_every_terms_matrix_is_rnnnums_term_at_a_point(name: str, rng) -> None:
    """The SymPy matrix of each (i, k) term (the read-out's too), evaluated at the point of
    the trace, against rnnnum.components: the symbols and the numbers are one term."""
    numbers, cell, program, _, params, cache = _point(name, "mse", rng)
    values = {s: sp.Float(v) for s, v in program.evaluate(numbers).items()}
    for wrt in cell.gradient_names:
        theirs = _their_terms(cell, params, cache, wrt)
        for term in cell_expanded_sum(cell, wrt, T):
            expected = theirs[term.loss - 1, term.step - 1]
            mine = _at(term.matrix(program), values)
            assert mine.shape == ((1, expected.size) if expected.ndim == 1 else expected.shape)
            assert term.gradient.shape(D, H, V) == mine.shape
            np.testing.assert_allclose(
                mine.reshape(expected.shape), expected, rtol=RTOL, atol=ATOL,
                err_msg=f"{name}: ({term.loss}, {term.step}) of dL/d{wrt}",
            )  # fmt: skip


@cell
class gained:
    """A vanilla cell whose recurrence is scaled by one learned number g (a scalar)."""

    W_xh = matrix(rows="D")
    W_hh = matrix(rows="H")
    g = scalar()
    h = tanh(x @ W_xh + g * (prev.h @ W_hh))


def test_a_scalar_parameters_terms_are_one_by_one_and_their_values(rng) -> None:
    """dL/dg of a scalar g: each term's SymPy matrix is (1, 1) and is its float64 value,
    and the verifier passes the cell (each value against central differences of its L_i)."""
    table = verify_cell(gained, steps=(2,), losses=("mse",))
    assert table.passed, "\n".join(map(str, table.failures))
    assert any(row.wrt == "g" for row in table.rows)
    program = unroll_cell(gained, T=T, D=D, H=H, V=V, loss="mse")
    numbers, _ = _numbers(program, rng, "mse")
    trace = program.trace(numbers)
    values = {s: sp.Float(v) for s, v in program.evaluate(numbers).items()}
    terms = cell_expanded_sum(gained, "g", T)
    assert len(terms) == T * (T + 1) // 2
    for term in terms:
        mine = _at(term.matrix(program), values)
        assert mine.shape == term.gradient.shape(D, H, V) == (1, 1)
        np.testing.assert_allclose(
            mine.ravel(), np.ravel(term.value(program, trace)), rtol=RTOL, atol=ATOL,
            err_msg=f"({term.loss}, {term.step}) of dL/dg",
        )  # fmt: skip


def test_the_paths_are_the_terms_matrix_exactly() -> None:
    """In symbols: the sum of the LSTM's path matrices minus the factored matrix expands to 0."""
    cell = lstm()
    program = unroll_cell(cell, T=2, D=1, H=1, V=2)
    for wrt in ("Wxf", "Whg", "X", "c0", "h0"):
        for term in cell_expanded_sum(cell, wrt, 2):
            paths = sum(
                (p.matrix(program) for p in term.paths), sp.zeros(*term.matrix(program).shape)
            )
            assert (paths - term.matrix(program)).applyfunc(sp.expand) == sp.zeros(*paths.shape)


def test_a_gated_term_is_a_sum_over_routes_and_ways_through() -> None:
    terms = {(t.loss, t.step): t for t in cell_expanded_sum(lstm(), "Wxf", 3)}
    # h_3 <- (h or c)_2 <- (h or c)_1: 4 x 4 + 1 x 3 ways to h_1 (19) and 4 + 1 to c_1 (5)
    assert [terms[3, k].path_count() for k in (1, 2, 3)] == [24, 5, 1]
    first = terms[2, 1].paths[0]
    assert first.through[0] == "af_1" and first.through[-1] == "y_2"
    assert "c_1" in first.through and "h_2" in first.through
    assert to_states(lstm(), "c")["h"] and not to_states(lstm(), "h")["c"]
    gru_h0 = cell_expanded_sum(gru(), "h0", 3)
    assert [t.path_count() for t in gru_h0] == [5, 25, 125]
    assert any(p.sign < 0 for p in gru_h0[0].paths)  # 1 - z_t: the GRU's minus sign


def test_bad_input_gets_clear_errors(rng) -> None:
    with pytest.raises(UnknownChoiceError, match="one of the lstm cell's gradients, Wxi, Whi, bi"):
        cell_expanded_sum(lstm(), "Wx", 3)
    with pytest.raises(UnknownChoiceError, match="Wyh, by, X, h0; got 'Wxi'"):
        cell_pairs(gru(), "Wxi", 3)
    for steps in (0, 501, 2.0, True):
        with pytest.raises(OutOfRangeError, match="T \\(the number of steps\\) must be an integer"):
            cell_expanded_sum(vanilla(), "Wxh", steps)
    with pytest.raises(TooLargeError, match="Ask for the compact form"):
        cell_written_out_latex(lstm(), "X", 4)
    with pytest.raises(TooLargeError, match="too many to write out"):
        cell_written_out_latex(vanilla(), "Wxh", 11)
    with pytest.raises(TooLargeError, match="too many to list"):
        _ = cell_expanded_sum(lstm(), "h0", 8)[-1].paths  # the (8, 1) term
    cell, program, trace, *_ = _problem("gru", "mse", rng)
    with pytest.raises(OutOfRangeError, match="needs 'dy'"):
        cell_expanded_sum(cell, "Wxr", T)[0].value(
            program, {k: v for k, v in trace.items() if k != "dy"}
        )
    with pytest.raises(UnknownChoiceError, match="unroll the term's own cell"):
        cell_expanded_sum(lstm(), "Wxi", T)[0].value(program, trace)
    with pytest.raises(UnknownChoiceError, match="env"):
        block_matrix_latex(lstm(), "t", "matrix")


def test_building_terms_multiplies_nothing(monkeypatch) -> None:
    """T = 100: 5050 terms per gradient, built without evaluating a single local Jacobian."""

    def refuse(*args, **kwargs):
        raise AssertionError("a term was multiplied out while being built")

    cell = lstm()
    cell_expanded_sum(cell, "Wxf", 1)  # the cell's blocks are derived once, here
    monkeypatch.setattr(LocalSum, "matrix", refuse)
    monkeypatch.setattr(LocalSum, "value", refuse)
    for wrt in cell.gradient_names:
        terms = cell_expanded_sum(cell, wrt, 100)
        assert len(terms) == len(cell_pairs(cell, wrt, 100))
    assert len(cell_expanded_sum(cell, "Whf", 100)) == 5050


def test_a_term_of_an_equal_cell_evaluates_on_the_program(rng) -> None:
    """The program's cell and the term's cell need only be equal (two calls of lstm())."""
    _, cell, program, trace, params, cache = _point("lstm", "mse", rng)
    other = lstm()
    assert other is not cell and other == cell
    theirs = _their_terms(cell, params, cache, "Whf")
    for term in cell_expanded_sum(other, "Whf", T):
        np.testing.assert_allclose(
            term.value(program, trace), theirs[term.loss - 1, term.step - 1], rtol=RTOL, atol=ATOL
        )


def test_the_steps_run_from_one_to_max_steps() -> None:
    """T = 1 and T = MAX_STEPS are allowed (the bad-input test refuses 0 and MAX_STEPS + 1)."""
    assert cell_pairs(vanilla(), "Wxh", 1) == [(1, 1)]
    assert cell_pairs(lstm(), "c0", 1) == [(1, 1)]
    assert cell_pairs(vanilla(), "by", MAX_STEPS) == [(i, i) for i in range(1, MAX_STEPS + 1)]


def test_a_term_lists_at_most_max_term_paths_products(monkeypatch) -> None:
    """The GRU's (3, 1) term of dL/dh0 has 5 x 5 x 5 products (5 ways through each step)."""
    from derivations.gradient import sums

    term = cell_expanded_sum(gru(), "h0", 3)[-1]
    monkeypatch.setattr(sums, "MAX_TERM_PATHS", 125)
    assert len(term.paths) == 125
    monkeypatch.setattr(sums, "MAX_TERM_PATHS", 124)
    with pytest.raises(TooLargeError, match="125 products, too many to list"):
        _ = term.paths


def test_where_each_quantity_enters_a_step() -> None:
    """The start of the paths (x_k, s_0 or the equation's variable) and whether the
    quantity enters at the top of its equation (a^f = x W_xf + ...: yes; the GRU's
    r = sigmoid(x W_xr + ...): through the sigmoid; v^n = h W_hn + b_hn: yes)."""
    for wrt in ("Wyh", "by"):  # the read-out reaches L_2 through y_2 alone
        assert [p.through for p in cell_expanded_sum(lstm(), wrt, 2)[1].paths] == [("y_2",)]
    (x_term,) = cell_expanded_sum(lstm(), "X", 1)
    assert {p.through[0] for p in x_term.paths} == {"x_1"}
    for wrt, start in (("h0", "h_0"), ("c0", "c_0")):
        term = cell_expanded_sum(lstm(), wrt, 2)[-1]  # (2, 1)
        assert {p.through[0] for p in term.paths} == {start}
    assert [(e.start, e.direct) for e in cell_gradient(lstm(), "Wxf").entries] == [("af_{k}", True)]
    assert [e.direct for e in cell_gradient(gru(), "Wxr").entries] == [False]
    for reset in ("after", "before"):
        assert [e.direct for e in cell_gradient(gru(reset), "Whn").entries] == [True]
    assert [e.direct for e in cell_gradient(gru(), "X").entries] == [False]


def test_terms_print_as_their_pair_and_their_signs_are_integers() -> None:
    terms = cell_expanded_sum(gru(), "h0", 2)
    assert [repr(t) for t in terms] == ["CellTerm(loss=1, step=1)", "CellTerm(loss=2, step=1)"]
    signs = [p.sign for t in terms for p in t.paths]
    assert set(signs) == {1, -1} and {type(s) for s in signs} == {int}


def test_a_term_written_out_by_hand() -> None:
    """Row convention, tanh' = 1 - h^2: the vanilla (2, 1) term of dL/dW_xh, the read-out's
    terms, and the GRU's (1, 1) term of dL/dh_0, whose second path is negative (the update
    gate enters h_1 = (1 - z_1) n_1 + z_1 h_0 twice: -n_1 and +h_0)."""
    dy = r"\frac{\partial L_{%d}}{\partial y_{%d}}"
    diag = r"\operatorname{diag}(%s)"
    two_one = cell_expanded_sum(vanilla(), "Wxh", 2)[1]
    assert (two_one.loss, two_one.step) == (2, 1)
    assert two_one.latex() == r"\,".join(
        [r"x_{1}^\top", dy % (2, 2), r"W_{yh}^\top", diag % "1 - h_{2}^{2}", r"W_{hh}^\top",
         diag % "1 - h_{1}^{2}"]
    )  # fmt: skip
    program = unroll_cell(vanilla(), T=1, D=1, H=1, V=2)
    assert cell_expanded_sum(vanilla(), "Wyh", 1)[0].latex(program) == r"h_{1}^\top\," + dy % (1, 1)
    assert cell_expanded_sum(vanilla(), "by", 1)[0].latex() == dy % (1, 1)
    sigma_z = diag % r"z_{1} \odot (1 - z_{1})"
    head = dy % (1, 1) + r"\," + r"W_{yh}^\top"
    products = [
        [diag % "z_{1}"],
        [diag % "n_{1}", sigma_z, r"W_{hz}^\top"],
        [diag % "h_{0}", sigma_z, r"W_{hz}^\top"],
        [diag % "1 - z_{1}", diag % "1 - n_{1}^{2}", diag % "v^{n}_{1}",
         diag % r"r_{1} \odot (1 - r_{1})", r"W_{hr}^\top"],
        [diag % "1 - z_{1}", diag % "1 - n_{1}^{2}", diag % "r_{1}", r"W_{hn}^\top"],
    ]  # fmt: skip
    written = [r"\,".join([head, *p]) for p in products]
    expected = f"{written[0]} - {written[1]} + {written[2]} + {written[3]} + {written[4]}"
    assert cell_expanded_sum(gru(), "h0", 1)[0].latex() == expected
