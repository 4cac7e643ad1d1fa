r"""The GRU step, forward and back: the one place its mathematics is written.

Row vectors, batch first; gate blocks r, z, n (`rnnnum.GRUParams`). With the
input side $u_t = x_t W_x + b_x$ (all steps in one product) and, for
``reset="after"``, the hidden side $v_t = h_{t-1} W_h + b_h$:

$$r_t = \sigma(u^r_t + v^r_t),\quad z_t = \sigma(u^z_t + v^z_t),\quad
n_t = \tanh(u^n_t + r_t \odot v^n_t),\quad h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.$$

For ``reset="before"`` (Cho et al. 2014) the reset gate acts on the state before the
product: $v^n_t = (r_t \odot h_{t-1}) W_{hn} + b_{hn}$, so the n block needs r_t first
and each step makes two products with W_h instead of one.

``z`` keeps the old state: z = 1 copies h_{t-1}, z = 0 replaces it by n_t (PyTorch's
convention and Cho et al.'s; texts that swap z and 1 - z describe the same cell with
the gate's sign flipped).

Local derivatives used going back: ∂h_t/∂n_t = diag(1 - z_t), ∂h_t/∂z_t =
diag(h_{t-1} - n_t), and through the copy z_t ⊙ h_{t-1} alone diag(z_t); for "after"
the pre-activation of n has ∂/∂r_t = diag(v^n_t) and ∂/∂v^n_t = diag(r_t); for
"before" ∂/∂(r_t ⊙ h_{t-1}) = W_hn. The full twin and `rnnnum.GRUCell` both call
`gru_forward` and `gru_backward` (whose steps are `gru_step_back`'s).

Where `rnnnum/csrc/` was built at install, `gru_forward` and `gru_backward` run each
step's element-wise work compiled, one pass per step (`rnnnum._compiled`), with
the same operations in the same order; the NumPy lines here define that work and
run it where the build is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnnum._arith import as_step_tape, memory_rows, step_rows, step_sums, step_tape
from rnnnum._checks import FloatArray
from rnnnum._compiled import bypass_cache, fused

__all__ = ["GRUTape", "gru_backward", "gru_forward", "gru_step_back", "gru_step_jacobians"]


@dataclass(frozen=True, eq=False)
class GRUTape:
    """What the GRU's forward pass keeps for going back; batch first.

    Attributes:
        X: inputs (N, T, D).
        h: states h_0..h_T, (N, T+1, H).
        gates: r, z, n of every step, (N, T, 3H).
        vn: the hidden side of n's pre-activation, (N, T, H): h_{t-1} W_hn + b_hn
            ("after") or (r_t ⊙ h_{t-1}) W_hn + b_hn ("before").
        reset: ``"after"`` or ``"before"``.
    """

    X: FloatArray
    h: FloatArray
    gates: FloatArray
    vn: FloatArray
    reset: str

    def gate(self, name: str) -> FloatArray:
        """One gate over every step, (N, T, H): ``"r"``, ``"z"`` or ``"n"``."""
        k = "rzn".index(name)
        H = self.h.shape[-1]
        return self.gates[..., k * H : (k + 1) * H]


def _sigmoid_of_half_(half_a: FloatArray) -> None:
    """sigma(a) = (1 + tanh(a/2)) / 2 in place, given a/2: never overflows (as
    rnnnum.activations)."""
    np.tanh(half_a, out=half_a)
    half_a += 1.0
    half_a *= 0.5


def gru_forward(
    Wx: FloatArray,
    Wh: FloatArray,
    bx: FloatArray,
    bh: FloatArray,
    X: FloatArray,
    h0: FloatArray,
    reset: str,
) -> GRUTape:
    """Run the GRU over X (N, T, D) from h0 (N, H); no checks (callers validate)."""
    N, T, _ = X.shape
    H = Wh.shape[0]
    # sigma(a) = (1 + tanh(a/2)) / 2 never overflows (activations.py). The gates r, z
    # need a/2 only: their columns of W_x, b_x, W_h and b_h are halved once here, which
    # gives a/2 exactly (halving commutes with every rounding), one pass fewer per step.
    half = np.ones(3 * H)
    half[: 2 * H] = 0.5
    Wx, bx, Wh, bh = Wx * half, bx * half, Wh * half, bh * half
    h = step_tape(N, T + 1, H)  # step tapes (`rnnnum._arith.step_tape`): each step one block
    h[:, 0] = h0
    gates = step_tape(N, T, 3 * H)
    pre = memory_rows(gates)
    np.dot(step_rows(X), Wx, out=pre)  # x_t W_x, all steps
    vn = step_tape(N, T, H)
    steps = fused()
    if steps is not None:  # the element-wise work below in compiled passes (b_x included)
        _fused_forward(steps, Wh, bx, bh, gates, h, vn, reset)
        return GRUTape(X=X, h=h, gates=gates, vn=vn, reset=reset)
    pre += bx  # u_t = x_t W_x + b_x, all steps
    v = np.empty((N, 3 * H))
    rv = np.empty((N, H))
    # r, z and n are worked on in blocks of their own (a block of a row of the tape is a
    # strided view, several times slower per element), then written into the tape.
    rz, n = np.empty((N, 2 * H)), np.empty((N, H))
    after = reset == "after"
    if not after:
        Wh_rz, Wh_n = np.ascontiguousarray(Wh[:, : 2 * H]), np.ascontiguousarray(Wh[:, 2 * H :])
        v_rz = np.empty((N, 2 * H))
    for t in range(T):
        a = gates[:, t]  # (N, 3H): u_t, then the gates
        if after:
            np.matmul(h[:, t], Wh, out=v)  # v_t = h_{t-1} W_h + b_h, all three blocks
            v += bh
            np.add(a[:, : 2 * H], v[:, : 2 * H], out=rz)
            _sigmoid_of_half_(rz)  # r, z
            vn[:, t] = v[:, 2 * H :]
            np.multiply(rz[:, :H], v[:, 2 * H :], out=rv)  # r ⊙ v^n
        else:
            np.matmul(h[:, t], Wh_rz, out=v_rz)
            np.add(a[:, : 2 * H], v_rz, out=rz)
            rz += bh[: 2 * H]
            _sigmoid_of_half_(rz)
            np.multiply(rz[:, :H], h[:, t], out=rv)  # r ⊙ h_{t-1}
            np.matmul(rv, Wh_n, out=vn[:, t])  # (r ⊙ h_{t-1}) W_hn
            vn[:, t] += bh[2 * H :]
        a[:, : 2 * H] = rz
        z = rz[:, H:]
        # u^n + r ⊙ v^n ("after") or u^n + v^n ("before")
        np.add(a[:, 2 * H :], rv if after else vn[:, t], out=n)
        np.tanh(n, out=n)
        a[:, 2 * H :] = n
        np.subtract(h[:, t], n, out=h[:, t + 1])  # h_t = n + z (h_{t-1} - n)
        h[:, t + 1] *= z  #     = (1 - z) n + z h_{t-1}
        h[:, t + 1] += n
    return GRUTape(X=X, h=h, gates=gates, vn=vn, reset=reset)


def gru_step_back(
    tape: GRUTape,
    t: int,
    dh: FloatArray,
    WhT: FloatArray,
    du: FloatArray | None = None,
    dv: FloatArray | None = None,
    *,
    out: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One step back from step t+1 (0-based t), for any number of leading loss axes.

    Args:
        tape: the forward pass.  t: the step (0-based).
        dh: dL/dh_t, total, (..., N, H).
        WhT: the recurrent weights transposed, (3H, H), C-contiguous (as LSTM's step).
        du, dv: optional output buffers for dL/du_t and dL/dv_t, (..., N, 3H).
        out: optional output buffer for dL/dh_{t-1}, (..., N, H), not `dh` itself.

    Returns:
        dL/du_t (..., N, 3H), the signal of the input side x_t W_x + b_x;
        dL/dv_t (..., N, 3H), the signal of the hidden side (h_{t-1} W_h + b_h for
        "after"; for "before" the n block is that of (r ⊙ h_{t-1}) W_hn + b_hn);
        dL/dh_{t-1} (..., N, H).
    """
    H = tape.h.shape[-1]
    gates = tape.gates[:, t]
    r, z, n = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]
    h_prev = tape.h[:, t]
    if du is None:
        du = np.empty((*dh.shape[:-1], 3 * H))
    # Each line computes what the plain expression in its comment computes, in its order.
    sig_prime = np.subtract(1.0, gates[:, : 2 * H])  # σ' = σ(1 - σ) of r and z at once
    sig_prime *= gates[:, : 2 * H]
    local = np.subtract(1.0, z)
    part = np.multiply(dh, local)
    np.multiply(n, n, out=local)
    np.subtract(1.0, local, out=local)
    dan = np.multiply(part, local, out=du[..., 2 * H :])  # dh (1 - z) (1 - n²): ∂h_t/∂n_t, tanh'
    np.subtract(h_prev, n, out=local)
    np.multiply(dh, local, out=part)
    np.multiply(part, sig_prime[:, H:], out=du[..., H : 2 * H])  # dh (h_{t-1} - n) σ'_z
    if tape.reset == "after":
        np.multiply(dan, tape.vn[:, t], out=part)  # ∂/∂r_t = diag(v^n_t)
        np.multiply(part, sig_prime[:, :H], out=du[..., :H])
        if dv is None:
            dv = np.empty_like(du)
        dv[..., : 2 * H] = du[..., : 2 * H]
        np.multiply(dan, r, out=dv[..., 2 * H :])  # ∂(r ⊙ v^n)/∂v^n = diag(r_t)
        dh_prev = np.matmul(dv, WhT, out=out)
    else:
        d_rh = dan @ WhT[2 * H :]  # dL/d(r_t ⊙ h_{t-1}): ∂/∂(r ⊙ h) = W_hn
        np.multiply(d_rh, h_prev, out=part)
        np.multiply(part, sig_prime[:, :H], out=du[..., :H])
        dv = du
        dh_prev = np.matmul(du[..., : 2 * H], WhT[: 2 * H], out=out)
        dh_prev += np.multiply(d_rh, r, out=d_rh)
    dh_prev += np.multiply(dh, z, out=part)  # the copy z_t ⊙ h_{t-1}
    return du, dv, dh_prev


def gru_backward(
    Wh: FloatArray,
    tape: GRUTape,
    dh_direct: FloatArray,
    *,
    sums: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The reverse sweep: dL/du_t (N, T, 3H), dL/dv_t (N, T, 3H) and dL/dh_0 (N, H).

    `dh_direct` (N, T, H) is the part of dL/dh_t that arrives through the losses at
    step t; the sweep adds the part through step t+1. Given `sums`, two (T, 3H) arrays
    (one array twice for reset="before"), each step's dL/du_t and dL/dv_t summed over
    the batch are written into them (`rnnnum._arith.step_sums`'s bits): by the compiled
    steps while each step is in the cache, else in one pass over the tapes at the end.
    """
    N, T, H = dh_direct.shape
    dU = step_tape(N, T, 3 * H)
    dV = dU if tape.reset == "before" else step_tape(N, T, 3 * H)
    dh = np.empty((N, H))
    dh_next = np.zeros((N, H))
    after = dV is not dU
    WhT = np.ascontiguousarray(Wh.T)  # one block: the step's products take it as it is
    steps = fused()
    if steps is not None:  # gru_step_back's element-wise work in compiled passes
        _fused_sweep(steps, WhT, tape, as_step_tape(dh_direct), (dU, dV), dh_next, sums)
        return dU, dV, dh_next
    for t in reversed(range(T)):
        np.add(dh_direct[:, t], dh_next, out=dh)
        dv_t = dV[:, t] if after else None
        _, _, dh_next = gru_step_back(tape, t, dh, WhT, dU[:, t], dv_t, out=dh_next)
    if sums is not None:  # one pass over each tape: the same bits
        step_sums(dU, out=sums[0])
        if after:
            step_sums(dV, out=sums[1])
    return dU, dV, dh_next


def _fused_forward(
    steps: Any, Wh: FloatArray, bx: FloatArray, bh: FloatArray, gates: FloatArray,
    h: FloatArray, vn: FloatArray, reset: str,
) -> None:  # fmt: skip
    """`gru_forward`'s loop with each step's element-wise work compiled (`rnnnum._fused`):
    the same operations as the NumPy loop's, in its order, and the same products.
    `gates` holds x_t W_x (r, z columns halved) and `h` h_0 on entry; both tapes, and
    `vn`, are filled."""
    N, T, H = vn.shape
    v, v_rz = np.empty((N, 3 * H)), np.empty((N, 2 * H))
    rh, v_n = np.empty((N, H)), np.empty((N, H))
    Wh_rz, Wh_n = np.ascontiguousarray(Wh[:, : 2 * H]), np.ascontiguousarray(Wh[:, 2 * H :])
    for t in range(T):
        a, h_prev = gates[:, t], h[:, t]
        if reset == "after":
            np.matmul(h_prev, Wh, out=v)  # h_{t-1} W_h, all three blocks
            steps.gru_forward_step(a, v, bx, bh, h_prev, vn[:, t], h[:, t + 1], N, H, True)
        else:
            np.matmul(h_prev, Wh_rz, out=v_rz)
            steps.gru_before_gates(a, v_rz, bx, bh, h_prev, rh, N, H)  # r, z; r ⊙ h_{t-1}
            np.matmul(rh, Wh_n, out=v_n)  # (r ⊙ h_{t-1}) W_hn
            steps.gru_forward_step(a, v_n, bx, bh, h_prev, vn[:, t], h[:, t + 1], N, H, False)


def _fused_sweep(
    steps: Any, WhT: FloatArray, tape: GRUTape, direct: FloatArray,
    signals: tuple[FloatArray, FloatArray], dh0: FloatArray,
    sums: tuple[FloatArray, FloatArray] | None,
) -> None:  # fmt: skip
    """`gru_backward`'s loop with each step's element-wise work compiled (`rnnnum._fused`):
    the same operations as `gru_step_back`'s, in its order, and the same products.
    dL/dh_{t-1} stays in its parts (the product with W_hᵀ, the reset-before path, the
    copy z ⊙ h_{t-1}) until the next step adds them, in `gru_step_back`'s order; `dh0`
    receives their sum for h_0.

    Each compiled step sums its signals over the batch into row t of `sums` while they
    are in the cache. Where the tapes are larger than the cache keeps (`bypass_cache`),
    the signals are worked out in two scratch blocks, which stay in the cache for the
    step's products, and put out to the tapes around the cache (`stream_out`); else they
    are written into the tapes directly."""
    N, T, H = direct.shape
    dU, dV = signals
    after = tape.reset == "after"
    bypass = bypass_cache(dU.nbytes + (dV.nbytes if after else 0))
    mm, extra, d_rh = np.zeros((N, H)), np.zeros((N, H)), np.empty((N, H))
    carries = (np.zeros((N, H)), np.empty((N, H)))  # one is read, the other written
    scratch = (np.empty((N, 3 * H)), np.empty((N, 3 * H)))
    su = sv = None
    for k, t in enumerate(reversed(range(T))):
        carry_in, carry = carries[k % 2], carries[(k + 1) % 2]
        gates, h_prev = tape.gates[:, t], tape.h[:, t]
        du, dv = scratch if bypass else (dU[:, t], dV[:, t])
        if sums is not None:
            su, sv = sums[0][t], sums[1][t]
        if after:
            steps.gru_backward_step(
                direct[:, t], mm, None, carry_in, gates, h_prev, tape.vn[:, t], du, dv, carry,
                su, sv, N, H,
            )  # fmt: skip
            np.matmul(dv, WhT, out=mm)
            if bypass:
                steps.stream_out(dV[:, t], dv, N, 3 * H)
        else:
            steps.gru_backward_step(
                direct[:, t], mm, extra, carry_in, gates, h_prev, None, du, None, carry, None,
                None, N, H,
            )  # fmt: skip
            np.matmul(du[:, 2 * H :], WhT[2 * H :], out=d_rh)  # dL/d(r_t ⊙ h_{t-1})
            steps.gru_before_reset(d_rh, gates, h_prev, du, extra, su, N, H)
            np.matmul(du[:, : 2 * H], WhT[: 2 * H], out=mm)
        if bypass:
            steps.stream_out(dU[:, t], du, N, 3 * H)
    np.copyto(dh0, mm)
    if not after:
        dh0 += extra  # through r_t ⊙ h_{t-1}
    dh0 += carries[T % 2]  # the copy z_t ⊙ h_{t-1}


def gru_step_jacobians(Wh: FloatArray, tape: GRUTape) -> FloatArray:
    r"""The one-step Jacobian M_t of h_t against h_{t-1} (x_t fixed), (N, T, H, H), row convention.

    With s = (1 - n²)(1 - z), the derivative of h_t through n_t's pre-activation:

    - "after": $\mathrm{diag}(z) + W_{hz}\,\mathrm{diag}(\sigma'_z (h_{t-1} - n))
      + \big(W_{hn}\,\mathrm{diag}(r) + W_{hr}\,\mathrm{diag}(\sigma'_r v^n)\big)\mathrm{diag}(s)$;
    - "before": $\mathrm{diag}(z) + W_{hz}\,\mathrm{diag}(\sigma'_z (h_{t-1} - n))
      + \big(\mathrm{diag}(r) + W_{hr}\,\mathrm{diag}(\sigma'_r h_{t-1})\big)
      W_{hn}\,\mathrm{diag}(s)$.
    """
    H = tape.vn.shape[-1]
    r, z, n = tape.gate("r"), tape.gate("z"), tape.gate("n")
    h_prev = tape.h[:, :-1]
    Whr, Whz, Whn = Wh[:, :H], Wh[:, H : 2 * H], Wh[:, 2 * H :]
    s = (1.0 - n * n) * (1.0 - z)  # (N, T, H)
    M = Whz * (z * (1.0 - z) * (h_prev - n))[:, :, None, :]
    if tape.reset == "after":
        M += Whn * (r * s)[:, :, None, :]
        M += Whr * (r * (1.0 - r) * tape.vn * s)[:, :, None, :]
    else:
        into_n = r[..., :, None] * np.eye(H) + Whr * (r * (1.0 - r) * h_prev)[:, :, None, :]
        M += (into_n @ Whn) * s[:, :, None, :]
    diag = np.arange(H)
    M[:, :, diag, diag] += z
    return M
