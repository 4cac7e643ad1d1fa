r"""A small training loop: a cell, a read-out of the last state, SGD with momentum and clipping.

The model reads the answer from the last state only:

$$y = h_T W_{yh} + b_y,\qquad \ell = -\frac{1}{N}\sum_n \log \mathrm{softmax}(y_n)_{c_n},$$

so the gradient every earlier input receives has travelled back through the
recurrence. Each step draws a fresh batch (no data is seen twice, so there is
nothing to overfit), computes the gradient, clips it by its global norm
(Pascanu et al. 2013, Algorithm 1) and takes a momentum step

$$v \leftarrow \mu v - \eta\, g,\qquad \theta \leftarrow \theta + v .$$

With plain gradient descent ($\mu = 0$) a parameter moves by $\eta$ times its
gradient: a component $10^{-6}$ the size of the others needs $10^{6}$ times as many
steps to move the weights as far, which is why vanishing gradients mean slow
(in practice: no) learning of long-range dependencies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rnnnum._checks import FloatArray, IntArray, positive_float, positive_int
from rnnnum.cells import Cell, Params
from rnnnum.clipping import clip_by_norm
from rnnnum.errors import NonFiniteError, OutOfRangeError
from rnnnum.init import _glorot
from rnnnum.losses import log_softmax
from rnnnum.optimisers import SGD, Optimiser

__all__ = [
    "Model",
    "Task",
    "TrainConfig",
    "TrainResult",
    "accuracy",
    "loss_and_gradients",
    "readout_loss_and_gradients",
    "train",
]


class Task(Protocol):
    """What the trainer needs from a task (`rnnnum.RecallTask`, `rnnnum.SelectiveRecallTask`)."""

    @property
    def D(self) -> int: ...

    @property
    def symbols(self) -> int: ...

    def sample(self, n: int, rng: np.random.Generator) -> tuple[FloatArray, IntArray]: ...


#: The read-out's parameter names; the cell contributes the others.
READOUT_NAMES = ("Wyh", "by")


@dataclass(frozen=True, eq=False)
class Model:
    """A cell and its parameters, including the read-out $W_{yh}$ (H, K) and $b_y$ (K,)."""

    cell: Cell[Any]
    params: Params = field(repr=False)

    @classmethod
    def create(cls, cell: Cell[Any], D: int, H: int, K: int, rng: np.random.Generator) -> Model:
        """Fresh parameters: the cell's own initialisation, Glorot for the read-out."""
        params = cell.init(D, H, rng)
        params["Wyh"] = _glorot(H, K, rng, "uniform")
        params["by"] = np.zeros(K)
        return cls(cell, params)

    def logits(self, X: FloatArray) -> FloatArray:
        """$y = h_T W_{yh} + b_y$, (N, K)."""
        h_last, _ = self.cell.forward(self.params, X)
        return h_last @ self.params["Wyh"] + self.params["by"]


def _loss_and_dy(model: Model, h_last: FloatArray, answers: IntArray) -> tuple[float, FloatArray]:
    """Mean cross-entropy of the answers and its gradient for the logits, (N, K)."""
    p = model.params
    y = h_last @ p["Wyh"] + p["by"]  # (N, K)
    logp = log_softmax(y)
    N = h_last.shape[0]
    loss = float(-logp[np.arange(N), answers].mean())
    dy = np.exp(logp)
    dy[np.arange(N), answers] -= 1.0
    dy /= N  # ∂l/∂y of the mean loss, (N, K)
    return loss, dy


def loss_and_gradients(model: Model, X: FloatArray, answers: IntArray) -> tuple[float, Params]:
    """Mean cross-entropy of the answers read from $h_T$, and its gradient for every parameter."""
    p = model.params
    h_last, tape = model.cell.forward(p, X)
    loss, dy = _loss_and_dy(model, h_last, answers)
    grads = model.cell.backward(p, tape, dy @ p["Wyh"].T)
    grads["Wyh"] = h_last.T @ dy
    grads["by"] = dy.sum(axis=0)
    return loss, grads


def accuracy(model: Model, X: FloatArray, answers: IntArray) -> float:
    """Fraction of sequences whose largest logit is the answer."""
    return float(np.mean(model.logits(X).argmax(axis=1) == answers))


@dataclass(frozen=True)
class TrainConfig:
    """How to train.

    Args:
        hidden: H, hidden units.
        steps: most optimiser steps.
        batch: sequences per step.
        learning_rate: eta.
        momentum: mu (0 gives plain gradient descent).
        clip: threshold theta of clipping by global norm.
        eval_every: steps between evaluations on the held-out set.
        eval_size: held-out sequences (fixed per seed).
        stop_accuracy: stop early once held-out accuracy reaches this.
    """

    hidden: int = 32
    steps: int = 3000
    batch: int = 32
    learning_rate: float = 0.05
    momentum: float = 0.9
    clip: float = 1.0
    eval_every: int = 100
    eval_size: int = 1000
    stop_accuracy: float = 0.99

    def __post_init__(self) -> None:
        for name in ("hidden", "steps", "batch", "eval_every", "eval_size"):
            positive_int(getattr(self, name), name)
        positive_float(self.learning_rate, "learning_rate")
        positive_float(self.clip, "clip")
        if not 0.0 <= self.momentum < 1.0:
            raise OutOfRangeError(
                f"momentum must be in [0, 1); got {self.momentum}. Use 0 for plain gradient "
                "descent, 0.9 for the usual heavy ball."
            )
        if not 0.0 < self.stop_accuracy <= 1.0:
            raise OutOfRangeError(
                f"stop_accuracy must be in (0, 1]; got {self.stop_accuracy}. Use 1.0 to never "
                "stop early."
            )


@dataclass(frozen=True)
class TrainResult:
    """One training run.

    Attributes:
        accuracy: held-out accuracy at the end.
        steps: optimiser steps taken (fewer than configured if stopped early).
        history: (step, mean training loss since the last evaluation, held-out accuracy).
        diverged: True if a gradient became inf/NaN and training stopped.
    """

    accuracy: float
    steps: int
    history: tuple[tuple[int, float, float], ...]
    diverged: bool


def train(
    cell: Cell[Any],
    task: Task,
    config: TrainConfig,
    seed: int,
    optimiser: Optimiser | None = None,
    *,
    train_cell: bool = True,
) -> tuple[Model, TrainResult]:
    """Train `cell` on `task` from `seed` (initialisation, batches and held-out set).

    `optimiser` defaults to `SGD` with the config's learning rate and momentum. With
    ``train_cell=False`` only the read-out learns: the cell keeps its initial
    parameters, and the same batches are drawn, so the run shows what a read-out can
    make of the memory the cell has at the start.
    """
    rng = np.random.default_rng(seed)
    model = Model.create(cell, task.D, config.hidden, task.symbols, rng)
    X_test, y_test = task.sample(config.eval_size, np.random.default_rng([seed, 1]))
    if optimiser is None:
        optimiser = SGD(config.learning_rate, config.momentum)
    batches = (
        _batches(model, task, config, rng)
        if train_cell
        else _readout_batches(model, task, config, rng)
    )
    history: list[tuple[int, float, float]] = []
    losses: list[float] = []
    step, acc, diverged = 0, accuracy(model, X_test, y_test), False
    for loss, grads in batches:
        try:
            _clip(grads, config.clip)
        except NonFiniteError:
            diverged = True
            break
        optimiser.step(model.params, grads)
        losses.append(loss)
        step += 1
        if step % config.eval_every == 0 or step == config.steps:
            acc = accuracy(model, X_test, y_test)
            history.append((step, float(np.mean(losses)), acc))
            losses = []
            if acc >= config.stop_accuracy:
                break
    return model, TrainResult(accuracy=acc, steps=step, history=tuple(history), diverged=diverged)


def _clip(grads: Params, threshold: float) -> None:
    """Clip every gradient in place by their global norm (`rnnnum.clip_by_norm`)."""
    names = list(grads)
    flat = clip_by_norm(np.concatenate([grads[n].ravel() for n in names]), threshold)
    offset = 0
    for n in names:
        size = grads[n].size
        grads[n] = flat[offset : offset + size].reshape(grads[n].shape)
        offset += size


def _batches(
    model: Model, task: Task, config: TrainConfig, rng: np.random.Generator
) -> Iterator[tuple[float, Params]]:
    """Loss and gradients of every parameter on fresh batches, up to `config.steps`."""
    for _ in range(config.steps):
        X, answers = task.sample(config.batch, rng)
        yield loss_and_gradients(model, X, answers)


#: Batches whose last states one forward pass computes at once when the cell is frozen.
READOUT_CHUNK = 50


def _readout_batches(
    model: Model, task: Task, config: TrainConfig, rng: np.random.Generator
) -> Iterator[tuple[float, Params]]:
    """As `_batches` for the read-out alone, on the same batches: the cell is frozen, so
    the last states of `READOUT_CHUNK` batches come from one forward pass."""
    done = 0
    while done < config.steps:
        chunk = [
            task.sample(config.batch, rng) for _ in range(min(READOUT_CHUNK, config.steps - done))
        ]
        h_last, _ = model.cell.forward(model.params, np.concatenate([X for X, _ in chunk]))
        for i, (_, answers) in enumerate(chunk):
            yield readout_loss_and_gradients(
                model, h_last[i * config.batch :][: config.batch], answers
            )
        done += len(chunk)


def readout_loss_and_gradients(
    model: Model, h_last: FloatArray, answers: IntArray
) -> tuple[float, Params]:
    """Mean cross-entropy and the gradients of $W_{yh}$, $b_y$ from given last states (N, H)."""
    loss, dy = _loss_and_dy(model, h_last, answers)
    return loss, {"Wyh": h_last.T @ dy, "by": dy.sum(axis=0)}
