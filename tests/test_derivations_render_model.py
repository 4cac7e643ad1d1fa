r"""derivations.render_model: the model's LaTeX read against the cell, the paths against rnnnum.

The step equations `render_model` prints are checked against the vanilla cell's own
equations (`derivations.cells.vanilla`, printed from its trees), and each path
$\mathrm{d}L_i/\mathrm{d}h_t$ against rnnnum restarted from h_t.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import rnnnum
from derivations.cell import Input, Prev
from derivations.cells import vanilla
from derivations.lambdified import lambdify_model
from derivations.notation import ACTIVATION_NAMES, pair_position, step_position
from derivations.render_model import (
    forward_latex,
    hidden_latex,
    hidden_path_factors,
    local_jacobians_latex,
    model_latex,
)
from derivations.spec import ModelSpec
from derivations.terms import _product_value
from derivations.unroll import unroll
from derivations.verify import _rnnnum_problem

#: Two float64 evaluations of the same chain in different orders: a few ulps.
PATH_RTOL = 1e-12
PATH_ATOL = 1e-14


def _norm(row: str) -> str:
    """One equation with ``&=`` as ``=`` and one-token subscripts unbraced (h_{0} is h_0)."""
    return re.sub(r"_\{(\w+)\}", r"_\1", row.replace(" &= ", " = "))


def _rows(aligned: str) -> list[str]:
    body = aligned.removeprefix(r"\begin{aligned}").removesuffix(r"\end{aligned}")
    return [_norm(row) for row in re.split(r" \\\\(?:\[6pt\])? ", body)]


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_the_step_equations_are_the_cells(activation: str) -> None:
    cell = vanilla(activation)
    spec = ModelSpec(T=2, activation=activation)
    assert _rows(model_latex(spec))[:2] == [_norm(e) for e in cell.equation_latex("t")]
    written = _rows(forward_latex(spec))  # five rows per step: a, h, y, p, L
    for t in (1, 2):
        step = written[5 * (t - 1) : 5 * (t - 1) + 2]
        assert step == [_norm(e) for e in cell.equation_latex(t)]


def test_the_local_weights_are_the_cells() -> None:
    cell = vanilla()
    text = local_jacobians_latex(ModelSpec())
    for leaf, lhs in ((Prev("h"), r"\partial h_{t-1}"), (Input(), r"\partial x_t")):
        weight = cell.local_jacobian("a", leaf).latex("t", cell.notation)
        assert rf"\frac{{\partial a_t}}{{{lhs}}} &= {weight}" in text
    slope = cell.step_jacobian_blocks()["h", "h"].terms[0].pieces[1].latex("t", cell.notation)
    assert slope in text  # diag(1 - h_t^2), the tanh cell's own


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "identity"])
def test_hidden_paths_equal_rnnnum_restarted_from_that_state(activation):
    """dL_i/dh_t from the path factors vs rnnnum started at h_t as its initial state.

    Restarting rnnnum at h_t on the remaining inputs makes dL_i/dh_t the derivative
    with respect to h0 there: an independent computation of the same quantity.
    """
    spec = ModelSpec(T=4, activation=activation)
    values, params, cache = _rnnnum_problem(spec, seed=7)
    trace = lambdify_model(unroll(spec))(values).trace
    for t in range(1, spec.T + 1):
        later = rnnnum.forward(
            params, values["X"][None, t:], values["targets"][None, t:],
            h0=cache.h[:, step_position(t)], activation=activation,
        ) if t < spec.T else None  # fmt: skip
        restarted = rnnnum.components(params, later, "h0").terms if later else None
        for i in range(t, spec.T + 1):
            ours = _product_value(hidden_path_factors(i, t), trace, 0).ravel()
            if i == t:  # the direct path: dL_t/dy_t W_yh^T
                grad_y = cache.p[0, t - 1] - np.eye(spec.V)[values["targets"][t - 1]]
                theirs = grad_y @ params.Wyh.T
            else:
                theirs = restarted[(*pair_position(i - t, 1), 0)]  # L_i is its L_{i-t}
            np.testing.assert_allclose(ours, theirs, rtol=PATH_RTOL, atol=PATH_ATOL)


def test_total_derivative_lists_one_path_per_later_loss():
    latex = hidden_latex(1, ModelSpec(T=3))
    assert latex.count(r"\frac{\mathrm{d} L_{") == 3  # the three losses, named
    assert latex.count(r"\frac{\partial L_{") == 3  # each path's local ∂L_i/∂y_i
    assert hidden_latex(2, ModelSpec(T=3), losses=(2,)).startswith(r"\frac{\mathrm{d} L_{2}}")
