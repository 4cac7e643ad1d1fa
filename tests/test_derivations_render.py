"""Rendering: the expanded sums as LaTeX, Markdown and JSON, their limits and line breaks.

The terms themselves are tested in test_derivations_terms.py, which terms each gradient
has in test_derivations_gradients.py, the line breaks in test_derivations_render_lines.py.
"""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp
from vanilla_reference import (
    compact_latex,
    derivation_json,
    derivation_markdown,
    elementwise_latex,
    jacobian,
    jacobian_latex,
    written_out_latex,
)

from derivations import ModelSpec, TooLargeError


def test_identity_activation_drops_the_diag_factors() -> None:
    latex = written_out_latex("Wxh", ModelSpec(activation="identity"))
    assert "diag" not in latex
    assert latex.count(r"W_{hh}^\top") == 1 + 2 + 1  # (2,1), (3,1) twice, (3,2)


def test_written_out_form_refuses_large_T_and_offers_compact() -> None:
    with pytest.raises(TooLargeError, match=r"T=11 gives 66 terms .*--form compact"):
        written_out_latex("Wxh", ModelSpec(T=11))
    assert r"\sum_{i=1}^{11}" in compact_latex("Wxh", ModelSpec(T=11))


def test_json_terms_carry_loss_step_and_latex() -> None:
    data = json.loads(json.dumps(derivation_json("Wxh", ModelSpec())))
    assert [(t["loss"], t["step"]) for t in data["terms"]] == [
        (1, 1),
        (2, 1),
        (2, 2),
        (3, 1),
        (3, 2),
        (3, 3),
    ]
    assert all(t["latex"].startswith(rf"x_{{{t['step']}}}^\top") for t in data["terms"])
    assert data["loop_map"][0] == {"iteration": 3, "adds": [[3, 3]]}


def test_jacobian_product_latex_and_order() -> None:
    spec = ModelSpec()
    latex = jacobian_latex(3, 1, spec)
    assert latex.index("1 - h_{2}") < latex.index("1 - h_{3}")  # ascending t, row convention
    assert jacobian_latex(2, 2, spec).endswith("= I")
    with pytest.raises(ValueError, match="Swap them: --from 3 --to 1"):
        jacobian(1, 3)


def test_elementwise_form_is_sympys_print_of_the_loop() -> None:
    latex = elementwise_latex("bh", ModelSpec(T=2, D=1, H=2, V=2))
    assert r"\frac{\mathrm{d} L}{\mathrm{d} (b_h)_{1}} &= \delta_{1}[1] + \delta_{2}[1]" in latex
    assert r"f'(a_{2,1}) &= 1 - h_{2,1}^{2}" in latex
    assert re.search(r"g_\{1,1\} &= p_\{1,1\} - r_\{1,1\}", latex)
    assert sp.latex(sp.Symbol("x")) == "x"  # the printer, not hand-written text


def test_markdown_section_has_every_part() -> None:
    text = derivation_markdown("Whh", ModelSpec())
    for part in (
        "As a sum over losses",
        "Written out for T = 3 (6 terms)",
        "Jacobian products",
        "The backward loop",
        "| 1 | (1, 1), (2, 1), (3, 1) |",
        "Element-wise",
    ):
        assert part in text


def test_package_docstring_example() -> None:
    import doctest

    import derivations

    result = doctest.testmod(derivations)
    assert result.attempted >= 3
    assert result.failed == 0


def test_display_blocks_never_touch() -> None:
    """Back-to-back $$ blocks read as one formula with "$$$$" inside (arithmatex)."""
    for name in ("Wxh", "Whh", "bh", "X", "h0"):
        text = derivation_markdown(name, ModelSpec())
        assert "$$\n$$" not in text, name
        assert text.count("$$") % 2 == 0


#: δ with two subscripts: on this site only δ_{i,k}, one loss and one step.
TWO_SUBSCRIPTS = re.compile(r"\\delta(?:\^\{[^{}]*\})?_\{[^{}]*,[^{}]*\}")


def test_delta_means_one_thing_in_the_elementwise_forms() -> None:
    """An entry of a step signal is δ_t[j]: δ_{t,j} would read as loss t, step j."""
    from derivations.core.cells import BUILTIN_CELLS
    from derivations.render.loop import cell_elementwise_latex

    texts = [elementwise_latex(name, ModelSpec(T=2)) for name in ("Wxh", "bh", "X", "h0")]
    for cell in (factory() for factory in BUILTIN_CELLS.values()):
        texts += [cell_elementwise_latex(cell, cell.param_names[0], 2)]
    for text in texts:
        assert not TWO_SUBSCRIPTS.findall(text), TWO_SUBSCRIPTS.findall(text)[:3]
    assert sum(r"\delta_{1}[1]" in t for t in texts) >= 4  # vanilla's signals are shown
    assert any(r"\delta^{r}_{1}[1]" in t for t in texts)  # a GRU gate's signal too


def _steps_in_order(latex: str) -> list[str]:
    """The step subscripts of the f'(a_.) and 1 - h_.^2 factors, left to right."""
    return re.findall(r"(?:f'\(a_\{|1 - h_\{)([^}]*)\}", latex)


def test_the_stated_order_of_the_product_is_the_order_jacobian_multiplies_in() -> None:
    from vanilla_reference.render import product_order_latex

    # the note: the factor of step k + 1 leftmost, t increasing to the right
    stated = _steps_in_order(product_order_latex().split(r"\\", 1)[1])  # after the product
    assert stated == ["k + 1", "k + 2", "i"], stated
    # the explicit product (the same one-step factor, at concrete steps) runs the same way
    for i, k in ((3, 1), (5, 2)):
        explicit = _steps_in_order(jacobian_latex(i, k, ModelSpec(T=5)).split(" = ")[1])
        assert explicit == [str(t) for t in range(k + 1, i + 1)], (i, k, explicit)


def test_the_transposed_step_is_the_transpose_of_the_step_jacobian() -> None:
    from vanilla_reference.render import transposed_step_latex
    from vanilla_reference.terms import Factor
    from vanilla_reference.unroll import unroll

    model = unroll(ModelSpec(T=3))
    step = jacobian(3, 2, 3).matrix(model)
    transposed = Factor("fprime", 3).matrix(model) * Factor("WhhT").matrix(model)
    assert sp.simplify(transposed - step.T) == sp.zeros(*step.shape)
    latex = transposed_step_latex(3, ModelSpec(T=3))
    assert latex.endswith(r"\operatorname{diag}(1 - h_{3}^{2})\,W_{hh}^\top"), latex
