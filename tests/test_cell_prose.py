"""The gated chapter's prose about particular cells: Markdown snippets, not Python
(docs/gated/cells/<cell>/<topic>.md, read by docs/hooks/gen_cell_prose.py)."""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import gen_cell_prose as prose
from gen_cell_checks import GATED_CELLS
from gen_format import ChecksFailed


@pytest.mark.parametrize("key", GATED_CELLS)
def test_every_gated_cell_opens_with_its_snippet_and_titles(key):
    opening = prose.read(key, "opening")
    assert opening.meta.keys() == {"nav", "title"}
    assert opening.text and "\n" not in opening.text  # one paragraph, on one line


def test_every_snippet_is_one_a_page_prints():
    """A snippet of another name or cell would be read by nothing: refused."""
    known = {prose.snippet_path(k, t) for k in GATED_CELLS for t in prose.TOPICS}
    folder = ROOT / prose.FOLDER
    found = {p.relative_to(ROOT).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert found - known == set()
    assert len(found) >= len(GATED_CELLS) + 2  # each cell's opening, the LSTM's two


def test_a_value_fills_its_place_and_each_place_needs_a_value():
    snippet = prose.Snippet("x.md", "from {{ c_i }} back to c_{{ k }}")
    assert prose.fill(snippet, {"c_i": r"\(c_3\)", "k": "1"}) == r"from \(c_3\) back to c_1"
    with pytest.raises(ChecksFailed, match=r"x\.md: placeholders without a value: \['k'\]"):
        prose.fill(snippet, {"c_i": "c"})
    with pytest.raises(ChecksFailed, match=r"values without a placeholder: \['i'\]"):
        prose.fill(snippet, {"c_i": "c", "k": "1", "i": "3"})


def test_the_front_matter_is_read_and_a_missing_snippet_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(prose, "ROOT", tmp_path)
    folder = tmp_path / prose.FOLDER / "cell"
    folder.mkdir(parents=True)
    (folder / "opening.md").write_text("---\nnav: A\ntitle: The A cell\n---\nText.\n")
    snippet = prose.read("cell", "opening")
    assert (snippet.meta, snippet.text) == ({"nav": "A", "title": "The A cell"}, "Text.")
    assert prose.find("cell", "blocks") is None
    assert prose.snippet_path("cell", "blocks") in prose.LOOKED_FOR  # a new one reruns the job
    with pytest.raises(ChecksFailed, match=r"no docs/gated/cells/cell/blocks\.md"):
        prose.read("cell", "blocks")
    (folder / "blocks.md").write_text("---\nnav A\n---\nText.\n")
    with pytest.raises(ChecksFailed, match=r"'nav A' is not 'name: value'"):
        prose.read("cell", "blocks")
