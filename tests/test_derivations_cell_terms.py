"""Every (loss i, step k) term of every gated parameter, from the cell's equations, against rnnnum.

`derivations.cell_terms` composes the cell's local Jacobians (routes between states, paths
inside a step, where the parameter enters); `rnnnum.components` carries each loss back
through its own hand-written step functions. They share names, shapes and gate order only.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_derivations_cell_unroll import ATOL, RTOL, D, H, T, V, _numbers, _rnnnum_params

import rnnnum
from derivations.cell_terms import numeric_term, to_states
from derivations.cell_unroll import unroll_cell
from derivations.cells import gru, lstm
from derivations.errors import UnknownChoiceError


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("reset", [None, "after", "before"], ids=["lstm", "gru", "gru-before"])
def test_every_term_of_every_gate_parameter_matches_rnnnum(reset, loss, rng) -> None:
    cell = lstm() if reset is None else gru(reset)
    program = unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss)
    numbers, targets = _numbers(program, rng, loss)
    trace = program.trace(numbers)
    params = _rnnnum_params(program, numbers, reset)
    initial = {s: trace[s][0][None, :] for s in cell.state_names}
    cache = rnnnum.forward(
        params, trace["x"][None, 1:], targets, loss=loss, h0=initial["h"], c0=initial.get("c")
    )
    checked = 0
    for field, names in cell.stacking().items():
        theirs = rnnnum.components(params, cache, field).terms  # (T, T, ..., stacked width)
        for block, name in enumerate(names):
            columns = slice(block * H, (block + 1) * H)
            for i in range(1, T + 1):
                for k in range(1, T + 1):
                    ours = numeric_term(cell, program, numbers, name, i, k)
                    np.testing.assert_allclose(
                        ours, theirs[i - 1, k - 1][..., columns], rtol=RTOL, atol=ATOL,
                        err_msg=f"{cell.name}, {loss}: term (i={i}, k={k}) of dL/d{name}",
                    )  # fmt: skip
                    checked += 1
    assert checked == T * T * len(cell.param_names)


def test_inside_a_step_the_lstm_cell_state_reaches_h_through_o_and_tanh() -> None:
    inside = to_states(lstm(), "c")
    assert len(inside["c"]) == 1 and len(inside["h"]) == 1  # c itself; h = o tanh(c)
    assert not to_states(lstm(), "h")["c"]  # h_t does not feed c_t
    with pytest.raises(UnknownChoiceError, match="one of the lstm cell's equations"):
        to_states(lstm(), "q")
