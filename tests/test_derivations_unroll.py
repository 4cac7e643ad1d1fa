"""vanilla_reference.unroll: the straight-line program computes rnnnum's forward pass.

The program's total loss, back-substituted into the inputs and evaluated with
numbers, is compared with `rnnnum.forward` (written independently in NumPy) for
every activation and both losses at T = 2.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from vanilla_reference import unroll
from vanilla_reference.proofs import random_point

import rnnnum
from derivations import ModelSpec
from derivations.core.notation import ACTIVATION_NAMES, LOSS_NAMES, step_position
from derivations.program.symbols import back_substitute, matrix_of_symbols

#: SymPy evaluating the nested expression at 30 digits vs NumPy in float64: a few roundings
RTOL = 1e-12
SPEC = {"T": 2, "D": 2, "H": 2, "V": 3}


def _substitution(model, values):  # type: ignore[no-untyped-def]
    subs = {}
    for name in ("Wxh", "Whh", "Wyh", "bh", "by"):
        subs.update(zip(model.params[name], np.ravel(values[name]), strict=True))
    for t in range(1, model.spec.T + 1):
        subs.update(zip(model.x[t], values["X"][step_position(t)], strict=True))
        target = values["targets"][step_position(t)]
        row = np.eye(model.spec.V)[target] if model.spec.loss == "cross_entropy" else target
        subs.update(zip(model.r[t], row, strict=True))
    subs.update(zip(model.h0, values["h0"], strict=True))
    return {s: sp.Float(float(v), 30) for s, v in subs.items()}


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_the_program_computes_rnnnums_losses(
    activation: str, loss: str, rng: np.random.Generator
) -> None:
    spec = ModelSpec(activation=activation, loss=loss, **SPEC)
    model = unroll(spec)
    values = random_point(spec, rng)
    subs = _substitution(model, values)
    params = rnnnum.RNNParams(**{n: values[n] for n in rnnnum.PARAM_NAMES})
    cache = rnnnum.forward(
        params, values["X"][None], values["targets"][None], h0=values["h0"][None],
        activation=activation, loss=loss,
    )  # fmt: skip
    for t in range(1, spec.T + 1):
        ours = float(model.nested(model.L[t]).xreplace(subs))
        assert ours == pytest.approx(cache.losses[step_position(t)], rel=RTOL)
        h = [float(model.nested(s).xreplace(subs)) for s in model.h[t]]
        np.testing.assert_allclose(h, cache.h[0, step_position(t)], rtol=RTOL, atol=RTOL)
    assert float(model.nested(model.loss).xreplace(subs)) == pytest.approx(cache.loss, rel=RTOL)


def test_inputs_are_every_free_symbol_once() -> None:
    model = unroll(ModelSpec(**SPEC))
    T, D, H, V = 2, 2, 2, 3
    inputs = model.inputs()
    assert len(inputs) == len(set(inputs)) == D * H + H * H + H * V + H + V + T * D + H + T * V
    free = set().union(*(model.nested(model.L[t]).free_symbols for t in (1, 2)))
    assert free <= set(inputs)
    assert model.h[0] == model.h0


def test_symbols_are_named_one_based() -> None:
    assert [s.name for s in matrix_of_symbols("Whh", 2, 2)] == [
        "Whh_1_1", "Whh_1_2", "Whh_2_1", "Whh_2_2"]  # fmt: skip
    assert [s.name for s in matrix_of_symbols("h", 1, 2, t=3)] == ["h_3_1", "h_3_2"]
    assert [s.name for s in matrix_of_symbols("bh", 1, 2)] == ["bh_1", "bh_2"]


def test_back_substitution_follows_the_program_in_order() -> None:
    x, a, b = sp.symbols("x a b")
    nested = back_substitute(((a, x + 1), (b, a * a)))
    assert nested[b] == (x + 1) ** 2
