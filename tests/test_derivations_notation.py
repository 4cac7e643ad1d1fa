"""derivations.core.notation: the names are rnnnum's, the derivative helpers print the rule,
and the time-index helpers find each step where rnnnum keeps it."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum
from derivations import OutOfRangeError
from derivations.core.notation import (
    ACTIVATION_NAMES,
    GRADIENT_NAMES,
    LOSS_NAMES,
    PARAM_NAMES,
    QUANTITIES,
    entry_latex,
    entry_name,
    local_derivative,
    pair_position,
    step_latex,
    step_position,
    total_derivative,
)

#: rnnnum's forward step against the same step written here: a few roundings
RTOL = 1e-14


def test_names_are_rnnnums() -> None:
    assert PARAM_NAMES == rnnnum.PARAM_NAMES
    assert GRADIENT_NAMES == rnnnum.GRADIENT_NAMES
    assert set(ACTIVATION_NAMES) == set(rnnnum.ACTIVATIONS)
    assert set(LOSS_NAMES) == set(rnnnum.LOSSES)


def test_local_and_total_derivatives_differ_in_their_d() -> None:
    assert local_derivative("L_{t}", "y_{t}") == r"\frac{\partial L_{t}}{\partial y_{t}}"
    assert total_derivative("L", "W_{xh}") == r"\frac{\mathrm{d} L}{\mathrm{d} W_{xh}}"
    assert local_derivative("a", "b", inline=True) == r"\partial a / \partial b"
    assert total_derivative("a", "b", inline=True) == r"\mathrm{d} a / \mathrm{d} b"


def test_quantities_and_entries_print_as_documented() -> None:
    assert step_latex("h", 2) == "h_{2}"
    assert step_latex("Whh") == "W_{hh}"
    assert QUANTITIES["X"].at("t-1") == "x_{t-1}"
    assert entry_name("Whh", 1, 2) == "Whh_1_2"
    assert entry_latex("Whh", 1, 2) == "(W_{hh})_{1,2}"
    assert entry_latex("h", 3, 1) == "h_{3,1}"
    assert entry_latex("d", 2, 1) == "f'(a_{2,1})"
    assert entry_latex("delta", 2, 1) == r"\delta_{2}[1]"  # not delta_{i,k}: a loss and a step


def test_step_position_is_where_rnnnums_caches_keep_the_step(rng: np.random.Generator) -> None:
    D, H, V, T = 2, 3, 4, 3
    params = rnnnum.init_xavier(D, H, V, rng)
    X = rng.standard_normal((1, T, D))
    h0 = rng.standard_normal((1, H))
    cache = rnnnum.forward(params, X, rng.integers(0, V, size=(1, T)), h0=h0)
    h_prev = h0[0]
    for t in range(1, T + 1):  # h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), written here
        h_t = np.tanh(X[0, step_position(t)] @ params.Wxh + h_prev @ params.Whh + params.bh)
        np.testing.assert_allclose(cache.h[0, step_position(t)], h_t, rtol=RTOL, atol=RTOL)
        h_prev = h_t


def test_pair_position_is_where_rnnnums_components_keep_the_pair(
    rng: np.random.Generator,
) -> None:
    D, H, V, T = 2, 3, 4, 3
    params = rnnnum.init_xavier(D, H, V, rng)
    X = rng.standard_normal((1, T, D))
    targets = rng.integers(0, V, size=(1, T))
    cache = rnnnum.forward(params, X, targets)
    terms = rnnnum.components(params, cache, "by").terms  # dL_i/db_y is nonzero for k = i only
    for i in range(1, T + 1):
        p_i = cache.p[0, step_position(i)]
        expected = p_i - np.eye(V)[targets[0, step_position(i)]]  # ∂L_i/∂y_i = p_i - onehot
        np.testing.assert_allclose(terms[pair_position(i, i)], expected, rtol=RTOL, atol=RTOL)
        for k in range(1, T + 1):
            if k != i:
                assert not terms[pair_position(i, k)].any()


def test_step_zero_has_no_position() -> None:
    assert pair_position(3, 1) == (2, 0)
    with pytest.raises(OutOfRangeError, match=r"t=0.*cache\.h0"):
        step_position(0)
