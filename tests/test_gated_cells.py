"""rnnnum.gated_cells: the LSTM and GRU training cells against the independent model."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from reference_gated import run

CELLS = [
    rnnnum.LSTMCell("xavier", forget_bias=0.0),
    rnnnum.LSTMCell("orthogonal", forget_bias=1.0),
    rnnnum.GRUCell("xavier", reset="after"),
    rnnnum.GRUCell("orthogonal", reset="before"),
]


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.name)
def test_cell_states_match_the_independent_model(rng, cell):
    params = cell.init(3, 4, rng)
    X = rng.standard_normal((2, 6, 3))
    h_last, tape = cell.forward(params, X)
    lstm = isinstance(cell, rnnnum.LSTMCell)
    ref = run({
        "cell": "lstm" if lstm else "gru", "reset": getattr(cell, "reset", None),
        "params": {**params, "Wyh": np.zeros((4, 2)), "by": np.zeros(2)}, "X": X,
        "targets": np.zeros((2, 6), int), "h0": np.zeros((2, 4)), "c0": np.zeros((2, 4)),
        "loss": "cross_entropy",
    })  # fmt: skip
    np.testing.assert_allclose(tape.h[:, 1:], np.stack(ref["h"], axis=1), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(h_last, tape.h[:, -1])
    n = 8 if lstm else 4
    assert cell.step_jacobians(params, tape).shape == (2, 6, n, n)
    if lstm:
        assert np.all(params["b"][4:8] == cell.forget_bias)


def test_gated_cells_reject_bad_options():
    with pytest.raises(rnnnum.UnknownChoiceError, match="'after', 'before'; got 'middle'"):
        rnnnum.GRUCell(reset="middle")
    with pytest.raises(rnnnum.UnknownChoiceError, match="'xavier', 'orthogonal'; got 'normal'"):
        rnnnum.LSTMCell("normal")
    with pytest.raises(rnnnum.NonFiniteError, match="forget_bias must be finite"):
        rnnnum.LSTMCell(forget_bias=float("nan"))
    params = rnnnum.LSTMCell().init(3, 2, np.random.default_rng(0))
    with pytest.raises(rnnnum.ShapeError, match="D = 3 features \\(the rows of Wx\\)"):
        rnnnum.LSTMCell().forward(params, np.zeros((1, 2, 4)))
