"""Read every written-out sum back from what a job emits, and stop the build if false.

Each generator job that writes pages or fragments calls `check_written_sums` with all
of them and, for those that write a gradient out, the derivation's own equations
(`derivations.check.readback.expected_cell`, or for the vanilla pages
`derivations.vanilla.readback.expected_vanilla`). A text that writes a sum out with no
derivation to compare it with fails too: every written-out sum on the site is read
back, none is passed by.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gen_format import ChecksFailed

from derivations.check.readback import Pair, read_written, written_errors

#: A tab of pymdownx.tabbed: ``=== "label"`` (``===+`` for the one open first).
_TAB = re.compile(r'^===\+? "([^"]*)"\n', re.MULTILINE)


def split_tabs(name: str, text: str) -> dict[str, str]:
    """The tabs of a tabbed fragment as texts of their own, ``name[label]``: a tab set
    holds one written-out sum per tab, each read back on its own."""
    parts = _TAB.split(text)
    if parts[0].strip():
        raise ChecksFailed(f"{name}: text before its first tab: {parts[0].strip()[:60]!r}")
    return {f"{name}[{label}]": body for label, body in zip(parts[1::2], parts[2::2], strict=True)}


def check_written_sums(
    texts: Mapping[str, str], expected: Mapping[str, dict[str, set[Pair]]]
) -> None:
    """Raise `ChecksFailed` naming each page or fragment whose written-out sum is false."""
    failures = []
    unknown = sorted(set(expected) - set(texts))
    if unknown:
        failures.append(f"{', '.join(unknown)}: expected a written-out sum, but no such text")
    for where, text in texts.items():
        found, problems = read_written(text)
        if where not in expected:
            if found or problems:
                failures.append(
                    f"{where}: writes out a sum ({len(found)} equations) that no derivation "
                    "is read against; give its expected terms to check_written_sums"
                )
            continue
        errors = written_errors(found, expected[where], problems)
        if errors:
            failures.append(f"{where}: " + "; ".join(errors))
    if failures:
        raise ChecksFailed(
            "a written-out sum does not read back as the derivation:\n  " + "\n  ".join(failures)
        )
