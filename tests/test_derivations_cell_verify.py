"""The cells against their numeric twins, and the contract the two halves share.

The symbolic cells (`derivations.core.cells`) and rnnnum's hand-written twins share names,
shapes and gate order only, never equations. The contract test reads that agreement off
both packages' own declarations; the verification tests run `verify_cell` (every
gradient, every (i, k) term, finite differences, every state Jacobian) for every cell.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import rnnnum
from derivations.check.table import CHECKS, SUM_CHECKS
from derivations.check.verify import cell_problem, verify_cell
from derivations.core.cell import NumericTwin
from derivations.core.cells import BUILTIN_CELLS, GRU_GATES, LSTM_GATES, load_cell
from derivations.core.errors import DerivationError

#: The built-in cells that name an rnnnum twin (all of them today).
TWINS = sorted(name for name in BUILTIN_CELLS if load_cell(name).twin is not None)
#: Each twin's gate order, as rnnnum declares it (never derived from the cell).
TWIN_GATES = {"LSTMParams": rnnnum.LSTM_GATES, "GRUParams": rnnnum.GRU_GATES}


@pytest.mark.parametrize("name", sorted(TWINS))
def test_contract_names_shapes_and_gate_order(name: str) -> None:
    cell = load_cell(name)
    assert cell.twin is not None
    kind = cell.twin.params
    _, values, twin = cell_problem(cell, T=2, loss="mse", sizes=(2, 3, 4))
    assert twin is not None and type(twin.params).__name__ == kind
    rnn_fields = set(twin.params.as_dict())
    grads = rnnnum.bptt(twin.params, twin.cache).as_dict()
    if kind == "RNNParams":  # one gate (vanilla, residual): every name is rnnnum's own field
        assert set(cell.gradient_names) == set(grads)
        assert not cell.stacking()
        for p in cell.params:
            assert getattr(twin.params, p.name).shape == values[p.name].shape
        return
    gates = TWIN_GATES[kind]
    assert gates == (LSTM_GATES_NAMES if kind == "LSTMParams" else GRU_GATES)
    stacked = cell.stacking()
    # every stacked rnnnum field is the cell's per-gate blocks, side by side, in rnnnum's order
    assert set(stacked) | {"Wyh", "by"} == rnn_fields
    for field, blocks in stacked.items():
        assert [b[len(field) :] or b[-1] for b in blocks] == list(gates), (field, blocks)
        widths = [values[b].shape[-1] for b in blocks]
        assert getattr(twin.params, field).shape[-1] == sum(widths) == len(gates) * 3
    # and every gradient of the cell is one block of one of rnnnum's gradient fields
    covered = {b for blocks in stacked.values() for b in blocks}
    rest = [n for n in cell.gradient_names if n not in covered]
    assert set(rest) == set(grads) - set(stacked)


LSTM_GATES_NAMES = tuple(g for g, _ in LSTM_GATES)


@pytest.mark.parametrize("name", sorted(BUILTIN_CELLS))
def test_every_cell_verifies_against_its_twin_or_finite_differences(name: str) -> None:
    cell = load_cell(name)
    table = verify_cell(cell, steps=(1, 3), sizes=(2, 2, 3))
    assert table.passed, "\n".join(map(str, table.failures))
    checks = {r.check for r in table.rows}
    if name in TWINS:
        assert checks == set(CHECKS) | set(SUM_CHECKS)
        # every gradient of the cell is checked five ways, every pair of states once
        per_case = 5 * len(cell.gradient_names) + 1
        assert len(table.rows) == 2 * 2 * per_case
        assert table.not_run == ()
    else:
        assert checks == {CHECKS[2], *SUM_CHECKS}  # no twin: finite differences and the loop


def test_a_wrong_twin_fails_the_table() -> None:
    """The GRU checked against the other reset's twin: the checks must say so."""
    gru = load_cell("gru")
    wrong = replace(gru, twin=NumericTwin("GRUParams", params_options=(("reset", "before"),)))
    table = verify_cell(wrong, steps=(2,), losses=("mse",), finite_differences=False)
    assert not table.passed
    assert {r.check for r in table.failures} >= {CHECKS[0], CHECKS[1]}
    assert np.isfinite([r.max_error for r in table.rows]).all()


def test_the_twin_is_read_off_the_cell_not_its_name() -> None:
    """A built-in cell renamed keeps its twin; the same cell without one has only finite
    differences, whatever its name."""
    renamed = replace(load_cell("gru-before"), name="my-gru")
    table = verify_cell(renamed, steps=(2,), losses=("mse",), finite_differences=False)
    kinds = {r.check for r in table.rows}
    assert table.passed and kinds == {CHECKS[0], CHECKS[1], CHECKS[3], SUM_CHECKS[1]}
    alone = replace(load_cell("lstm"), twin=None)
    table = verify_cell(alone, steps=(2,), losses=("mse",))
    assert table.passed and {r.check for r in table.rows} == {CHECKS[2], *SUM_CHECKS}
    assert {n.check for n in table.not_run} == {CHECKS[0], CHECKS[1], CHECKS[3]}


def test_a_twin_rnnnum_does_not_have_is_refused() -> None:
    cell = replace(load_cell("vanilla"), twin=NumericTwin("VanillaParams"))
    with pytest.raises(DerivationError, match=r"rnnnum\.VanillaParams, which rnnnum does not"):
        verify_cell(cell, steps=(1,), losses=("mse",))
