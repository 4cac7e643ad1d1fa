"""The gated cells' laboratory, pinned to closed forms and to independent computations.

- the cell-state path: the forget gates of the cache multiplied out here, the per-unit
  decay rate equal to the mean of log f, the bound prod f < 1, the max >= geometric
  mean inequality between the norm and the mean log f, and the curves at distance T
  against central differences of the forward pass;
- the general shares: equal to `gradient_shares` for the vanilla cell (a different
  route: formed components against the Gram identity), the gate blocks adding up to
  the stacked array's norms;
- the GRU's resets: the same network when r = 1 everywhere, different otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum
from rnnnum import lab
from rnnnum.errors import CellMismatchError, OutOfRangeError, UnknownChoiceError

#: Products of at most T = 30 factors in a different order than rnnnum's, and a median
#: of the same numbers: a few ulps each.
PRODUCT_RTOL = 1e-12
#: log of a product of 30 factors against the sum of their logs: ~30 roundings of ~1e-16.
LOG_ATOL = 1e-13
#: Central differences with step 1e-6 of a smooth map over at most 30 steps: truncation
#: error ~ step^2 times third derivatives (~1e-12 relative), rounding ~ 1e-16 / 1e-6 =
#: 1e-10 absolute per entry, ~3e-10 in the norm of an 8 x 8 matrix, times the growth of
#: the exploding case (~10). So a relative 1e-7 or an absolute 1e-8, whichever is larger:
#: still 1e-2 of the smallest norm compared here (the vanilla product, ~1e-6).
FD_STEP, FD_RTOL, FD_ATOL = 1e-6, 1e-7, 1e-8
#: The gradient-shares of the vanilla cell by two routes (formed components against the
#: Gram identity ||x||^2 ||delta||^2): rounding of sums of T H terms, ~1e-14 relative.
SHARES_RTOL = 1e-10
#: The two resets with r = 1 exactly: the same arithmetic except h W_h computed as one
#: (H, 3H) product ("after") or as (H, 2H) and (H, H) products ("before"): BLAS may sum
#: in another order, so a few ulps per step, compounded over T = 20 steps.
RESET_ATOL = 1e-13
#: How much the norm's fitted decay may differ from the slowest unit's mean log f (per
#: step): the norm follows the slowest unit only asymptotically and the fit spans short
#: distances too; here (T = 30, H = 8, 2 seeds) they differ by <= 0.021 per step, at the
#: site's size (T = 60, H = 16, 5 seeds) by <= 0.016. Not asserted for the exploding case,
#: whose large W_h saturates some forget gates and leaves the slowest unit ahead of the
#: others only at longer distances (0.045 here, 0.013 at the site's size); the exact
#: bounds of the same test hold for it too.
SLOWEST_UNIT_ATOL = 0.05

T, H = 30, 8
SEEDS = (2013, 2014)


@pytest.fixture(scope="module")
def regimes() -> dict[str, lab.CellPathCurves]:
    return lab.lstm_regimes(T=T, H=H, seeds=SEEDS)


def _gates(seed: int, **options) -> np.ndarray:
    _, _, _, cache = lab.gated_problem("lstm", T, H=H, seed=seed, **options)
    return cache.f[0]  # (T, H)


def _cell_path_by_distance(fs: list[np.ndarray]) -> np.ndarray:
    """Median over pairs (i, k) and seeds of max_j prod_{t=k+1}^{i} f_{t,j}, by explicit loops."""
    out = []
    for d in range(T + 1):
        values = [
            np.max(np.prod(f[k : k + d], axis=0)) for f in fs for k in range(T + 1 - d)
        ]  # f[t-1] is step t: steps k+1..k+d
        out.append(np.median(values))
    return np.array(out)


@pytest.mark.parametrize("key", list(lab.LSTM_REGIMES))
def test_the_cell_path_is_the_product_of_the_caches_forget_gates(regimes, key):
    options = lab.LSTM_REGIMES[key][1]
    fs = [_gates(seed, **options) for seed in SEEDS]
    np.testing.assert_allclose(
        regimes[key].cell_path, _cell_path_by_distance(fs), rtol=PRODUCT_RTOL
    )
    # the per-unit decay over the whole sequence is the mean of log f, exactly
    expected = np.stack([np.log(f).mean(axis=0) for f in fs])  # (S, H)
    np.testing.assert_allclose(regimes[key].unit_rates, expected, rtol=0, atol=LOG_ATOL)
    assert regimes[key].mean_log_f == pytest.approx(np.mean([np.log(f).mean() for f in fs]))


@pytest.mark.parametrize("key", list(lab.LSTM_REGIMES))
def test_the_cell_path_never_exceeds_one_and_decays_no_faster_than_the_mean_log_f(regimes, key):
    c = regimes[key]
    fs = [_gates(seed, **lab.LSTM_REGIMES[key][1]) for seed in SEEDS]
    assert 0 < c.max_cell_path < 1  # every f in (0, 1): a product of them is below 1
    max_f = max(float(f.max()) for f in fs)
    d = np.arange(T + 1)
    assert np.all(c.cell_path <= max_f**d * (1 + PRODUCT_RTOL))  # each factor <= max f
    # max_j prod f_j >= exp(mean_j log prod f_j) pair by pair, so also for the medians
    geometric = [
        np.median([np.exp(np.log(f[k : k + n]).sum(axis=0).mean()) for f in fs
                   for k in range(T + 1 - n)])
        for n in d
    ]  # fmt: skip
    assert np.all(c.cell_path >= np.array(geometric) * (1 - PRODUCT_RTOL))
    if key != "exploding":  # there W_h x 3 spreads the units' rates: see SLOWEST_UNIT_ATOL
        assert c.rates["cell_path"] == pytest.approx(c.slowest_unit_rate, abs=SLOWEST_UNIT_ATOL)


def _fd_jacobian(params, X, targets, state: str, of: str) -> np.ndarray:
    """d(of)_T/d(state)_0 (H, H) by central differences of `rnnnum.forward` from zero states."""
    J = np.zeros((H, H))
    zero = np.zeros((1, H))
    for j in range(H):
        e = np.zeros((1, H))
        e[0, j] = FD_STEP
        outs = []
        for sign in (1, -1):
            start = {"h0": zero, "c0": zero, f"{state}0": sign * e}
            cache = rnnnum.forward(params, X, targets, **start)
            outs.append((cache.c if of == "c" else cache.h)[0, -1])
        J[j] = (outs[0] - outs[1]) / (2 * FD_STEP)  # row j: perturbation of unit j
    return J


@pytest.mark.parametrize("key", ["bias1", "exploding"])
def test_the_curves_at_distance_T_match_central_differences_of_the_forward_pass(key):
    seed, options = SEEDS[0], lab.LSTM_REGIMES[key][1]
    curves = lab.cell_path_curves(T=T, H=H, seeds=(seed,), **options)  # one pair at d = T
    params, X, targets, cache = lab.gated_problem("lstm", T, H=H, seed=seed, **options)
    for name, state, of in (("cell_cell", "c", "c"), ("hidden", "h", "h")):
        fd = np.linalg.norm(_fd_jacobian(params, X, targets, state, of), 2)
        assert getattr(curves, name)[T] == pytest.approx(fd, rel=FD_RTOL, abs=FD_ATOL), name
    assert curves.cell_path[T] == pytest.approx(np.max(np.prod(cache.f[0], axis=0)))
    v_params, vX, v_targets, _ = lab.problem(T, H=H, seed=seed)
    J = np.zeros((H, H))
    for j in range(H):
        e = np.zeros((1, H))
        e[0, j] = FD_STEP
        hp, hm = (rnnnum.forward(v_params, vX, v_targets, h0=s * e).h[0, -1] for s in (1, -1))
        J[j] = (hp - hm) / (2 * FD_STEP)
    assert curves.vanilla[T] == pytest.approx(np.linalg.norm(J, 2), rel=FD_RTOL, abs=FD_ATOL)


def test_closing_gates_vanish_and_large_recurrent_weights_explode_beside_a_bounded_path(regimes):
    rows = {row.key: row for row in lab.regime_table(regimes, distance=10)}
    rate = {key: regimes[key].rates["cell_path"] for key in regimes}
    assert rate["closing"] < rate["bias0"] < rate["bias1"] < 0
    assert rows["closing"].cell_cell < rows["bias0"].cell_cell < rows["bias1"].cell_cell < 1
    exploding = regimes["exploding"]
    assert rows["exploding"].grows and exploding.max_cell_cell > 1 > exploding.max_cell_path
    assert not any(rows[k].grows for k in ("bias0", "bias1", "closing"))
    with pytest.raises(OutOfRangeError, match="at most the sequence length"):
        lab.regime_table(regimes, distance=T + 1)


def test_general_shares_equal_gradient_shares_for_the_vanilla_cell():
    params, _, _, cache = lab.problem(40, H=8, seed=2013)
    ours, theirs = lab.cell_shares(params, cache, "Wxh"), lab.gradient_shares(params, cache)
    for name in ("norms", "share", "by_distance"):
        np.testing.assert_allclose(
            getattr(ours, name), getattr(theirs, name), rtol=SHARES_RTOL, atol=0, err_msg=name
        )
    with pytest.raises(CellMismatchError, match="no gates"):
        lab.cell_shares(params, cache, "Wxh", gate="f")


@pytest.mark.parametrize("cell", lab.GATED_CELLS)
def test_gate_blocks_add_up_to_the_stacked_norms_of_component_norms(cell):
    params, _, _, cache = lab.gated_problem(cell, 20, H=6, seed=2014)
    stacked = lab.cell_shares(params, cache, "Wx")
    np.testing.assert_allclose(
        stacked.norms, rnnnum.component_norms(params, cache, "Wx"), rtol=SHARES_RTOL, atol=1e-300
    )
    blocks = [lab.cell_shares(params, cache, "Wx", gate=g).norms for g in params.gates]
    np.testing.assert_allclose(
        np.sqrt(sum(b**2 for b in blocks)), stacked.norms, rtol=SHARES_RTOL, atol=1e-300
    )
    np.testing.assert_allclose(stacked.share.sum(axis=1), 1.0, rtol=SHARES_RTOL)
    with pytest.raises(UnknownChoiceError):
        lab.cell_shares(params, cache, "Wx", gate="q")
    with pytest.raises(CellMismatchError, match="no gate blocks"):
        lab.cell_shares(params, cache, "Wyh", gate=params.gates[0])


def test_far_share_in_closed_form():
    share = np.array([[1.0, 0, 0], [0.25, 0.75, 0], [0.1, 0.3, 0.6]])
    shares = lab.Shares(norms=share, share=share, by_distance=np.zeros(3))
    assert lab.far_share(shares, 1) == pytest.approx((0.25 + (0.1 + 0.3)) / 2)
    assert lab.far_share(shares, 2) == pytest.approx(0.1)
    with pytest.raises(OutOfRangeError, match="below the sequence length"):
        lab.far_share(shares, 3)


def test_shares_beside_reads_the_same_sequence_for_every_cell():
    rows = lab.shares_beside(T=24, H=6)
    assert set(rows) == set(lab.SHARE_CASES)
    X = dict.fromkeys(rows)
    for key, (_, cell, options) in lab.SHARE_CASES.items():
        maker = (
            lab.problem
            if cell == "vanilla"
            else lambda *a, c=cell, **k: lab.gated_problem(c, *a, **k)
        )
        X[key] = maker(24, H=6, seed=2013, **options)[1]
        r = rows[key]
        assert r.far[10] >= r.far[20] >= 0 and 0 < r.own < 1
        assert r.far[20] == pytest.approx(lab.far_share(r.shares, 20))
    first = X["vanilla"]
    assert all(np.array_equal(x, first) for x in X.values())
    with pytest.raises(UnknownChoiceError):
        lab.gated_problem("rnn", 5)


def test_the_two_resets_are_one_network_when_the_reset_gate_is_open():
    same = lab.reset_difference(T=20, H=6, reset_bias=lab.OPEN_RESET_BIAS)
    assert same.max_closed == 0.0 and same.mean_r == 1.0  # r = 1 exactly
    assert np.all(same.step_term <= RESET_ATOL)
    assert same.state <= RESET_ATOL and same.jacobian <= RESET_ATOL
    assert same.gradient <= RESET_ATOL
    assert all(v <= RESET_ATOL for v in same.gradient_by_name.values())


@pytest.mark.parametrize("reset_bias", [None, 2.0, -2.0])
def test_the_two_resets_differ_when_the_reset_gate_is_not_open(reset_bias):
    diff = lab.reset_difference(T=20, H=6, reset_bias=reset_bias)
    assert diff.max_closed > 0.1
    # the one-step term moves first; states, Jacobians and gradients follow
    assert np.median(diff.step_term) > 0.01
    assert min(diff.state, diff.jacobian, diff.gradient) > 0.01
    assert np.all(diff.state_by_step[1:] > 0)
