"""The expanded sums as LaTeX and JSON: the vanilla page byte for byte, block matrices."""

from __future__ import annotations

import json

import pytest
from vanilla_reference.render import written_out_latex

from derivations import ModelSpec
from derivations.core.cells import BUILTIN_CELLS, gru, lstm, vanilla
from derivations.gradient.sums import cell_expanded_sum
from derivations.render.sums import (
    block_matrix_latex,
    cell_compact_latex,
    cell_derivation_json,
    cell_written_out_latex,
    gradient_lhs,
    written_groups,
)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_vanilla_written_out_is_todays_page_byte_for_byte(activation: str, loss: str) -> None:
    cell = vanilla(activation)
    for steps in range(1, 5):
        spec = ModelSpec(T=steps, activation=activation, loss=loss)
        for wrt in cell.gradient_names:
            assert cell_written_out_latex(cell, wrt, steps) == written_out_latex(wrt, spec), (
                wrt,
                steps,
            )


@pytest.mark.parametrize("key", sorted(BUILTIN_CELLS))
def test_each_written_equation_holds_exactly_its_terms(key: str) -> None:
    """X: one equation per x_k with the terms (i, k) of that k alone; else one equation."""
    cell = BUILTIN_CELLS[key]()
    for wrt in ("X", cell.param_names[0], "Wyh"):
        terms = cell_expanded_sum(cell, wrt, 3)
        groups = written_groups(cell, wrt, terms)
        lhs = [left for left, _ in groups]
        assert len(set(lhs)) == len(lhs), (key, wrt, lhs)
        assert sorted((t.loss, t.step) for _, g in groups for t in g) == sorted(
            (t.loss, t.step) for t in terms
        )
        if wrt == "X":
            assert lhs == [gradient_lhs(cell, "X", str(k)) for k in (1, 2, 3)]
            for k, (_, group) in enumerate(groups, start=1):
                assert [(t.loss, t.step) for t in group] == [(i, k) for i in range(k, 4)]
        else:
            assert lhs == [gradient_lhs(cell, wrt)]


def test_lstm_block_matrix_and_compact_form() -> None:
    matrix, where = block_matrix_latex(lstm(), "t")
    assert matrix.startswith(r"\begin{pmatrix}") and matrix.endswith(r"\end{pmatrix}")
    rows = matrix.removeprefix(r"\begin{pmatrix} ").removesuffix(r" \end{pmatrix}").split(r" \\ ")
    assert [len(row.split(" & ")) for row in rows] == [2, 2]  # rows h_{t-1}, c_{t-1}
    assert rows[1].split(" & ")[1] == r"\operatorname{diag}(f_{t})"  # dc_t/dc_{t-1}, inline
    named = [row.split(" &= ")[0] for row in where]
    assert named == [
        r"\frac{\mathrm{d} h_{t}}{\mathrm{d} h_{t-1}}",
        r"\frac{\mathrm{d} c_{t}}{\mathrm{d} h_{t-1}}",
        r"\frac{\partial h_{t}}{\partial c_{t-1}}",  # h_{t-1} held fixed
    ]
    assert rows[0].split(" & ") == named[:2]
    assert block_matrix_latex(lstm(), 2, "bmatrix")[0].startswith(r"\begin{bmatrix}")
    compact = cell_compact_latex(lstm(), "Wxf", 50)
    assert r"\sum_{i=1}^{50}\sum_{k=1}^{i} x_{k}^\top" in compact
    assert r"\begin{pmatrix} I & 0 \end{pmatrix}\big(J_{k+1} \cdots J_{i}\big)^{\!\top}" in compact
    assert matrix in compact and all(row in compact for row in where)
    assert compact.count(r"\frac{\mathrm{d} s_{k}}{\mathrm{d} a^{f}_{k}}") == 2  # used, defined
    gru_compact = cell_compact_latex(gru(), "Whn", 4)
    assert r"J_{t} &= \frac{\mathrm{d} h_{t}}{\mathrm{d} h_{t-1}} = \operatorname{diag}(z_{t})" in (
        gru_compact
    )
    assert (
        r"- W_{hz}\,\operatorname{diag}(z_{t} \odot (1 - z_{t}))\,\operatorname{diag}(n_{t})"
        in (gru_compact)
    )


def test_json_of_a_derivation() -> None:
    out = cell_derivation_json(gru(), "bhz", 2, "mse")
    assert json.loads(json.dumps(out)) == out
    assert (out["cell"], out["param"], out["steps"], out["loss"]) == ("gru", "bhz", 2, "mse")
    assert [(t["loss"], t["step"]) for t in out["terms"]] == [(1, 1), (2, 1), (2, 2)]
    assert out["written_out"] == cell_written_out_latex(gru(), "bhz", 2)
    assert out["compact"] == cell_compact_latex(gru(), "bhz", 2)
    first = out["terms"][1]
    assert len(first["paths"]) == 5 * 2  # dh_2/dh_1 (5 products) times the two ways from z_1
    assert {p["sign"] for p in first["paths"]} == {1, -1}
    assert "compact" in cell_derivation_json(lstm(), "Wxf", 50, form="compact")
