"""Initialisers: the property each one promises, checked in closed form or statistically."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

#: Relative error allowed for a sample variance over >= 40 000 entries: its standard
#: error is sqrt(2/n) ~ 0.7%, so 3% is over four standard errors (fixed seed anyway).
VARIANCE_RTOL = 0.03


@pytest.mark.parametrize("kind", sorted(rnnnum.INITIALISERS))
def test_shapes_zero_biases_and_reproducibility(kind):
    options = {"sigma_max": 0.9} if kind == "spectral" else {}
    a = rnnnum.init_params(kind, 3, 5, 7, np.random.default_rng(1), **options)
    b = rnnnum.init_params(kind, 3, 5, 7, np.random.default_rng(1), **options)
    assert (a.D, a.H, a.V) == (3, 5, 7)
    assert a.same_as(b)
    assert np.all(a.bh == 0) and np.all(a.by == 0)


@pytest.mark.parametrize("gain", [0.5, 1.0, 1.3])
def test_orthogonal_recurrent_matrix_has_all_singular_values_equal_to_gain(rng, gain):
    p = rnnnum.init_orthogonal(2, 8, 2, rng, gain=gain)
    np.testing.assert_allclose(p.Whh.T @ p.Whh, gain**2 * np.eye(8), rtol=0, atol=1e-14)


@pytest.mark.parametrize("sigma_max", [0.5, 1.0, 4.0])
def test_spectral_recurrent_matrix_has_the_requested_largest_singular_value(rng, sigma_max):
    p = rnnnum.init_spectral(2, 16, 2, rng, sigma_max=sigma_max)
    s = np.linalg.svd(p.Whh, compute_uv=False)
    assert s[0] == pytest.approx(sigma_max, rel=1e-13)
    assert s[-1] < 0.5 * sigma_max  # the other singular values stay spread out


def test_xavier_variance_is_two_over_fan_in_plus_fan_out(rng):
    for distribution in ("uniform", "normal"):
        p = rnnnum.init_xavier(100, 400, 300, rng, distribution=distribution)
        for W, fan_in, fan_out in ((p.Wxh, 100, 400), (p.Whh, 400, 400), (p.Wyh, 400, 300)):
            assert W.var() == pytest.approx(2 / (fan_in + fan_out), rel=VARIANCE_RTOL)
    p = rnnnum.init_xavier(100, 400, 300, rng, distribution="uniform")
    assert np.abs(p.Wxh).max() <= np.sqrt(6 / 500)


def test_normal_scale(rng):
    p = rnnnum.init_normal(50, 200, 50, rng, scale=0.05)
    assert p.Whh.std() == pytest.approx(0.05, rel=VARIANCE_RTOL)


def test_orthogonal_matrix_is_orthogonal(rng):
    Q = rnnnum.orthogonal_matrix(12, rng)
    np.testing.assert_allclose(Q @ Q.T, np.eye(12), rtol=0, atol=1e-14)
