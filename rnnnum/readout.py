r"""How much an untrained cell already remembers: the best linear read-out of its last state.

`fitted_readout_accuracy` builds the network exactly as `rnnnum.train` does from the
same seed, runs it untrained over sequences of the task, fits a multinomial logistic
regression $y = h_T W + b$ to the answers (full batch, Adam, a small L2 penalty) and
reports its accuracy on other sequences. A cell whose initial dynamics already carry
the first input to $h_T$ scores high here with no training of the cell at all: the
memory was there at the start, and training only had to read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnnum._checks import FloatArray, IntArray
from rnnnum.cells import Cell
from rnnnum.losses import log_softmax
from rnnnum.optimisers import Adam
from rnnnum.training import Model, Task

__all__ = ["FIT_ITERATIONS", "FIT_SIZE", "fit_softmax", "fitted_readout_accuracy"]

#: Sequences the read-out is fitted on (its test set is the caller's).
FIT_SIZE = 2000
#: Full-batch Adam steps: the problem is convex and small (H + 1 by K), so a few hundred
#: steps at rate 0.05 reach its optimum to well under one misclassified sequence in 1000.
FIT_ITERATIONS = 500
#: L2 penalty on W: keeps the weights finite when the classes are separable.
FIT_L2 = 1e-4


def fit_softmax(features: FloatArray, answers: IntArray, K: int) -> tuple[FloatArray, FloatArray]:
    """W (F, K) and b (K,) of a multinomial logistic regression on standardised features (N, F)."""
    N, F = features.shape
    params = {"W": np.zeros((F, K)), "b": np.zeros(K)}
    opt = Adam(0.05)
    rows = np.arange(N)
    for _ in range(FIT_ITERATIONS):
        dy = np.exp(log_softmax(features @ params["W"] + params["b"]))
        dy[rows, answers] -= 1.0
        dy /= N
        opt.step(params, {"W": features.T @ dy + FIT_L2 * params["W"], "b": dy.sum(axis=0)})
    return params["W"], params["b"]


def fitted_readout_accuracy(
    cell: Cell[Any], task: Task, hidden: int, seed: int, test: tuple[FloatArray, IntArray]
) -> float:
    """Accuracy on `test` of the best linear read-out of the untrained cell's $h_T$.

    The cell is initialised as `rnnnum.train` initialises it from `seed`; the read-out
    is fitted on `FIT_SIZE` sequences drawn from ``default_rng([seed, 4])``.
    """
    model = Model.create(cell, task.D, hidden, task.symbols, np.random.default_rng(seed))
    X_fit, y_fit = task.sample(FIT_SIZE, np.random.default_rng([seed, 4]))
    h_fit, _ = cell.forward(model.params, X_fit)
    h_test, _ = cell.forward(model.params, test[0])
    mean, scale = h_fit.mean(axis=0), h_fit.std(axis=0) + 1e-12
    W, b = fit_softmax((h_fit - mean) / scale, y_fit, task.symbols)
    logits = ((h_test - mean) / scale) @ W + b
    return float(np.mean(logits.argmax(axis=1) == test[1]))
