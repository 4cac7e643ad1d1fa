"""rnnnum: forward+backward time of every cell against a minimal NumPy loop, and
all-components norms against plain bptt."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import rnnnum
from benchmarks import minimal_loops
from benchmarks.report import best_time, header, paired_ratios, row, seconds, verdict

#: (N, T, D, H, V) of the forward+backward figures named by the foundation issue.
FWD_BWD_SIZES = ((1, 3, 3, 4, 4), (64, 50, 64, 128, 64), (64, 200, 128, 256, 64))
#: Target of issue 12: forward + bptt of every cell at most this multiple of a minimal
#: NumPy loop of the same mathematics (benchmarks/minimal_loops.py).
LOOP_TARGET_RATIO = 1.15
#: The all-components norms figure: one long sequence, T = 200, H = 128, D = 64 (V = 64).
NORMS_SIZE = (1, 200, 64, 128, 64)
#: Batches reported beside it: the exact all-pairs work grows like T/2 times bptt's.
NORMS_BATCHES = (16, 64)
#: Target of the issue: norms of all components at most 8x the time of plain bptt.
NORMS_TARGET_RATIO = 8.0


def _problem(N: int, T: int, D: int, H: int, V: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = rnnnum.init_orthogonal(D, H, V, rng)
    X = rng.standard_normal((N, T, D))
    targets = rng.integers(0, V, size=(N, T))
    return params, X, targets


def forward_backward_runs(
    N: int, T: int, D: int, H: int, V: int
) -> dict[str, tuple[Callable[[], object], ...]]:
    """Per cell: rnnnum's forward + bptt, and the minimal loop on the same arrays."""
    params, X, targets = _problem(N, T, D, H, V)
    rng = np.random.default_rng(1)
    lstm, gru = rnnnum.init_lstm(D, H, V, rng), rnnnum.init_gru(D, H, V, rng)
    p = params
    return {
        "vanilla": (
            lambda: rnnnum.bptt(p, rnnnum.forward(p, X, targets)),
            lambda: minimal_loops.vanilla(p.Wxh, p.Whh, p.Wyh, p.bh, p.by, X, targets),
        ),
        "LSTM": (
            lambda: rnnnum.bptt(lstm, rnnnum.forward(lstm, X, targets)),
            lambda: minimal_loops.lstm(lstm.Wx, lstm.Wh, lstm.b, lstm.Wyh, lstm.by, X, targets),
        ),
        "GRU": (
            lambda: rnnnum.bptt(gru, rnnnum.forward(gru, X, targets)),
            lambda: minimal_loops.gru(gru.Wx, gru.Wh, gru.bx, gru.bh, gru.Wyh, gru.by, X, targets),
        ),
    }


def forward_backward(quick: bool = False) -> None:
    """Forward + bptt of every cell at the three sizes, each beside the minimal loop."""
    header("rnnnum: forward + backward (float64) against a minimal NumPy loop")
    sizes = FWD_BWD_SIZES[:1] if quick else FWD_BWD_SIZES
    for N, T, D, H, V in sizes:
        for cell, (real, loop) in forward_backward_runs(N, T, D, H, V).items():
            t_real = best_time(real, repeat=1 if quick else 5)
            t_loop = best_time(loop, repeat=1 if quick else 5)
            ratios = paired_ratios(real, loop, rounds=3 if quick else 9)
            median = ratios[len(ratios) // 2]
            row(
                f"{cell} forward+bptt {(N, T, D, H, V)}",
                f"{median:.2f}x loop",
                f"<= {LOOP_TARGET_RATIO:g}x",
                verdict(median <= LOOP_TARGET_RATIO)
                + f" ({seconds(t_real)} vs {seconds(t_loop)}; {len(ratios)} paired runs "
                f"{ratios[0]:.2f}x-{ratios[-1]:.2f}x)",
            )


def component_norms(quick: bool = False) -> None:
    """Norms of every (i, k) component of dL/dW_xh (and of all seven quantities) vs bptt."""
    header("rnnnum: all-components norms vs plain bptt")
    N, T, D, H, V = (1, 20, 8, 16, 8) if quick else NORMS_SIZE
    repeat = 1 if quick else 5
    for batch in (N, *(() if quick else NORMS_BATCHES)):
        params, X, targets = _problem(batch, T, D, H, V)
        cache = rnnnum.forward(params, X, targets)

        def bptt_fn(p=params, c=cache) -> object:
            return rnnnum.bptt(p, c)

        def wxh_fn(p=params, c=cache) -> object:
            return rnnnum.component_norms(p, c, "Wxh")

        t_bptt = best_time(bptt_fn, repeat)
        t_wxh = best_time(wxh_fn, repeat)
        t_all = best_time(lambda p=params, c=cache: rnnnum.all_component_norms(p, c), repeat)
        ratios = paired_ratios(wxh_fn, bptt_fn, rounds=3 if quick else 9)
        median = ratios[len(ratios) // 2]
        size = f"N={batch},T={T},D={D},H={H},V={V}"
        scope = "" if batch == N else f" (batch of {batch}: over T/2 x the work of bptt)"
        row(f"plain bptt, {size}", seconds(t_bptt), "reference")
        row(
            "norms of all (i,k) terms of dL/dWxh, median",
            f"{median:.1f}x bptt",
            f"<= {NORMS_TARGET_RATIO:g}x",
            verdict(median <= NORMS_TARGET_RATIO)
            + f" ({seconds(t_wxh)}; {len(ratios)} paired runs {ratios[0]:.1f}x-{ratios[-1]:.1f}x)"
            + scope,
        )
        row(
            "  same for all 7 quantities at once",
            f"{t_all / t_bptt:.1f}x bptt",
            "reported",
            f"({seconds(t_all)})",
        )
        if batch == N:
            t_naive = best_time(
                lambda p=params, c=cache: rnnnum.component_norms(p, c, "Wxh", method="jacobian"),
                repeat=1,
            )
            row(
                "  naive product-of-Jacobians method, dL/dWxh",
                f"{t_naive / t_bptt:.0f}x bptt",
                "reported",
                f"({seconds(t_naive)}; {t_naive / t_wxh:.0f}x slower than the recursion)",
            )


def main(quick: bool = False) -> None:
    """Run every rnnnum benchmark."""
    forward_backward(quick)
    component_norms(quick)
