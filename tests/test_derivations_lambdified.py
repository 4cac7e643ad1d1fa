"""vanilla_reference.lambdified: the compiled program's numbers are rnnnum's; bad inputs named.

The trace (by step: row t is step t) is compared with rnnnum's forward cache (by
position: row t - 1 is step t), so this also checks the conversion at that seam.
"""

from __future__ import annotations

import numpy as np
import pytest
from vanilla_reference import lambdify_model, unroll
from vanilla_reference.proofs import random_point

import rnnnum
from derivations import ModelSpec, OutOfRangeError
from derivations.compile.targets import one_hot
from derivations.core.notation import step_position

#: the compiled program and rnnnum compute the same forward pass in a different
#: order of operations: a few roundings of O(1) values
RTOL = 1e-12
SPEC = ModelSpec(T=3, D=2, H=3, V=4)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu"])
def test_trace_is_rnnnums_forward_pass(activation: str, rng: np.random.Generator) -> None:
    spec = ModelSpec(T=3, D=2, H=3, V=4, activation=activation)
    values = random_point(spec, rng)
    evaluation = lambdify_model(unroll(spec))(values)
    params = rnnnum.RNNParams(**{n: values[n] for n in rnnnum.PARAM_NAMES})
    cache = rnnnum.forward(
        params, values["X"][None], values["targets"][None], h0=values["h0"][None],
        activation=activation,
    )  # fmt: skip
    trace = evaluation.trace
    np.testing.assert_allclose(trace["h"][0], values["h0"], rtol=0, atol=0)
    for t in range(1, spec.T + 1):
        at = step_position(t)
        for ours, theirs in (
            (trace["a"][t], cache.a[0, at]),
            (trace["h"][t], cache.h[0, at]),
            (trace["p"][t], cache.p[0, at]),
            (trace["d"][t], cache.fprime[0, at]),
            (trace["x"][t], values["X"][at]),
        ):
            np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(evaluation.losses, cache.losses, rtol=RTOL, atol=0)
    assert evaluation.loss == pytest.approx(cache.loss, rel=RTOL)


def test_h0_defaults_to_zeros(rng: np.random.Generator) -> None:
    values = random_point(SPEC, rng)
    compiled = lambdify_model(unroll(SPEC))
    zeros = compiled({**values, "h0": np.zeros(SPEC.H)})
    del values["h0"]
    np.testing.assert_array_equal(compiled(values).gradients["Wxh"], zeros.gradients["Wxh"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Whh": np.zeros((2, 2))}, r"Whh must have shape \(3, 3\)"),
        ({"W": np.zeros(1)}, r"unknown inputs \['W'\]"),
        ({"targets": None}, "missing input 'targets'"),
        ({"targets": np.array([0, 4, 1])}, r"class indices must lie in 0\.\.3"),
    ],
)
def test_bad_inputs_are_named(change: dict[str, object], message: str) -> None:
    values = {**random_point(SPEC, np.random.default_rng(0)), **change}
    values = {k: v for k, v in values.items() if v is not None}
    with pytest.raises(OutOfRangeError, match=message):
        lambdify_model(unroll(SPEC))(values)


def test_one_hot_rows() -> None:
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3, 2), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(OutOfRangeError, match="integer class indices"):
        one_hot(np.array([0.5, 1.0]), 3, 2)
