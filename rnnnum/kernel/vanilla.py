r"""The vanilla cell's kernel, residual through time as an option: its loop and its sweep.

$$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\qquad h_t = f(a_t)
\quad\text{or, residual,}\quad h_t = h_{t-1} + f(a_t).$$

Local derivatives: $\partial h_t/\partial a_t = \mathrm{diag}(f'(a_t))$,
$\partial a_t/\partial h_{t-1} = W_{hh}$, and, for the residual form, the skip's own
path from $h_{t-1}$ to $h_t$, the identity (`rnnnum.residual`). The forward loop
(`vanilla_states`) and the reverse sweep (`state_sweep`) are written here once; the
full twin (`rnnnum.forward`, `rnnnum.bptt`, ...) and the training cell
(`rnnnum.VanillaCell`) both run them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from rnnnum._arith import (
    all_finite,
    contract_steps,
    memory_rows,
    read_only,
    rows,
    signal_total,
    step_rows,
    step_sums,
    step_tape,
)
from rnnnum._checks import FloatArray
from rnnnum._compiled import fused
from rnnnum._overflow import OverflowGuard, largest
from rnnnum.activations import Activation, get_activation
from rnnnum.errors import CellMismatchError
from rnnnum.kernel.protocol import (
    Readout,
    Signals,
    Stepper,
    StepSignals,
    report_first_bad_step,
)
from rnnnum.residual import check_residual
from rnnnum.vanilla import ForwardCache, Gradients

__all__ = [
    "VANILLA",
    "VanillaKernel",
    "fprime_at",
    "state_sweep",
    "vanilla_states",
    "vanilla_step_jacobians",
]


def vanilla_states(
    X: FloatArray,
    Wxh: FloatArray,
    Whh: FloatArray,
    bh: FloatArray,
    h0: FloatArray,
    f: Activation,
    residual: bool,
) -> tuple[FloatArray, FloatArray]:
    """Pre-activations a_1..a_T (N, T, H) and the states h_0, h_1..h_T (N, T+1, H), from
    X (N, T, D), h0 (N, H).

    Both are step tapes (`rnnnum._arith.step_tape`): h_1..h_T is ``states[:, 1:]`` and
    what each step reads, h_0..h_{T-1}, is ``states[:, :-1]``, views of one tape.
    """
    N, T, _ = X.shape
    H = Whh.shape[0]
    act = f.forward
    ufunc = act if isinstance(act, np.ufunc) else None  # tanh: written into h_t
    a = step_tape(N, T, H)
    states = step_tape(N, T + 1, H)  # h_0, h_1, ..., h_T
    states[:, 0] = h0
    h, h_prev = states[:, 1:], states[:, :-1]
    hw = np.empty((N, H))
    np.dot(step_rows(X), Wxh, out=memory_rows(a))  # x_t W_xh, all steps in one product
    steps = fused() if act is np.tanh else None  # tanh's step in one compiled pass
    bh = np.ascontiguousarray(bh)
    for t in range(T):
        a_t, h_t = a[:, t], h[:, t]
        np.dot(h_prev[:, t], Whh, out=hw)
        if steps is not None:  # what the other branch does for tanh, in the same order
            steps.tanh_forward_step(a_t, hw, bh, h_t, N, H)
        else:
            a_t += hw  # a_t = x_t W_xh + h_{t-1} W_hh + b_h, (N, H); ∂a_t/∂h_{t-1} = W_hh
            a_t += bh
            if ufunc is not None:  # (N, H); local derivative: ∂h_t/∂a_t = diag(f'(a_t))
                ufunc(a_t, out=h_t)
            else:
                h_t[...] = act(a_t)
        if residual:
            h_t += h_prev[:, t]  # h_t = h_{t-1} + f(a_t); its own path from h_{t-1}: I
    return a, states


def state_sweep(
    Whh: FloatArray,
    direct: FloatArray,
    fprime_at: Callable[[int, FloatArray], FloatArray],
    residual: bool,
    guard: OverflowGuard | None,
    tanh_states: FloatArray | None = None,
    sums: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """dL/da_t (N, T, H) and dL/dh_0 (N, H) of the vanilla or the residual cell.

    `direct` (N, T, H) is what L_t sends into h_t; ``fprime_at(t, buf)`` gives f'(a_t)
    (N, H) of the 0-based step t, possibly written into the scratch `buf`. The residual
    cell's dL/dh_{t-1} also receives dL/dh_t itself (the skip). With a `guard`, stop
    at the first inf/NaN of dL/dh_{t-1} and name the step. dL/da_t is written over
    `direct` (step t's part is read before it is overwritten): no other (N, T, H) array.
    `tanh_states`, h_1..h_T (N, T, H) of a tanh cell (f' = 1 - h_t², what `fprime_at`
    gives), lets each step run compiled (`rnnnum._compiled`) where `direct` is a step tape.
    Given `sums` (T, H), each step's dL/da_t summed over the batch is written into it
    (`rnnnum._arith.step_sums`'s bits): by the compiled step while the step is in the
    cache, else in one pass over the tape at the end.
    """
    N, T, H = direct.shape
    WhhT = Whh.T
    dA = direct
    dh = np.empty((N, H))
    scratch = np.empty((N, H))
    dh_next = np.zeros((N, H))  # dL/dh_t through h_{t+1}; nothing comes after h_T
    steps = None  # tanh's step in one compiled pass, where it applies
    if tanh_states is not None and guard is None and not residual and T > 0:
        steps = fused() if direct[:, 0].flags.c_contiguous else None
    for t in reversed(range(T)):
        dA_t = dA[:, t]
        if steps is not None and tanh_states is not None:  # the two lines below, for tanh
            sums_t = None if sums is None else sums[t]  # the batch sums, in the same pass
            steps.tanh_backward_step(dA_t, dh_next, tanh_states[:, t], sums_t, N, H)
        else:
            np.add(direct[:, t], dh_next, out=dh)  # dL/dh_t: via y_t, plus via h_{t+1}
            np.multiply(dh, fprime_at(t, scratch), out=dA_t)  # dL/da_t = dL/dh_t diag(f'(a_t))
        np.dot(dA_t, WhhT, out=dh_next)  # dL/dh_{t-1}: via a_t (∂a_t/∂h_{t-1} = W_hh) ...
        if residual:
            dh_next += dh  # ... plus via the skip (the identity)
        if guard is not None:
            guard.check(
                dh_next,
                f"dL/dh_{t}",
                t + 1,
                T,
                lambda: f"; largest |dL/dh_{t + 1}| was {largest(dh)}",  # noqa: B023 (called at once)
            )
    if sums is not None and steps is None:  # one pass over the tape: the same bits
        step_sums(dA, out=sums)
    return dA, dh_next


def fprime_at(cache: ForwardCache) -> Callable[[int, FloatArray], FloatArray]:
    """f'(a_t) of one 0-based step, (N, H): the cached array's slice if `cache.fprime` was
    computed, else computed for that step alone (the same arithmetic, element by element)."""
    if "fprime" in cache.__dict__:  # the cached_property has run
        fprime = cache.fprime
        return lambda t, _: fprime[:, t]
    h = cache.h
    if cache.activation == "tanh" and not cache.residual:

        def tanh_prime(t: int, buf: FloatArray) -> FloatArray:
            np.multiply(h[:, t], h[:, t], out=buf)  # 1 - h_t², as activations.py writes it
            return np.subtract(1.0, buf, out=buf)

        return tanh_prime
    f, a = get_activation(cache.activation), cache.a
    if cache.residual:  # f reads f(a_t), not h_t = h_{t-1} + f(a_t)
        return lambda t, _: f.derivative(a[:, t], f.forward(a[:, t]))
    return lambda t, _: f.derivative(a[:, t], h[:, t])


def vanilla_step_jacobians(Whh: FloatArray, fprime: FloatArray, residual: bool) -> FloatArray:
    r"""$M_t = \mathrm{d}h_t/\mathrm{d}h_{t-1} = W_{hh}\,\mathrm{diag}(f'(a_t))$, plus $I$ if
    residual, from f'(a_t) (N, T, H): (N, T, H, H), row convention."""
    M = Whh[None, None, :, :] * fprime[:, :, None, :]  # scales column j by f'(a_t)_j
    if residual:
        M += np.eye(Whh.shape[0])  # the skip h_t = h_{t-1} + ...: its identity path
    return M


@dataclass(frozen=True)
class VanillaOptions:
    """The vanilla cell's options: its activation $f$ and the residual form."""

    activation: Activation
    residual: bool


class VanillaKernel:
    """The vanilla RNN's kernel (`rnnnum.kernel.protocol.Kernel`), residual as an option."""

    cell: str = "vanilla"
    states: tuple[str, ...] = ("h",)
    cache_type: type = ForwardCache
    gradients_type: type = Gradients
    input_weight: str = "Wxh"
    signal: str = "a"
    roles: Mapping[str, str] = MappingProxyType({"Wxh": "x", "Whh": "h", "bh": "u"})
    reference: bool = True
    forward_remedy: str = (
        "Use a bounded activation (tanh, sigmoid) or a smaller recurrent matrix, e.g. "
        "rnnnum.init_spectral(..., sigma_max=0.9)."
    )

    def configure(
        self, params: Any, *, activation: str | None, residual: Any, c0: Any
    ) -> VanillaOptions:
        if residual is not False:  # the common case costs one identity test
            residual = check_residual(residual, params)
        if c0 is not None:
            raise CellMismatchError(
                "c0 is the LSTM's cell state; the vanilla RNN has the state h only; got c0 with "
                "RNNParams. Pass the initial state as h0."
            )
        return VanillaOptions(
            get_activation("tanh" if activation is None else activation), residual
        )

    def initial(self, params: Any, h0: FloatArray, c0: Any, N: int) -> dict[str, FloatArray]:
        return {"h0": h0}

    def forward(
        self,
        params: Any,
        X: FloatArray,
        initial: dict[str, FloatArray],
        options: VanillaOptions,
        readout: Readout,
        guard: OverflowGuard,
    ) -> dict[str, Any]:
        h0 = initial["h0"]
        with np.errstate(over="ignore", invalid="ignore"):  # the guard reports instead of NumPy
            f, residual = options.activation, options.residual
            a, states = vanilla_states(X, params.Wxh, params.Whh, params.bh, h0, f, residual)
            h = states[:, 1:]
            y, p, losses = readout(h)  # ∂L_t/∂y_t in losses.py
        loss = float(losses.sum())  # finite only if every L_t is
        if not (np.isfinite(loss) and all_finite(a)):  # report the first step that overflowed

            def context(t: int) -> str:
                states = np.concatenate([h0[:, None], h], axis=1)
                return f"; largest |h_{t}| was {largest(states[:, t])}"

            name = "the pre-activation a_{}".format
            report_first_bad_step(guard, a, losses, lambda t: name(t + 1), context)
        return {
            "h0": h0, "activation": options.activation.name, "residual": options.residual,
            "a": a, "h": h, "y": y, "p": p, "losses": losses, "loss": loss,
            "cached": {"h_prev": read_only(states[:, :-1])},
        }  # fmt: skip

    def sweep(
        self,
        params: Any,
        cache: ForwardCache,
        direct: FloatArray,
        guard: OverflowGuard | None,
    ) -> Signals:
        tanh_states = cache.h if cache.activation == "tanh" else None
        sums = np.empty(direct.shape[1:])
        dA, dh0 = state_sweep(
            params.Whh, direct, fprime_at(cache), cache.residual, guard, tanh_states, sums
        )
        return Signals(dA, dA, {"h0": dh0}, (sums, sums))

    def gradients(
        self, params: Any, cache: ForwardCache, signals: Signals
    ) -> dict[str, FloatArray]:
        dA = signals.u
        return {
            "Wxh": contract_steps(cache.X, dA),  # sum_t x_t^T dL/da_t                  (D, H)
            "Whh": contract_steps(cache.h_prev, dA),  # sum_t h_{t-1}^T dL/da_t          (H, H)
            "bh": signal_total(dA, signals.kept_sums(0)),  # sum_t dL/da_t                  (H,)
        }

    def stepper(self, params: Any, cache: ForwardCache) -> Stepper:
        WhhT = np.ascontiguousarray(params.Whh.T)
        fprime, residual = cache.fprime, cache.residual

        def step(t: int, dh: FloatArray, dc: FloatArray | None) -> StepSignals:
            u = np.multiply(dh, fprime[:, t])  # dL_i/da_t = dL_i/dh_t ⊙ f'(a_t)
            back = np.dot(rows(u), WhhT).reshape(u.shape)  # via a_t: ∂a_t/∂h_{t-1} = W_hh
            if residual:
                back += dh  # plus via the skip: dL_i/dh_t itself
            return StepSignals(u, u, back, None)

        return step

    def wh_inputs(self, cache: ForwardCache, t: int) -> tuple[FloatArray, FloatArray | None]:
        return cache.h_prev[:, t], None

    def step_jacobians(self, params: Any, cache: ForwardCache) -> FloatArray:
        return vanilla_step_jacobians(params.Whh, cache.fprime, cache.residual)

    def reference_signals(
        self, params: Any, cache: ForwardCache, direct: FloatArray
    ) -> Iterator[tuple[int, StepSignals]]:
        """dL_i/da_k and dL_i/dh_{k-1} for all i >= k, formed naively from explicit products
        of Jacobians: O(N T^2 H^3) instead of O(N T^2 H^2); the independent reference."""
        M = self.step_jacobians(params, cache)  # (N, T, H, H)
        fprime = cache.fprime  # (N, T, H)
        N, T, H = cache.N, cache.T, params.H
        for t in reversed(range(T)):
            P = np.broadcast_to(np.eye(H), (N, H, H))  # dh_t/dh_t
            rows_, states = np.empty((T - t, N, H)), np.empty((T - t, N, H))
            for i in range(t, T):
                if i > t:
                    P = P @ M[:, i]  # dh_i/dh_t
                states[i - t] = np.einsum("nba,na->nb", P, direct[:, i])  # dL_i/dh_t
                rows_[i - t] = states[i - t] * fprime[:, t]  # dL_i/da_t
            back = rows_ @ params.Whh.T  # dL_i/dh_{t-1} through a_t ...
            if cache.residual:
                back += states  # ... and through the skip
            yield t, StepSignals(rows_, rows_, back, None)

    def mismatch(self, params: Any, other: Any) -> str | None:
        return None

    def distance_to_kink(self, cache: ForwardCache) -> float:
        if cache.activation in ("relu", "leaky_relu"):
            return float(np.abs(cache.a).min())
        return float("inf")


VANILLA = VanillaKernel()
