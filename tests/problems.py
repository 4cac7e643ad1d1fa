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
    """One problem of any cell; `kwargs` are the keyword arguments of rnnnum.forward.

    `activation` is None for the gated cells, `c0` is set for the LSTM only.
    """

    params: rnnnum.RNNParams | rnnnum.LSTMParams | rnnnum.GRUParams
    X: np.ndarray
    targets: np.ndarray
    h0: np.ndarray | None
    activation: str | None
    loss: str
    c0: np.ndarray | None = None

    @property
    def kwargs(self) -> dict[str, Any]:
        out = {"h0": self.h0, "activation": self.activation, "loss": self.loss}
        if self.activation is None:
            del out["activation"]
        if isinstance(self.params, rnnnum.LSTMParams):
            out["c0"] = self.c0
        return out

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
    X, targets, h0 = _sequence(rng, N, T, D, H, V, loss, nonzero_h0)
    return Problem(p, X, targets, h0, activation, loss)


def _sequence(
    rng: np.random.Generator, N: int, T: int, D: int, H: int, V: int, loss: str, nonzero_h0: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """What every problem draws after its parameters: X (N, T, D), targets, h0 (N, H) or None.

    Gaussian inputs; class indices (N, T) for cross-entropy, Gaussian (N, T, V) for mse.
    """
    X = rng.standard_normal((N, T, D))
    if loss == "cross_entropy":
        targets = rng.integers(0, V, size=(N, T))
    else:
        targets = rng.standard_normal((N, T, V))
    h0 = 0.5 * rng.standard_normal((N, H)) if nonzero_h0 else None
    return X, targets, h0


def assert_same(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Equal up to float64 roundoff, relative to the largest entry of `expected`."""
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=ROUNDOFF, atol=ROUNDOFF * scale, err_msg=what)


#: The gated cells of the tests: name -> (initialiser, options).
GATED = ("lstm", "gru-after", "gru-before")


def make_gated_problem(
    rng: np.random.Generator,
    cell: str,
    *,
    N: int = 2,
    T: int = 3,
    D: int = 3,
    H: int = 3,
    V: int = 4,
    loss: str = "cross_entropy",
    nonzero_h0: bool = True,
    bias_scale: float = 0.5,
) -> Problem:
    """An LSTM or GRU problem: per-gate Xavier weights, random biases (so every bias matters)."""
    if cell == "lstm":
        p = rnnnum.init_lstm(D, H, V, rng)
        p = p.replace(b=bias_scale * rng.standard_normal(4 * H))
    else:
        p = rnnnum.init_gru(D, H, V, rng, reset=cell.split("-")[1])
        p = p.replace(
            bx=bias_scale * rng.standard_normal(3 * H), bh=bias_scale * rng.standard_normal(3 * H)
        )
    p = p.replace(by=bias_scale * rng.standard_normal(V))
    X, targets, h0 = _sequence(rng, N, T, D, H, V, loss, nonzero_h0)
    c0 = 0.5 * rng.standard_normal((N, H)) if nonzero_h0 and cell == "lstm" else None
    return Problem(p, X, targets, h0, None, loss, c0)


def gated_reference(problem: Problem) -> dict[str, Any]:
    """The plain-dict form read by tests/reference_gated.py."""
    N, H = problem.X.shape[0], problem.params.H
    zeros = np.zeros((N, H))
    return {
        "cell": "lstm" if isinstance(problem.params, rnnnum.LSTMParams) else "gru",
        "reset": getattr(problem.params, "reset", None),
        "params": {k: np.array(v) for k, v in problem.params.as_dict().items()},
        "X": problem.X,
        "targets": problem.targets,
        "h0": zeros if problem.h0 is None else problem.h0,
        "c0": zeros if problem.c0 is None else problem.c0,
        "loss": problem.loss,
    }


def trainer_numerical_gradients(model: Any, X: Any, answers: Any) -> dict[str, Any]:
    """Central differences of the trainer's loss for every parameter entry of `model`.

    Uses only `loss_and_gradients`' loss value, never its gradients: the independent
    side of a gradient check of a training cell.
    """
    from rnnnum.training import loss_and_gradients

    out = {}
    for name, value in model.params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + rnnnum.FD_STEP
            up, _ = loss_and_gradients(model, X, answers)
            value[index] = original - rnnnum.FD_STEP
            down, _ = loss_and_gradients(model, X, answers)
            value[index] = original
            numeric[index] = (up - down) / (2 * rnnnum.FD_STEP)
        out[name] = numeric
    return out
