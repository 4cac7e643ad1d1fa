"""Random problems for the tests: parameters, inputs, targets and initial state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import rnnnum

#: Agreement expected between two float64 computations of the same algebraic quantity
#: that differ only in the order of operations: a few hundred roundings of size 2.2e-16,
#: relative to the largest magnitude involved.
ROUNDOFF = 1e-12


@dataclass
class Problem:
    """One RNN problem; `kwargs` are the keyword arguments of rnnnum.forward."""

    params: rnnnum.RNNParams
    X: np.ndarray
    targets: np.ndarray
    h0: np.ndarray | None
    activation: str
    loss: str

    @property
    def kwargs(self) -> dict[str, Any]:
        return {"h0": self.h0, "activation": self.activation, "loss": self.loss}

    def forward(self) -> rnnnum.ForwardCache:
        return rnnnum.forward(self.params, self.X, self.targets, **self.kwargs)

    def as_reference(self) -> dict[str, Any]:
        """The plain-dict form read by tests/reference.py."""
        N, H = self.X.shape[0], self.params.H
        return {
            "params": self.params.as_dict(),
            "X": self.X,
            "targets": self.targets,
            "h0": np.zeros((N, H)) if self.h0 is None else self.h0,
            "activation": self.activation,
            "loss": self.loss,
        }


def make_problem(
    rng: np.random.Generator,
    *,
    N: int = 2,
    T: int = 3,
    D: int = 3,
    H: int = 4,
    V: int = 4,
    activation: str = "tanh",
    loss: str = "cross_entropy",
    nonzero_h0: bool = True,
    bias_scale: float = 0.3,
) -> Problem:
    """Glorot weights, small random biases (so b_h and b_y matter), Gaussian inputs."""
    p = rnnnum.init_xavier(D, H, V, rng)
    p = p.replace(bh=bias_scale * rng.standard_normal(H), by=bias_scale * rng.standard_normal(V))
    X = rng.standard_normal((N, T, D))
    if loss == "cross_entropy":
        targets = rng.integers(0, V, size=(N, T))
    else:
        targets = rng.standard_normal((N, T, V))
    h0 = 0.5 * rng.standard_normal((N, H)) if nonzero_h0 else None
    return Problem(p, X, targets, h0, activation, loss)


def assert_same(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Equal up to float64 roundoff, relative to the largest entry of `expected`."""
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=ROUNDOFF, atol=ROUNDOFF * scale, err_msg=what)
