"""Each claim the gated chapter's prose makes about its numbers, broken once on purpose.

The pages state facts about computed results ("with b_f = 1 the cell path decays
slower", "gating buys more on selective recall than on the latch") and the build
asserts each one (`gen_format.claim`). Here every such claim is handed the real
results with the one quantity it reads moved to the other side, and must stop the
build with its own sentence; the unmoved results pass, so the fault is what trips it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import lab_cell_path
import lab_horizon_say
import lab_horizon_tuned
import lab_memory
import lab_resets
from gen_format import ChecksFailed
from lab_common import SHARES_SIZE

from rnnnum import horizon, lab
from rnnnum.lab.gated import PATH_SEEDS, TABLE_DISTANCE

D = TABLE_DISTANCE


def _breaks(run: Callable[[], object], statement: str) -> None:
    with pytest.raises(ChecksFailed, match=re.escape(statement)):
        run()


# -- gated/cell-state-path.md: the curves ---------------------------------------------


@pytest.fixture(scope="module")
def regimes() -> dict[str, lab.CellPathCurves]:
    H, T = lab_cell_path.PATH_SIZE
    return lab.lstm_regimes(T=T, H=H, seeds=PATH_SEEDS)


def _with(curves: lab.CellPathCurves, **change: Any) -> lab.CellPathCurves:
    return dataclasses.replace(curves, **change)


def _rates(curves: lab.CellPathCurves, **change: float) -> lab.CellPathCurves:
    return _with(curves, rates={**curves.rates, **change})


def _lowered(curve: np.ndarray, at: int, to: float) -> np.ndarray:
    out = curve.copy()
    out[at] = to
    return out


def _curve_faults(r: dict[str, lab.CellPathCurves]) -> dict[str, dict[str, lab.CellPathCurves]]:
    """Claim sentence -> the regimes with the one quantity it reads moved."""
    b0, b1, closing, exploding = r["bias0"], r["bias1"], r["closing"], r["exploding"]
    return {
        "decays at the slowest unit's mean log f, slower than the mean log f of all units "
        f"({b0.label})": {"bias0": _rates(b0, cell_path=b0.slowest_unit_rate + 0.2)},
        f"the full dc_i/dc_k lies above the cell path at every distance ({b1.label})": {
            "bias1": _with(b1, cell_cell=_lowered(b1.cell_cell, 3, b1.cell_path[3] / 2))
        },
        "with b_f = 1 the forget gates start more open": {
            "bias1": _with(b1, mean_f=b0.mean_f - 0.01)
        },
        "with b_f = 0 the cell path falls fastest of the four curves": {
            "bias0": _rates(b0, hidden=b0.rates["vanilla"] + 0.01)
        },
        "with b_f = 1 the LSTM's dh/dh and full dc/dc decay slower than the vanilla product": {
            "bias1": _rates(b1, hidden=b1.rates["vanilla"] - 0.01)
        },
        "the cell path never exceeds 1, in any case": {
            "closing": _with(closing, max_cell_path=1.5)
        },
        "with closing gates the cell path and both full blocks vanish": {
            "closing": _with(closing, hidden=_lowered(closing.hidden, D, 1e-3))
        },
        "with large W_h the full dc/dc grows past 1 while the cell path stays below 1": {
            "exploding": _with(exploding, max_cell_cell=5.0)
        },
    }


def test_the_curves_claims_hold_on_the_real_results(regimes):
    lab_cell_path._curves({}, regimes)


@pytest.mark.parametrize("n", range(8))
def test_each_cell_path_claim_breaks(regimes, n):
    statement, moved = list(_curve_faults(regimes).items())[n]
    _breaks(lambda: lab_cell_path._curves({}, {**regimes, **moved}), statement)


# -- gated/cell-state-path.md: the shares ---------------------------------------------


@pytest.fixture(scope="module")
def share_rows() -> dict[str, Any]:
    H, T = SHARES_SIZE
    return lab.shares_beside(T=T, H=H)


def _far(row: Any, value: float) -> Any:
    return dataclasses.replace(row, far={**row.far, 20: value})


def test_the_shares_claims_hold_on_the_real_results(share_rows):
    lab_cell_path._shares({}, share_rows)


def test_each_shares_claim_breaks(share_rows):
    r = share_rows
    ceiling = max(r["vanilla"].far[20], r["orthogonal"].far[20])
    lstm1_low = {**r, "lstm1": _far(r["lstm1"], ceiling / 2)}
    _breaks(
        lambda: lab_cell_path._shares({}, lstm1_low),
        "the LSTM with b_f = 1 draws more of its gradient from 20 or more steps back",
    )
    gru_high = {**r, "gru": _far(r["gru"], ceiling * 2)}
    _breaks(
        lambda: lab_cell_path._shares({}, gru_high),
        "the LSTM with b_f = 0 and the GRU draw less from 20 or more steps back",
    )


# -- gated/gru-resets.md --------------------------------------------------------------


def _resets_with(
    monkeypatch: pytest.MonkeyPatch, *, open_change: dict[str, Any], moved_change: dict[str, Any]
) -> None:
    real = lab.reset_difference

    def fake(**kwargs: Any) -> Any:
        result = real(**kwargs)
        change = open_change if kwargs.get("reset_bias") is not None else moved_change
        return dataclasses.replace(result, **change)

    monkeypatch.setattr(lab, "reset_difference", fake)


def test_the_resets_claims_hold_on_the_real_results():
    lab_resets.page()


@pytest.mark.parametrize(
    ("open_change", "moved_change", "statement"),
    [
        ({"max_closed": 0.1}, {}, "with the reset gate open (r = 1) the two placements are one"),
        ({}, {"mean_r": 0.8}, "the initial reset gate is half open"),
        ({}, {"gradient_by_name": {"bh": 0.5, "Wh": 0.9}}, "the largest difference is in the"),
        (
            {},
            {"step_term": np.zeros(lab_resets.RESET_SIZE[1])},
            "the one term that moves differs by more than 1 %",
        ),
    ],
)
def test_each_resets_claim_breaks(monkeypatch, open_change, moved_change, statement):
    _resets_with(monkeypatch, open_change=open_change, moved_change=moved_change)
    _breaks(lab_resets.page, statement)


# -- memory-horizon.md: the tuned protocol ---------------------------------------------


@pytest.fixture(scope="module")
def tuned() -> tuple[Any, dict[str, float]]:
    section = json.loads(lab_memory.HORIZON_RESULTS.read_text())["tuned"]
    path = lab_memory.HORIZON_RESULTS
    vanilla = lab_memory._summarise(*horizon.load_results(path, horizon.VARIANTS), EARLIER)
    earlier = lab_memory._summarise(*horizon.load_results(path, horizon.GATED_VARIANTS), EARLIER)
    lab_memory._earlier(vanilla, earlier, EARLIER)
    return lab_horizon_tuned.summarise(section), earlier.medians


#: The earlier protocol's fragments, which the sentence on it quotes.
EARLIER: dict[str, str] = {}


def _claims(summary: Any, earlier: dict[str, float]) -> None:
    lab_horizon_say.claims(summary, earlier, dict(EARLIER))


def _moved(summary: Any, task: str, **medians: float) -> Any:
    return dataclasses.replace(
        summary, medians={**summary.medians, task: {**summary.medians[task], **medians}}
    )


def _records(summary: Any, keep: Callable[[Any], bool], change: Callable[[Any], Any]) -> Any:
    return dataclasses.replace(
        summary, records=[change(r) if keep(r) else r for r in summary.records]
    )


def test_the_tuned_horizon_claims_hold_on_the_recorded_results(tuned):
    _claims(*tuned)


def test_each_tuned_horizon_claim_breaks(tuned):
    summary, earlier = tuned
    vanilla_long = {n: 1e6 for n in summary.chosen["selective"]
                    if n not in lab_horizon_tuned.GATED}  # fmt: skip
    faults = {
        "at the short pilot lag several runs solve the latch by the first evaluation": (
            _records(summary, lambda r: r.kind == "pilot" and r.network == "lstm-f1",
                     lambda r: dataclasses.replace(r, validation=1.0)), earlier),
        "no network's trained horizon is shorter than its start's": (
            _moved(summary, "latch", **{"lstm-chrono": 0.0}), earlier),
        "read-out-only training never beats the fitted read-out": (
            _records(summary, lambda r: r.kind == "grid" and r.network == "gru",
                     lambda r: dataclasses.replace(r, readout_only=1.0, readout_fit=0.25)),
            earlier),
        "gating buys more on selective recall than on the latch": (
            _moved(summary, "selective", **vanilla_long), earlier),
        "every network with a boundary lag was rerun": (
            _records(summary, lambda r: r.kind == "boundary",
                     lambda r: dataclasses.replace(r, kind="dropped")), earlier),
        "the GRU with the same zero-bias start reaches longer lags": (
            summary, {**earlier, "gru": 10_000.0}),
        "the chrono starts hold the symbol on the latch before any training": (
            _records(summary, lambda r: r.network == "lstm-chrono" and r.task == "latch",
                     lambda r: dataclasses.replace(r, readout_fit=0.25, readout_only=0.25)),
            earlier),
        "with about the LSTM's parameter count the IRNN solves every lag of selective": (
            _moved(summary, "selective", **{"vanilla-64": 100.0}), earlier),
        "among the vanilla networks only the IRNN learns selective recall": (
            _moved(summary, "selective", **{"residual-tanh": 100.0}), earlier),
        "a vanilla network reaches the long lag on selective recall": (
            _moved(summary, "selective", **{"irnn-relu": 0.0}), earlier),
        "on the latch the chrono LSTM reaches longer lags than the LSTM with b_f = 1": (
            _moved(summary, "latch", **{"lstm-f1": 1e6}), earlier),
        "a well-started vanilla network holds one symbol on the latch as long as": (
            _moved(summary, "latch", **{"gru-chrono": 1e6}), earlier),
    }  # fmt: skip
    for statement, (moved, earlier_moved) in faults.items():
        _breaks(lambda m=moved, e=earlier_moved: _claims(m, e), statement)


# -- the cell pages and the chapter's formula fragments: what the derivation says ------


@pytest.fixture(scope="module")
def lstm_cell() -> Any:
    from derivations.core.cells import lstm

    return lstm()


def _blocks_moved(monkeypatch: pytest.MonkeyPatch, pair: tuple[str, str], change) -> None:
    from derivations.core.cell import Cell

    real = Cell.step_jacobian_blocks

    def fake(self: Cell) -> dict[tuple[str, str], Any]:
        blocks = dict(real(self))
        blocks[pair] = change(blocks[pair])
        return blocks

    monkeypatch.setattr(Cell, "step_jacobian_blocks", fake)


def test_the_cell_page_claims_hold_for_the_lstm(lstm_cell):
    import gen_cell_pages

    gen_cell_pages._blocks(lstm_cell, "lstm")
    gen_cell_pages._routes(lstm_cell, "lstm", {})
    gen_cell_pages._loop(lstm_cell)


def test_a_second_path_from_c_to_c_breaks_its_claim(monkeypatch, lstm_cell):
    import gen_cell_pages

    _blocks_moved(monkeypatch, ("c", "c"), lambda block: block + block)
    _breaks(lambda: gen_cell_pages._blocks(lstm_cell, "lstm"), "dc_t/dc_{t-1} is one path")


def test_a_lost_gate_path_from_h_to_h_breaks_its_claim(monkeypatch, lstm_cell):
    import gen_cell_pages

    from derivations.core.factors import LocalSum

    _blocks_moved(monkeypatch, ("h", "h"), lambda block: LocalSum(block.terms[:-1]))
    _breaks(lambda: gen_cell_pages._blocks(lstm_cell, "lstm"), "dh_t/dh_{t-1} has four paths")


def test_a_blocks_snippet_is_printed_only_with_its_claim(monkeypatch, lstm_cell):
    """docs/gated/cells/lstm/blocks.md states a count of paths: without the claim that
    checks it (gen_cell_pages.BLOCK_CLAIMS), the page is not made."""
    import gen_cell_pages

    monkeypatch.setattr(gen_cell_pages, "BLOCK_CLAIMS", {})
    _breaks(lambda: gen_cell_pages._blocks(lstm_cell, "lstm"), "states something no claim checks")


def test_a_second_route_along_c_breaks_its_claim(monkeypatch, lstm_cell):
    import gen_cell_pages

    real = gen_cell_pages.routes
    monkeypatch.setattr(gen_cell_pages, "routes", lambda *a, **k: [*real(*a, **k)] * 2)
    _breaks(lambda: gen_cell_pages._routes(lstm_cell, "lstm", {}), "one route runs along c alone")


def test_a_term_missing_from_the_loop_breaks_its_claim(monkeypatch, lstm_cell):
    import gen_cell_pages

    real = gen_cell_pages.cell_loop_map

    def fake(*args: Any) -> dict[int, list[tuple[int, int]]]:
        mapping = dict(real(*args))
        last = max(mapping)
        mapping[last] = list(mapping[last])[1:]
        return mapping

    monkeypatch.setattr(gen_cell_pages, "cell_loop_map", fake)
    _breaks(lambda: gen_cell_pages._loop(lstm_cell), "every term (i, k) exactly once")


def test_the_reset_claims_break(monkeypatch):
    import gen_cell_fragments

    from derivations.core.cells import gru
    from derivations.core.factors import LocalSum

    gen_cell_fragments.gated_fragments()  # the real derivation passes
    real = gen_cell_fragments._through_wn
    after = real(gru("after"))
    monkeypatch.setattr(gen_cell_fragments, "_through_wn", lambda cell: after)
    _breaks(gen_cell_fragments.gated_fragments, "the paths through the candidate differ")
    monkeypatch.setattr(gen_cell_fragments, "_through_wn", lambda c: LocalSum(after.terms[:1]))
    _breaks(gen_cell_fragments.gated_fragments, "reset after: two paths of dh_t/dh_(t-1)")
