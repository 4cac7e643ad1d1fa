"""Hypothesis sweep over shapes, length, activation, loss, initial state and seed.

Under CI the `ci` profile (tests/conftest.py) derandomizes Hypothesis, so a red run
is a real failure and reproduces; each example's seed is recorded with `note`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, note
from hypothesis import strategies as st

import rnnnum

from problems import Problem, assert_same, make_problem

#: Pre-activations closer than this to a ReLU kink make central differences meaningless.
KINK_MARGIN = 100 * rnnnum.FD_STEP


@st.composite
def problems(draw: st.DrawFn) -> tuple[Problem, int]:
    seed = draw(st.integers(0, 2**32 - 1))
    problem = make_problem(
        np.random.default_rng(seed),
        N=draw(st.integers(1, 3)),
        T=draw(st.integers(1, 6)),
        D=draw(st.integers(1, 4)),
        H=draw(st.integers(1, 4)),
        V=draw(st.integers(1, 4)),
        activation=draw(st.sampled_from(tuple(rnnnum.ACTIVATIONS))),
        loss=draw(st.sampled_from(tuple(rnnnum.LOSSES))),
        nonzero_h0=draw(st.booleans()),
    )
    h0 = "random" if problem.h0 is not None else "zero"
    note(
        f"seed={seed}, X.shape={problem.X.shape}, H={problem.params.H}, V={problem.params.V}, "
        f"activation={problem.activation}, loss={problem.loss}, h0={h0}"
    )
    return problem, seed


@given(problems())
def test_bptt_agrees_with_finite_differences(drawn):
    problem, seed = drawn
    cache = problem.forward()
    assume(rnnnum.distance_to_kink(cache) > KINK_MARGIN)
    grads = rnnnum.bptt(problem.params, cache)
    checks = rnnnum.directional_checks(
        problem.params, problem.X, problem.targets, grads, np.random.default_rng(seed),
        **problem.kwargs,
    )  # fmt: skip
    failed = [str(c) for c in checks if not c.ok]
    assert not failed, "\n".join(failed)


@given(problems(), st.integers(1, 7))
def test_components_norms_and_truncation_agree(drawn, window):
    problem, _ = drawn
    cache = problem.forward()
    grads = rnnnum.bptt(problem.params, cache)
    norms = rnnnum.all_component_norms(problem.params, cache)
    truncated = rnnnum.truncated_bptt(problem.params, cache, window)
    T = cache.T
    distance = np.subtract.outer(np.arange(T), np.arange(T))
    for name in rnnnum.GRADIENT_NAMES:
        parts = rnnnum.components(problem.params, cache, name)
        naive = rnnnum.components(problem.params, cache, name, method="jacobian")
        assert_same(parts.total(), getattr(grads, name), f"sum of components of {name}")
        assert_same(norms[name], parts.norms(), f"norms-only variant for {name}")
        assert_same(parts.terms, naive.terms, f"recursion vs Jacobian products for {name}")
        keep = ((distance >= 0) & (distance < window)).reshape(T, T, *[1] * (parts.terms.ndim - 2))
        kept = rnnnum.Components(name, parts.terms * keep).total()
        assert_same(getattr(truncated, name), kept, f"truncated ({window}) for {name}")
