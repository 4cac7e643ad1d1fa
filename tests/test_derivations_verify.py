"""The symbolic gradients and every (i, k) term against rnnnum and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import vanilla_reference.gradients as gradients_module
from hypothesis import given
from hypothesis import strategies as st
from vanilla_reference import lambdify_model, unroll
from vanilla_reference.proofs import random_point
from vanilla_reference.terms import Factor
from vanilla_reference.verify import verify, verify_spec

import rnnnum
from derivations import ModelSpec
from derivations.core.notation import ACTIVATION_NAMES, GRADIENT_NAMES, LOSS_NAMES

#: Two float64 computations of the same loss: a few ulps of |L|.
LOSS_RTOL = 1e-13


def test_full_table_passes_for_every_gradient_activation_loss_and_T() -> None:
    table = verify(range(1, 7))
    assert table.passed, table.text()
    # 7 gradients x 3 checks + 1 Jacobian check, for 5 activations x 2 losses x 6 T
    assert len(table.rows) == (7 * 3 + 1) * 5 * 2 * 6
    summary = {(s.check, s.wrt): s for s in table.summary()}
    assert summary["loop vs finite differences", "Wxh"].cases == 60
    assert "1320 checks, 0 failed: PASSED" in table.text()


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_lambdified_loss_is_rnnnums(activation: str, loss: str, rng: np.random.Generator) -> None:
    spec = ModelSpec(T=4, activation=activation, loss=loss)
    values = random_point(spec, rng)
    ours = lambdify_model(unroll(spec))(values)
    params = rnnnum.RNNParams(**{n: values[n] for n in rnnnum.PARAM_NAMES})
    cache = rnnnum.forward(
        params,
        values["X"][None],
        values["targets"][None],
        h0=values["h0"][None],
        activation=activation,
        loss=loss,
    )
    np.testing.assert_allclose(ours.losses, cache.losses, rtol=LOSS_RTOL, atol=0)


@given(
    T=st.integers(1, 6),
    sizes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    activation=st.sampled_from(ACTIVATION_NAMES),
    loss=st.sampled_from(LOSS_NAMES),
    seed=st.integers(0, 2**32 - 1),
)
def test_sweep_sizes_and_points(
    T: int, sizes: tuple[int, int, int], activation: str, loss: str, seed: int
) -> None:
    D, H, V = sizes
    spec = ModelSpec(T=T, activation=activation, loss=loss, D=D, H=H, V=V)
    rows = verify_spec(spec, seed=seed, finite_differences=False)
    failed = [(r.check, r.wrt, r.max_error) for r in rows if not r.passed]
    assert not failed, (spec, seed, failed)


def test_a_wrong_rule_fails_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    """verify can fail: closing the W_hh chain with h_k instead of h_{k-1} is caught."""
    rule = gradients_module.RULES["Whh"]
    broken = type(rule)(**{**rule.__dict__, "left": lambda i, k: Factor("hT", k)})
    monkeypatch.setitem(gradients_module.RULES, "Whh", broken)
    table = verify(
        range(2, 4),
        activations=("tanh",),
        losses=("mse",),
        names=("Whh",),
        finite_differences=False,
    )
    assert not table.passed
    assert {r.check for r in table.failures} == {"terms vs rnnnum.components"}
    assert "FAILED" in table.text()


def test_gradient_names_cover_rnnnum_fields() -> None:
    assert set(GRADIENT_NAMES) == set(rnnnum.Gradients.__dataclass_fields__)
