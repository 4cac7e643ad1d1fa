"""rnnnum.cells: the vanilla training cell against rnnnum.forward and finite differences.

- Its states and one-step Jacobians against `rnnnum.forward` and `rnnnum.step_jacobians`
  (a separate implementation).
- Each one-step Jacobian against central differences of one step written here.
- The residual cell's Jacobian is the vanilla one plus the identity.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import rnnnum

#: Same budget as rnnnum.gradcheck: central differences with h = 1e-6 on O(1) values
#: err by ~1e-10 (truncation h^2 f''' plus rounding eps/h); a wrong term errs by O(1e-2).
FD_RTOL, FD_ATOL = rnnnum.FD_RTOL, rnnnum.FD_ATOL


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
def test_vanilla_cell_states_match_rnnnum_forward(rng, activation):
    cell = rnnnum.VanillaCell(activation, "xavier")
    params = cell.init(3, 4, rng)
    X = rng.standard_normal((2, 7, 3))
    h_last, tape = cell.forward(params, X)
    full = rnnnum.RNNParams(**params, Wyh=np.zeros((4, 2)), by=np.zeros(2))
    cache = rnnnum.forward(full, X, np.zeros((2, 7), dtype=int), activation=activation)
    np.testing.assert_array_equal(tape.h[:, 1:], cache.h)
    np.testing.assert_array_equal(h_last, cache.h[:, -1])
    np.testing.assert_array_equal(
        cell.step_jacobians(params, tape), rnnnum.step_jacobians(full, cache)
    )


@pytest.mark.parametrize("residual", [False, True])
def test_step_jacobians_match_finite_differences_of_one_step(rng, residual):
    cell = rnnnum.VanillaCell("tanh", "xavier", residual=residual)
    params = cell.init(3, 4, rng)
    X = rng.standard_normal((1, 5, 3))
    _, tape = cell.forward(params, X)
    M = cell.step_jacobians(params, tape)  # (1, T, H, H)
    t = 3  # dh_3/dh_2: rerun step 3 from perturbed copies of h_2

    def step(h_prev):
        a = X[:, t - 1] @ params["Wxh"] + h_prev @ params["Whh"] + params["bh"]
        return (h_prev if residual else 0) + np.tanh(a)

    h_prev = tape.h[:, t - 1]
    numeric = np.stack(
        [
            ((step(h_prev + rnnnum.FD_STEP * e) - step(h_prev - rnnnum.FD_STEP * e)) / 2e-6)[0]
            for e in np.eye(4)
        ]
    )  # row j: d h_t / d h_{t-1, j}, the row convention
    np.testing.assert_allclose(M[0, t - 1], numeric, rtol=FD_RTOL, atol=FD_ATOL)


def test_residual_jacobian_is_identity_plus_the_vanilla_one(rng):
    plain = rnnnum.VanillaCell("tanh", "xavier")
    params = plain.init(2, 3, rng)
    X = rng.standard_normal((1, 4, 2))
    residual = dataclasses.replace(plain, residual=True)
    _, tape = residual.forward(params, X)
    np.testing.assert_array_equal(
        residual.step_jacobians(params, tape), plain.step_jacobians(params, tape) + np.eye(3)
    )
