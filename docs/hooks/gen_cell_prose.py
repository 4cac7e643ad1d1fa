"""The gated chapter's prose about particular cells, read from Markdown snippets.

A cell's page (``gen_cell_pages.py``) opens with ``docs/gated/cells/<cell>/opening.md``,
whose front matter gives the cell's titles (``nav``: in the navigation, ``title``: on
its page), and says what is particular to the cell where that folder has a snippet
for it (``blocks.md``, ``routes-along-c.md``). A snippet's text is printed as written;
each ``{{ name }}`` in it is a value the generator computes and names (`fill`): a name
without a value, or a value no placeholder asks for, fails the job. What a snippet
states about a computed result is checked in Python, by a `claim` next to where the
snippet is printed.

The folder is excluded from the site (mkdocs.yml, ``exclude_docs``): no snippet is a
page. Every snippet looked for, found or not, is an input of the job (`LOOKED_FOR`),
so that adding, editing or removing one runs the job again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gen_format import ChecksFailed

ROOT = Path(__file__).resolve().parents[2]

#: Where the snippets are, relative to the checkout: one folder per cell.
FOLDER = "docs/gated/cells"
#: The snippets a cell may have: its opening (every cell) and what the pages say where
#: a cell has one (gen_cell_pages.py prints each where it finds it).
TOPICS = ("opening", "blocks", "routes-along-c")
#: A value's place in a snippet, as a page's fragment is written.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z][\w.\-]*)\s*\}\}")
#: Every snippet looked for in this process (paths relative to the checkout).
LOOKED_FOR: list[str] = []


@dataclass(frozen=True)
class Snippet:
    """One snippet: where it is, its front matter and its text (less its final newline)."""

    path: str
    text: str
    meta: dict[str, str] = field(default_factory=dict)


def snippet_path(key: str, topic: str) -> str:
    """Where the snippet `topic` of cell `key` is, relative to the checkout."""
    return f"{FOLDER}/{key}/{topic}.md"


def find(key: str, topic: str) -> Snippet | None:
    """The snippet `topic` of cell `key`, or None if the cell has none."""
    path = snippet_path(key, topic)
    if path not in LOOKED_FOR:
        LOOKED_FOR.append(path)
    file = ROOT / path
    if not file.is_file():
        return None
    meta, text = _front_matter(file.read_text(encoding="utf-8"), path)
    return Snippet(path, text.removesuffix("\n"), meta)


def read(key: str, topic: str) -> Snippet:
    """The snippet `topic` of cell `key`, which every cell must have."""
    found = find(key, topic)
    if found is None:
        raise ChecksFailed(f"the cell {key!r} has no {snippet_path(key, topic)}; write it")
    return found


def _front_matter(content: str, path: str) -> tuple[dict[str, str], str]:
    """(``name: value`` lines between ``---`` lines at the top, the rest)."""
    if not content.startswith("---\n"):
        return {}, content
    head, sep, rest = content[4:].partition("\n---\n")
    if not sep:
        raise ChecksFailed(f"{path}: its front matter has no closing '---' line")
    meta = {}
    for line in head.splitlines():
        name, colon, value = line.partition(": ")
        if not colon:
            raise ChecksFailed(f"{path}: front matter line {line!r} is not 'name: value'")
        meta[name.strip()] = value.strip()
    return meta, rest


def fill(snippet: Snippet, values: Mapping[str, str]) -> str:
    """The snippet's text with each ``{{ name }}`` replaced by ``values[name]``; every
    name must have a value and every value a place."""
    asked = set(PLACEHOLDER.findall(snippet.text))
    missing, unused = asked - values.keys(), values.keys() - asked
    if missing or unused:
        raise ChecksFailed(
            f"{snippet.path}: placeholders without a value: {sorted(missing) or 'none'}; "
            f"values without a placeholder: {sorted(unused) or 'none'}"
        )
    return PLACEHOLDER.sub(lambda match: values[match[1]], snippet.text)
