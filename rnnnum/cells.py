r"""Recurrent cells for the training laboratory: one step forward, one step back.

A cell owns its recurrent parameters and maps an input sequence to its last
state; the trainer (`rnnnum.training`) adds a read-out on top. Two cells exist:

- `VanillaCell` is the network of the whole project,
  $h_t = f(x_t W_{xh} + h_{t-1} W_{hh} + b_h)$;
- with ``residual=True`` it becomes residual through time,
  $h_t = h_{t-1} + f(x_t W_{xh} + h_{t-1} W_{hh} + b_h)$, whose one-step Jacobian
  (row convention) is $I + W_{hh}\,\mathrm{diag}(f'(a_t))$: the identity gives the
  gradient a path that no factor shrinks.

The gated cells `rnnnum.LSTMCell` and `rnnnum.GRUCell` (`rnnnum.gated_cells`) fit the
same `Cell` protocol: their own parameter names, ``init``, ``forward`` to the last
state, ``backward`` from $\mathrm{d}L/\mathrm{d}h_T$, and ``step_jacobians``; each keeps its
own tape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from rnnnum._arith import contract_steps, signal_total
from rnnnum._checks import FloatArray, choice, positive_float, positive_int, real_array
from rnnnum.activations import ACTIVATIONS, get_activation
from rnnnum.errors import ShapeError
from rnnnum.init import INITIALISERS, init_params
from rnnnum.kernel.vanilla import state_sweep, vanilla_states, vanilla_step_jacobians

__all__ = ["CELL_INITS", "Cell", "Tape", "VanillaCell", "cell_inputs"]

#: The initialisations a cell accepts for W_hh (the names of `rnnnum.INITIALISERS`).
CELL_INITS = tuple(INITIALISERS)

Params = dict[str, FloatArray]


@dataclass(frozen=True, eq=False)
class Tape:
    r"""What a cell's forward pass keeps for its backward pass.

    Attributes:
        X: inputs (N, T, D).
        h: states $h_0, \dots, h_T$, (N, T+1, H); ``h[:, 0]`` is the zero initial state.
        fprime: $f'(a_t)$ for $t = 1, \dots, T$, (N, T, H).
    """

    X: FloatArray
    h: FloatArray
    fprime: FloatArray


TapeT = TypeVar("TapeT")


class Cell(Protocol[TapeT]):
    """What the trainer needs from a recurrent cell; `TapeT` is what its forward pass keeps."""

    @property
    def name(self) -> str: ...

    def init(self, D: int, H: int, rng: np.random.Generator) -> Params:
        """Fresh recurrent parameters by name."""
        ...

    def forward(self, params: Params, X: FloatArray) -> tuple[FloatArray, TapeT]:
        """Last state $h_T$ (N, H) and the tape, from inputs `X` (N, T, D)."""
        ...

    def backward(self, params: Params, tape: TapeT, dh_last: FloatArray) -> Params:
        r"""Gradients of the loss for every recurrent parameter, given
        $\mathrm{d}L/\mathrm{d}h_T$ (N, H)."""
        ...

    def step_jacobians(self, params: Params, tape: TapeT) -> FloatArray:
        r"""$\mathrm{d}s_t/\mathrm{d}s_{t-1}$ of the cell's state $s$ for $t = 1, \dots, T$,
        (N, T, n, n), row convention ($n = H$; the LSTM's state is $(h, c)$, $n = 2H$)."""
        ...


def cell_inputs(X: Any, Wx: FloatArray, name: str) -> FloatArray:
    """X as a float64 (N, T, D) array whose D matches the rows of the input weights `Wx`."""
    X = real_array(X, "X", ndim=3, layout="(N, T, D)")
    if Wx.shape[0] != X.shape[2]:
        raise ShapeError(
            f"X must have D = {Wx.shape[0]} features (the rows of {name}); got X.shape = "
            f"{X.shape}. Encode the inputs with {Wx.shape[0]} features."
        )
    return X


@dataclass(frozen=True)
class VanillaCell:
    r"""The vanilla RNN cell, optionally residual through time.

    Args:
        activation: a name from `rnnnum.ACTIVATIONS`.
        scheme: how $W_{hh}$ starts: a name from `rnnnum.INITIALISERS` (``xavier``,
            ``orthogonal``, ``normal``, ``spectral``); $W_{xh}$ follows the same scheme.
        residual: if True, $h_t = h_{t-1} + f(a_t)$.
        init_options: keyword options of the initialiser, e.g. ``(("gain", 1.0),)``.
    """

    activation: str = "tanh"
    scheme: str = "xavier"
    residual: bool = False
    init_options: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        choice(self.activation, "activation", ACTIVATIONS)
        choice(self.scheme, "scheme", CELL_INITS)
        for key, value in self.init_options:
            positive_float(value, f"init option {key}")

    @property
    def name(self) -> str:
        options = "".join(f", {k}={v:g}" for k, v in self.init_options)
        kind = "residual" if self.residual else "vanilla"
        return f"{kind} {self.activation}, {self.scheme}{options}"

    def init(self, D: int, H: int, rng: np.random.Generator) -> Params:
        """$W_{xh}$ (D, H), $W_{hh}$ (H, H), $b_h$ (H,) drawn by `rnnnum.init_params`."""
        D, H = positive_int(D, "D"), positive_int(H, "H")
        params = init_params(self.scheme, D, H, 1, rng, **dict(self.init_options))
        return {"Wxh": params.Wxh.copy(), "Whh": params.Whh.copy(), "bh": params.bh.copy()}

    def forward(self, params: Params, X: Any) -> tuple[FloatArray, Tape]:
        """$h_T$ (N, H) and the tape; `X` is (N, T, D). The loop is the kernel's
        (`rnnnum.kernel.vanilla.vanilla_states`), from $h_0 = 0$."""
        Wxh, Whh, bh = params["Wxh"], params["Whh"], params["bh"]
        X = cell_inputs(X, Wxh, "Wxh")
        N, T, _ = X.shape
        f = get_activation(self.activation)
        a, h = vanilla_states(X, Wxh, Whh, bh, np.zeros((N, Whh.shape[0])), f, self.residual)
        fprime = f.derivative(a, f.forward(a) if self.residual else h[:, 1:])  # f'(a_t), (N, T, H)
        return h[:, T], Tape(X=X, h=h, fprime=fprime)

    def backward(self, params: Params, tape: Tape, dh_last: FloatArray) -> Params:
        r"""BPTT through the cell from $\mathrm{d}L/\mathrm{d}h_T$ alone (the loss reads only
        the last state): the kernel's sweep (`rnnnum.kernel.vanilla.state_sweep`)."""
        direct = np.zeros_like(tape.fprime)  # what the loss sends into h_t: dL/dh_T at T only
        direct[:, -1] = dh_last
        fprime = tape.fprime
        dA, _ = state_sweep(params["Whh"], direct, lambda t, _: fprime[:, t], self.residual, None)
        return {
            "Wxh": contract_steps(tape.X, dA),  # sum_t x_t^T dL/da_t
            "Whh": contract_steps(tape.h[:, :-1], dA),  # sum_t h_{t-1}^T dL/da_t
            "bh": signal_total(dA),  # sum_t dL/da_t, as the kernel adds it up
        }

    def step_jacobians(self, params: Params, tape: Tape) -> FloatArray:
        r"""$\mathrm{d}h_t/\mathrm{d}h_{t-1} = W_{hh}\,\mathrm{diag}(f'(a_t))$, plus $I$ if residual
        (one step, $x_t$ held fixed), (N, T, H, H)."""
        return vanilla_step_jacobians(params["Whh"], tape.fprime, self.residual)
