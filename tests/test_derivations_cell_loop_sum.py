"""The loop adds exactly the expanded sum's terms, iteration by iteration, for every cell.

Two independently built programs meet here: the loop (`derivations.gradient.loop`, a reverse
sweep with one carry per state, from the cell's local Jacobians) and the expanded sum
(`derivations.gradient.sums`, routes through the one-step blocks). The proof expands their
difference in the forward program's symbols; it must be exactly zero.
"""

from __future__ import annotations

import pytest

from derivations.check import loop_sum
from derivations.core.cells import load_cell

#: Sizes of the exact proofs: H = 2 so that a transposed block cannot pass (with H = 1
#: every block is 1x1); the gated cells at T = 2 (about 8 s each), the one-layer cells at T = 3.
CASES = [("vanilla", 3), ("residual", 3), ("lstm", 2), ("gru", 2), ("gru-before", 2)]


@pytest.mark.parametrize(("name", "T"), CASES)
def test_each_iteration_adds_exactly_the_terms_with_k_equal_t(name: str, T: int) -> None:
    cell = load_cell(name)
    proofs = loop_sum.prove_cell_loop_equals_sum(cell, T=T, H=2, names=_names(name, cell))
    assert [p.wrt for p in proofs] == list(_names(name, cell) or cell.gradient_names)
    for proof in proofs:
        assert proof.holds, (name, proof.wrt, proof.detail)
        assert proof.entries > 0


def _names(name: str, cell) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The gated cells: one gate's weights, the read-out, X and every initial state (the
    other gates' parameters take the same code path, proven for vanilla and residual)."""
    if name in ("vanilla", "residual"):
        return ()
    gate = "f" if name == "lstm" else "n"
    picked = [n for n in cell.param_names if n.endswith(gate)]
    return (*picked, "Wyh", "by", "X", *(f"{s}0" for s in cell.state_names))


def test_a_loop_map_shifted_by_one_step_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    real = loop_sum.cell_loop_map

    def shifted(cell, wrt, T):  # type: ignore[no-untyped-def]
        out = real(cell, wrt, T)
        return {t: out.get(t - 1, []) if t > 1 else out[1] for t in out}

    monkeypatch.setattr(loop_sum, "cell_loop_map", shifted)
    proofs = loop_sum.prove_cell_loop_equals_sum(load_cell("vanilla"), T=3, names=("Wxh",))
    assert not proofs[0].holds
