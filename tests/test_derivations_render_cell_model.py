"""derivations.render.model and the loop's update lines, read against the tests' vanilla
reference pipeline (the model rendered from hand-structured quantities and rules)."""

from __future__ import annotations

import re

import pytest
from vanilla_reference import render_model as reference

from derivations import DerivationError, ModelSpec
from derivations.core.cells import lstm, residual, vanilla
from derivations.core.notation import ACTIVATION_NAMES
from derivations.render.loop import cell_loop_update_latex
from derivations.render.model import (
    forward_entry_latex,
    forward_latex,
    hidden_latex,
    local_jacobians_latex,
    model_latex,
    parameter_locals_latex,
)


def _aligned(*rows: str) -> str:
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _step(t: int | str, prev: int | str, h: str, loss: str) -> list[str]:
    """One step of the vanilla model as the pages write it, typed from the model's math."""
    rows = [rf"a_{{{t}}} &= x_{{{t}}} W_{{xh}} + h_{{{prev}}} W_{{hh}} + b_h", rf"h_{{{t}}} &= {h}"]
    rows.append(rf"y_{{{t}}} &= h_{{{t}}} W_{{yh}} + b_y")
    if loss == "cross_entropy":
        rows.append(rf"p_{{{t}}} &= \operatorname{{softmax}}(y_{{{t}}})")
        picked = rf"-\log p_{{{t}}}[\mathrm{{target}}_{{{t}}}]"
        rows.append(rf"L_{{{t}}} &= {picked} = -r_{{{t}}} \cdot \log p_{{{t}}}")
    else:
        rows.append(rf"L_{{{t}}} &= \tfrac{{1}}{{2}}\lVert y_{{{t}}} - r_{{{t}}}\rVert^{{2}}")
    return rows


# Each expected text below is typed from the model's equations, not printed by any code:
# the vanilla reference pipeline's versions of these are printed from the same cell and
# would only compare the engine with itself.


@pytest.mark.parametrize(
    ("activation", "loss", "h", "fprime"),
    [
        ("tanh", "cross_entropy", r"\tanh(a_{t})", r"1 - h_{t}^{2}"),
        ("sigmoid", "mse", r"\sigma(a_{t})", r"h_{t} \odot (1 - h_{t})"),
    ],
)
def test_the_model_and_its_local_derivatives_read_as_typed(activation, loss, h, fprime) -> None:
    cell = vanilla(activation)
    assert model_latex(cell, loss) == _aligned(
        *_step("t", "t-1", h, loss), r"L &= \sum_{t=1}^{T} L_{t}"
    )
    dy = "p_{t} - r_{t}" if loss == "cross_entropy" else "y_{t} - r_{t}"
    assert local_jacobians_latex(cell, loss) == _aligned(
        rf"\frac{{\partial L_{{t}}}}{{\partial y_{{t}}}} &= {dy}",
        r"\frac{\partial y_{t}}{\partial h_{t}} &= W_{yh}",
        rf"\frac{{\partial h_{{t}}}}{{\partial a_{{t}}}} &= \operatorname{{diag}}(f'(a_{{t}})) "
        rf"= \operatorname{{diag}}({fprime})",
        r"\frac{\partial a_{t}}{\partial h_{t-1}} &= W_{hh}",
        r"\frac{\partial a_{t}}{\partial x_{t}} &= W_{xh}",
    )


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_every_activation_reads_as_its_table_writes_it(activation: str) -> None:
    """h = f(a) and f'(a) as the activation table of derivations.core.spec writes them
    (SymPy's print of f and its own derivative), in rows typed here, for every activation."""
    cell, act = vanilla(activation), ModelSpec(activation=activation).act
    h = act.latex("a_{t}")
    assert model_latex(cell) == _aligned(
        *_step("t", "t-1", h, "cross_entropy"), r"L &= \sum_{t=1}^{T} L_{t}"
    )
    slope = act.derivative_latex("a_{t}", "h_{t}")
    diag = "I" if slope == "1" else rf"\operatorname{{diag}}({slope})"  # identity: f' = 1
    rows = local_jacobians_latex(cell).removeprefix(r"\begin{aligned}").split(r" \\ ")
    dh_da = r"\frac{\partial h_{t}}{\partial a_{t}}"
    assert rows[2] == rf"{dh_da} &= \operatorname{{diag}}(f'(a_{{t}})) = {diag}"
    steps = [
        r" \\ ".join(_step(t, t - 1, act.latex(f"a_{{{t}}}"), "cross_entropy")) for t in (1, 2)
    ]
    expected = r"\begin{aligned}" + r" \\[6pt] ".join([*steps, "L &= L_{1} + L_{2}"])
    assert forward_latex(cell, 2) == expected + r"\end{aligned}"


def test_the_forward_pass_reads_step_by_step() -> None:
    steps = [r" \\ ".join(_step(t, t - 1, rf"\tanh(a_{{{t}}})", "cross_entropy")) for t in (1, 2)]
    expected = r"\begin{aligned}" + r" \\[6pt] ".join([*steps, "L &= L_{1} + L_{2}"])
    assert forward_latex(vanilla(), 2) == expected + r"\end{aligned}"


def test_an_entry_is_the_reference_one_up_to_how_h0_is_named() -> None:
    spec = ModelSpec()
    for t, j in ((1, 1), (2, 3)):
        written = reference.forward_entry_latex(spec, t, j)
        # the reference names h_0's entries (h_0)_j, the engine h_{0,j} as every other h_{t,j}
        assert forward_entry_latex(vanilla(), t, j) == re.sub(
            r"\(h_0\)_\{(\d)\}", r"h_{0,\1}", written
        )


def test_parameter_rules_read_as_typed_in_the_cells_order() -> None:
    outer = r"&: \text{the outer product with }"
    assert parameter_locals_latex(vanilla()) == _aligned(
        rf"\partial a_{{k}} / \partial W_{{xh}} {outer} x_{{k}}^\top",
        rf"\partial a_{{k}} / \partial W_{{hh}} {outer} h_{{k-1}}^\top",
        r"\partial a_{k} / \partial b_h &= I",
        rf"\partial y_i / \partial W_{{yh}} {outer} h_{{i}}^\top",
        r"\partial y_i / \partial b_y &= I",
        r"\partial a_{k} / \partial x_{k} &= W_{xh} \text{ (applied as } W_{xh}^\top)",
        r"\partial a_{1} / \partial h_{0} &= W_{hh} \text{ (applied as } W_{hh}^\top)",
    )


@pytest.mark.parametrize(("t", "losses"), [(1, None), (2, None), (2, (2,)), (2, (3,)), (3, None)])
def test_the_paths_to_a_state_are_the_reference_ones(t, losses) -> None:
    assert hidden_latex(vanilla(), t, 3, losses=losses) == reference.hidden_latex(
        t, ModelSpec(), losses=losses
    )


#: Each gradient's line of the vanilla loop, typed from the chain rule: a parameter adds
#: its row transposed times the signal of its equation, the read-out g_t.
UPDATES = {
    "Wxh": r"\bar W_{xh} \mathrel{+}= x_{t}^\top \bar a_{t}",
    "Whh": r"\bar W_{hh} \mathrel{+}= h_{t-1}^\top \bar a_{t}",
    "bh": r"\bar b_h \mathrel{+}= \bar a_{t}",
    "Wyh": r"\bar W_{yh} \mathrel{+}= h_{t}^\top g_{t}",
    "by": r"\bar b_y \mathrel{+}= g_{t}",
    "X": r"\bar x_{t} = \bar a_{t} W_{xh}^\top",
    "h0": r"\bar h_{0} = \bar a_{1} W_{hh}^\top",
}


@pytest.mark.parametrize("name", vanilla().gradient_names)
def test_each_loop_update_reads_as_typed(name: str) -> None:
    assert cell_loop_update_latex(vanilla(), name) == UPDATES[name]


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
