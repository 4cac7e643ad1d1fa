"""rnnnum._terms: the norms of the (loss, step) terms, against the definitions.

`row_norms` against ``numpy.linalg.norm`` in range and against exact powers of ten at
the extremes where a plain sum of squares over- or underflows; `outer_norms` against
the norm of the product it avoids forming, on both of its routes (N < P and N >= P);
`readout_terms` against the read-out gradient written per step.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnnum._terms import outer_norms, readout_terms, row_norms

from problems import make_problem

#: Two float64 computations of one norm in different orders: a few roundings.
RTOL = 1e-13


def test_row_norms_are_frobenius_norms(rng: np.random.Generator) -> None:
    S = rng.standard_normal((5, 3, 4))
    expected = [np.linalg.norm(S[j]) for j in range(5)]
    np.testing.assert_allclose(row_norms(S), expected, rtol=RTOL, atol=0)


def test_row_norms_survive_overflow_and_underflow_of_the_squares() -> None:
    S = np.array([[3e200, 4e200], [3e-200, 4e-200], [0.0, 0.0], [np.inf, 1.0]])
    with np.errstate(over="ignore", under="ignore"):
        out = row_norms(S)
    np.testing.assert_allclose(out[:3], [5e200, 5e-200, 0.0], rtol=RTOL, atol=0)
    assert out[3] == np.inf


@pytest.mark.parametrize(("N", "P"), [(1, 3), (2, 5), (4, 3)])  # one example; Gram; product
def test_outer_norms_are_the_norms_of_the_products(
    N: int, P: int, rng: np.random.Generator
) -> None:
    A = rng.standard_normal((N, P))
    S = rng.standard_normal((6, N, 3))
    expected = [np.linalg.norm(A.T @ S[j]) for j in range(6)]
    got = outer_norms(A, float(np.linalg.norm(A)), S, row_norms(S))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)


def test_readout_terms_are_h_i_transposed_times_the_output_signal(
    rng: np.random.Generator,
) -> None:
    problem = make_problem(rng, N=2, T=3)
    cache = problem.forward()
    onehot = np.eye(problem.params.V)[problem.targets]  # (N, T, V)
    dY = cache.p - onehot  # ∂L_i/∂y_i for cross-entropy, by position
    expected = np.stack([cache.h[:, t].T @ dY[:, t] for t in range(3)])
    np.testing.assert_allclose(readout_terms("Wyh", cache), expected, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(readout_terms("by", cache), dY.sum(axis=0), rtol=RTOL, atol=RTOL)
