"""derivations.render.model and the loop's update lines, read against the tests' vanilla
reference pipeline (the model rendered from hand-structured quantities and rules)."""

from __future__ import annotations

import re

import pytest
from vanilla_reference import render_model as reference
from vanilla_reference.render_loop import loop_update_latex

from derivations import DerivationError, ModelSpec
from derivations.core.cells import lstm, residual, vanilla
from derivations.core.notation import ACTIVATION_NAMES, LOSS_NAMES
from derivations.render.loop import cell_loop_update_latex
from derivations.render.model import (
    forward_entry_latex,
    forward_latex,
    hidden_latex,
    local_jacobians_latex,
    model_latex,
    parameter_locals_latex,
)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_the_model_and_its_local_derivatives_are_the_reference_ones(activation, loss) -> None:
    cell, spec = vanilla(activation), ModelSpec(activation=activation, loss=loss)
    assert model_latex(cell, loss) == reference.model_latex(spec)
    assert forward_latex(cell, 3, loss) == reference.forward_latex(spec)
    assert local_jacobians_latex(cell, loss) == reference.local_jacobians_latex(spec)


def test_an_entry_is_the_reference_one_up_to_how_h0_is_named() -> None:
    spec = ModelSpec()
    for t, j in ((1, 1), (2, 3)):
        written = reference.forward_entry_latex(spec, t, j)
        # the reference names h_0's entries (h_0)_j, the engine h_{0,j} as every other h_{t,j}
        assert forward_entry_latex(vanilla(), t, j) == re.sub(
            r"\(h_0\)_\{(\d)\}", r"h_{0,\1}", written
        )


def test_parameter_rules_are_the_reference_ones_in_the_cells_order() -> None:
    rows = parameter_locals_latex(vanilla()).removeprefix(r"\begin{aligned}")
    reference_rows = reference.parameter_locals_latex().removeprefix(r"\begin{aligned}")
    normalise = lambda text: sorted(text.removesuffix(r"\end{aligned}").split(r" \\ "))  # noqa: E731
    assert normalise(rows) == normalise(reference_rows.replace("h_i^", "h_{i}^"))


@pytest.mark.parametrize(("t", "losses"), [(1, None), (2, None), (2, (2,)), (2, (3,)), (3, None)])
def test_the_paths_to_a_state_are_the_reference_ones(t, losses) -> None:
    assert hidden_latex(vanilla(), t, 3, losses=losses) == reference.hidden_latex(
        t, ModelSpec(), losses=losses
    )


@pytest.mark.parametrize("name", vanilla().gradient_names)
def test_each_loop_update_is_the_reference_one(name: str) -> None:
    assert cell_loop_update_latex(vanilla(), name) == loop_update_latex(name)


def test_the_residual_paths_hold_each_step_in_parentheses() -> None:
    text = hidden_latex(residual(), 1, 2, losses=(2,))
    assert text.endswith(
        r"W_{yh}^\top\,(I + \operatorname{diag}(1 - \tanh(a_{2})^{2})\,W_{hh}^\top)"
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: hidden_latex(lstm(), 1, 3), "has h, c"),
        (lambda: hidden_latex(vanilla(), 2, 3, losses=(1,)), "t <= i <= T=3"),
        (lambda: forward_entry_latex(vanilla(), 1, 4), "from 1 to H=3; got 4"),
        (lambda: cell_loop_update_latex(vanilla(), "Wzz"), "Wzz"),
        (lambda: model_latex(vanilla(), "l1"), "l1"),
    ],
)
def test_bad_requests_say_what_to_do(call, message) -> None:
    with pytest.raises(DerivationError, match=re.escape(message)):
        call()
