"""Bad input to the gated cells: each raises a specific exception naming the rule, the value
and a fix (the stacked-layout and reset cases are in test_gated_params.py)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import make_gated_problem


@pytest.fixture
def lstm(rng):
    return make_gated_problem(rng, "lstm", N=2, T=3, D=3, H=4, V=4)


@pytest.fixture
def gru(rng):
    return make_gated_problem(rng, "gru-after", N=2, T=3, D=3, H=4, V=4)


def _forward(problem, **changes):
    args = {"X": problem.X, "targets": problem.targets, **problem.kwargs, **changes}
    return rnnnum.forward(problem.params, args.pop("X"), args.pop("targets"), **args)


# (which problem, changes to the forward call, exception, words the message must contain)
CASES = {
    "activation with an LSTM": (
        "lstm", {"activation": "relu"}, rnnnum.CellMismatchError,
        ["vanilla cell only", "LSTM", "'relu'", "Drop the argument"],
    ),
    "activation tanh with a GRU": (
        "gru", {"activation": "tanh"}, rnnnum.CellMismatchError, ["GRU", "'tanh'"],
    ),
    "c0 with a GRU": ("gru", {"c0": np.zeros((2, 4))}, rnnnum.CellMismatchError, ["c0", "h0"]),
    "c0 wrong shape": ("lstm", {"c0": np.zeros((2, 5))}, rnnnum.ShapeError, ["c0", "(2, 4)"]),
    "c0 NaN": ("lstm", {"c0": np.full((2, 4), np.nan)}, rnnnum.NonFiniteError, ["c0"]),
    "X wrong feature size": (
        "gru", {"X": np.ones((2, 3, 5))}, rnnnum.ShapeError, ["D = 3", "rows of Wx"],
    ),
    "T = 0": ("lstm", {"X": np.ones((2, 0, 3))}, rnnnum.ShapeError, ["T = 0"]),
    "targets too large": (
        "lstm", {"targets": np.full((2, 3), 4)}, rnnnum.TargetRangeError, ["0..3", "got 4"],
    ),
    "h0 wrong size": ("gru", {"h0": np.zeros((2, 5))}, rnnnum.ShapeError, ["(2, 4)", "tile"]),
    "unknown loss": ("gru", {"loss": "hinge"}, rnnnum.UnknownChoiceError, ["'mse'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_rejects(lstm, gru, case):
    which, changes, error, words = CASES[case]
    with pytest.raises(error) as info:
        _forward(lstm if which == "lstm" else gru, **changes)
    for word in [*words, "got"]:
        assert word in str(info.value), f"{word!r} not in: {info.value}"


def test_c0_with_the_vanilla_cell_is_refused(rng):
    params = rnnnum.init_xavier(3, 4, 4, rng)
    with pytest.raises(rnnnum.CellMismatchError, match="vanilla RNN has the state h only"):
        rnnnum.forward(params, np.zeros((1, 2, 3)), np.zeros((1, 2), int), c0=np.zeros((1, 4)))


def test_caches_and_parameters_of_other_cells_are_refused(lstm, gru):
    with pytest.raises(rnnnum.DTypeError, match=r"LSTMCache returned by rnnnum\.forward"):
        rnnnum.bptt(lstm.params, gru.forward())
    before = gru.params.replace(reset="before")
    with pytest.raises(rnnnum.MismatchedCacheError, match=r"reset='after'.*reset='before'"):
        rnnnum.bptt(before, gru.forward())
    with pytest.raises(rnnnum.MismatchedCacheError, match="these differ: Wh"):
        rnnnum.components(lstm.params.replace(Wh=2 * lstm.params.Wh), lstm.forward(), "Wx")
    with pytest.raises(rnnnum.DTypeError, match="RNNParams, LSTMParams or GRUParams"):
        rnnnum.forward(lstm.params.as_dict(), lstm.X, lstm.targets)


def test_components_name_the_cells_own_quantities(lstm, gru):
    with pytest.raises(rnnnum.UnknownChoiceError, match=r"'Wx', 'Wh', 'b', .*'c0'; got 'Wxh'"):
        rnnnum.components(lstm.params, lstm.forward(), "Wxh")
    with pytest.raises(rnnnum.UnknownChoiceError, match=r"'bx', 'bh'.*got 'c0'"):
        rnnnum.component_norms(gru.params, gru.forward(), "c0")
    with pytest.raises(rnnnum.CellMismatchError, match=r"method='jacobian'.*RNNParams only"):
        rnnnum.components(gru.params, gru.forward(), "Wx", method="jacobian")
    with pytest.raises(rnnnum.CellMismatchError, match="signal_stream"):
        next(rnnnum.backward_signals(gru.params, gru.forward()))


def test_truncation_and_clipping_check_their_arguments(lstm):
    cache = lstm.forward()
    with pytest.raises(rnnnum.OutOfRangeError, match="window must be an integer >= 1; got 0"):
        rnnnum.truncated_bptt(lstm.params, cache, 0)
    grads = rnnnum.bptt(lstm.params, cache)
    with pytest.raises(rnnnum.UnknownChoiceError, match="'c0'; got 'Whh'"):
        rnnnum.clip_by_norm(grads, 1.0, names=["Whh"])
