"""vanilla_reference.terms: every factor kind is what `FACTOR_KINDS` says, and a term's SymPy
product, its numeric product and its LaTeX agree."""

from __future__ import annotations

import numpy as np
import pytest
from vanilla_reference import expanded_sum, lambdify_model, unroll
from vanilla_reference.proofs import random_point
from vanilla_reference.terms import FACTOR_KINDS, Factor

from derivations import ModelSpec

#: The term's SymPy product and its numeric product differ by float64 rounding only.
IR_RTOL = 1e-12
#: Distinct sizes, so that a factor of the wrong shape cannot pass.
SPEC = ModelSpec(T=3, D=2, H=3, V=4)


def _trace() -> dict[str, np.ndarray]:
    return lambdify_model(unroll(SPEC))(random_point(SPEC, np.random.default_rng(0))).trace


@pytest.mark.parametrize("kind", list(FACTOR_KINDS))
def test_each_factor_kind_has_the_shape_its_table_states(kind: str) -> None:
    _, shape = FACTOR_KINDS[kind]
    sizes = {"D": SPEC.D, "H": SPEC.H, "V": SPEC.V, "1": 1}
    expected = tuple(sizes[s.strip()] for s in shape.strip("()").split(","))
    factor = Factor(kind, 2)
    assert factor.value(_trace()).shape == expected
    assert factor.matrix(unroll(SPEC)).shape == expected
    assert factor.latex(SPEC)


def test_fprime_is_diag_of_the_activation_slope_and_vanishes_for_identity() -> None:
    assert Factor("fprime", 2).latex(SPEC) == r"\operatorname{diag}(1 - h_{2}^{2})"
    assert Factor("fprime", 2).latex(ModelSpec(activation="identity")) == ""
    trace = _trace()
    h2 = trace["h"][2]
    np.testing.assert_allclose(Factor("fprime", 2).value(trace), np.diag(1 - h2**2), rtol=1e-15)


@pytest.mark.parametrize("name", ["Wxh", "Whh", "bh", "X", "h0"])
def test_each_chain_has_one_WhhT_per_step_back(name: str) -> None:
    spec = ModelSpec(T=5)
    for term in expanded_sum(name, 5):
        latex = term.latex(spec)
        extra = 1 if name == "h0" else 0  # dL/dh_0 ends with one more W_hh^T
        assert latex.count(r"W_{hh}^\top") == term.loss - term.step + extra
        assert latex.count(r"\operatorname{diag}") == term.loss - term.step + 1
        assert rf"\partial L_{{{term.loss}}}" in latex


def test_term_symbolic_and_numeric_products_agree(rng: np.random.Generator) -> None:
    """The IR's SymPy matrix, evaluated at the trace, equals its numeric product."""
    spec = ModelSpec(T=3)
    model = unroll(spec)
    evaluation = lambdify_model(model)(random_point(spec, rng))
    trace = evaluation.trace
    subs = {}
    for key, family in (("h", model.h), ("g", model.g), ("d", model.d), ("x", model.x)):
        for t, row in family.items():
            subs.update({s: float(trace[key][t][j]) for j, s in enumerate(row)})
    for name in ("Wxh", "Whh", "Wyh", "bh", "by", "X", "h0"):
        for key, matrix in model.params.items():
            subs.update({s: float(v) for s, v in zip(matrix, np.ravel(trace[key]), strict=True)})
        for term in expanded_sum(name, 3):
            symbolic = np.array(term.matrix(model).xreplace(subs), dtype=float)
            np.testing.assert_allclose(
                symbolic.ravel(), term.value(trace).ravel(), rtol=IR_RTOL, atol=1e-15
            )
