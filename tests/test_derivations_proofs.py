"""Proofs (a) sum = sympy.diff and (b) loop = sum: exact for T <= 3, numeric beyond."""

from __future__ import annotations

import pytest
import vanilla_reference.terms as terms_module
from vanilla_reference.proofs import (
    check_loop_equals_sum,
    check_sum_equals_derivative,
    prove_loop_equals_sum,
    prove_sum_equals_diff,
)

from derivations import ModelSpec
from derivations.core.notation import ACTIVATION_NAMES, LOSS_NAMES

PIECEWISE = ("relu", "leaky_relu")


def _exact_spec(T: int, activation: str, loss: str) -> ModelSpec:
    # ReLU-family proofs run once per activation pattern (2^(T H) of them): H = 1 at T = 3
    H = 1 if activation in PIECEWISE and T == 3 else 2
    return ModelSpec(T=T, activation=activation, loss=loss, D=1, H=H, V=2)


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("T", [1, 2, 3])
def test_expanded_sum_equals_sympy_diff_exactly(T: int, activation: str, loss: str) -> None:
    proofs = prove_sum_equals_diff(_exact_spec(T, activation, loss))
    assert len(proofs) == 7
    for proof in proofs:
        assert proof.holds, (proof.wrt, proof.detail)
        assert proof.entries > 0


@pytest.mark.parametrize("T", [1, 2, 3, 4])
def test_loop_equals_expanded_sum_exactly(T: int) -> None:
    # g_t and f'(a_t) are free symbols here, so one activation/loss proves them all
    for proof in prove_loop_equals_sum(ModelSpec(T=T, D=2, H=2, V=3)):
        assert proof.holds, (proof.wrt, proof.detail)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("T", [5, 8])
def test_larger_T_numerically(T: int, activation: str, seed: int) -> None:
    for loss in LOSS_NAMES:
        spec = ModelSpec(T=T, activation=activation, loss=loss)
        for check in (
            *check_sum_equals_derivative(spec, seed=seed),
            *check_loop_equals_sum(spec, seed=seed),
        ):
            assert check.holds, (check.claim, check.wrt, check.max_error)


def _drop_last_diag(i: int, k: int) -> tuple[terms_module.Factor, ...]:
    return _original(i, k)[:-1] if i > k else _original(i, k)


_original = terms_module.signal_factors


def test_a_dropped_factor_fails_both_proofs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proofs can fail: a term missing its last diag(f') is caught exactly and numerically."""
    monkeypatch.setattr(terms_module, "signal_factors", _drop_last_diag)
    spec = ModelSpec(T=2, D=1, H=2, V=2)
    assert not all(p.holds for p in prove_sum_equals_diff(spec, ("Wxh",)))
    assert not all(p.holds for p in prove_loop_equals_sum(spec, ("Wxh",)))
    bigger = ModelSpec(T=5)
    assert not all(c.holds for c in check_sum_equals_derivative(bigger, names=("Wxh",)))
    assert not all(c.holds for c in check_loop_equals_sum(bigger, names=("Wxh",)))
