"""The memory-horizon runner: its bookkeeping, its command line, and the recorded results.

The full grid takes minutes and is recorded in docs/results/memory-horizon.json, one
group of runs per run of the grid (the vanilla networks, the gated ones), each with its
provenance; here every group is checked and a slice of each is trained again and
compared with what was recorded.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from conftest import ROOT

from rnnnum import horizon, horizon_results

RESULTS = ROOT / "docs" / "results" / "memory-horizon.json"
#: Training is deterministic for a seed, so a rerun on the same kind of machine gives
#: the same accuracies; 0.02 (20 of 1000 held-out sequences) leaves room for BLAS
#: rounding on another CPU, far below the gap between solved (>= 0.9) and chance (0.25).
REPRODUCE_ATOL = 0.02
#: The slice: a quick success, a failure at the no-remedy network's edge, and a remedy.
SLICE = (("xavier-tanh", 2, 0), ("normal-tanh", 10, 1), ("residual-tanh", 15, 2))


def _run(variant, lag, seed, accuracy):
    return horizon.Run(variant, lag, seed, accuracy, 0.05, 100, (accuracy,), 0.0)


def test_a_seeds_horizon_is_the_last_lag_before_the_first_failure():
    runs = [
        _run("v", 2, 0, 1.0), _run("v", 5, 0, 0.95), _run("v", 10, 0, 0.3), _run("v", 15, 0, 1.0),
        _run("v", 2, 1, 0.5), _run("v", 5, 1, 1.0),
    ]  # fmt: skip
    # seed 0 solves 2 and 5, fails 10 (a later success does not count); seed 1 fails at once
    assert horizon.seed_horizons(runs, "v") == {0: 5, 1: 0}


@pytest.fixture(scope="module")
def recorded():
    return horizon.load_results(RESULTS, horizon.VARIANTS)


def test_the_recorded_file_was_made_with_this_design_and_says_how(recorded):
    header, runs = recorded
    settings, provenance = header["settings"], header["provenance"]
    assert settings["lags"] == list(horizon.LAGS)
    assert settings["seeds"] == list(horizon.SEEDS)
    assert settings["variants"] == {k: v.label for k, v in horizon.VARIANTS.items()}
    assert settings["train"] == dataclasses.asdict(horizon.CONFIG)
    assert settings["learning_rates"] == list(horizon.LEARNING_RATES)
    assert settings["solved"] == horizon.SOLVED
    assert len(runs) == len(horizon.LAGS) * len(horizon.SEEDS) * len(horizon.VARIANTS)
    assert provenance["command"].startswith(("python -m rnnnum.horizon --out ",
                                             "python -m rnnnum.horizon --merge-into "))  # fmt: skip
    assert "uncommitted" not in provenance["commit"]
    for key in ("python", "numpy", "machine", "seconds"):
        assert provenance[key], key


@pytest.mark.parametrize(("variant", "lag", "seed"), SLICE)
def test_a_slice_of_the_recorded_grid_trains_to_the_same_result(recorded, variant, lag, seed):
    _, runs = recorded
    (stored,) = [r for r in runs if (r.variant, r.lag, r.seed) == (variant, lag, seed)]
    again = horizon.run_one(variant, lag, seed)
    assert again.accuracies == pytest.approx(stored.accuracies, abs=REPRODUCE_ATOL)
    assert (again.accuracy >= horizon.SOLVED) == (stored.accuracy >= horizon.SOLVED)
    assert again.learning_rate == stored.learning_rate


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "x.json", "--jobs", "0"], "--jobs must be at least 1; got 0"),
        (["--out", "x.json", "--lags", "3", "0"], "--lags must be at least 1"),
        (["--out", "x.json", "--variants", "lstm"], "invalid choice: 'lstm'"),
        ([], "one of the arguments --out --merge-into is required"),
        (["--out", "x.json", "--add", "y.json"], "--add copies recorded groups into a file"),
        (["--merge-into", "x.json", "--add", "y.json", "--lags", "2"], "got --lags. Drop them"),
    ],
)
def test_usage_errors_exit_2_with_the_rule(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        horizon.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_tiny_grid_runs_end_to_end_and_writes_its_provenance(tmp_path):
    out = tmp_path / "h.json"
    assert horizon.main(["--out", str(out), "--variants", "xavier-tanh", "--lags", "2",
                         "--seeds", "0", "--jobs", "1"]) == 0  # fmt: skip
    header, runs = horizon.load_results(out)
    assert [(r.variant, r.lag, r.seed) for r in runs] == [("xavier-tanh", 2, 0)]
    assert header["provenance"]["command"].endswith("--jobs 1")


def test_gated_networks_run_until_their_median_falls_to_chance(monkeypatch):
    # a fake trainer: solves lags up to 10, guesses (accuracy 1/4) beyond
    def fake(args):
        variant, lag, seed = args
        return _run(variant, lag, seed, 1.0 if lag <= 10 else 0.25)

    monkeypatch.setattr(horizon, "_run_args", fake)
    runs = horizon.run_grid(("lstm-f1", "gru"), horizon.GATED_LAGS, (0, 1, 2), until_chance=True)
    assert sorted({r.lag for r in runs}) == [2, 5, 10, 15]  # stopped at the first chance lag
    assert len(runs) == 4 * 2 * 3
    assert horizon.seed_horizons(runs, "gru") == {0: 10, 1: 10, 2: 10}
    assert max(horizon.GATED_LAGS) == 500 and set(horizon.LAGS) < set(horizon.GATED_LAGS)


def test_a_gated_slice_runs_end_to_end(tmp_path):
    out = tmp_path / "g.json"
    assert horizon.main(["--out", str(out), "--variants", "lstm-f1", "gru", "--lags", "2",
                         "--seeds", "0", "--jobs", "1"]) == 0  # fmt: skip
    header, runs = horizon.load_results(out)
    assert [(r.variant, r.lag) for r in runs] == [("lstm-f1", 2), ("gru", 2)]
    assert all(r.accuracy >= horizon.SOLVED for r in runs), runs
    assert header["settings"]["variants"] == {
        "lstm-f1": "LSTM, forget-gate bias 1", "gru": "GRU (reset after)"
    }  # fmt: skip


def _fake(variant, lag, seed):
    return horizon.Run(variant, lag, seed, 1.0 / lag, 0.05, 10, (1.0 / lag,), 0.0)


def test_a_stopped_grid_resumes_from_its_log_without_rerunning(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(horizon, "_run_args", lambda w: calls.append(w) or _fake(*w))
    log = tmp_path / "grid.json.partial.jsonl"
    work = [("gru", lag, seed) for lag in (2, 5) for seed in (0, 1)]
    first = horizon._run_all(work[:3], 1, horizon.Progress(log, {"grid": 1}))
    assert calls == work[:3] and len(log.read_text().splitlines()) == 4  # header + 3 runs
    calls.clear()
    again = horizon._run_all(work, 1, horizon.Progress(log, {"grid": 1}))
    assert calls == [work[3]]  # only the run that had not finished
    assert again[:3] == first and again[3] == _fake(*work[3])


def test_a_log_of_another_grid_is_refused(tmp_path):
    log = tmp_path / "grid.json.partial.jsonl"
    horizon.Progress(log, {"grid": 1})
    with pytest.raises(SystemExit, match="cannot be resumed"):
        horizon.Progress(log, {"grid": 2})


#: The gated slice, the recorded difference the forget-gate bias makes: at lag 20 the
#: LSTM with b_f = 1 solves (in ~1 s) and the one with b_f = 0 is at chance (3000 steps
#: at both rates, ~20 s).
GATED_SLICE = (("lstm-f1", 20, 1), ("lstm-f0", 20, 1))


@pytest.fixture(scope="module")
def recorded_gated():
    return horizon.load_results(RESULTS, horizon.GATED_VARIANTS)


def test_the_gated_file_ran_every_lag_until_each_median_was_at_chance(recorded_gated):
    header, runs = recorded_gated
    settings, provenance = header["settings"], header["provenance"]
    assert settings["until_chance"] is True
    assert settings["lags"] == list(horizon.GATED_LAGS)
    assert settings["variants"] == {k: v.label for k, v in horizon.GATED_VARIANTS.items()}
    assert settings["train"] == dataclasses.asdict(horizon.CONFIG)
    assert "uncommitted" not in provenance["commit"] and provenance["command"]
    for variant in horizon.GATED_VARIANTS:
        lags = sorted({r.lag for r in runs if r.variant == variant})
        assert lags == list(horizon.GATED_LAGS[: len(lags)])  # shortest first, no gaps
        assert all(len([r for r in runs if (r.variant, r.lag) == (variant, lag)]) == 5
                   for lag in lags)  # fmt: skip
        at_chance = [lag for lag in lags if horizon.at_chance(runs, variant, lag)]
        assert at_chance == [lags[-1]], (variant, at_chance)  # stopped at the first one


@pytest.mark.parametrize(("variant", "lag", "seed"), GATED_SLICE)
def test_a_slice_of_the_gated_grid_trains_to_the_same_result(recorded_gated, variant, lag, seed):
    test_a_slice_of_the_recorded_grid_trains_to_the_same_result(recorded_gated, variant, lag, seed)


# --- one file for every network: groups, each with its own provenance --------------------


def test_every_group_of_the_file_ran_its_lags_shortest_first_and_says_how():
    own, groups = horizon_results.load_groups(RESULTS)
    assert own["note"] and own["merges"], "the file says how its groups came together"
    assert [set(g.variants) for g in groups] == [set(horizon.VARIANTS), set(horizon.GATED_VARIANTS)]
    logged = [set(v) for m in own["merges"] for v in m["kept"] + m["added"] + m["replaced"]]
    design = horizon._settings(horizon.VARIANTS, horizon.LAGS, horizon.SEEDS, False)
    for group in groups:
        assert set(group.variants) in logged, group.variants  # every group's merge is logged
        settings, provenance = group.settings, group.provenance
        for key in horizon_results.SHARED_SETTINGS:  # one grid design for the whole file
            assert settings[key] == design[key], (group.variants, key)
        for key in ("command", "commit", "python", "numpy", "machine", "seconds"):
            assert provenance[key], (group.variants, key)
        assert "uncommitted" not in provenance["commit"]
        assert provenance["command"].startswith("python -m rnnnum.horizon ")
        for variant in group.variants:
            runs = [r for r in group.runs if r.variant == variant]
            lags = sorted({r.lag for r in runs})
            assert lags == settings["lags"][: len(lags)], variant  # shortest first, no gaps
            for lag in lags:
                assert sorted(r.seed for r in runs if r.lag == lag) == settings["seeds"]
            at_chance = [lag for lag in lags if horizon.at_chance(group.runs, variant, lag)]
            if settings.get("until_chance"):
                assert at_chance == [lags[-1]], (variant, at_chance)  # stopped at the first
            else:
                assert lags == settings["lags"], variant  # every lag of the grid


def _fake_grid(monkeypatch):
    calls = []
    monkeypatch.setattr(horizon, "_run_args", lambda w: calls.append(w) or _fake(*w))
    return calls


def _tiny(*variants):
    return ["--variants", *variants, "--lags", "2", "5", "--seeds", "0", "--jobs", "1"]


def test_recorded_files_merge_into_one_with_every_groups_provenance_unchanged(
    tmp_path, monkeypatch
):
    calls = _fake_grid(monkeypatch)
    a, b, merged = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "m.json"
    assert horizon.main(["--out", str(a), *_tiny("xavier-tanh")]) == 0
    assert horizon.main(["--out", str(b), *_tiny("gru", "lstm-f1")]) == 0
    ran = len(calls)
    assert horizon.main(["--merge-into", str(merged), "--add", str(a), str(b)]) == 0
    assert len(calls) == ran  # merging runs nothing
    stored = json.loads(merged.read_text())
    assert stored["groups"] == [json.loads(a.read_text()), json.loads(b.read_text())]
    own = horizon_results.load_groups(merged)[0]
    (step,) = own["merges"]
    assert step["added"] == [["xavier-tanh"], ["gru", "lstm-f1"]] and step["replaced"] == []
    assert step["command"] == f"python -m rnnnum.horizon --merge-into {merged} --add {a} {b}"
    header, runs = horizon.load_results(merged, ("lstm-f1", "gru"))
    assert header == {k: v for k, v in json.loads(b.read_text()).items() if k != "runs"}
    assert {r.variant for r in runs} == {"gru", "lstm-f1"}
    with pytest.raises(horizon_results.MergeError, match="holds 2 groups"):
        horizon.load_results(merged)


def test_a_run_replaces_its_own_group_and_keeps_the_others(tmp_path, monkeypatch):
    _fake_grid(monkeypatch)
    merged = tmp_path / "m.json"
    assert horizon.main(["--merge-into", str(merged), *_tiny("xavier-tanh")]) == 0
    assert horizon.main(["--merge-into", str(merged), *_tiny("gru")]) == 0
    first = horizon_results.load_groups(merged)[1]
    assert horizon.main(["--merge-into", str(merged), *_tiny("xavier-tanh"), "--lags", "2"]) == 0
    own, groups = horizon_results.load_groups(merged)
    assert [g.variants for g in groups] == [("xavier-tanh",), ("gru",)]
    assert groups[1] == first[1] and groups[0].settings["lags"] == [2]
    assert [m["added"] for m in own["merges"]] == [[["xavier-tanh"]], [["gru"]], []]
    assert own["merges"][-1]["replaced"] == [["xavier-tanh"]]


def test_a_merge_of_another_design_or_of_overlapping_networks_is_refused(tmp_path, monkeypatch):
    calls = _fake_grid(monkeypatch)
    merged, other = tmp_path / "m.json", tmp_path / "o.json"
    assert horizon.main(["--merge-into", str(merged), *_tiny("gru", "lstm-f1")]) == 0
    before = merged.read_text()
    calls.clear()
    with pytest.raises(SystemExit, match="overlap the group gru, lstm-f1 without being the same"):
        horizon.main(["--merge-into", str(merged), *_tiny("gru")])
    assert calls == []  # refused before training anything
    assert horizon.main(["--out", str(other), *_tiny("xavier-tanh")]) == 0
    data = json.loads(other.read_text())
    data["settings"]["solved"] = 0.8
    other.write_text(json.dumps(data))
    with pytest.raises(SystemExit, match=r"other settings .*\(solved differ\)"):
        horizon.main(["--merge-into", str(merged), "--add", str(other)])
    assert merged.read_text() == before  # nothing written
