"""The LSTM's kernel: `rnnnum.lstm`'s step, forward and back, behind the kernel protocol.

The state is the pair (h, c); one stacked pre-activation a_t (blocks i, f, o, g), so the
input and the hidden side share one signal δ_t = dL/da_t.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from rnnnum._arith import all_finite, contract_steps, signal_total
from rnnnum._checks import FloatArray
from rnnnum._inputs import check_h0
from rnnnum._overflow import OverflowGuard
from rnnnum.gated import LSTMCache, LSTMGradients
from rnnnum.kernel.protocol import (
    Readout,
    Signals,
    Stepper,
    StepSignals,
    check_gated_options,
    report_first_bad_step,
    report_last_bad_signal,
)
from rnnnum.lstm import LSTMTape, lstm_backward, lstm_forward, lstm_step_back, lstm_step_jacobians

__all__ = ["LSTM", "LSTMKernel", "lstm_cell_gradients"]

#: What to do about a forward pass of a gated cell that overflowed.
GATED_REMEDY = "Scale the inputs or weights down."


def lstm_cell_gradients(
    tape: LSTMTape, dA: FloatArray, sums: FloatArray | None = None
) -> dict[str, FloatArray]:
    """Wx (D, 4H), Wh (H, 4H), b (4H,) from δ_t = dL/da_t (N, T, 4H): sums over steps.

    `sums`: each step's δ_t summed over the batch, (T, 4H), where the sweep kept them
    (`rnnnum.kernel.protocol.Signals`); the same bits come without them.
    """
    return {
        "Wx": contract_steps(tape.X, dA),  # sum_t x_tᵀ δ_t
        "Wh": contract_steps(tape.h[:, :-1], dA),  # sum_t h_{t-1}ᵀ δ_t
        "b": signal_total(dA, sums),
    }


class LSTMKernel:
    """The LSTM's kernel (`rnnnum.kernel.protocol.Kernel`)."""

    cell: str = "LSTM"
    states: tuple[str, ...] = ("h", "c")
    cache_type: type = LSTMCache
    gradients_type: type = LSTMGradients
    input_weight: str = "Wx"
    signal: str = "u"
    roles: Mapping[str, str] = MappingProxyType({"Wx": "x", "Wh": "h", "b": "u"})
    reference: bool = False  # no naive reference: `rnnnum.components` has the recursion only
    forward_remedy: str = GATED_REMEDY

    def configure(self, params: Any, *, activation: str | None, residual: Any, c0: Any) -> None:
        check_gated_options(params, activation, residual)

    def initial(self, params: Any, h0: FloatArray, c0: Any, N: int) -> dict[str, FloatArray]:
        return {"h0": h0, "c0": check_h0(c0, N, params.H, "c0")}

    def forward(
        self,
        params: Any,
        X: FloatArray,
        initial: dict[str, FloatArray],
        options: None,
        readout: Readout,
        guard: OverflowGuard,
    ) -> dict[str, Any]:
        h0, c0 = initial["h0"], initial["c0"]
        with np.errstate(over="ignore", invalid="ignore"):
            tape = lstm_forward(params.Wx, params.Wh, params.b, X, h0, c0)
            y, p, losses = readout(tape.h[:, 1:])
        loss = float(losses.sum())  # finite only if every L_t is
        if not (np.isfinite(loss) and all_finite(tape.c[:, 1:])):  # report the first bad step
            report_first_bad_step(guard, tape.c[:, 1:], losses, "the cell state c_{}".format)
        return {"h0": h0, "c0": c0, "tape": tape, "y": y, "p": p, "losses": losses, "loss": loss}

    def sweep(
        self,
        params: Any,
        cache: LSTMCache,
        direct: FloatArray,
        guard: OverflowGuard | None,
    ) -> Signals:
        sums = np.empty((direct.shape[1], params.Wh.shape[1]))
        dA, dh0, dc0 = lstm_backward(params.Wh, cache.tape, direct, sums=sums)
        signals = Signals(dA, dA, {"h0": dh0, "c0": dc0}, (sums, sums))
        if guard is not None:
            report_last_bad_signal(guard, signals, "a")
        return signals

    def gradients(self, params: Any, cache: LSTMCache, signals: Signals) -> dict[str, FloatArray]:
        return lstm_cell_gradients(cache.tape, signals.u, signals.kept_sums(0))

    def stepper(self, params: Any, cache: LSTMCache) -> Stepper:
        WhT, tape = np.ascontiguousarray(params.Wh.T), cache.tape

        def step(t: int, dh: FloatArray, dc: FloatArray | None) -> StepSignals:
            u, dh_prev, dc_prev = lstm_step_back(tape, t, dh, dc, WhT)
            return StepSignals(u, u, dh_prev, dc_prev)

        return step

    def wh_inputs(self, cache: LSTMCache, t: int) -> tuple[FloatArray, FloatArray | None]:
        return cache.h_prev[:, t], None

    def step_jacobians(self, params: Any, cache: LSTMCache) -> FloatArray:
        return lstm_step_jacobians(params.Wh, cache.tape)

    def reference_signals(self, params: Any, cache: Any, direct: FloatArray) -> Iterator[Any]:
        raise NotImplementedError("no naive reference for the gated cells")  # pragma: no cover

    def mismatch(self, params: Any, other: Any) -> str | None:
        return None

    def distance_to_kink(self, cache: Any) -> float:
        return float("inf")  # sigmoid and tanh are smooth everywhere


LSTM = LSTMKernel()
