"""The kernel benchmark's bound counts the products of forward + BPTT, no more, no less."""

from __future__ import annotations

import pytest

from benchmarks import kernel_bench


@pytest.mark.parametrize(("cell", "g"), [("vanilla", 1), ("GRU", 3), ("LSTM", 4)])
def test_the_products_are_the_mathematics_multiply_adds(cell, g):
    N, T, D, H, V = 3, 5, 7, 11, 13
    counted = sum(
        m * k * n * times for m, k, n, times in kernel_bench.products(cell, N, T, D, H, V)
    )
    # forward: x W_x, h W_h, h W_yh; backward: two of each (a weight's gradient, a signal)
    assert counted == 3 * N * T * ((D + H) * g * H + H * V)
