"""rnnnum's forward + BPTT of each cell against the arithmetic bound, on one BLAS thread.

The bound is the time of the matrix products the mathematics needs, each timed on its
own in the same run (float64, one BLAS thread, random matrices of the same shapes),
done as an implementation that knew the whole sequence would do them: the products
that do not wait for the previous step as one GEMM over all N T rows, the recurrent
ones step by step. For a cell with g blocks (vanilla 1, GRU 3, LSTM 4) and gH = g H:

    forward     X W_x (NT x D x gH);  h_{t-1} W_h, T times (N x H x gH);  H W_yh (NT x H x V)
    backward    dW_yh = H^T dY (H x NT x V);  dY W_yh^T (NT x V x H);
                dA_t W_h^T, T times (N x gH x H);  dW_h = H_prev^T dA (H x NT x gH);
                dW_x = X^T dA (D x NT x gH);  dX = dA W_x^T (NT x gH x D)

Element-wise work (activations, softmax, the gates' products) is not in the bound: a
ratio near 1 means the products are all the time there is. The cells run their steps'
element-wise work compiled (`rnnnum/csrc/`) where it was built; the ratio with
NumPy's steps is printed beneath each, for comparison. The GEMM rate at 1024^3 is
printed beside, for scale. The target of issue 22: at most 1.5x at both sizes, every cell.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.report import best_time, header, row, seconds, verdict
from benchmarks.rnnnum_bench import FWD_BWD_SIZES, forward_backward_runs
from rnnnum._compiled import built, fused, numpy_steps

#: (N, T, D, H, V) named by issue 22 (the two larger sizes of the rnnnum suite);
#: --quick runs its tiny one only.
SIZES = FWD_BWD_SIZES[1:]
QUICK_SIZES = FWD_BWD_SIZES[:1]
BLOCKS = {"vanilla": 1, "LSTM": 4, "GRU": 3}
TARGET_RATIO = 1.5
#: The side of the square GEMM whose rate is printed for scale (large enough for the
#: peak; --quick uses a smaller one).
GEMM_SIDE = 1024
QUICK_GEMM_SIDE = 256


def products(cell: str, N: int, T: int, D: int, H: int, V: int) -> list[tuple[int, int, int, int]]:
    """(m, k, n, times) of every matrix product of forward + BPTT (see the module's text)."""
    gH, NT = BLOCKS[cell] * H, N * T
    return [
        (NT, D, gH, 1), (N, H, gH, T), (NT, H, V, 1),  # forward
        (H, NT, V, 1), (NT, V, H, 1), (N, gH, H, T),  # backward: read-out, recurrence
        (H, NT, gH, 1), (D, NT, gH, 1), (NT, gH, D, 1),  # backward: dW_h, dW_x, dX
    ]  # fmt: skip


def bound(cell: str, size: tuple[int, ...], repeat: int = 5) -> float:
    """Seconds of the products alone: each (m, k, n) GEMM timed, times its count."""
    rng = np.random.default_rng(0)
    total = 0.0
    for m, k, n, times in products(cell, *size):
        a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        total += times * best_time(lambda a=a, b=b: a @ b, repeat=repeat)
    return total


def gemm_rate(side: int = GEMM_SIDE, repeat: int = 5) -> float:
    """Multiply-adds per second of one float64 GEMM of `side`, on the BLAS's threads."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((side, side)), rng.standard_normal((side, side))
    return side**3 / best_time(lambda: a @ b, repeat=repeat)


def main(quick: bool = False) -> None:
    header("rnnnum: forward + BPTT against the arithmetic bound, one BLAS thread")
    with threadpool_limits(limits=1):
        side = QUICK_GEMM_SIDE if quick else GEMM_SIDE
        rate = gemm_rate(side=side, repeat=1 if quick else 5)
        row(f"single-thread GEMM rate ({side}^3, float64)", f"{rate / 1e9:.2f} GMAC/s",
            "(measured)")  # fmt: skip
        print(f"   the element-wise steps (LSTM, GRU, tanh RNN): {steps_in_use()}")
        for size in QUICK_SIZES if quick else SIZES:
            runs = forward_backward_runs(*size)
            for cell in BLOCKS:
                repeat = 1 if quick else 5
                t = best_time(runs[cell][0], repeat=repeat)
                floor = bound(cell, size, repeat=repeat)
                ratio = t / floor
                said = f"{verdict(ratio <= TARGET_RATIO)} ({seconds(t)} vs {seconds(floor)})"
                target = f"<= {TARGET_RATIO:g}x"
                row(f"{cell} forward+bptt {size}", f"{ratio:.2f}x bound", target, said)
                if fused() is not None and not quick:
                    with numpy_steps():  # the same pass with NumPy's steps, for comparison
                        t_numpy = best_time(runs[cell][0], repeat=repeat)
                    row("  the same, NumPy's steps", f"{t_numpy / floor:.2f}x bound",
                        "(for comparison)", f"({seconds(t_numpy)})")  # fmt: skip


def steps_in_use() -> str:
    """Which element-wise steps the cells run, and why (`rnnnum._compiled`)."""
    if fused() is not None:
        return "compiled (rnnnum._fused, built at install)"
    if built():
        return "NumPy's (UNROLLED_NUMPY_STEPS is set)"
    return "NumPy's (rnnnum._fused was not built here)"
