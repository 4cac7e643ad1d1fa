"""Hypothesis sweep over cell (LSTM, GRU after, GRU before), shapes, length, loss, states and seed.

Under CI the `ci` profile (tests/conftest.py) derandomizes Hypothesis; each example's seed
is recorded with `note`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

import rnnnum

from problems import GATED, Problem, assert_same, make_gated_problem


@st.composite
def problems(draw: st.DrawFn) -> tuple[Problem, int]:
    seed = draw(st.integers(0, 2**32 - 1))
    cell = draw(st.sampled_from(GATED))
    problem = make_gated_problem(
        np.random.default_rng(seed),
        cell,
        N=draw(st.integers(1, 3)),
        T=draw(st.integers(1, 6)),
        D=draw(st.integers(1, 4)),
        H=draw(st.integers(1, 4)),
        V=draw(st.integers(1, 4)),
        loss=draw(st.sampled_from(tuple(rnnnum.LOSSES))),
        nonzero_h0=draw(st.booleans()),
    )
    states = "random" if problem.h0 is not None else "zero"
    note(
        f"seed={seed}, cell={cell}, X.shape={problem.X.shape}, H={problem.params.H}, "
        f"V={problem.params.V}, loss={problem.loss}, states={states}"
    )
    return problem, seed


@given(problems())
def test_bptt_agrees_with_finite_differences(drawn):
    problem, seed = drawn
    grads = rnnnum.bptt(problem.params, problem.forward())
    checks = rnnnum.directional_checks(
        problem.params, problem.X, problem.targets, grads, np.random.default_rng(seed),
        **problem.kwargs,
    )  # fmt: skip
    failed = [str(c) for c in checks if not c.ok]
    assert not failed, "\n".join(failed)


@given(problems(), st.integers(1, 7), st.floats(1e-3, 10.0))
def test_components_norms_truncation_and_clipping_agree(drawn, window, threshold):
    problem, _ = drawn
    params = problem.params
    cache = problem.forward()
    grads = rnnnum.bptt(params, cache)
    norms = rnnnum.all_component_norms(params, cache)
    truncated = rnnnum.truncated_bptt(params, cache, window)
    T = cache.T
    distance = np.subtract.outer(np.arange(T), np.arange(T))
    for name in params.gradient_names:
        parts = rnnnum.components(params, cache, name)
        assert_same(parts.total(), getattr(grads, name), f"sum of components of {name}")
        assert_same(norms[name], parts.norms(), f"norms-only variant for {name}")
        keep = ((distance >= 0) & (distance < window)).reshape(T, T, *[1] * (parts.terms.ndim - 2))
        kept = rnnnum.Components(name, parts.terms * keep).total()
        assert_same(getattr(truncated, name), kept, f"truncated ({window}) for {name}")
    clipped = rnnnum.clip_by_norm(grads, threshold)
    flat = np.concatenate([g.ravel() for g in grads.parameters().values()])
    norm = np.linalg.norm(flat)  # zero with V = 1 under cross-entropy: nothing to learn
    scale = threshold / norm if norm > threshold else 1.0
    for name in params.param_names:
        np.testing.assert_allclose(getattr(clipped, name), scale * getattr(grads, name), rtol=1e-12)
    np.testing.assert_array_equal(clipped.X, grads.X)  # only the parameters are clipped
