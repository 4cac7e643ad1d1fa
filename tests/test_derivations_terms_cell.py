"""The hand-written vanilla chains (`vanilla_reference.terms`) read against the vanilla cell.

`Term`/`Factor` stay as the vanilla model's own, independent derivation: the proofs
(`vanilla_reference.proofs`) and checks (`vanilla_reference.verify`) multiply them out, and the
JSON prints their factor kinds. The pages print the cell's expanded sum instead
(`cell_written_out_latex`), so this test is what keeps the two derivations one:
for every gradient, activation and T <= 4, each (i, k) term has the same LaTeX and
the same value at a random point.
"""

from __future__ import annotations

import numpy as np
import pytest
from vanilla_reference import expanded_sum, lambdify_model, unroll
from vanilla_reference.proofs import random_point

from derivations import ModelSpec
from derivations.compile.lambdify import lambdify_cell
from derivations.core.cells import vanilla
from derivations.core.notation import GRADIENT_NAMES
from derivations.core.spec import ACTIVATIONS
from derivations.gradient.links import sum_notation
from derivations.gradient.sums import cell_expanded_sum
from derivations.program.unroll import unroll_cell

#: The two products multiply the same float64 factors in different groupings
#: (chain left to right against block by block): a few ulps of O(1) entries.
TERM_RTOL = 1e-12
#: Entries that cancel to ~0 are compared absolutely at the same few-ulp scale.
TERM_ATOL = 1e-13
STEPS = (1, 2, 3, 4)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_hand_terms_print_as_the_cells_terms(activation: str) -> None:
    cell = vanilla(activation)
    notation = sum_notation(cell)
    for T in STEPS:
        spec = ModelSpec(T=T, activation=activation)
        for name in GRADIENT_NAMES:
            hand = expanded_sum(name, T)
            generated = cell_expanded_sum(cell, name, T)
            assert [(t.loss, t.step) for t in hand] == [(t.loss, t.step) for t in generated]
            for mine, theirs in zip(hand, generated, strict=True):
                assert mine.latex(spec) == theirs.latex(notation), (name, T, mine.loss, mine.step)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_hand_terms_evaluate_as_the_cells_terms(activation: str) -> None:
    T = max(STEPS)
    spec = ModelSpec(T=T, activation=activation, D=2, H=3, V=4)
    values = random_point(spec, np.random.default_rng(13))
    trace = lambdify_model(unroll(spec))(values).trace
    program = unroll_cell(vanilla(activation), T, spec.D, spec.H, spec.V)
    cell_trace = lambdify_cell(program)(values).trace
    for name in GRADIENT_NAMES:
        generated = cell_expanded_sum(program.cell, name, T)
        for mine, theirs in zip(expanded_sum(name, T), generated, strict=True):
            np.testing.assert_allclose(
                mine.value(trace),
                theirs.value(program, cell_trace),
                rtol=TERM_RTOL,
                atol=TERM_ATOL,
                err_msg=f"{name} (i={mine.loss}, k={mine.step}), {activation}",
            )
