"""What readers see of the vanilla RNN is unchanged, byte for byte (see tests/golden.py)."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden import GOLDEN, outputs


@pytest.fixture(scope="module")
def produced() -> dict[str, str]:
    return outputs()


def test_every_golden_file_is_still_produced(produced):
    kept = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file()}
    assert kept == set(produced), (
        f"missing now: {sorted(kept - set(produced))}; new: {sorted(set(produced) - kept)}"
    )
    assert len(kept) > 30  # pages, fragments, figures and CLI outputs


def test_outputs_match_the_golden_files(produced):
    changed = []
    for path, text in sorted(produced.items()):
        golden = (GOLDEN / path).read_text(encoding="utf-8")
        if text != golden:
            diff = difflib.unified_diff(
                golden.splitlines(), text.splitlines(), f"golden/{path}", "now", lineterm="", n=1
            )
            changed.append("\n".join(list(diff)[:12]))
    assert not changed, (
        f"{len(changed)} outputs differ from tests/golden (if deliberate, run "
        "`python tests/golden.py --write` and name the change in the commit):\n"
        + "\n\n".join(changed[:5])
    )
