r"""The full twin for the gated cells: forward with the vanilla read-out, and BPTT.

$$y_t = h_t W_{yh} + b_y,\qquad L = \sum_t L_t(y_t)$$

on top of `rnnnum.lstm` or `rnnnum.gru`. `rnnnum.forward` and `rnnnum.bptt` dispatch
here for `LSTMParams` and `GRUParams`; the caches and gradients carry each cell's own
names. The per-step signals are those of the cell modules: for the LSTM
δ_t = dL/da_t (N, 4H); for the GRU dL/du_t and dL/dv_t (N, 3H), the input and the
hidden side of the gates' pre-activations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from rnnnum._arith import contract_steps, frozen_record, rows_times
from rnnnum._checks import FloatArray, positive_int
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.gru import GRUTape, gru_step_back, gru_wh_inputs
from rnnnum.lstm import LSTMTape, lstm_step_back

__all__ = [
    "GRUCache",
    "GRUGradients",
    "LSTMCache",
    "LSTMGradients",
    "StepSignals",
    "gated_gradients",
    "gated_signals",
]

GatedParams = LSTMParams | GRUParams


@dataclass(frozen=True, eq=False)
class _GatedCache:
    """Everything the forward pass of a gated cell computed; batch first, step t at index t-1."""

    X: FloatArray = field(repr=False)
    targets: NDArray[Any] = field(repr=False)
    h0: FloatArray = field(repr=False)
    loss_name: str
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


@dataclass(frozen=True, eq=False)
class LSTMCache(_GatedCache):
    """The LSTM's forward pass, kept for `rnnnum.bptt` and the components.

    Attributes:
        params, X (N, T, D), targets, h0 (N, H), c0 (N, H), loss_name.
        tape: the `rnnnum.lstm.LSTMTape` (states and gates).
        y (N, T, V), p (N, T, V) for cross-entropy else None, losses (T,), loss.

    Properties ``h`` and ``c`` (N, T, H) hold h_1..h_T and c_1..c_T; ``i``, ``f``,
    ``o``, ``g`` (N, T, H) the gates of every step.
    """

    params: LSTMParams = field(repr=False, kw_only=True)
    c0: FloatArray = field(repr=False, kw_only=True)
    tape: LSTMTape = field(repr=False, kw_only=True)

    h = property(lambda self: self.tape.h[:, 1:], doc="h_1..h_T, (N, T, H).")
    h_prev = property(lambda self: self.tape.h[:, :-1], doc="h_0..h_{T-1}, (N, T, H).")
    c = property(lambda self: self.tape.c[:, 1:], doc="c_1..c_T, (N, T, H).")
    i = property(lambda self: self.tape.gate("i"), doc="input gate, (N, T, H).")
    f = property(lambda self: self.tape.gate("f"), doc="forget gate, (N, T, H).")
    o = property(lambda self: self.tape.gate("o"), doc="output gate, (N, T, H).")
    g = property(lambda self: self.tape.gate("g"), doc="candidate, (N, T, H).")


@dataclass(frozen=True, eq=False)
class GRUCache(_GatedCache):
    """The GRU's forward pass, kept for `rnnnum.bptt` and the components.

    Attributes:
        params, X (N, T, D), targets, h0 (N, H), loss_name.
        tape: the `rnnnum.gru.GRUTape` (states, gates, the hidden side of n).
        y (N, T, V), p (N, T, V) for cross-entropy else None, losses (T,), loss.

    Properties ``h`` (N, T, H) holds h_1..h_T; ``r``, ``z``, ``n`` (N, T, H) the gates.
    """

    params: GRUParams = field(repr=False, kw_only=True)
    tape: GRUTape = field(repr=False, kw_only=True)

    h = property(lambda self: self.tape.h[:, 1:], doc="h_1..h_T, (N, T, H).")
    h_prev = property(lambda self: self.tape.h[:, :-1], doc="h_0..h_{T-1}, (N, T, H).")
    r = property(lambda self: self.tape.gate("r"), doc="reset gate, (N, T, H).")
    z = property(lambda self: self.tape.gate("z"), doc="update gate (keeps h_{t-1}), (N, T, H).")
    n = property(lambda self: self.tape.gate("n"), doc="candidate, (N, T, H).")


class _GatedGradients:
    """Shared methods of the gated cells' gradients."""

    names: ClassVar[tuple[str, ...]]
    param_names: ClassVar[tuple[str, ...]]

    def as_dict(self) -> dict[str, FloatArray]:
        """Every array by name: the parameters, then X, h0 (and c0)."""
        return {name: getattr(self, name) for name in self.names}

    def parameters(self) -> dict[str, FloatArray]:
        """The parameter gradients by name (what an optimiser updates)."""
        return {name: getattr(self, name) for name in self.param_names}

    def __repr__(self) -> str:
        norms = ", ".join(f"|{k}|={np.linalg.norm(v):.3g}" for k, v in self.as_dict().items())
        return f"{type(self).__name__}({norms})"


@dataclass(frozen=True, eq=False, repr=False)
class LSTMGradients(_GatedGradients):
    """dL/d(every LSTM quantity): Wx (D, 4H), Wh (H, 4H), b (4H,), Wyh, by, X, h0, c0."""

    names: ClassVar[tuple[str, ...]] = LSTMParams.gradient_names
    param_names: ClassVar[tuple[str, ...]] = LSTMParams.param_names

    Wx: FloatArray
    Wh: FloatArray
    b: FloatArray
    Wyh: FloatArray
    by: FloatArray
    X: FloatArray
    h0: FloatArray
    c0: FloatArray


@dataclass(frozen=True, eq=False, repr=False)
class GRUGradients(_GatedGradients):
    """dL/d(every GRU quantity): Wx (D, 3H), Wh (H, 3H), bx, bh (3H,), Wyh, by, X, h0."""

    names: ClassVar[tuple[str, ...]] = GRUParams.gradient_names
    param_names: ClassVar[tuple[str, ...]] = GRUParams.param_names

    Wx: FloatArray
    Wh: FloatArray
    bx: FloatArray
    bh: FloatArray
    Wyh: FloatArray
    by: FloatArray
    X: FloatArray
    h0: FloatArray


def wh_gradient(tape: LSTMTape | GRUTape, dV: FloatArray) -> FloatArray:
    """sum_t (what W_h multiplied at step t)ᵀ dL/dv_t, (H, GH); dV is (N, T, GH)."""
    if isinstance(tape, LSTMTape):
        return contract_steps(tape.h[:, :-1], dV)  # sum_t h_{t-1}ᵀ δ_t
    H = tape.h.shape[-1]
    u_rz, u_n = gru_wh_inputs(tape)
    if u_n is u_rz:  # "after": every block multiplies h_{t-1}, so one product for all three
        return contract_steps(u_rz, dV)
    return np.concatenate(
        [
            contract_steps(u_rz, dV[..., : 2 * H]),
            contract_steps(u_n, dV[..., 2 * H :]),
        ],
        axis=1,
    )


def cell_gradients(
    tape: LSTMTape | GRUTape, dU: FloatArray, dV: FloatArray
) -> dict[str, FloatArray]:
    """The cell's own parameter gradients from the signals dL/du_t, dL/dv_t (N, T, GH).

    LSTM: ``Wx, Wh, b``; GRU: ``Wx, Wh, bx, bh``. Shared by the full twin and the
    training cells (`rnnnum.LSTMCell`, `rnnnum.GRUCell`).
    """
    out = {
        "Wx": contract_steps(tape.X, dU),  # sum_t x_tᵀ dL/du_t
        "Wh": wh_gradient(tape, dV),
    }
    if isinstance(tape, LSTMTape):
        out["b"] = dU.sum(axis=(0, 1))
    else:
        out["bx"], out["bh"] = dU.sum(axis=(0, 1)), dV.sum(axis=(0, 1))
    return out


def gated_gradients(
    params: GatedParams,
    tape: LSTMTape | GRUTape,
    dY: FloatArray,
    dU: FloatArray,
    dV: FloatArray,
    dh0: FloatArray,
    dc0: FloatArray | None,
) -> LSTMGradients | GRUGradients:
    """Every gradient from ∂L_t/∂y_t (N, T, V), the input-side and hidden-side signals
    dL/du_t, dL/dv_t (N, T, GH; one array for the LSTM) and dL/dh_0, dL/dc_0 (N, H)."""
    common = {
        **cell_gradients(tape, dU, dV),
        "Wyh": contract_steps(tape.h[:, 1:], dY),  # sum_t h_tᵀ ∂L_t/∂y_t
        "by": dY.sum(axis=(0, 1)),
        "X": rows_times(dU, params.Wx.T),  # dL/dx_t = dL/du_t W_xᵀ
        "h0": dh0,
    }
    if isinstance(params, LSTMParams):
        assert dc0 is not None
        return frozen_record(LSTMGradients, c0=dc0, **common)
    return frozen_record(GRUGradients, **common)


@dataclass(frozen=True, eq=False)
class StepSignals:
    """The signals of one step k for several losses at once (leading axis I, losses i >= k).

    Attributes:
        u: dL_i/du_k, input side of the pre-activation, (I, N, GH) (the LSTM's δ_{i,k}).
        v: dL_i/dv_k, hidden side, (I, N, GH) (the same array for the LSTM).
        h_prev: dL_i/dh_{k-1}, (I, N, H).
        c_prev: dL_i/dc_{k-1}, (I, N, H), LSTM only.
    """

    u: FloatArray
    v: FloatArray
    h_prev: FloatArray
    c_prev: FloatArray | None

    def __len__(self) -> int:
        return int(self.u.shape[0])


def gated_signals(
    params: GatedParams,
    tape: LSTMTape | GRUTape,
    direct: FloatArray,
    *,
    window: int | None = None,
) -> Iterator[tuple[int, StepSignals]]:
    """Yield ``(t, signals)`` for t = T-1 down to 0, every loss that reaches step t at once.

    `direct` (N, T, H) is ∂L_i/∂y_i W_yhᵀ, what loss L_i sends into h_i. Row j of the
    signals belongs to loss L_{t+1+j}; at most `window` losses per step (truncation).
    All losses travel back together through the cell's step function: O(T² N H²) work.
    """
    N, T, H = direct.shape
    w = T if window is None else min(positive_int(window, "window"), T)
    lstm = isinstance(params, LSTMParams)
    WhT = np.ascontiguousarray(params.Wh.T)
    dh_buf = np.empty((T, N, H))  # dL_i/dh_t for the rows still travelling
    dc_buf = np.zeros((T, N, H))  # dL_i/dc_t through c_{t+1} (LSTM)
    for t in reversed(range(T)):
        end = min(T, t + w)
        dh_buf[t] = direct[:, t]  # loss L_{t+1} enters at its own state
        dc_buf[t] = 0.0
        dh, dc = dh_buf[t:end], dc_buf[t:end]
        if lstm:
            assert isinstance(tape, LSTMTape)
            u, dh_prev, dc_prev = lstm_step_back(tape, t, dh, dc, WhT)
            signals = StepSignals(u, u, dh_prev, dc_prev)
            dc_buf[t:end] = dc_prev
        else:
            assert isinstance(tape, GRUTape)
            u, v, dh_prev = gru_step_back(tape, t, dh, params.Wh)
            signals = StepSignals(u, v, dh_prev, None)
        if t > 0:
            dh_buf[t:end] = dh_prev
        yield t, signals
