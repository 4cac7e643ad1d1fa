r"""The gated cells for the training laboratory: the LSTM and the GRU behind the `Cell` protocol.

Each cell owns its recurrent parameters and reads the mathematics from its one module
(`rnnnum.lstm`, `rnnnum.gru`), the same functions the full twin (`rnnnum.forward`,
`rnnnum.bptt`) calls: the trainer and the twin cannot drift apart. The trainer's loss
reads only h_T, so the backward sweep starts from dL/dh_T alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnnum._checks import FloatArray, choice, positive_int
from rnnnum.cells import Params, cell_inputs
from rnnnum.gated_init import GATED_INITS, gru_arrays, lstm_arrays, real_number
from rnnnum.gated_params import RESETS
from rnnnum.gru import GRUTape, gru_backward, gru_forward, gru_step_jacobians
from rnnnum.kernel.gru import gru_cell_gradients
from rnnnum.kernel.lstm import lstm_cell_gradients
from rnnnum.lstm import LSTMTape, lstm_backward, lstm_forward, lstm_step_jacobians

__all__ = ["GRUCell", "LSTMCell"]


def _only_last(dh_last: FloatArray, T: int) -> FloatArray:
    """dL/dh_t through the loss at step t, (N, T, H): dL/dh_T at T, zero before."""
    direct = np.zeros((dh_last.shape[0], T, dh_last.shape[1]))
    direct[:, -1] = dh_last
    return direct


@dataclass(frozen=True)
class LSTMCell:
    """The LSTM cell (gates i, f, o, g; `rnnnum.lstm`), zero initial states.

    Args:
        scheme: how the recurrent blocks start, ``"xavier"`` or ``"orthogonal"`` (per gate).
        forget_bias: the initial b_f; 1 is the usual remedy (Gers et al. 2000).
        chrono: $T_{max}$ of the chrono start (`rnnnum.gated_init.chrono_bias`), which
            replaces `forget_bias`: b_f ~ log U(1, T_max - 1), b_i = -b_f. None: off.
    """

    scheme: str = "orthogonal"
    forget_bias: float = 0.0
    chrono: int | None = None

    def __post_init__(self) -> None:
        choice(self.scheme, "scheme", GATED_INITS)
        real_number(self.forget_bias, "forget_bias")
        if self.chrono is not None:
            positive_int(self.chrono, "chrono", minimum=3)

    @property
    def name(self) -> str:
        start = f"chrono {self.chrono}" if self.chrono else f"forget bias {self.forget_bias:g}"
        return f"LSTM, {self.scheme}, {start}"

    def init(self, D: int, H: int, rng: np.random.Generator) -> Params:
        """Wx (D, 4H), Wh (H, 4H), b (4H,) with b_f = `forget_bias` or the chrono start."""
        D, H = positive_int(D, "D"), positive_int(H, "H")
        return lstm_arrays(D, H, rng, self.scheme, self.forget_bias, self.chrono)

    def forward(self, params: Params, X: Any) -> tuple[FloatArray, LSTMTape]:
        """h_T (N, H) and the tape; X is (N, T, D)."""
        X = cell_inputs(X, params["Wx"], "Wx")
        zeros = np.zeros((X.shape[0], params["Wh"].shape[0]))
        tape = lstm_forward(params["Wx"], params["Wh"], params["b"], X, zeros, zeros)
        return tape.h[:, -1], tape

    def backward(self, params: Params, tape: LSTMTape, dh_last: FloatArray) -> Params:
        """Wx, Wh, b gradients from dL/dh_T alone."""
        dA, _, _ = lstm_backward(params["Wh"], tape, _only_last(dh_last, tape.X.shape[1]))
        return lstm_cell_gradients(tape, dA)

    def step_jacobians(self, params: Params, tape: LSTMTape) -> FloatArray:
        """The block Jacobians of (h_t, c_t) against (h_{t-1}, c_{t-1}), (N, T, 2H, 2H)."""
        return lstm_step_jacobians(params["Wh"], tape)


@dataclass(frozen=True)
class GRUCell:
    """The GRU cell (gates r, z, n; `rnnnum.gru`), zero initial state.

    Args:
        scheme: how the recurrent blocks start, ``"xavier"`` or ``"orthogonal"`` (per gate).
        reset: ``"after"`` (PyTorch, cuDNN) or ``"before"`` (Cho et al. 2014).
        chrono: $T_{max}$ of the chrono start: the update gate's bias b_z ~ log U(1,
            T_max - 1), so z, which keeps the old state, starts open. None: zero biases.
    """

    scheme: str = "orthogonal"
    reset: str = "after"
    chrono: int | None = None

    def __post_init__(self) -> None:
        choice(self.scheme, "scheme", GATED_INITS)
        choice(self.reset, "reset", RESETS)
        if self.chrono is not None:
            positive_int(self.chrono, "chrono", minimum=3)

    @property
    def name(self) -> str:
        start = f", chrono {self.chrono}" if self.chrono else ""
        return f"GRU, {self.scheme}, reset {self.reset}{start}"

    def init(self, D: int, H: int, rng: np.random.Generator) -> Params:
        """Wx (D, 3H), Wh (H, 3H), bx, bh (3H,): zero, or b_z from the chrono start."""
        D, H = positive_int(D, "D"), positive_int(H, "H")
        return gru_arrays(D, H, rng, self.scheme, self.chrono)

    def forward(self, params: Params, X: Any) -> tuple[FloatArray, GRUTape]:
        """h_T (N, H) and the tape; X is (N, T, D)."""
        X = cell_inputs(X, params["Wx"], "Wx")
        h0 = np.zeros((X.shape[0], params["Wh"].shape[0]))
        p = params
        tape = gru_forward(p["Wx"], p["Wh"], p["bx"], p["bh"], X, h0, self.reset)
        return tape.h[:, -1], tape

    def backward(self, params: Params, tape: GRUTape, dh_last: FloatArray) -> Params:
        """Wx, Wh, bx, bh gradients from dL/dh_T alone."""
        dU, dV, _ = gru_backward(params["Wh"], tape, _only_last(dh_last, tape.X.shape[1]))
        return gru_cell_gradients(tape, dU, dV)

    def step_jacobians(self, params: Params, tape: GRUTape) -> FloatArray:
        """dh_t/dh_{t-1} (one step, x_t held fixed), (N, T, H, H)."""
        return gru_step_jacobians(params["Wh"], tape)
