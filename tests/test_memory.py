"""The step tapes (`rnnnum._arith.step_tape`) and the pool their memory comes from
(`rnnnum._memory`): a block goes out again only once no array made from it is alive."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import rnnnum
from rnnnum import _memory
from rnnnum._arith import (
    contract_steps,
    memory_rows,
    rows_times,
    signal_total,
    step_sums,
    step_tape,
)


def _address(arr: np.ndarray) -> int:
    return int(arr.__array_interface__["data"][0])


def test_a_tape_is_batch_first_with_each_step_one_block() -> None:
    tape = step_tape(4, 3, 5)
    assert tape.shape == (4, 3, 5)
    assert all(tape[:, t].flags.c_contiguous for t in range(3))
    rows = memory_rows(tape)
    assert rows.shape == (12, 5) and np.shares_memory(rows, tape)  # a view, no copy
    tape[...] = np.arange(60.0).reshape(4, 3, 5)
    np.testing.assert_array_equal(rows, tape.swapaxes(0, 1).reshape(12, 5))


#: The same dot products over rows taken in another order (step by step, not batch
#: first): a few ulps of sums of 12 terms of O(1).
SUM_ORDER_RTOL = 1e-14


def test_whole_tape_products_are_the_batch_first_ones(rng) -> None:
    a, b = rng.standard_normal((4, 3, 5)), rng.standard_normal((4, 3, 2))
    ta, tb = step_tape(4, 3, 5), step_tape(4, 3, 2)
    ta[...], tb[...] = a, b
    w = rng.standard_normal((5, 6))
    np.testing.assert_allclose(
        contract_steps(ta, tb), np.einsum("ntp,ntq->pq", a, b), rtol=SUM_ORDER_RTOL
    )
    np.testing.assert_allclose(
        contract_steps(a, tb), np.einsum("ntp,ntq->pq", a, b), rtol=SUM_ORDER_RTOL
    )
    np.testing.assert_allclose(rows_times(ta, w), a @ w, rtol=SUM_ORDER_RTOL)


def test_a_block_in_use_is_never_handed_out_again() -> None:
    first = step_tape(6, 5, 7)
    first[...] = 1.0
    view = first[:, 2]  # a view of a view: it alone keeps the block in use
    del first
    gc.collect()
    second = step_tape(6, 5, 7)
    assert not np.shares_memory(second, view)
    second[...] = 2.0
    assert (view == 1.0).all()


def test_a_free_block_is_handed_out_again() -> None:
    first = step_tape(6, 5, 9)
    address = _address(first.swapaxes(0, 1))
    del first
    second = step_tape(6, 5, 9)
    assert _address(second.swapaxes(0, 1)) == address  # the same memory, no new pages


def test_two_live_caches_keep_their_own_values(rng) -> None:
    """A training loop holds one pass while it runs the next: same shapes, other values."""
    params = rnnnum.init_orthogonal(3, 5, 4, rng)
    X1, X2 = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 6, 3))
    targets = rng.integers(0, 4, (2, 6))
    one = rnnnum.forward(params, X1, targets)
    expected = one.h.copy()
    for _ in range(3):
        other = rnnnum.forward(params, X2, targets)
        rnnnum.bptt(params, other)
    np.testing.assert_array_equal(one.h, expected)
    grads = rnnnum.bptt(params, one)
    again = rnnnum.bptt(params, rnnnum.forward(params, X1.copy(), targets))
    for name, value in grads.as_dict().items():
        np.testing.assert_array_equal(value, again.as_dict()[name], err_msg=name)


def test_the_pool_keeps_at_most_its_budget(monkeypatch) -> None:
    monkeypatch.setattr(_memory, "_POOL", type(_memory._POOL)())
    monkeypatch.setattr(_memory, "POOL_BYTES", 10 * 8 * 100)  # ten blocks of 100 floats
    shapes = [(n, t, 100 // (n * t)) for n in (1, 2, 5, 10) for t in (1, 2, 5, 10) if n * t <= 50]
    assert len(shapes) > 10 and all(n * t * k == 100 for n, t, k in shapes)
    for shape in shapes:  # each of 100 floats, each freed at once
        step_tape(*shape)
    assert _memory.pooled_bytes() == _memory.POOL_BYTES  # the ten most recent kept
    held = [step_tape(10, 10, 1) for _ in range(12)]  # more in use than the budget holds
    assert len({id(h.base) for h in held}) == 12
    assert _memory.pooled_bytes() <= _memory.POOL_BYTES


def test_a_block_above_the_largest_pooled_is_not_kept(monkeypatch) -> None:
    monkeypatch.setattr(_memory, "LARGEST_POOLED", 8 * 99)
    big = step_tape(10, 10, 1)  # 800 bytes
    assert not any(b is big.base for blocks in _memory._POOL.values() for b in blocks)


def _added_in_batch_order(a: np.ndarray) -> np.ndarray:
    """Each step of `a` (N, T, K) summed row after row, in a Python loop: (T, K)."""
    out = a[0].copy()
    for n in range(1, a.shape[0]):
        out += a[n]
    return out


@pytest.mark.parametrize("shape", [(1, 3, 4), (5, 2, 7), (64, 6, 33)], ids=str)
def test_step_sums_add_each_steps_rows_in_batch_order(rng, shape) -> None:
    """A sweep sums each step's block as it goes (`Signals.sums`); the bias gradient from
    those must be the bits of the one taken from the whole tape, in either layout."""
    values = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, size=shape)
    tape = step_tape(*shape)
    tape[...] = values
    want = _added_in_batch_order(values)
    for a in (tape, values):
        np.testing.assert_array_equal(step_sums(a), want)
        for t in range(shape[1]):
            np.testing.assert_array_equal(np.ascontiguousarray(a[:, t]).sum(axis=0), want[t])
        np.testing.assert_array_equal(signal_total(a), _added_in_batch_order(want[:, None])[0])
    other = rng.standard_normal(shape[1:])
    np.testing.assert_array_equal(signal_total(tape, other), other.sum(axis=0))
