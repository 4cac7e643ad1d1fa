r"""Read a written-out sum back from the Markdown a reader is shown, and judge it.

A written-out gradient is a list of equations, each a left-hand side
$\mathrm{d}L/\mathrm{d}\theta$ (for X one per input, $\mathrm{d}L/\mathrm{d}x_k$) and
the terms (i, k) under it. `read_written` finds them in a page's display math as
displayed: the ``$$`` blocks and the folded ``<details>`` terms (their formula escaped
inside a ``div``), in display order. A term is tagged either at the end of its first
row, ``&& (i=2,\ k=1)``, under the left-hand side before it, or by a heading row,
``\text{term }(i=2,\ k=1):``, under the left-hand side that follows in its display
(or, if none follows, the one before). Displays without a tag (the compact form, the
element-wise lines) hold no written-out sum and are passed by.

`written_errors` compares what was read with the derivation's own set of terms
(`expected_cell`, from `cell_expanded_sum`: never from the renderer that wrote the
page): each left-hand side exactly once, with exactly its terms, none missing, none
twice, none under the wrong side.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from derivations.core.cell import Cell
from derivations.gradient.sums import cell_expanded_sum
from derivations.render.sums import gradient_target

__all__ = [
    "Pair",
    "WrittenEquation",
    "expected_cell",
    "read_written",
    "written_errors",
]

Pair = tuple[int, int]

_DISPLAY = re.compile(
    r"\$\$(?P<shown>.*?)\$\$"
    r"|<details(?P<attrs>[^>]*)>.*?<div class=\"arithmatex\">(?P<folded>.*?)</div>",
    re.DOTALL,
)
_BLOCK_ID = re.compile(r'id="term-(\d+)-(\d+)"')
_LHS = re.compile(r"\\frac\{\\mathrm\{d\} L\}(?=\{\\mathrm\{d\})")
_TAG = r"\(i\s*=\s*(\d+),\s*(?:\\\s*)?k\s*=\s*(\d+)\)"
_HEADING = re.compile(r"\\text\{term\s*\}\s*" + _TAG + r"\s*:")
_ROW_END = re.compile(r"&&\s*" + _TAG)


@dataclass
class WrittenEquation:
    """One equation as displayed: what its left-hand side dL/d(target) differentiates
    by (LaTeX: ``x_{1}``, ``W_{xf}``) and its terms, in order."""

    target: str
    terms: list[Pair] = field(default_factory=list)


def _group(text: str, start: int) -> tuple[str, int]:
    """The brace group opening at text[start] == '{', and the index after it."""
    depth = 0
    for n in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[n], 0)
        if depth == 0:
            return text[start + 1 : n], n + 1
    raise ValueError(f"unbalanced braces in {text[start : start + 80]!r}")


def _events(latex: str) -> list[tuple[int, str, object]]:
    """The left-hand sides and tags of one display, by position."""
    events: list[tuple[int, str, object]] = []
    for m in _LHS.finditer(latex):
        inner, _ = _group(latex, m.end())
        target = re.sub(r"^\\mathrm\{d\}\s*", "", inner)
        events.append((m.start(), "lhs", target))
    events += [(m.start(), "heading", (int(m[1]), int(m[2]))) for m in _HEADING.finditer(latex)]
    events += [(m.start(), "row", (int(m[1]), int(m[2]))) for m in _ROW_END.finditer(latex)]
    return sorted(events, key=lambda e: e[0])


def read_written(markdown: str) -> tuple[list[WrittenEquation], list[str]]:
    """The written-out equations of a page, in display order, and what could not be read.

    The second list names tags with no left-hand side and folded terms whose block id
    differs from the tag inside them.
    """
    equations: list[WrittenEquation] = []
    problems: list[str] = []
    for display in _DISPLAY.finditer(markdown):
        folded = display["folded"] is not None
        latex = html.unescape(display["folded"]) if folded else display["shown"]
        events = _events(latex)
        block = _BLOCK_ID.search(display["attrs"]) if folded else None
        if not any(kind != "lhs" for _, kind, _ in events):
            continue  # no term tag: not a written-out sum
        pending: Pair | None = None
        for _, kind, value in events:
            if kind == "lhs":
                equations.append(WrittenEquation(str(value)))
                if pending is not None:
                    equations[-1].terms.append(pending)
                    pending = None
                continue
            assert isinstance(value, tuple)
            if block is not None and value != (int(block[1]), int(block[2])):
                problems.append(f"the folded block term-{block[1]}-{block[2]} holds term {value}")
            if kind == "heading":
                if pending is not None:
                    _attach(equations, pending, problems)
                pending = value
            else:
                if pending is not None:
                    _attach(equations, pending, problems)
                    pending = None
                _attach(equations, value, problems)
        if pending is not None:
            _attach(equations, pending, problems)
    return equations, problems


def _attach(equations: list[WrittenEquation], term: Pair, problems: list[str]) -> None:
    if not equations:
        problems.append(f"term (i={term[0]}, k={term[1]}) comes before any left-hand side")
    else:
        equations[-1].terms.append(term)


def expected_cell(cell: Cell, wrt: str, T: int) -> dict[str, set[Pair]]:
    """The derivation's equations of dL/d`wrt`: the target of each left-hand side -> its
    terms (i, k), from `cell_expanded_sum` (for X one target x_k per step k)."""
    out: dict[str, set[Pair]] = {}
    for term in cell_expanded_sum(cell, wrt, T):
        at = str(term.step) if wrt == "X" else "k"
        out.setdefault(gradient_target(cell, wrt, at), set()).add((term.loss, term.step))
    return out


def written_errors(
    found: list[WrittenEquation], expected: dict[str, set[Pair]], problems: Sequence[str] = ()
) -> list[str]:
    """What is wrong with the equations `found` against `expected`, in words (empty: true)."""
    errors = list(problems)
    if not found and expected:
        return [*errors, "no written-out sum found, though the derivation has one"]
    owner = {pair: target for target, pairs in expected.items() for pair in pairs}
    seen: dict[str, int] = {}
    for eq in found:
        lhs = f"dL/d{eq.target}"
        seen[eq.target] = seen.get(eq.target, 0) + 1
        if seen[eq.target] == 2:
            count = sum(e.target == eq.target for e in found)
            errors.append(f"{lhs} is a left-hand side {count} times (once expected)")
        if eq.target not in expected:
            errors.append(f"{lhs} is not a left-hand side of the derivation")
            continue
        for pair in sorted(set(eq.terms)):
            times = eq.terms.count(pair)
            if times > 1:
                errors.append(f"term {pair} is written {times} times under {lhs}")
            if pair not in expected[eq.target]:
                errors.append(
                    f"term {pair} is under {lhs} but belongs to dL/d{owner[pair]}"
                    if pair in owner
                    else f"term {pair} under {lhs} is not a term of the derivation"
                )
    for target, pairs in expected.items():
        shown = {pair for eq in found if eq.target == target for pair in eq.terms}
        if target not in seen:
            errors.append(f"dL/d{target} ({len(pairs)} terms) is not written out")
        elif pairs - shown:
            errors.append(f"under dL/d{target} the terms {sorted(pairs - shown)} are missing")
    return errors
