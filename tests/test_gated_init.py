"""rnnnum.gated_init: each gate block drawn by its scheme, the biases, bad options."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum


@pytest.mark.parametrize("scheme", ["xavier", "orthogonal"])
def test_initialisers_draw_each_gate_block_by_its_scheme(rng, scheme):
    lstm = rnnnum.init_lstm(4, 6, 3, rng, scheme=scheme, forget_bias=1.0)
    gru = rnnnum.init_gru(4, 6, 3, rng, scheme=scheme)
    limit_x = np.sqrt(6 / (4 + 6))  # Glorot uniform per block: fan-in D, fan-out H
    for p, gates in ((lstm, "ifog"), (gru, "rzn")):
        for g in gates:
            assert np.abs(getattr(p, f"Wx{g}")).max() <= limit_x
            W = getattr(p, f"Wh{g}")
            if scheme == "orthogonal":
                np.testing.assert_allclose(W.T @ W, np.eye(6), rtol=0, atol=1e-14)
            else:
                assert np.abs(W).max() <= np.sqrt(6 / 12)
    assert np.all(lstm.bf == 1.0) and np.all(lstm.bi == 0) and np.all(lstm.bg == 0)
    assert np.all(gru.bx == 0) and np.all(gru.bh == 0)
    again = rnnnum.init_lstm(4, 6, 3, np.random.default_rng(5), scheme=scheme, forget_bias=1.0)
    assert again.same_as(rnnnum.init_lstm(4, 6, 3, np.random.default_rng(5), scheme=scheme,
                                          forget_bias=1.0))  # fmt: skip


BAD_OPTIONS = {
    "forget bias not finite": (
        lambda: rnnnum.init_lstm(3, 2, 5, np.random.default_rng(0), forget_bias=np.inf),
        rnnnum.NonFiniteError, ["forget_bias must be finite", "inf"],
    ),
    "unknown scheme": (
        lambda: rnnnum.init_gru(3, 2, 5, np.random.default_rng(0), scheme="identity"),
        rnnnum.UnknownChoiceError, ["'xavier'", "'orthogonal'", "'identity'"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_options_are_rejected_with_the_rule(case):
    build, error, words = BAD_OPTIONS[case]
    with pytest.raises(error) as info:
        build()
    for word in [*words, "got"]:
        assert word in str(info.value), f"{word!r} not in: {info.value}"
