r"""Element-wise activations $h = f(a)$, each with its local derivative beside it.

The derivative is written as a function of both the pre-activation ``a`` and the
output ``h = f(a)``, whichever states it best: $\tanh' = 1 - h^2$,
$\sigma' = h(1-h)$. ``gamma`` is $\sup_a |f'(a)|$, the constant of the
vanishing/exploding criterion of Pascanu, Mikolov and Bengio (2013).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnnum._checks import FloatArray, choice

__all__ = ["ACTIVATIONS", "LEAKY_SLOPE", "Activation", "get_activation"]

#: Slope of leaky ReLU for negative inputs (the common default of deep-learning libraries).
LEAKY_SLOPE = 0.01


@dataclass(frozen=True)
class Activation:
    """An activation: forward map, local derivative, and the bound gamma = sup |f'|."""

    name: str
    forward: Callable[[FloatArray], FloatArray]
    #: f'(a), given a and h = f(a); same shape as a.
    derivative: Callable[[FloatArray, FloatArray], FloatArray]
    gamma: float


def _sigmoid(a: FloatArray) -> FloatArray:
    # 1 / (1 + exp(-a)) overflows in exp for a << 0; the tanh form never does.
    return 0.5 * (1.0 + np.tanh(0.5 * a))


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation(
        "tanh",
        forward=np.tanh,
        derivative=lambda a, h: 1.0 - h * h,  # d tanh(a)/da = 1 - tanh(a)^2
        gamma=1.0,
    ),
    "sigmoid": Activation(
        "sigmoid",
        forward=_sigmoid,
        derivative=lambda a, h: h * (1.0 - h),  # s'(a) = s(a)(1 - s(a)), at most 1/4 (a = 0)
        gamma=0.25,
    ),
    "relu": Activation(
        "relu",
        forward=lambda a: np.maximum(a, 0.0),
        derivative=lambda a, h: (a > 0.0).astype(np.float64),  # 0 at the kink a = 0
        gamma=1.0,
    ),
    "leaky_relu": Activation(
        "leaky_relu",
        forward=lambda a: np.where(a > 0.0, a, LEAKY_SLOPE * a),
        derivative=lambda a, h: np.where(a > 0.0, 1.0, LEAKY_SLOPE),
        gamma=1.0,
    ),
    "identity": Activation(
        "identity",
        forward=lambda a: a.copy(),
        derivative=lambda a, h: np.ones_like(a),  # linear RNN: the Jacobians are W_hh itself
        gamma=1.0,
    ),
}


def get_activation(name: str) -> Activation:
    """Look up an activation by name; an unknown name raises `UnknownChoiceError`."""
    return ACTIVATIONS[choice(name, "activation", ACTIVATIONS)]
