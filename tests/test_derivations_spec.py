"""Every hand-written local derivative of the spec is sympy.diff's."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

import rnnnum
from derivations import ModelSpec, OutOfRangeError, UnknownChoiceError
from derivations.core.notation import ACTIVATION_NAMES, LOSS_NAMES
from derivations.core.spec import ACTIVATIONS, LOSSES, derivative_supremum


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_derivative_is_diff_of_forward(name: str) -> None:
    act = ACTIVATIONS[name]
    a = sp.Symbol("a", real=True)
    h = act.forward(a)
    stated = act.derivative(a, h)
    for point in (sp.Rational(-3, 2), sp.Rational(1, 3), sp.Integer(2)):  # both sides of a kink
        exact = sp.diff(h, a).subs(a, point)
        assert sp.simplify(stated.subs(a, point) - exact) == 0, (name, point)
    if name in ("tanh", "sigmoid", "identity"):  # smooth: the identity holds for every a
        assert sp.simplify(sp.diff(h, a) - stated) == 0


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_gamma_is_sup_of_derivative(name: str) -> None:
    act = ACTIVATIONS[name]
    a = sp.Symbol("a", real=True)
    derivative = sp.lambdify(a, act.derivative(a, act.forward(a)))
    samples = [derivative(x / 100) for x in range(-500, 501)]
    assert max(abs(s) for s in samples) == pytest.approx(float(act.gamma), rel=1e-12)
    assert float(act.gamma) == rnnnum.ACTIVATIONS[name].gamma


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_exact_supremum_of_the_derivative(name: str) -> None:
    """SymPy's exact sup |f'| and where it is reached, against rnnnum's NumPy f' on a grid."""
    supremum, attained = derivative_supremum(ACTIVATIONS[name])
    assert supremum == ACTIVATIONS[name].gamma
    act = rnnnum.ACTIVATIONS[name]
    grid = np.linspace(-6.0, 6.0, 12001)  # step 1e-3, 0 included
    values = np.abs(act.derivative(grid, act.forward(grid)))
    assert values.max() <= float(supremum) * (1 + 1e-15)  # nothing exceeds it
    reached = grid[values == values.max()]
    assert all(attained.contains(sp.Float(x)) for x in reached)  # SymPy's set holds the peaks
    assert values.max() == pytest.approx(float(supremum), rel=1e-12)


def test_a_wrong_gamma_is_found_from_both_sides() -> None:
    """A gamma above the true supremum (which a one-sided check passes) is told apart."""
    too_big = replace(ACTIVATIONS["sigmoid"], gamma=sp.Rational(1, 2))
    supremum, _ = derivative_supremum(too_big)
    assert supremum != too_big.gamma


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_gradient_is_diff_of_value(name: str) -> None:
    loss = LOSSES[name]
    y = list(sp.symbols("y1:4", real=True))
    r = (
        [sp.Integer(0), sp.Integer(1), sp.Integer(0)]
        if name == "cross_entropy"
        else list(sp.symbols("r1:4", real=True))
    )
    value = loss.value(y, r)
    z = sp.Add(*(sp.exp(v) for v in y))
    p = [sp.exp(v) / z for v in y] if loss.uses_softmax else None
    stated = loss.gradient(y, p, r)
    for v, s in zip(y, stated, strict=True):
        assert sp.simplify(sp.diff(value, v) - s) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"T": 0}, "T (the number of steps) must be an integer from 1 to 500; got 0"),
        ({"T": 2.5}, "got 2.5"),
        ({"H": 17}, "H must be an integer from 1 to 16; got 17"),
        ({"activation": "Tanh"}, "activation must be one of tanh, sigmoid, relu"),
        ({"loss": "nll"}, "loss must be one of cross_entropy, mse; got 'nll'"),
    ],
)
def test_bad_spec_is_rejected_with_the_rule(kwargs: dict[str, object], message: str) -> None:
    error = UnknownChoiceError if set(kwargs) & {"activation", "loss"} else OutOfRangeError
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        ModelSpec(**kwargs)  # type: ignore[arg-type]
