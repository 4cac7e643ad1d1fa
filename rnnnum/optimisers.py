r"""The two optimisers of the training laboratory: SGD with momentum, and Adam.

Both update a dict of parameter arrays in place from a dict of gradients of the same
shapes, and keep their own state per parameter.

- `SGD` (heavy ball): $v \leftarrow \mu v - \eta g$, $\theta \leftarrow \theta + v$.
  Under a constant gradient $g$ the step after $t$ updates has the closed form
  $\theta_t = \theta_0 - \frac{\eta g}{1-\mu}\bigl(t - \mu\frac{1-\mu^t}{1-\mu}\bigr)$.
- `Adam` (Kingma and Ba 2015, Algorithm 1): $m \leftarrow \beta_1 m + (1-\beta_1) g$,
  $v \leftarrow \beta_2 v + (1-\beta_2) g^2$,
  $\theta \leftarrow \theta - \eta\,\hat m / (\sqrt{\hat v} + \epsilon)$ with the
  bias-corrected $\hat m = m / (1-\beta_1^t)$, $\hat v = v / (1-\beta_2^t)$. Under a
  constant gradient $\hat m = g$ and $\hat v = g^2$ exactly, so every step moves each
  entry by $\eta\, g / (|g| + \epsilon)$: about $\eta$, whatever the gradient's size.
  That is why Adam learns where a gradient has shrunk by orders of magnitude and SGD,
  whose step is proportional to it, does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnnum._checks import FloatArray, positive_float
from rnnnum.errors import OutOfRangeError

__all__ = ["OPTIMISERS", "SGD", "Adam", "Optimiser", "make_optimiser"]

Params = dict[str, FloatArray]


def _fraction(value: float, name: str, hint: str) -> float:
    if not 0.0 <= value < 1.0:
        raise OutOfRangeError(f"{name} must be in [0, 1); got {value}. {hint}")
    return float(value)


@dataclass
class SGD:
    """Gradient descent with heavy-ball momentum `momentum` (0: plain gradient descent)."""

    learning_rate: float
    momentum: float = 0.9
    _velocity: Params = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        positive_float(self.learning_rate, "learning_rate")
        _fraction(self.momentum, "momentum", "Use 0 for plain gradient descent, 0.9 usually.")

    def step(self, params: Params, grads: Params) -> None:
        """One update of every parameter in place."""
        for name, g in grads.items():
            v = self._velocity.setdefault(name, np.zeros_like(g))
            v *= self.momentum
            v -= self.learning_rate * g
            params[name] += v


@dataclass
class Adam:
    """Adam with the defaults of Kingma and Ba (beta1 0.9, beta2 0.999, eps 1e-8)."""

    learning_rate: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    _m: Params = field(default_factory=dict, repr=False)
    _v: Params = field(default_factory=dict, repr=False)
    _t: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        positive_float(self.learning_rate, "learning_rate")
        positive_float(self.eps, "eps")
        hint = "Use the defaults 0.9 and 0.999."
        _fraction(self.beta1, "beta1", hint)
        _fraction(self.beta2, "beta2", hint)

    def step(self, params: Params, grads: Params) -> None:
        """One update of every parameter in place."""
        self._t += 1
        c1, c2 = 1.0 - self.beta1**self._t, 1.0 - self.beta2**self._t
        for name, g in grads.items():
            m = self._m.setdefault(name, np.zeros_like(g))
            v = self._v.setdefault(name, np.zeros_like(g))
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            params[name] -= self.learning_rate * (m / c1) / (np.sqrt(v / c2) + self.eps)


Optimiser = SGD | Adam
#: name -> class, for settings written as text.
OPTIMISERS: dict[str, type[SGD] | type[Adam]] = {"sgd": SGD, "adam": Adam}


def make_optimiser(name: str, learning_rate: float) -> Optimiser:
    """A fresh optimiser by name (``"sgd"``: momentum 0.9; ``"adam"``: its defaults)."""
    if name not in OPTIMISERS:
        raise OutOfRangeError(
            f"optimiser must be one of {', '.join(map(repr, OPTIMISERS))}; got {name!r}."
        )
    return OPTIMISERS[name](learning_rate)
