r"""The vanilla cell's records: what `rnnnum.forward` keeps (`ForwardCache`) and what
`rnnnum.bptt` returns (`Gradients`); the gated cells' records are in `rnnnum.gated`.

Both are re-exported by `rnnnum.forward` and `rnnnum.bptt`, where they are documented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnnnum._arith import read_only
from rnnnum._checks import FloatArray
from rnnnum.activations import get_activation
from rnnnum.params import GRADIENT_NAMES, PARAM_NAMES, RNNParams

__all__ = ["ForwardCache", "Gradients"]


@dataclass(frozen=True, eq=False)
class ForwardCache:
    r"""Everything the forward pass computed, kept for `rnnnum.bptt`.

    Time index: position ``t - 1`` of a (N, T, ...) array holds step t, so
    ``h[:, 0]`` is $h_1$; $h_0$ is the separate field ``h0``. The (N, T, ...) arrays
    (X, a copy of the inputs, included) lie in memory step after step, batch-first
    views of (T, N, ...) blocks (`rnnnum._arith.step_tape`): index them as batch first.

    Attributes:
        params: the parameters used (checked again by `bptt`).
        X: inputs, (N, T, D).
        targets: class indices (N, T) for cross-entropy, real vectors (N, T, V) for mse.
        h0: initial state, (N, H).
        activation: name of $f$.
        loss_name: name of the per-step loss.
        residual: True for the residual cell $h_t = h_{t-1} + f(a_t)$ (`rnnnum.residual`),
            False for the vanilla $h_t = f(a_t)$.
        a: pre-activations $a_1, \dots, a_T$, (N, T, H).
        h: hidden states $h_1, \dots, h_T$, (N, T, H).
        y: outputs (logits) $y_1, \dots, y_T$, (N, T, V).
        p: softmax probabilities (N, T, V) for cross-entropy; None for mse.
        losses: $L_1, \dots, L_T$, each summed over the batch, (T,).
        loss: $L$, the sum of `losses`.
    """

    params: RNNParams = field(repr=False)
    X: FloatArray = field(repr=False)
    targets: NDArray[Any] = field(repr=False)
    h0: FloatArray = field(repr=False)
    activation: str
    residual: bool
    loss_name: str
    a: FloatArray = field(repr=False)
    h: FloatArray = field(repr=False)
    y: FloatArray = field(repr=False)
    p: FloatArray | None = field(repr=False)
    losses: FloatArray = field(repr=False)
    loss: float

    @property
    def N(self) -> int:
        """Batch size."""
        return int(self.X.shape[0])

    @property
    def T(self) -> int:
        """Sequence length."""
        return int(self.X.shape[1])

    @cached_property
    def h_prev(self) -> FloatArray:
        r"""$h_0, \dots, h_{T-1}$: the state each step reads, (N, T, H); computed once,
        read-only."""
        return read_only(np.concatenate([self.h0[:, None, :], self.h[:, :-1, :]], axis=1))

    @cached_property
    def fprime(self) -> FloatArray:
        r"""$f'(a_t)$ at every step, (N, T, H): the diagonal of $\partial h_t/\partial a_t$;
        computed once, read-only."""
        f = get_activation(self.activation)
        # The derivative reads f(a_t): h_t itself, except in the residual cell (h_{t-1} + f(a_t)).
        return read_only(f.derivative(self.a, f.forward(self.a) if self.residual else self.h))


@dataclass(frozen=True, eq=False)
class Gradients:
    """Gradients of the total loss $L$, one array per quantity, each shaped like it.

    Attributes:
        Wxh (D, H), Whh (H, H), Wyh (H, V), bh (H,), by (V,): parameter gradients.
        X (N, T, D): gradient with respect to every input $x_t$.
        h0 (N, H): gradient with respect to the initial state.
    """

    Wxh: FloatArray = field(repr=False)
    Whh: FloatArray = field(repr=False)
    Wyh: FloatArray = field(repr=False)
    bh: FloatArray = field(repr=False)
    by: FloatArray = field(repr=False)
    X: FloatArray = field(repr=False)
    h0: FloatArray = field(repr=False)

    def as_dict(self) -> dict[str, FloatArray]:
        """All seven arrays by name, in `GRADIENT_NAMES` order."""
        return {name: getattr(self, name) for name in GRADIENT_NAMES}

    def parameters(self) -> dict[str, FloatArray]:
        """The five parameter gradients by name (what an optimiser updates)."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    def __repr__(self) -> str:
        norms = ", ".join(f"|{k}|={np.linalg.norm(v):.3g}" for k, v in self.as_dict().items())
        return f"Gradients({norms})"
