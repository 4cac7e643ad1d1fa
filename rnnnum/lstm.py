r"""The LSTM step, forward and back: the one place its mathematics is written.

Row vectors, batch first. With the stacked pre-activation split into the gate blocks
i, f, o, g (`rnnnum.LSTMParams`):

$$a_t = x_t W_x + h_{t-1} W_h + b,\quad i, f, o = \sigma(a^{i,f,o}_t),\ g = \tanh(a^g_t),\quad
c_t = f \odot c_{t-1} + i \odot g,\quad h_t = o \odot \tanh(c_t).$$

Local derivatives used going back (each holds the other inputs of its one equation fixed):
∂h_t/∂o_t = diag(tanh c_t), ∂h_t/∂c_t = diag(o_t (1 - tanh² c_t)),
∂c_t/∂f_t = diag(c_{t-1}), ∂c_t/∂i_t = diag(g_t), ∂c_t/∂g_t = diag(i_t),
∂c_t/∂c_{t-1} = diag(f_t), σ' = σ(1 - σ), tanh' = 1 - tanh², and ∂a_t/∂h_{t-1} = W_h.
The total derivative dL/dc_t collects the path through h_t and the path through c_{t+1}:

$$\frac{dL}{dc_t} = \frac{dL}{dh_t} \odot o_t \odot (1 - \tanh^2 c_t)
  + \frac{dL}{dc_{t+1}} \odot f_{t+1}.$$

The full twin (`rnnnum.forward`, `rnnnum.bptt`, the components) and the training cell
(`rnnnum.LSTMCell`) both call `lstm_forward` and `lstm_backward` (whose steps are
`lstm_step_back`'s).

Where `rnnnum/csrc/` was built at install, `lstm_forward` and `lstm_backward` run each
step's element-wise work compiled, one pass per step (`rnnnum._compiled`), with
the same operations in the same order; the NumPy lines here define that work and
run it where the build is missing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from rnnnum._arith import (
    as_step_tape,
    memory_rows,
    read_only,
    step_rows,
    step_sums,
    step_tape,
)
from rnnnum._checks import FloatArray
from rnnnum._compiled import bypass_cache, fused

__all__ = ["LSTMTape", "lstm_backward", "lstm_forward", "lstm_step_back", "lstm_step_jacobians"]


@dataclass(frozen=True, eq=False)
class LSTMTape:
    """What the LSTM's forward pass keeps for going back; batch first.

    Attributes:
        X: inputs (N, T, D).  The others are step tapes (`rnnnum._arith.step_tape`).
        h: states h_0..h_T, (N, T+1, H).  c: cell states c_0..c_T, (N, T+1, H).
        gates: the activated gates of every step, (N, T, 4H), blocks i, f, o, g.
        tanh_c: tanh(c_t) for t = 1..T, (N, T, H).
    """

    X: FloatArray
    h: FloatArray
    c: FloatArray
    gates: FloatArray
    tanh_c: FloatArray

    def gate(self, name: str) -> FloatArray:
        """One gate over every step, (N, T, H): ``"i"``, ``"f"``, ``"o"`` or ``"g"``."""
        k = "ifog".index(name)
        H = self.h.shape[-1]
        return self.gates[..., k * H : (k + 1) * H]


@functools.cache
def _gate_affine(H: int) -> tuple[FloatArray, FloatArray]:
    """(shift, scale), (4H,): adding, then multiplying, turns tanh(a/2) into σ(a) in the
    i, f, o blocks and leaves the g block as it is (+ 0, * 1)."""
    shift, scale = np.zeros(4 * H), np.ones(4 * H)
    shift[: 3 * H], scale[: 3 * H] = 1.0, 0.5
    return read_only(shift), read_only(scale)


@functools.cache
def _slope_affine(H: int) -> tuple[FloatArray, FloatArray]:
    """(beta, alpha), (4H,): (beta - u) u + alpha is σ' = (1 - σ) σ in the i, f, o blocks
    and tanh' = 1 - g² in the g block."""
    beta, alpha = np.zeros(4 * H), np.zeros(4 * H)
    beta[: 3 * H], alpha[3 * H :] = 1.0, 1.0
    return read_only(beta), read_only(alpha)


def lstm_forward(
    Wx: FloatArray, Wh: FloatArray, b: FloatArray, X: FloatArray, h0: FloatArray, c0: FloatArray
) -> LSTMTape:
    """Run the LSTM over X (N, T, D) from h0, c0 (N, H); no checks (callers validate)."""
    N, T, _ = X.shape
    H = Wh.shape[0]
    # sigma(a) = (1 + tanh(a/2)) / 2 never overflows (activations.py). The gates i, f, o
    # need a/2 only: their columns of W_x, W_h and b are halved once here, which gives
    # a/2 exactly (halving commutes with every rounding), one pass fewer per step.
    half = np.ones(4 * H)
    half[: 3 * H] = 0.5
    Wx, Wh, b = Wx * half, Wh * half, b * half
    h = step_tape(N, T + 1, H)  # step tapes (`rnnnum._arith.step_tape`): each step one block
    c = step_tape(N, T + 1, H)
    h[:, 0], c[:, 0] = h0, c0
    gates = step_tape(N, T, 4 * H)
    pre = memory_rows(gates)
    np.dot(step_rows(X), Wx, out=pre)  # x_t W_x, all steps
    steps = fused()  # the element-wise work below in one compiled pass a step, where built
    if steps is None:  # (compiled, b is added in the step, in the same order)
        pre += b  # x_t W_x + b, all steps (the order of a_t's sum is kept: (x W_x + b) + h W_h)
    tanh_c = step_tape(N, T, H)
    hw = np.empty((N, 4 * H))
    ig = np.empty((N, H))
    shift, scale = _gate_affine(H)
    for t in range(T):
        a = gates[:, t]  # (N, 4H): a_t = x_t W_x + b + h_{t-1} W_h, then the gates
        np.matmul(h[:, t], Wh, out=hw)
        if steps is not None:
            steps.lstm_forward_step(a, hw, b, c[:, t], c[:, t + 1], tanh_c[:, t], h[:, t + 1], N, H)
            continue
        a += hw
        # Whole rows, not blocks (a block of a row is a strided view, several times slower):
        np.tanh(a, out=a)  # tanh(a/2) of i, f, o (their columns halved) and g = tanh(a^g)
        a += shift  # σ = (1 + tanh(a/2)) * 0.5 for i, f, o; g + 0 and g * 1 leave g
        a *= scale
        np.multiply(a[:, H : 2 * H], c[:, t], out=c[:, t + 1])  # f * c_{t-1}
        np.multiply(a[:, :H], a[:, 3 * H :], out=ig)  # i * g
        c[:, t + 1] += ig
        np.tanh(c[:, t + 1], out=tanh_c[:, t])
        np.multiply(a[:, 2 * H : 3 * H], tanh_c[:, t], out=h[:, t + 1])  # o * tanh(c_t)
    return LSTMTape(X=X, h=h, c=c, gates=gates, tanh_c=tanh_c)


def lstm_step_back(
    tape: LSTMTape,
    t: int,
    dh: FloatArray,
    dc: FloatArray | None,
    WhT: FloatArray,
    da: FloatArray | None = None,
    *,
    out: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One step back from step t+1 (0-based t), for any number of leading loss axes.

    Args:
        tape: the forward pass.  t: the step (0-based).
        dh: dL/dh_t, total, (..., N, H).
        dc: dL/dc_t through c_{t+1} only (None for zero), (..., N, H); not changed.
        WhT: W_h transposed, (4H, H).
        da: optional output buffer for dL/da_t, (..., N, 4H).
        out: optional output buffers for dL/dh_{t-1} and dL/dc_{t-1}, each (..., N, H)
            (neither may be `dh` or `dc`); the sweep reuses them step after step.

    Returns:
        dL/da_t (..., N, 4H), dL/dh_{t-1} = dL/da_t W_hᵀ and dL/dc_{t-1} = dL/dc_t ⊙ f_t.
    """
    H = tape.h.shape[-1]
    gates = tape.gates[:, t]
    i, f, g = gates[:, :H], gates[:, H : 2 * H], gates[:, 3 * H :]
    tc = tape.tanh_c[:, t]
    if da is None:
        da = np.empty((*dh.shape[:-1], 4 * H))
    dh_prev, dc_t = out if out is not None else (np.empty_like(dh), np.empty_like(dh))
    # Each line computes what the plain expression in its comment computes, in its order.
    beta, alpha = _slope_affine(H)
    slope = np.subtract(beta, gates)  # the local slope of each block, whole rows at once:
    slope *= gates  # (1 - σ) σ for i, f, o and (0 - g) g + 1 = 1 - g² for g
    slope += alpha
    tanh_prime = np.multiply(tc, tc)
    np.subtract(1.0, tanh_prime, out=tanh_prime)  # 1 - tanh² c_t
    np.multiply(dh, gates[:, 2 * H : 3 * H], out=dc_t)  # dh * o * (1 - tc²): via h_t,
    dc_t *= tanh_prime  # ∂h_t/∂c_t = diag(o (1 - tanh² c_t))
    if dc is not None:
        dc_t += dc  # via c_{t+1}
    np.multiply(dc_t, g, out=da[..., :H])  # i: ∂c_t/∂i_t = diag(g),
    np.multiply(dc_t, tape.c[:, t], out=da[..., H : 2 * H])  # f: ∂c_t/∂f_t = diag(c_{t-1}),
    np.multiply(dh, tc, out=da[..., 2 * H : 3 * H])  # o: ∂h_t/∂o_t = diag(tanh c_t),
    np.multiply(dc_t, i, out=da[..., 3 * H :])  # g: ∂c_t/∂g_t = diag(i),
    da *= slope  # ... each times its block's slope, in one pass
    np.matmul(da, WhT, out=dh_prev)  # ∂a_t/∂h_{t-1} = W_h
    return da, dh_prev, np.multiply(dc_t, f, out=dc_t)  # ∂c_t/∂c_{t-1} = diag(f)


def lstm_backward(
    Wh: FloatArray, tape: LSTMTape, dh_direct: FloatArray, *, sums: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The reverse sweep for losses that read h_t directly: dL/da_t (N, T, 4H), dL/dh_0, dL/dc_0.

    `dh_direct` (N, T, H) is the part of dL/dh_t that arrives through the losses at
    step t (zero where no loss reads h_t); the sweep adds the part through step t+1.
    Given `sums` (T, 4H), each step's dL/da_t summed over the batch is written into it
    (`rnnnum._arith.step_sums`'s bits): by the compiled step while the step is in the
    cache, else in one pass over the tape at the end.
    """
    N, T, H = dh_direct.shape
    WhT = np.ascontiguousarray(Wh.T)
    dA = step_tape(N, T, 4 * H)
    dh = np.empty((N, H))
    dh_next = np.zeros((N, H))  # dL/dh_t through h_{t+1}: nothing after h_T
    dc_next: FloatArray | None = None
    dc_bufs = (np.empty((N, H)), np.empty((N, H)))  # dL/dc: one is read, the other written
    steps = fused()
    if steps is not None:  # lstm_step_back's element-wise work in one compiled pass a step
        direct = as_step_tape(dh_direct)  # each step's rows one block
        # Where the tape is larger than the cache keeps, each step's signals go into a
        # scratch block that stays in the cache for the product, and then out to the tape
        # around the cache (`stream_out`); else straight into the tape.
        bypass, scratch = bypass_cache(dA.nbytes), np.empty((N, 4 * H))
        for k, t in enumerate(reversed(range(T))):
            dc_out, da = dc_bufs[k % 2], scratch if bypass else dA[:, t]
            steps.lstm_backward_step(
                direct[:, t], dh_next, dc_next, tape.gates[:, t], tape.tanh_c[:, t],
                tape.c[:, t], da, dc_out, None if sums is None else sums[t], N, H,
            )  # fmt: skip
            np.matmul(da, WhT, out=dh_next)
            if bypass:
                steps.stream_out(dA[:, t], da, N, 4 * H)
            dc_next = dc_out
        return dA, dh_next, dc_next if dc_next is not None else np.zeros((N, H))
    for k, t in enumerate(reversed(range(T))):
        np.add(dh_direct[:, t], dh_next, out=dh)
        _, dh_next, dc_next = lstm_step_back(
            tape, t, dh, dc_next, WhT, dA[:, t], out=(dh_next, dc_bufs[k % 2])
        )
    if sums is not None:  # one pass over the tape: the same bits
        step_sums(dA, out=sums)
    assert dc_next is not None or T == 0
    return dA, dh_next, dc_next if dc_next is not None else np.zeros((N, H))


def lstm_step_jacobians(Wh: FloatArray, tape: LSTMTape) -> FloatArray:
    r"""The block Jacobians of s_t = (h_t, c_t) against s_{t-1}, (N, T, 2H, 2H), row convention.

    Rows index (h_{t-1}, c_{t-1}), columns (h_t, c_t), so a row perturbation moves as
    ds_t = ds_{t-1} M_t:

    $$M_t = \begin{pmatrix} dh_t/dh_{t-1} & dc_t/dh_{t-1} \\
    \partial h_t/\partial c_{t-1} & \partial c_t/\partial c_{t-1} \end{pmatrix},\qquad
    \frac{\partial c_t}{\partial c_{t-1}} = \mathrm{diag}(f_t),\quad
    \frac{\partial h_t}{\partial c_{t-1}} = \mathrm{diag}(f_t\, o_t (1 - \tanh^2 c_t)).$$

    ∂c_t/∂c_{t-1} is local (c_{t-1} is an argument of c_t's own equation); ∂h_t/∂c_{t-1}
    runs through c_t with h_{t-1} held fixed, though h_{t-1} reads c_{t-1}: a partial
    derivative of the step map (`derivations.core.notation.BLOCK_RULE`). The blocks from
    h_{t-1} follow several equations of the step (x_t held fixed), leave nothing that
    depends on h_{t-1} out, and are total, e.g.
    dc_t/dh_{t-1} = W_hi diag(g σ'_i) + W_hf diag(c_{t-1} σ'_f) + W_hg diag(i tanh'_g).
    """
    N, T, H = tape.tanh_c.shape
    gates, tc, c_prev = tape.gates, tape.tanh_c, tape.c[:, :-1]
    i, f, o, g = (gates[..., k * H : (k + 1) * H] for k in range(4))
    dtanh = o * (1.0 - tc * tc)  # ∂h_t/∂c_t, (N, T, H)
    scale_c = np.concatenate([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)], axis=-1)
    Wh_c = np.concatenate([Wh[:, :H], Wh[:, H : 2 * H], Wh[:, 3 * H :]], axis=1)  # (H, 3H)
    dc_dh = np.einsum("jk,ntk->ntjk", Wh_c, scale_c).reshape(N, T, H, 3, H).sum(axis=3)
    M = np.zeros((N, T, 2 * H, 2 * H))
    M[:, :, :H, :H] = Wh[None, None, :, 2 * H : 3 * H] * (tc * o * (1 - o))[:, :, None, :]
    M[:, :, :H, :H] += dc_dh * dtanh[:, :, None, :]
    M[:, :, :H, H:] = dc_dh
    diag = np.arange(H)
    M[:, :, H + diag, diag] = f * dtanh  # ∂h_t/∂c_{t-1}, h_{t-1} held fixed
    M[:, :, H + diag, H + diag] = f  # ∂c_t/∂c_{t-1}
    return M
