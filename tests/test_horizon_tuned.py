"""The tuned memory-horizon protocol: its bookkeeping, its command line, its recorded results.

The protocol takes about an hour on two cores and is recorded in the ``tuned`` section of
docs/results/memory-horizon.json; here its rules run on invented records (which setting
the pilot picks, where a horizon ends, which lag is rerun, when a network stops), and a
slice of the recorded runs is trained again and compared.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from conftest import ROOT

from rnnnum import horizon_tuned as ht

RESULTS = ROOT / "docs" / "results" / "memory-horizon.json"
#: A run is deterministic for its seed; 0.02 (20 of 1000 test sequences) leaves room for
#: BLAS rounding on another CPU, far below the gap between solved (0.9) and chance (0.25).
REPRODUCE_ATOL = 0.02


def _record(kind="grid", task="latch", network="gru", lag=10, seed=0, accuracy=1.0, *,
            opt="adam", rate=0.01, validation=None, steps=100, diverged=False):  # fmt: skip
    validation = accuracy if validation is None else validation
    return ht.Record(kind, task, network, lag, seed, opt, rate, 4000, accuracy, validation,
                     steps, None, None, None, diverged, 0.0)  # fmt: skip


def _pilot(opt, rate, at_30, at_100):
    """A setting's two pilot runs, each given as (validation accuracy, steps)."""
    return [_record("pilot", lag=lag, accuracy=acc, steps=steps, opt=opt, rate=rate)
            for lag, (acc, steps) in ((30, at_30), (100, at_100))]  # fmt: skip


def test_the_pilot_reads_the_long_lag_first_and_the_short_one_where_nothing_learns_it():
    fast = _pilot("sgd", 0.1, (1.0, 100), (0.995, 300))
    slow = _pilot("adam", 0.003, (1.0, 100), (1.0, 900))
    partial = _pilot("adam", 0.03, (1.0, 100), (0.7, 2000))
    noise = _pilot("adam", 1.0, (0.995, 700), (0.29, 2000))
    quick_short = _pilot("sgd", 0.01, (0.995, 200), (0.25, 2000))
    assert ht.choose([*slow, *partial, *fast]) == ("sgd", 0.1)  # fewest steps at L = 100
    assert ht.choose([*partial, *quick_short]) == ("adam", 0.03)  # learning at L = 100
    # nothing learns L = 100 (0.29 is noise): the fewest steps at L = 30 decide
    assert ht.choose([*noise, *quick_short]) == ("sgd", 0.01)
    blown = [dataclasses.replace(r, diverged=True) for r in _pilot("adam", 0.3, (1.0, 100),
                                                                       (1.0, 100))]  # fmt: skip
    assert ht.choose([*blown, *slow]) == ("adam", 0.003)
    tie = _pilot("adam", 0.3, (1.0, 100), (0.995, 300))
    assert ht.choose([*tie, *fast]) == ("sgd", 0.1)  # same steps: the smaller rate


def test_a_seeds_horizon_ends_at_its_first_unsolved_lag():
    runs = [_record(lag=lag, seed=s, accuracy=a) for s, accs in
            enumerate([(1, 1, 0.5, 0.95), (1, 0.3, 1, 1), (0.2, 1, 1, 1)])
            for lag, a in zip((10, 30, 100, 200), accs, strict=True)]  # fmt: skip
    runs.append(_record(kind="boundary", lag=100, seed=0, accuracy=1.0))  # not the grid's
    assert ht.horizons(runs, "latch", "gru") == {0: 30, 1: 10, 2: 0}


def _fake_run(solved_up_to, partly=None):
    """Every seed solves up to its lag; at `partly`'s lag only seed 0 does."""
    partly = partly or {}

    def run(job):
        kind, task, network, lag, seed, opt, rate, _budget = job
        ok = lag <= solved_up_to[(task, network)] or (lag, seed) == (partly.get((task, network)), 0)
        return _record(kind, task, network, lag, seed, 1.0 if ok else 0.25, opt=opt, rate=rate)

    return run


def test_the_grid_runs_both_tasks_shortest_lag_first_and_stops_a_network_no_seed_solves(
    monkeypatch,
):
    reach = {("latch", "gru"): 100, ("latch", "lstm-f1"): 10, ("selective", "gru"): 30}
    monkeypatch.setattr(ht, "run_one", _fake_run(reach, {("latch", "gru"): 200}))
    plan = {"latch": {"gru": ("adam", 0.01), "lstm-f1": ("sgd", 0.1)},
            "selective": {"gru": ("adam", 0.003)}}  # fmt: skip
    records = ht._grid_rounds(ht.Log(None, {}), plan, ht.LAGS, 1)
    last = {(t, n): max(r.lag for r in records if (r.task, r.network) == (t, n)) for t, n in reach}
    # at L = 200 one seed of the latch's GRU still solves, so it goes on to 400
    assert last == {("latch", "gru"): 400, ("latch", "lstm-f1"): 30, ("selective", "gru"): 100}
    assert all(r.optimiser == plan[r.task][r.network][0] for r in records)
    assert {len([r for r in records if r.task == t and r.lag == 10]) for t in plan} == {
        2 * len(ht.SEEDS["latch"]), len(ht.SEEDS["selective"])}  # fmt: skip
    boundary = ht._boundary_jobs(records, "latch", plan["latch"], ht.LAGS)
    assert {(j[2], j[3], j[7]) for j in boundary} == {
        ("gru", 200, 2 * ht.CONFIG.steps), ("lstm-f1", 30, 2 * ht.CONFIG.steps)}  # fmt: skip
    assert len(boundary) == 2 * ht.BOUNDARY_SEEDS


def test_a_stopped_protocol_resumes_from_its_log_and_refuses_a_log_of_other_settings(
    tmp_path, monkeypatch
):
    calls = []
    fake = _fake_run({("latch", "gru"): 400})
    monkeypatch.setattr(ht, "run_one", lambda job: calls.append(job) or fake(job))
    log = tmp_path / "log.jsonl"
    jobs = [("grid", "latch", "gru", 10, s, "adam", 0.01, 4000) for s in range(4)]
    ht.Log(log, {"a": 1}).run(jobs[:2], 1)
    again = ht.Log(log, {"a": 1}).run(jobs, 1)
    assert len(calls) == 4 and [r.seed for r in again] == [0, 1, 2, 3]
    with pytest.raises(SystemExit, match="written for other settings"):
        ht.Log(log, {"a": 2})


@pytest.mark.parametrize(("argv", "message"), [
    (["--merge-into", "x.json", "--jobs", "0"], "--jobs must be at least 1; got 0"),
    (["--merge-into", "x.json", "--lags", "10", "100"], "--lags must be a prefix of"),
    (["--merge-into", "nowhere.json"], "no such file"),
    ([], "the following arguments are required: --merge-into"),
])  # fmt: skip
def test_usage_errors_exit_2_with_the_rule(capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        ht.main(argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


@pytest.fixture(scope="module")
def tuned():
    return json.loads(RESULTS.read_text())["tuned"]


def test_the_recorded_protocol_is_this_modules_and_says_how_it_was_run(tuned):
    assert tuned["settings"] == {**ht.settings(), "lags": tuned["settings"]["lags"]}
    assert tuned["lags_run"] == list(ht.LAGS[: len(tuned["lags_run"])])
    prov = tuned["provenance"]
    assert prov["command"].startswith("python -m rnnnum.horizon_tuned --merge-into ")
    assert "uncommitted" not in prov["commit"]
    kinds = {r["kind"] for r in tuned["records"]}
    assert kinds == {"pilot", "grid", "boundary", "matched"}
    pilot = [r for r in tuned["records"] if r["kind"] == "pilot"]
    assert len(pilot) == len(ht.TASKS) * len(ht.NETWORKS) * len(ht.PILOT_SETTINGS) * len(
        ht.PILOT_LAGS
    )
    assert {r["seed"] for r in pilot} == {ht.PILOT_SEED}
    assert ht.PILOT_SEED not in {s for seeds in ht.SEEDS.values() for s in seeds}
    for task, chosen in tuned["chosen"].items():  # the choice follows from the pilot
        for network, setting in chosen.items():
            mine = [ht.Record(**r) for r in pilot if (r["task"], r["network"]) == (task, network)]
            assert list(ht.choose(mine)) == setting


def _pick(tuned, **where):
    return next(ht.Record(**r) for r in tuned["records"]
                if all(r[k] == v for k, v in where.items()))  # fmt: skip


@pytest.mark.parametrize("where", [
    {"kind": "grid", "task": "latch", "network": "irnn-relu", "lag": 10, "seed": 1},
    {"kind": "grid", "task": "selective", "network": "gru-chrono", "lag": 10, "seed": 2},
    {"kind": "pilot", "task": "latch", "network": "normal-tanh", "optimiser": "adam",
     "learning_rate": 0.01, "lag": 30},
])  # fmt: skip
def test_a_slice_of_the_recorded_protocol_trains_to_the_same_result(tuned, where):
    stored = _pick(tuned, **where)
    job = (stored.kind, stored.task, stored.network, stored.lag, stored.seed,
           stored.optimiser, stored.learning_rate, stored.budget)  # fmt: skip
    again = ht.run_one(job)
    for field in ("accuracy", "validation", "readout_fit", "readout_only"):
        if getattr(stored, field) is not None:
            assert getattr(again, field) == pytest.approx(getattr(stored, field),
                                                          abs=REPRODUCE_ATOL), field  # fmt: skip
    assert abs(again.steps - stored.steps) <= ht.CONFIG.eval_every
