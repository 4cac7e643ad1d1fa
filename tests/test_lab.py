"""The gradient laboratory's experiments, each pinned to an exact law, a bound or a closed form.

The figures on the site are drawn from these functions; these tests pin the
mathematics behind them, not the pictures.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnnnum
from derivations.core.cells import vanilla
from derivations.gradient.sums import cell_pairs
from rnnnum import lab

#: ||(sQ)^n|| = s^n is exact; 40 float64 matrix products and one SVD each err by ~1e-14.
LAW_RTOL = 1e-12
#: The bound is exact math; float64 products and SVDs of 40 factors err by ~1e-14, so a
#: ratio above 1 + 1e-9 would be a real violation.
BOUND_SLACK = 1e-9
#: Norm clipping is one division and one norm: a few ulps.
CLIP_RTOL = 1e-12


@pytest.mark.parametrize("scales", [(0.9, 1.0, 1.1), (0.5, 2.0)])
def test_linear_rnn_norms_are_exactly_s_to_the_distance(scales):
    law = lab.linear_distance_law(scales, T=40, H=6)
    t, k = np.tril_indices(41)
    for j, s in enumerate(scales):
        np.testing.assert_allclose(law.norms[j][t, k], s ** (t - k).astype(float), rtol=LAW_RTOL)
    assert law.max_relative_deviation < LAW_RTOL


@pytest.mark.parametrize(
    ("activation", "sigma"),
    [("tanh", 0.5), ("tanh", 0.99), ("tanh", 1.5), ("sigmoid", 2.0), ("sigmoid", 6.0)],
)
def test_every_jacobian_product_respects_the_gamma_sigma_bound(activation, sigma):
    check = lab.nonlinear_bound(activation, sigma, T=30, H=6)
    assert check.gamma == {"tanh": 1.0, "sigmoid": 0.25}[activation]
    t, k = np.tril_indices(31)
    assert np.all(check.norms[t, k] <= check.bound[t, k] * (1 + BOUND_SLACK))
    assert check.worst_ratio <= 1 + BOUND_SLACK
    if check.gamma * sigma < 1:  # sufficient for vanishing: the bound itself decays
        assert check.norms[30, 0] <= (check.gamma * sigma) ** 30 * (1 + BOUND_SLACK)


def test_above_one_over_gamma_a_linear_network_explodes():
    # sigma > 1/gamma is necessary for exploding, and with gamma = 1 and W = sQ it happens:
    law = lab.linear_distance_law((1.2,), T=30, H=4)
    assert law.norms[0][30, 0] == pytest.approx(1.2**30, rel=LAW_RTOL)


def _upper_triangular_power_norm(a: float, b: float, n: int) -> float:
    """||[[a, b], [0, a]]^n||_2 in closed form: the power is [[a^n, n b a^(n-1)], [0, a^n]]."""
    if n == 0:
        return 1.0
    p, q = a**n, n * b * a ** (n - 1)
    # largest singular value of [[p, q], [0, p]]: sqrt of the largest eigenvalue of M^T M
    trace, det = 2 * p * p + q * q, p**4
    return math.sqrt((trace + math.sqrt(trace * trace - 4 * det)) / 2)


def test_transient_growth_matches_the_closed_form_of_the_powers():
    (a, b), _ = lab.NONNORMAL_W
    result = lab.transient_growth(lab.NONNORMAL_W, n_max=60)
    expected = [_upper_triangular_power_norm(a, b, n) for n in range(61)]
    np.testing.assert_allclose(result.norms, expected, rtol=LAW_RTOL)
    assert result.radius == pytest.approx(a)
    assert result.sigma_max == pytest.approx(_upper_triangular_power_norm(a, b, 1))
    assert result.radius < 1 < result.sigma_max  # the disagreement the page is about
    assert result.peak > 1 and result.norms[result.back_below_one] < 1
    assert result.peak_power == int(np.argmax(expected))


def test_shares_come_from_the_components_and_each_row_sums_to_one():
    params, _, _, cache = lab.problem(25, H=6)
    shares = lab.gradient_shares(params, cache)
    # independent route: form every component, then take norms
    np.testing.assert_allclose(
        shares.norms, rnnnum.components(params, cache, "Wxh").norms(), rtol=1e-12, atol=0
    )
    np.testing.assert_allclose(shares.share.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.triu(shares.share, 1) == 0)
    assert shares.by_distance[0] == pytest.approx(np.mean(np.diagonal(shares.share)))


@pytest.mark.parametrize("rate", [0.5, 0.8, 0.95])
def test_gradient_reach_of_a_geometric_profile_is_the_closed_form(rate):
    T = 200
    norms = np.tril(rate ** np.subtract.outer(np.arange(T), np.arange(T)).astype(float))
    profile = lab.distance_profile(norms)
    np.testing.assert_allclose(profile, rate ** np.arange(T), rtol=1e-12)
    assert lab.gradient_reach(profile) == math.ceil(math.log(0.01) / math.log(rate))


def test_overflow_reaches_the_gradient_before_the_states_and_then_everything():
    limit = int(np.log(np.finfo(np.float64).max) / np.log(3.0))  # 3^T passes the largest float
    rows = lab.overflow_by_length((10, limit, limit + 4), gain=3.0)
    short, edge, beyond = rows
    assert short.warnings == 0 and np.isfinite(short.grad_norm)
    assert np.isfinite(edge.h_max) and np.isinf(edge.grad_norm)  # states finite, gradient not
    assert "gradient dL/dWhh" in edge.first_warning
    assert np.isnan(beyond.loss) and np.isnan(beyond.grad_norm)


def test_clipping_by_norm_keeps_direction_and_by_value_does_not():
    params, _, _, cache = lab.problem(30, H=8, kind="spectral", sigma_max=1.6)
    grads = rnnnum.bptt(params, cache)
    raw = rnnnum.global_norm(grads)
    rows = lab.clipping_table(grads, (1.0, 5.0))
    assert raw > 5.0  # both thresholds are active
    for row in rows:
        if row.how == "by norm":
            assert row.norm_after == pytest.approx(row.threshold, rel=CLIP_RTOL)
            assert row.cosine == pytest.approx(1.0, abs=CLIP_RTOL)
        else:  # some entries exceed both thresholds, so the direction turns, more at 1
            assert row.cosine < 1 - 1e-9
            assert row.cosine < 0.99 or row.threshold == 5.0
    by_value = rnnnum.clip_by_value(grads, 1.0)
    assert max(np.abs(getattr(by_value, n)).max() for n in rnnnum.PARAM_NAMES) <= 1.0


def test_one_unclipped_step_destroys_the_weights_and_a_clipped_one_does_not():
    loss_before, raw_norm, outcomes = lab.exploding_step(learning_rate=0.01, thresholds=(1.0,))
    raw, clipped = outcomes
    assert np.isfinite(loss_before) and np.isfinite(raw_norm)
    assert raw.step_norm == pytest.approx(0.01 * raw_norm, rel=CLIP_RTOL)
    assert not np.isfinite(raw.loss_after) and raw.overflow_step > 0
    assert clipped.step_norm == pytest.approx(0.01, rel=CLIP_RTOL)
    assert np.isfinite(clipped.loss_after) and clipped.overflow_step == 0


def test_vanilla_jacobian_norms_match_rnnnum_jacobian_products():
    T, H, D, seed = 12, 5, 3, 11
    norms = lab.residual_jacobian_norms(T=T, H=H, D=D, seed=seed)
    rng = np.random.default_rng(seed)  # the draws the function makes, in its order
    cell_params = rnnnum.VanillaCell("tanh", "xavier").init(D, H, rng)
    X = rng.standard_normal((1, T, D))
    params = rnnnum.RNNParams(**cell_params, Wyh=np.zeros((H, 2)), by=np.zeros(2))
    cache = rnnnum.forward(params, X, np.zeros((1, T), dtype=int))
    reference = rnnnum.jacobian_products(params, cache).norms[0, T, ::-1]  # d = T - k
    np.testing.assert_allclose(norms["vanilla"], reference, rtol=1e-12)
    assert norms["residual"][0] == norms["vanilla"][0] == 1.0


@pytest.mark.parametrize(("T", "window"), [(4, 1), (6, 3), (10, 4), (5, 5)])
def test_dropped_pairs_are_the_symbolic_terms_with_i_minus_k_at_least_the_window(T, window):
    every = set(cell_pairs(vanilla(), "Wxh", T))  # derivations: the (i, k) of the expanded sum
    expected = {(i, k) for i, k in every if i - k >= window}
    assert set(lab.dropped_pairs(T, window)) == expected
    kept = sum(min(i, window) for i in range(1, T + 1))
    assert len(expected) == T * (T + 1) // 2 - kept


def test_truncation_curve_is_exact_at_full_window_and_drops_what_it_says():
    params, _, _, cache = lab.problem(40, H=8)
    points = lab.truncation_curve(params, cache, (1, 5, 40))
    assert [p.dropped for p in points] == [len(lab.dropped_pairs(40, w)) for w in (1, 5, 40)]
    assert points[-1].dropped == 0
    assert points[-1].cosine == pytest.approx(1.0, abs=1e-14)
    assert points[-1].relative_error < 1e-14
    assert points[0].cosine < points[1].cosine < 1  # tanh/Xavier: far terms are small
