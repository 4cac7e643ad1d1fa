r"""The vanilla reference's own rendering: its loop updates read against the vanilla RNN
written out by hand here, and each path $\mathrm{d}L_i/\mathrm{d}h_t$ against rnnnum
restarted from h_t (the engine's paths are read against these paths).
"""

from __future__ import annotations

import numpy as np
import pytest
from vanilla_reference.lambdified import lambdify_model
from vanilla_reference.render_loop import loop_update_latex
from vanilla_reference.render_model import hidden_latex, hidden_path_factors
from vanilla_reference.terms import _product_value
from vanilla_reference.unroll import unroll
from vanilla_reference.verify import _rnnnum_problem

import rnnnum
from derivations.core.notation import pair_position, step_position
from derivations.core.spec import ModelSpec

#: Two float64 evaluations of the same chain in different orders: a few ulps.
PATH_RTOL = 1e-12
PATH_ATOL = 1e-14


def test_the_loop_updates_printed_from_the_cell_are_the_vanilla_ones() -> None:
    expected = {
        "Wxh": r"\bar W_{xh} \mathrel{+}= x_{t}^\top \bar a_{t}",
        "Whh": r"\bar W_{hh} \mathrel{+}= h_{t-1}^\top \bar a_{t}",
        "Wyh": r"\bar W_{yh} \mathrel{+}= h_{t}^\top g_{t}",
        "bh": r"\bar b_h \mathrel{+}= \bar a_{t}",
        "by": r"\bar b_y \mathrel{+}= g_{t}",
        "X": r"\bar x_{t} = \bar a_{t} W_{xh}^\top",
        "h0": r"\bar h_{0} = \bar a_{1} W_{hh}^\top",
    }
    assert {name: loop_update_latex(name) for name in expected} == expected


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
