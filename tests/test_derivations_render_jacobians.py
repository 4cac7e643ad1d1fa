"""derivations.render.jacobians: the Jacobian products and product forms, read against the
tests' vanilla reference pipeline (a second derivation, by hand-structured rules) and
against the cell's own one-step Jacobian numerically."""

from __future__ import annotations

import re

import pytest
import sympy as sp
from vanilla_reference import compact_latex, jacobian_latex
from vanilla_reference.render import product_order_latex as reference_order
from vanilla_reference.render import transposed_step_latex as reference_transposed

from derivations import DerivationError, ModelSpec, TooLargeError
from derivations.core.cells import lstm, residual, vanilla
from derivations.core.notation import ACTIVATION_NAMES
from derivations.render.jacobians import (
    MAX_JACOBIAN_SPAN,
    jacobian_spans,
    product_compact_latex,
    product_order_latex,
    state_product_latex,
    transposed_step_latex,
)


def _spaced(latex: str) -> str:
    """The reference writes ``k + 1`` where the engine writes ``k+1``: the same formula."""
    return re.sub(r"k \+ (\d)", r"k+\1", latex).replace("h_{k - 1}", "h_{k-1}")


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_every_product_up_to_six_steps_is_the_reference_one(activation: str) -> None:
    cell, spec = vanilla(activation), ModelSpec(T=6, activation=activation)
    for i in range(7):
        for k in range(i + 1):
            assert state_product_latex(cell, i, k) == jacobian_latex(i, k, spec), (i, k)


@pytest.mark.parametrize("name", vanilla().gradient_names)
def test_the_compact_product_form_is_the_reference_one(name: str) -> None:
    for T in (1, 3, 7):
        engine = product_compact_latex(vanilla(), name, T)
        assert engine == _spaced(compact_latex(name, ModelSpec(T=T))), (name, T)


def test_the_order_and_the_transposed_step_are_the_reference_ones() -> None:
    assert product_order_latex(vanilla()) == _spaced(reference_order())
    for t in (1, 2, 5):
        assert transposed_step_latex(vanilla(), t) == reference_transposed(t, ModelSpec(T=5))


def test_a_residual_product_holds_each_step_in_parentheses_in_step_order() -> None:
    text = state_product_latex(residual(), 4, 1)
    factor = r"(I + W_{hh}\,\operatorname{diag}(1 - \tanh(a_{%d})^{2}))"
    assert text.split(" = ")[1] == r"\,".join(factor % t for t in (2, 3, 4))


def test_spans_are_those_of_the_terms_and_none_for_several_states() -> None:
    assert jacobian_spans(vanilla(), [(1, 1), (3, 1), (2, 1), (3, 1)]) == [(2, 1), (3, 1)]
    assert jacobian_spans(lstm(), [(3, 1)]) == []


def test_identity_when_the_span_is_empty() -> None:
    assert state_product_latex(vanilla(), 2, 2).endswith("= I")
    assert state_product_latex(vanilla(), 2, 2, compact=True).endswith("= I")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: state_product_latex(lstm(), 3, 1), DerivationError, "2 states (h, c)"),
        (lambda: state_product_latex(vanilla(), 1, 3), DerivationError, "--from 3 --to 1"),
        (
            lambda: state_product_latex(vanilla(), MAX_JACOBIAN_SPAN + 1, 0),
            TooLargeError,
            "--form compact",
        ),
        (lambda: product_order_latex(lstm()), DerivationError, "block matrices"),
    ],
)
def test_bad_requests_say_what_to_do(call, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_a_long_span_is_still_written_compactly() -> None:
    text = state_product_latex(vanilla(), 50, 2, compact=True)
    assert r"\prod_{t=3}^{50}" in text
    assert sp.latex(sp.Symbol("t")) in text


def test_only_short_one_step_jacobians_are_listed_as_products() -> None:
    from derivations.core.cells import gru

    pairs = [(3, 1), (2, 1)]
    assert jacobian_spans(residual(), pairs) == [(2, 1), (3, 1)]  # I + W diag(f'): two
    assert jacobian_spans(gru(), pairs) == []  # five products in one step: not listed
