"""Generator job ``lab``: the gradient laboratory's numbers, tables and figures.

Every experiment is a function of `rnnnum.lab` (or `rnnnum.horizon` for the trained
memory horizon, read from its recorded results file). Each page has its own module
whose ``page()`` runs them at their published sizes, asserts what the prose says
about them (`gen_format.claim`) and returns its fragments and figures (`LabPage`);
this job only merges them. None of the modules imports `derivations` or SymPy, so
editing a derivation does not rerun the laboratory.
"""

from __future__ import annotations

from collections.abc import Callable

import lab_cell_path
import lab_exploding
import lab_memory
import lab_remedies
import lab_resets
import lab_shares
import lab_speed
from lab_common import LabPage

#: The laboratory's pages and the gated chapter's numeric ones, in the order of the site.
PAGES: tuple[Callable[[], LabPage], ...] = (
    lab_speed.page,
    lab_shares.page,
    lab_exploding.page,
    lab_remedies.page,
    lab_memory.page,
    lab_cell_path.page,
    lab_resets.page,
)


def merge(pages: list[LabPage]) -> dict[str, object]:
    """One job output from the pages' results; two pages giving one name is an error."""
    fragments: dict[str, str] = {}
    files: dict[str, str] = {}
    inputs: list[str] = []
    for page in pages:
        for mine, theirs in ((fragments, page.fragments), (files, page.files)):
            clash = mine.keys() & theirs.keys()
            if clash:
                raise ValueError(f"two laboratory pages produce {sorted(clash)}; rename one")
            mine.update(theirs)
        inputs += [p for p in page.inputs if p not in inputs]
    return {"fragments": fragments, "files": files, "inputs": inputs}


def lab_job() -> dict[str, object]:
    """Fragments and figures of the laboratory's pages."""
    return merge([page() for page in PAGES])


if __name__ == "__main__":  # print each page's cost: python docs/hooks/gen_lab.py
    import time

    for page in PAGES:
        start = time.perf_counter()
        page()
        print(f"{page.__module__:14s} {time.perf_counter() - start:6.2f} s")
