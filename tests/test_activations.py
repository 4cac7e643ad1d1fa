"""rnnnum.activations: each f against closed-form values, f' against central differences of f.

Expected values are written from the definitions (tanh(0) = 0, sigmoid(0) = 1/2,
sigmoid(a) = 1/(1 + e^-a), ...), and each derivative is compared with central
differences of its own forward map, away from the ReLU kink at 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnnnum
from rnnnum.activations import ACTIVATIONS, LEAKY_SLOPE, get_activation

#: Central differences with step 1e-6 of functions with |f'''| <= 2: truncation
#: ~1e-12, rounding ~eps/1e-6 ~ 1e-10. A wrong derivative is off by O(0.1).
FD_ATOL = 1e-8
STEP = 1e-6
#: Pre-activations away from the kink at 0 by far more than STEP.
GRID = np.concatenate([np.linspace(-4.0, -0.01, 60), np.linspace(0.01, 4.0, 60)])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_derivative_is_central_differences_of_forward(name: str) -> None:
    act = get_activation(name)
    h = act.forward(GRID)
    numeric = (act.forward(GRID + STEP) - act.forward(GRID - STEP)) / (2 * STEP)
    np.testing.assert_allclose(act.derivative(GRID, h), numeric, rtol=0, atol=FD_ATOL)


def test_forward_values_from_the_definitions() -> None:
    a = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    expected = {
        "tanh": [math.tanh(v) for v in a],
        "sigmoid": [1 / (1 + math.exp(-v)) for v in a],
        "relu": [0.0, 0.0, 0.0, 0.5, 2.0],
        "leaky_relu": [-2.0 * LEAKY_SLOPE, -0.5 * LEAKY_SLOPE, 0.0, 0.5, 2.0],
        "identity": list(a),
    }
    assert set(expected) == set(ACTIVATIONS)
    for name, values in expected.items():
        np.testing.assert_allclose(ACTIVATIONS[name].forward(a), values, rtol=1e-15, atol=0)


def test_sigmoid_saturates_without_overflow() -> None:
    with np.errstate(over="raise"):
        h = get_activation("sigmoid").forward(np.array([-1000.0, 1000.0]))
    assert h.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("name", "gamma", "where"),
    [("tanh", 1.0, 0.0), ("sigmoid", 0.25, 0.0), ("relu", 1.0, 1.0), ("leaky_relu", 1.0, 1.0),
     ("identity", 1.0, 3.0)],
)  # fmt: skip
def test_gamma_is_the_largest_derivative_and_is_reached(
    name: str, gamma: float, where: float
) -> None:
    act = get_activation(name)
    assert act.gamma == gamma
    dense = np.linspace(-10, 10, 20001)
    assert np.abs(act.derivative(dense, act.forward(dense))).max() <= gamma
    point = np.array([where])
    assert act.derivative(point, act.forward(point))[0] == gamma


def test_relu_derivative_at_the_kink_is_zero() -> None:
    zero = np.zeros(1)
    assert get_activation("relu").derivative(zero, zero)[0] == 0.0
    assert get_activation("leaky_relu").derivative(zero, zero)[0] == LEAKY_SLOPE


def test_an_unknown_activation_names_the_choices() -> None:
    with pytest.raises(rnnnum.UnknownChoiceError, match="tanh"):
        get_activation("softsign")
