r"""The kernel protocol: one cell's step, forward and back, as every generic stage reads it.

A kernel is what `rnnnum.forward`, `rnnnum.bptt`, `rnnnum.components`, the Jacobians,
truncation and the gradient checks need to know about a cell, and nothing else: the
loop over time, the read-out, the losses, the per-(loss, step) bookkeeping and the
overflow reports are written once, in those stages, for every cell.

Every cell's pre-activation has two sides (row vectors, batch first), an input side
$u_t = x_t W_x + b_x$ and a hidden side $v_t$ that reads $h_{t-1}$; the signals going
back are $\mathrm{d}L/\mathrm{d}u_t$ and $\mathrm{d}L/\mathrm{d}v_t$, (N, T, gH) with g
gate blocks. The vanilla cell and the LSTM have one pre-activation $a_t$, so both
signals are the same array $\mathrm{d}L/\mathrm{d}a_t$; the GRU's differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rnnnum._checks import FloatArray
from rnnnum._overflow import OverflowGuard
from rnnnum.errors import CellMismatchError
from rnnnum.residual import check_residual

__all__ = [
    "Kernel",
    "Signals",
    "StepSignals",
    "check_gated_options",
    "report_first_bad_step",
    "report_last_bad_signal",
]


@dataclass(frozen=True, eq=False)
class StepSignals:
    """The signals of one step k for several losses at once (leading axis I, losses i >= k).

    Attributes:
        u: dL_i/du_k, input side of the pre-activation, (I, N, gH) (vanilla, LSTM: dL_i/da_k).
        v: dL_i/dv_k, hidden side, (I, N, gH) (the same array for the vanilla cell and LSTM).
        h_prev: dL_i/dh_{k-1}, (I, N, H), every path included.
        c_prev: dL_i/dc_{k-1}, (I, N, H), LSTM only.
    """

    u: FloatArray
    v: FloatArray
    h_prev: FloatArray
    c_prev: FloatArray | None

    def __len__(self) -> int:
        return int(self.u.shape[0])


@dataclass(frozen=True, eq=False)
class Signals:
    """What one reverse sweep of every loss at once leaves: dL/du_t, dL/dv_t (N, T, gH)
    (one array where the cell has one pre-activation) and the gradients of the initial
    states by name (``h0``, and the LSTM's ``c0``), each (N, H).

    `sums`, where the sweep kept them, are each step's dL/du_t and dL/dv_t summed over
    the batch, (T, gH) each (`rnnnum._arith.step_sums`'s bits), for the biases' gradients
    (`rnnnum._arith.signal_total`)."""

    u: FloatArray
    v: FloatArray
    initial: dict[str, FloatArray]
    sums: tuple[FloatArray, FloatArray] | None = None

    def kept_sums(self, side: int) -> FloatArray | None:
        """The sweep's batch sums of `u` (side 0) or `v` (side 1), (T, gH); None if it
        kept none (the gradients then sum the tape itself, to the same bits)."""
        return None if self.sums is None else self.sums[side]

    def finite(self) -> bool:
        """True if every signal is finite."""
        return bool(np.isfinite(self.u).all() and np.isfinite(self.v).all()) and all(
            bool(np.isfinite(arr).all()) for arr in self.initial.values()
        )


#: A stepper: (0-based step t, dL_i/dh_t (I, N, H), dL_i/dc_t through c_{t+1} or None) -> signals.
Stepper = Callable[[int, FloatArray, FloatArray | None], StepSignals]
#: The read-out and the losses: h_1..h_T (N, T, H) -> y (N, T, V), p or None, L_1..L_T (T,).
Readout = Callable[[FloatArray], tuple[FloatArray, FloatArray | None, FloatArray]]


class Kernel(Protocol):
    """One cell's step, forward and back; `rnnnum.kernel.registry` holds one per parameter type.

    Every method takes the cell's parameters and, after the forward pass, the cache
    `rnnnum.forward` built from the fields `forward` returned.
    """

    #: The cell's name in messages (``vanilla``, ``LSTM``, ``GRU``).
    cell: str
    #: The parts of the state, in the order of the Jacobian's blocks: ``("h",)`` or ``("h", "c")``.
    states: tuple[str, ...]
    #: The type `rnnnum.forward` returns for this cell, and `rnnnum.bptt`'s gradient type.
    cache_type: type
    gradients_type: type
    #: The input weights' name (``Wxh`` or ``Wx``) and the letter of the signal in messages.
    input_weight: str
    signal: str
    #: How each cell parameter enters a step: ``"x"`` (input weights: x_kᵀ dL/du_k), ``"h"``
    #: (recurrent weights: `wh_inputs`ᵀ dL/dv_k), ``"u"`` or ``"v"`` (a bias of that side).
    roles: Mapping[str, str]
    #: True if the cell has the naive reference `reference_signals` (products of Jacobians).
    reference: bool
    #: What to do about a forward pass that overflowed, for the message.
    forward_remedy: str

    def configure(self, params: Any, *, activation: str | None, residual: Any, c0: Any) -> Any:
        """The options of this cell's forward pass, checked (activation, residual, c0)."""
        ...

    def initial(self, params: Any, h0: FloatArray, c0: Any, N: int) -> dict[str, FloatArray]:
        """The initial states by name (``h0``, the LSTM's ``c0``), checked, each (N, H)."""
        ...

    def forward(
        self,
        params: Any,
        X: FloatArray,
        initial: dict[str, FloatArray],
        options: Any,
        readout: Readout,
        guard: OverflowGuard,
    ) -> dict[str, Any]:
        """Run the loop over X (N, T, D): the cache's fields beyond params, X, targets, loss_name.

        ``readout(h)`` takes h_1..h_T (N, T, H) and returns y, p and the losses; the first
        non-finite state or loss is reported to `guard`. An optional ``"cached"`` entry
        holds values of the cache's cached properties the loop made on the way (the
        vanilla cell's h_0..h_{T-1}, a view of its state tape), given to the cache as they are.
        """
        ...

    def sweep(
        self, params: Any, cache: Any, direct: FloatArray, guard: OverflowGuard | None
    ) -> Signals:
        """The reverse sweep from `direct` (N, T, H), what each L_t sends into h_t, which
        the sweep may write over; with a `guard`, report where it overflowed."""
        ...

    def gradients(self, params: Any, cache: Any, signals: Signals) -> dict[str, FloatArray]:
        """The cell's own parameter gradients (sums over steps of local factor times signal)."""
        ...

    def stepper(self, params: Any, cache: Any) -> Stepper:
        """One step back for any number of leading loss axes (components, truncation)."""
        ...

    def wh_inputs(self, cache: Any, t: int) -> tuple[FloatArray, FloatArray | None]:
        """What the recurrent weights multiply at step t, (N, H), and the n block's own (GRU
        reset "before"), else None."""
        ...

    def step_jacobians(self, params: Any, cache: Any) -> FloatArray:
        """ds_t/ds_{t-1} of the state for t = 1..T, (N, T, n, n), row convention."""
        ...

    def reference_signals(
        self, params: Any, cache: Any, direct: FloatArray
    ) -> Iterator[tuple[int, StepSignals]]:
        """The signals from explicit Jacobian products (the naive reference; `reference`)."""
        ...

    def mismatch(self, params: Any, other: Any) -> str | None:
        """Why a cache of `other` cannot serve `params` beyond their arrays, or None."""
        ...

    def distance_to_kink(self, cache: Any) -> float:
        """Smallest distance of a pre-activation to a kink of the activation (inf if smooth)."""
        ...


def report_first_bad_step(
    guard: OverflowGuard,
    watched: FloatArray,
    losses: FloatArray,
    name: Callable[[int], str],
    context: Callable[[int], str] | None = None,
) -> None:
    """Report the first step t whose `watched` (N, T, H) or loss L_t is non-finite.

    `name(t)` names the watched quantity of the 0-based step t; `context(t)` adds a
    detail (only computed on failure).
    """
    T = watched.shape[1]
    bad_state = ~np.isfinite(watched).all(axis=(0, 2))
    t = int(np.argmax(bad_state | ~np.isfinite(losses)))
    if bad_state[t]:
        extra = None if context is None else (lambda: context(t))
        guard.check(watched[:, t], name(t), t + 1, T, extra)
    guard.check(losses[t : t + 1], f"the loss L_{t + 1}", t + 1, T)


def check_gated_options(params: Any, activation: str | None, residual: Any) -> None:
    """A gated cell fixes its own activations and its state update: refuse the vanilla options."""
    if residual is not False:
        check_residual(residual, params)  # raises for True with a gated cell, or a non-bool
    if activation is not None:
        raise CellMismatchError(
            f"activation applies to the vanilla cell only; the {params.cell} fixes its own "
            f"(sigmoid gates, tanh candidate); got activation={activation!r}. Drop the argument."
        )


def report_last_bad_signal(guard: OverflowGuard, signals: Signals, name: str) -> None:
    """Report the last step whose signals are non-finite: where the reverse sweep first
    overflowed. `name` is the signal's letter in the message (dL/d`name`_t)."""
    bad = ~(np.isfinite(signals.u).all(axis=(0, 2)) & np.isfinite(signals.v).all(axis=(0, 2)))
    if bad.any():
        t = int(np.flatnonzero(bad)[-1])
        T = signals.u.shape[1]
        guard.check(signals.u[:, t] * signals.v[:, t], f"dL/d{name}_{t + 1}", t + 1, T)
