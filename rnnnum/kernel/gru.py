"""The GRU's kernel: `rnnnum.gru`'s step, forward and back, behind the kernel protocol.

Two signals per step: dL/du_t of the input side x_t W_x + b_x and dL/dv_t of the hidden
side; with ``reset="before"`` the n block of W_h multiplies r_t ⊙ h_{t-1}, not h_{t-1}.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from rnnnum._arith import all_finite, contract_steps, signal_total
from rnnnum._checks import FloatArray
from rnnnum._overflow import OverflowGuard
from rnnnum.errors import CellMismatchError
from rnnnum.gated import GRUCache, GRUGradients
from rnnnum.gru import GRUTape, gru_backward, gru_forward, gru_step_back, gru_step_jacobians
from rnnnum.kernel.lstm import GATED_REMEDY
from rnnnum.kernel.protocol import (
    Readout,
    Signals,
    Stepper,
    StepSignals,
    check_gated_options,
    report_first_bad_step,
    report_last_bad_signal,
)

__all__ = ["GRU", "GRUKernel", "gru_cell_gradients"]


def gru_cell_gradients(
    tape: GRUTape,
    dU: FloatArray,
    dV: FloatArray,
    sums: tuple[FloatArray, FloatArray] | None = None,
) -> dict[str, FloatArray]:
    """Wx, Wh (D or H, 3H), bx, bh (3H,) from dL/du_t, dL/dv_t (N, T, 3H): sums over steps.

    `sums`: each step's dL/du_t and dL/dv_t summed over the batch, (T, 3H) each, where the
    sweep kept them (`rnnnum.kernel.protocol.Signals`); the same bits come without them.
    """
    su, sv = sums if sums is not None else (None, None)
    H = tape.h.shape[-1]
    h_prev = tape.h[:, :-1]
    if tape.reset == "after":  # every block of W_h multiplies h_{t-1}: one product for all three
        Wh = contract_steps(h_prev, dV)
    else:  # the n block multiplies r_t ⊙ h_{t-1}
        Wh = np.concatenate(
            [
                contract_steps(h_prev, dV[..., : 2 * H]),
                contract_steps(tape.gate("r") * h_prev, dV[..., 2 * H :]),
            ],
            axis=1,
        )
    return {
        "Wx": contract_steps(tape.X, dU),  # sum_t x_tᵀ dL/du_t
        "Wh": Wh,
        "bx": signal_total(dU, su),
        "bh": signal_total(dV, sv),
    }


class GRUKernel:
    """The GRU's kernel (`rnnnum.kernel.protocol.Kernel`), either placement of the reset."""

    cell: str = "GRU"
    states: tuple[str, ...] = ("h",)
    cache_type: type = GRUCache
    gradients_type: type = GRUGradients
    input_weight: str = "Wx"
    signal: str = "u"
    roles: Mapping[str, str] = MappingProxyType({"Wx": "x", "Wh": "h", "bx": "u", "bh": "v"})
    reference: bool = False  # no naive reference: `rnnnum.components` has the recursion only
    forward_remedy: str = GATED_REMEDY

    def configure(self, params: Any, *, activation: str | None, residual: Any, c0: Any) -> None:
        check_gated_options(params, activation, residual)
        if c0 is not None:
            raise CellMismatchError(
                "c0 is the LSTM's cell state; a GRU has the state h only; got c0 with "
                "GRUParams. Pass the initial state as h0."
            )

    def initial(self, params: Any, h0: FloatArray, c0: Any, N: int) -> dict[str, FloatArray]:
        return {"h0": h0}

    def forward(
        self,
        params: Any,
        X: FloatArray,
        initial: dict[str, FloatArray],
        options: None,
        readout: Readout,
        guard: OverflowGuard,
    ) -> dict[str, Any]:
        h0, p_ = initial["h0"], params
        with np.errstate(over="ignore", invalid="ignore"):
            tape = gru_forward(p_.Wx, p_.Wh, p_.bx, p_.bh, X, h0, p_.reset)
            y, p, losses = readout(tape.h[:, 1:])
        loss = float(losses.sum())  # finite only if every L_t is
        if not (np.isfinite(loss) and all_finite(tape.h[:, 1:])):  # report the first bad step
            report_first_bad_step(guard, tape.h[:, 1:], losses, "the state h_{}".format)
        return {"h0": h0, "tape": tape, "y": y, "p": p, "losses": losses, "loss": loss}

    def sweep(
        self,
        params: Any,
        cache: GRUCache,
        direct: FloatArray,
        guard: OverflowGuard | None,
    ) -> Signals:
        _, T, H = direct.shape
        sums = (np.empty((T, 3 * H)), np.empty((T, 3 * H)))
        if params.reset == "before":  # one signal: dL/dv_t is dL/du_t
            sums = (sums[0], sums[0])
        dU, dV, dh0 = gru_backward(params.Wh, cache.tape, direct, sums=sums)
        signals = Signals(dU, dV, {"h0": dh0}, sums)
        if guard is not None:
            report_last_bad_signal(guard, signals, "a")
        return signals

    def gradients(self, params: Any, cache: GRUCache, signals: Signals) -> dict[str, FloatArray]:
        return gru_cell_gradients(cache.tape, signals.u, signals.v, signals.sums)

    def stepper(self, params: Any, cache: GRUCache) -> Stepper:
        WhT, tape = np.ascontiguousarray(params.Wh.T), cache.tape

        def step(t: int, dh: FloatArray, dc: FloatArray | None) -> StepSignals:
            u, v, dh_prev = gru_step_back(tape, t, dh, WhT)
            return StepSignals(u, v, dh_prev, None)

        return step

    def wh_inputs(self, cache: GRUCache, t: int) -> tuple[FloatArray, FloatArray | None]:
        h_prev = cache.h_prev[:, t]
        if cache.tape.reset == "after":
            return h_prev, None
        return h_prev, cache.tape.gate("r")[:, t] * h_prev  # the n block reads r_t ⊙ h_{t-1}

    def step_jacobians(self, params: Any, cache: GRUCache) -> FloatArray:
        return gru_step_jacobians(params.Wh, cache.tape)

    def reference_signals(self, params: Any, cache: Any, direct: FloatArray) -> Iterator[Any]:
        raise NotImplementedError("no naive reference for the gated cells")  # pragma: no cover

    def mismatch(self, params: Any, other: Any) -> str | None:
        if params.reset != other.reset:
            return (
                f"the cache comes from a GRU with reset={other.reset!r}, these parameters "
                f"have reset={params.reset!r}. Call rnnnum.forward(params, ...) again."
            )
        return None

    def distance_to_kink(self, cache: Any) -> float:
        return float("inf")  # sigmoid and tanh are smooth everywhere


GRU = GRUKernel()
