"""Gated parameters: the PyTorch converters, the per-gate views, bad input (the
initialisers: test_gated_init.py).

The layout PyTorch documents (torch.nn.LSTM, torch.nn.GRU, "Variables"):
``weight_ih_l[k]`` is ``(W_ii|W_if|W_ig|W_io)`` of shape (4*hidden_size, input_size) for
the LSTM and ``(W_ir|W_iz|W_in)`` of shape (3*hidden_size, input_size) for the GRU;
``weight_hh_l[k]`` likewise with hidden_size columns. The tests build such arrays by
hand, one constant per gate block, and look where each constant lands.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

D, H, V = 3, 2, 5


def _torch_lstm_by_hand():
    """PyTorch-layout arrays whose block k (i=1, f=2, g=3, o=4) holds k, times a factor."""
    weight_ih = np.repeat(np.arange(1.0, 5.0), H)[:, None] * np.ones((1, D))
    weight_hh = 10 * np.repeat(np.arange(1.0, 5.0), H)[:, None] * np.ones((1, H))
    bias_ih = 100 * np.repeat(np.arange(1.0, 5.0), H)
    bias_hh = 0.5 * np.repeat(np.arange(1.0, 5.0), H)
    return weight_ih, weight_hh, bias_ih, bias_hh


def test_lstm_from_torch_moves_each_gate_block_where_pytorch_documents_it():
    w_ih, w_hh, b_ih, b_hh = _torch_lstm_by_hand()
    p = rnnnum.LSTMParams.from_torch(w_ih, w_hh, b_ih, b_hh, np.zeros((H, V)), np.zeros(V))
    for gate, k in {"i": 1, "f": 2, "g": 3, "o": 4}.items():  # PyTorch's i, f, g, o
        assert np.all(getattr(p, f"Wx{gate}") == k), gate
        assert np.all(getattr(p, f"Wh{gate}") == 10 * k), gate
        assert np.all(getattr(p, f"b{gate}") == 100 * k + 0.5 * k), f"b_{gate}: the biases add"
    # our stacked order is i, f, o, g: g and o swap places relative to PyTorch
    np.testing.assert_array_equal(p.Wx[0], [1, 1, 2, 2, 4, 4, 3, 3])
    assert p.Wxo.shape == (D, H) and p.Who.shape == (H, H) and p.bo.shape == (H,)


def test_gru_from_torch_keeps_the_order_r_z_n_and_both_biases():
    order = np.repeat(np.arange(1.0, 4.0), H)  # r=1, z=2, n=3
    p = rnnnum.GRUParams.from_torch(
        order[:, None] * np.ones((1, D)), 10 * order[:, None] * np.ones((1, H)),
        100 * order, 1000 * order, np.zeros((H, V)), np.zeros(V),
    )  # fmt: skip
    for gate, k in {"r": 1, "z": 2, "n": 3}.items():
        assert np.all(getattr(p, f"Wx{gate}") == k) and np.all(getattr(p, f"Wh{gate}") == 10 * k)
        assert np.all(getattr(p, f"bx{gate}") == 100 * k)
        assert np.all(getattr(p, f"bh{gate}") == 1000 * k)
    assert p.reset == "after"


@pytest.mark.parametrize("kind", ["lstm", "gru-after", "gru-before"])
def test_from_torch_of_to_torch_gives_back_the_parameters_exactly(rng, kind):
    if kind == "lstm":
        p = rnnnum.init_lstm(D, H, V, rng, forget_bias=1.0)
        p = p.replace(b=p.b + rng.standard_normal(4 * H), by=rng.standard_normal(V))
    else:
        p = rnnnum.init_gru(D, H, V, rng, reset=kind.split("-")[1])
        p = p.replace(bx=rng.standard_normal(3 * H), bh=rng.standard_normal(3 * H))
    back = type(p).from_torch(**p.to_torch())
    assert back.same_as(p)
    for name, arr in p.as_dict().items():
        np.testing.assert_array_equal(getattr(back, name), arr, err_msg=name)


def test_lstm_to_torch_puts_the_whole_bias_in_bias_ih(rng):
    p = rnnnum.init_lstm(D, H, V, rng, forget_bias=1.0)
    t = p.to_torch()
    assert t["weight_ih"].shape == (4 * H, D) and t["weight_hh"].shape == (4 * H, H)
    np.testing.assert_array_equal(t["bias_hh"], 0.0)
    np.testing.assert_array_equal(t["bias_ih"][H : 2 * H], 1.0)  # PyTorch's f block is the second
    np.testing.assert_array_equal(t["weight_ih"][2 * H : 3 * H], p.Wxg.T)  # ... and g the third


def test_gate_views_are_read_only_slices(rng):
    p = rnnnum.init_gru(D, H, V, rng)
    assert np.shares_memory(p.Whz, p.Wh)
    with pytest.raises(ValueError, match="read-only"):
        p.Whz[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        p.Wx[0, 0] = 1.0


BAD_PARAMS = {
    "LSTM Wx of width 3H": (
        lambda: rnnnum.LSTMParams(np.zeros((3, 6)), np.zeros((2, 8)), np.zeros(8),
                                  np.zeros((2, 5)), np.zeros(5)),
        rnnnum.ShapeError, ["(D, 4H)", "i, f, o, g", "(3, 6)", "i, f, g, o", "from_torch"],
    ),
    "LSTM Wh not (H, 4H)": (
        lambda: rnnnum.LSTMParams(np.zeros((3, 8)), np.zeros((2, 6)), np.zeros(8),
                                  np.zeros((2, 5)), np.zeros(5)),
        rnnnum.ShapeError, ["(H, 4H)", "i, f, o, g", "(2, 6)"],
    ),
    "GRU bh of width 2H": (
        lambda: rnnnum.GRUParams(np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6), np.zeros(4),
                                 np.zeros((2, 5)), np.zeros(5)),
        rnnnum.ShapeError, ["(3H,)", "r, z, n", "(4,)"],
    ),
    "GRU reset misspelt": (
        lambda: rnnnum.GRUParams(np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6), np.zeros(6),
                                 np.zeros((2, 5)), np.zeros(5), reset="middle"),
        rnnnum.UnknownChoiceError, ["'after'", "'before'", "'middle'"],
    ),
    "torch LSTM weight_ih in our layout": (
        lambda: rnnnum.LSTMParams.from_torch(np.zeros((3, 8)), np.zeros((8, 2)), np.zeros(8),
                                             np.zeros(8), np.zeros((2, 5)), np.zeros(5)),
        rnnnum.ShapeError, ["weight_ih", "(8, 8)", "i, f, g, o", "(3, 8)"],
    ),
    "torch GRU bias of width 4H": (
        lambda: rnnnum.GRUParams.from_torch(np.zeros((6, 3)), np.zeros((6, 2)), np.zeros(8),
                                            np.zeros(6), np.zeros((2, 5)), np.zeros(5)),
        rnnnum.ShapeError, ["bias_ih", "(6,)", "r, z, n", "(8,)"],
    ),
    "LSTM Wyh of the wrong height": (
        lambda: rnnnum.LSTMParams(np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(8),
                                  np.zeros((3, 5)), np.zeros(5)),
        rnnnum.ShapeError, ["Wyh", "(H, V)", "(3, 5)"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_PARAMS))
def test_bad_gated_parameters_are_rejected_with_the_layout(case):
    build, error, words = BAD_PARAMS[case]
    with pytest.raises(error) as info:
        build()
    for word in [*words, "got"]:
        assert word in str(info.value), f"{word!r} not in: {info.value}"


def test_replace_rejects_unknown_names_and_keeps_reset(rng):
    p = rnnnum.init_gru(D, H, V, rng, reset="before")
    assert p.replace(bx=np.ones(3 * H)).reset == "before"
    assert p.replace(reset="after").reset == "after"
    assert not p.replace(reset="after").same_as(p)
    with pytest.raises(TypeError, match="replace\\(\\) takes only Wx, Wh, bx, bh, Wyh, by, reset"):
        p.replace(b=np.zeros(3 * H))
