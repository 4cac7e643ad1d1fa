"""The claims of the explanations added where a reader stalls, each broken once on purpose.

The vanishing page explains why a matrix with largest singular value 1 still loses a
factor per step (`gen_fragments_measured._why_so_fast`); the remedies page sets the per-loss
window against detaching the state (`lab_remedies._detached`). Each sentence is a
`claim`: the real numbers pass, and the one quantity a claim reads, moved, stops the
build with that sentence.
"""

from __future__ import annotations

import re
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import gen_fragments_measured
import lab_remedies
from gen_format import ChecksFailed
from lab_common import SHARES_SIZE

import rnnnum
from rnnnum.lab import problem

#: The vanishing page's network (gen_fragments_measured.vanishing_fragments).
VANISH_T = 30


def _breaks(run, statement: str) -> None:
    with pytest.raises(ChecksFailed, match=re.escape(statement)):
        run()


@pytest.fixture(scope="module")
def vanishing():
    params, X, targets, cache = problem(VANISH_T, kind="spectral", sigma_max=1.0)
    return params, X, targets, cache


def test_the_why_so_fast_numbers_hold_and_each_claim_can_fail(vanishing):
    params, X, targets, cache = vanishing
    stretched = params.replace(Whh=1.2 * params.Whh)
    out = gen_fragments_measured.vanishing_fragments()  # the real numbers: every claim holds
    ratio, distance = float(out["vanish.rel.d1"]), int(out["vanish.d1"])
    gen_fragments_measured._why_so_fast(params, cache, ratio, distance)
    _breaks(
        lambda: gen_fragments_measured._why_so_fast(
            stretched, rnnnum.forward(stretched, X, targets), ratio, distance
        ),
        "the largest singular value is 1",
    )
    _breaks(
        lambda: gen_fragments_measured._why_so_fast(params, cache, 0.99**distance, distance),
        "than any one Jacobian's norm",
    )
    _breaks(
        lambda: gen_fragments_measured._why_so_fast(params, cache, 0.3**distance, distance),
        "is close to the measured factor per step",
    )


def test_the_detach_comparison_holds_and_fails_when_the_two_forms_agree(monkeypatch):
    lab_remedies._detached(lab_remedies.TRUNCATION_PICTURE, SHARES_SIZE)
    monkeypatch.setattr(lab_remedies.lab, "chunked_curve", lab_remedies.lab.truncation_curve)
    _breaks(
        lambda: lab_remedies._detached(lab_remedies.TRUNCATION_PICTURE, SHARES_SIZE),
        "detaching drops more pairs",
    )
    monkeypatch.setattr(lab_remedies.lab, "chunk_dropped_pairs", lab_remedies.lab.dropped_pairs)
    _breaks(
        lambda: lab_remedies._detached(lab_remedies.TRUNCATION_PICTURE, SHARES_SIZE),
        "detaching drops every pair the window drops, and more",
    )


def test_the_path_and_product_claim_fails_when_a_repeated_read_goes_unseen(monkeypatch):
    import gen_cell_pages

    from derivations.core.cells import gru

    cell = gru()
    assert gen_cell_pages._path_and_product(cell)  # the GRU reads z twice: said
    monkeypatch.setattr(gen_cell_pages, "repeated_reads", lambda cell: [])
    _breaks(
        lambda: gen_cell_pages._path_and_product(cell),
        "a block has more products than paths exactly where an equation reads a variable twice",
    )
