"""vanilla_reference.gradients: which (i, k) terms each gradient has, and which the loop adds.

Expected counts are the closed forms: a quantity used at every step (W_xh, W_hh,
b_h, each x_k) has one term per pair k <= i, T(T+1)/2 of them; the read-out (W_yh,
b_y) one per loss, T; h_0 one per loss as well (it is read by step 1 only).
"""

from __future__ import annotations

import pytest
from vanilla_reference import expanded_sum, jacobian, loop_map, pairs

from derivations.core.notation import GRADIENT_NAMES


def test_six_terms_of_dL_dWxh_at_T3() -> None:
    got = [(t.loss, t.step) for t in expanded_sum("Wxh", 3)]
    assert got == [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3)]


@pytest.mark.parametrize("T", [1, 4, 7])
@pytest.mark.parametrize("name", GRADIENT_NAMES)
def test_term_counts_are_the_closed_forms(name: str, T: int) -> None:
    count = T if name in ("Wyh", "by", "h0") else T * (T + 1) // 2
    assert len(expanded_sum(name, T)) == len(pairs(name, T)) == count


def test_readout_and_h0_terms_sit_on_their_steps() -> None:
    assert pairs("Wyh", 3) == [(1, 1), (2, 2), (3, 3)]
    assert pairs("h0", 3) == [(1, 1), (2, 1), (3, 1)]


def test_loop_map_adds_each_term_once() -> None:
    for name in GRADIENT_NAMES:
        added = [pair for pairs_ in loop_map(name, 4).values() for pair in pairs_]
        assert sorted(added) == sorted((t.loss, t.step) for t in expanded_sum(name, 4))


def test_iteration_t_adds_the_terms_through_step_t() -> None:
    for t, added in loop_map("Wxh", 4).items():
        assert all(k == t for _, k in added)


def test_jacobian_asks_for_the_later_state_first() -> None:
    assert len(jacobian(3, 1).factors) == 2 * 2  # W_hh diag(f') per step, two steps
    with pytest.raises(ValueError, match="Swap them: --from 3 --to 1"):
        jacobian(1, 3)
