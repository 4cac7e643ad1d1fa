"""rnnnum.losses: values from the definitions, gradients against central differences.

Cross-entropy: L = -sum_n log softmax(y_n)[target_n]; mean squared error:
L = 1/2 sum (y - r)^2. Each gradient dL/dy is compared with central differences of
its own value; the values with closed forms (uniform logits give log V).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnnnum
from rnnnum.losses import LOSSES, get_loss, log_softmax

#: Central differences with step 1e-6 of smooth O(1) functions: truncation ~1e-12,
#: rounding ~1e-10; a wrong gradient (a missing -1 at the target) is off by O(1).
FD_ATOL = 1e-8
STEP = 1e-6
N, V = 3, 5


def _targets(name: str, rng: np.random.Generator) -> np.ndarray:
    if get_loss(name).class_targets:
        return rng.integers(0, V, size=N)
    return rng.standard_normal((N, V))


@pytest.mark.parametrize("name", list(LOSSES))
def test_gradient_is_central_differences_of_the_value(name: str, rng: np.random.Generator) -> None:
    loss = get_loss(name)
    y, target = rng.standard_normal((N, V)), _targets(name, rng)
    numeric = np.zeros_like(y)
    for index in np.ndindex(y.shape):
        bump = np.zeros_like(y)
        bump[index] = STEP
        numeric[index] = (loss.value(y + bump, target) - loss.value(y - bump, target)) / (2 * STEP)
    np.testing.assert_allclose(loss.gradient(y, target), numeric, rtol=0, atol=FD_ATOL)


def test_cross_entropy_of_uniform_logits_is_log_v_per_example() -> None:
    value = get_loss("cross_entropy").value(np.zeros((N, V)), np.arange(N))
    assert value == pytest.approx(N * math.log(V), rel=1e-15)


def test_cross_entropy_from_the_definition(rng: np.random.Generator) -> None:
    y, target = rng.standard_normal((N, V)), rng.integers(0, V, size=N)
    p = np.exp(y) / np.exp(y).sum(axis=1, keepdims=True)
    expected = -sum(math.log(p[n, target[n]]) for n in range(N))
    assert get_loss("cross_entropy").value(y, target) == pytest.approx(expected, rel=1e-14)


def test_mse_from_the_definition() -> None:
    y, r = np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([[0.0, 2.0], [1.0, 1.0]])
    assert get_loss("mse").value(y, r) == 0.5 * (1 + 0 + 1 + 4)


def test_log_softmax_is_stable_for_large_logits() -> None:
    with np.errstate(over="raise"):
        out = log_softmax(np.array([[1000.0, 0.0], [-1000.0, -1000.0]]))
    np.testing.assert_allclose(out, [[0.0, -1000.0], [-math.log(2), -math.log(2)]], rtol=1e-15)


def test_an_unknown_loss_names_the_choices() -> None:
    with pytest.raises(rnnnum.UnknownChoiceError, match="cross_entropy"):
        get_loss("hinge")
