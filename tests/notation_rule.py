r"""Read text for derivatives and judge each against the rule of `derivations.notation`.

A derivative written with the partial sign (``\frac{\partial u}{\partial v}``,
``\partial u / \partial v``, ``∂u/∂v``) must be *local*: v is an argument of the one
equation that defines u. One written with an upright or plain d
(``\frac{\mathrm{d} u}{\mathrm{d} v}``, ``\mathrm{d} u / \mathrm{d} v``, ``du/dv``) must
not be local. Which derivatives are local is read off the model's own program
(`derivations.unroll.Unrolled.equation_arguments`), not typed here: `local_offsets`
reads the vanilla model, `cell_offsets` any cell of `derivations.cells` (a gated cell's
h_t reads h_{t-1} directly, the vanilla one's does not).

A derivative whose quantities this module cannot name (``\theta``, an LSTM's c_t, a
sum in parentheses) is left undecided and counted, never judged.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from derivations.cell import Cell, Input, Prev, Ref
from derivations.unroll import unroll

#: Quantities with a time index that every table knows, by the letter the pages write.
PER_STEP = ("L", "y", "p", "h", "x")
#: Parameters, by every spelling the pages, docstrings and code comments use.
PARAMETERS = {
    "W_{xh}": "Wxh", "W_xh": "Wxh", "Wxh": "Wxh",
    "W_{hh}": "Whh", "W_hh": "Whh", "Whh": "Whh",
    "W_{yh}": "Wyh", "W_yh": "Wyh", "Wyh": "Wyh",
    "b_h": "bh", "b_{h}": "bh", "bh": "bh",
    "b_y": "by", "b_{y}": "by", "by": "by",
}  # fmt: skip
_TOKEN = (
    r"(?:\([^()]*\)(?:_\{[^{}]*\}|_\w)?|\\?[A-Za-z]+(?:_\{[^{}]*\}|_[A-Za-z0-9]+(?:[-−+]\d+)?)?)"
)
_INLINE_PARTIAL = re.compile(rf"\\partial\s*({_TOKEN})\s*/\s*\\partial\s*({_TOKEN})")
_INLINE_TOTAL = re.compile(rf"\\mathrm\{{d\}}\s*({_TOKEN})\s*/\s*\\mathrm\{{d\}}\s*({_TOKEN})")
_PLAIN_PARTIAL = re.compile(rf"∂({_TOKEN})/∂({_TOKEN})")
_PLAIN_TOTAL = re.compile(rf"(?<![A-Za-z\\{{])d({_TOKEN})/d({_TOKEN})")
_FRAC = "\\frac{"
_PARTIAL_HEAD = re.compile(r"^\\partial\s*")
_TOTAL_HEAD = re.compile(r"^(?:\\mathrm\{d\}|d(?=[\s\\A-Z(]|[a-z]_))\s*")


@dataclass(frozen=True)
class Derivative:
    """One derivative found in a text: its kind (``partial`` or ``total``) and its two sides."""

    kind: str
    numerator: str
    denominator: str
    source: str

    def __str__(self) -> str:
        sign = "∂" if self.kind == "partial" else "d"
        return f"{sign}{self.numerator}/{sign}{self.denominator} in {self.source}"


def _group(text: str, start: int) -> tuple[str, int]:
    """The brace group opening at text[start] == '{', and the index after it."""
    depth = 0
    for n in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[n], 0)
        if depth == 0:
            return text[start + 1 : n], n + 1
    return text[start + 1 :], len(text)


def derivatives(text: str, source: str) -> list[Derivative]:
    """Every derivative written in `text` (LaTeX fractions, LaTeX and plain slashes)."""
    found = []
    at = text.find(_FRAC)
    while at != -1:
        top, end = _group(text, at + len(_FRAC) - 1)
        bottom, _ = _group(text, end) if end < len(text) and text[end] == "{" else ("", end)
        for kind, head in (("partial", _PARTIAL_HEAD), ("total", _TOTAL_HEAD)):
            if head.match(top) and head.match(bottom):
                found.append(Derivative(kind, head.sub("", top), head.sub("", bottom), source))
                break
        at = text.find(_FRAC, at + 1)
    for kind, pattern in (
        ("partial", _INLINE_PARTIAL),
        ("total", _INLINE_TOTAL),
        ("partial", _PLAIN_PARTIAL),
        ("total", _PLAIN_TOTAL),
    ):
        found += [Derivative(kind, m[1], m[2], source) for m in pattern.finditer(text)]
    return found


def _quantity(text: str, letters: set[str]) -> tuple[str, str | None] | None:
    """(quantity, index) of a written quantity: ``h_{t-1}`` -> ("h", "t-1"); None if unknown."""
    text = text.strip()
    while text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    entry = re.fullmatch(r"\((.+)\)_\{?[\d,]+\}?", text)  # (W_{xh})_{1,2}: an entry
    if entry:
        text = entry[1]
    if text in PARAMETERS:
        return PARAMETERS[text], None
    if text in ("h_0", "h_{0}", "h0"):
        return "h", "0"
    match = re.fullmatch(r"([A-Za-z])(?:_\{?([^{}]*)\}?)?", text)
    if not match or match[1] not in letters:
        return None
    index = match[2].split(",")[0] if match[2] else None
    return match[1], index


def _step(index: str | None) -> tuple[str, int] | None:
    """An index as (variable, offset): "t-1" -> ("t", -1), "3" -> ("", 3); None if unreadable."""
    if index is None:
        return "", 0
    match = re.fullmatch(r"([a-zA-Z]?)\s*(?:([-−+])\s*(\d+))?|(\d+)", index.replace(" ", ""))
    if not match:
        return None
    if match[4] is not None:
        return "", int(match[4])
    offset = int(match[3]) * (-1 if match[2] in ("-", "−") else 1) if match[3] else 0
    return match[1], offset


def local_offsets() -> dict[str | None, set[tuple[str, int | None]]]:
    """For each quantity the model defines, its arguments as (quantity, step offset).

    Read off the unrolled program at its middle step: ``a`` reads ``("h", -1)``,
    ``("x", 0)`` and the parameters ``("Whh", None)``...; the total loss ``L``
    (key None) reads every ``L_t``.
    """
    model = unroll()
    middle = 2
    out: dict[str | None, set[tuple[str, int | None]]] = {None: {("L", None)}}
    for (name, t), arguments in model.equation_arguments().items():
        if t == middle:
            out[name] = {(a, None if s is None else s - middle) for a, s in arguments}
    return out


def cell_offsets(*cells: Cell) -> dict[str | None, set[tuple[str, int | None]]]:
    """`local_offsets` for the given cells' own equations (their union), same read-out."""
    out = {k: set(v) for k, v in local_offsets().items() if k in (None, "y", "p", "L")}
    for cell in cells:
        for equation in cell.equations:
            arguments = out.setdefault(equation.name, set())
            for leaf in cell.leaves(equation.name):
                if isinstance(leaf, Input):
                    arguments.add(("x", 0))
                elif isinstance(leaf, Prev):
                    arguments.add((leaf.state, -1))
                elif isinstance(leaf, Ref):
                    arguments.add((leaf.name, 0))
            arguments.update(
                (p, None) for p in cell.param_names if cell.param_uses(equation.name, p)
            )
    return out


def _letters(table: dict) -> set[str]:
    """The one-letter quantities a table can judge: its equations and their arguments."""
    names = {k for k in table if k} | {a for args in table.values() for a, _ in args}
    return {n for n in names if len(n) == 1} | set(PER_STEP)


Edge = tuple[str, str, int | None]  # (quantity, argument, step offset of the argument)


def local_edge(derivative: Derivative, table: dict) -> Edge | bool | None:  # noqa: PLR0911
    """The equation edge that makes the derivative local, False if none, None if undecidable."""
    letters = _letters(table)
    top = _quantity(derivative.numerator, letters)
    bottom = _quantity(derivative.denominator, letters)
    if top is None or bottom is None:
        return None
    if top == ("L", None):  # the total loss: its one equation is L = sum_t L_t
        return ("L", "L", None) if bottom[0] == "L" and bottom[1] is not None else False
    if top[0] not in table:
        return False  # a parameter or an input is defined by no equation
    here, there = _step(top[1]), _step(bottom[1])
    for name, offset in table[top[0]]:
        if name != bottom[0]:
            continue
        if offset is None:
            return top[0], name, None
        if here is None or there is None:
            return None
        if here[0] == there[0] and there[1] - here[1] == offset:
            return top[0], name, offset
    return False


def is_local(derivative: Derivative, table: dict) -> bool | None:
    """Whether the derivative is local by the model's equations; None when undecidable."""
    edge = local_edge(derivative, table)
    return edge if edge is None else bool(edge)


def _reaches(table: dict, name: str, target: str, offset: int | None, seen: frozenset) -> bool:
    """Whether `name` reads (target, offset) through another variable of its step too."""
    for argument, step in table.get(name, ()):
        if step == 0 and argument in table and argument not in seen:
            inner = table[argument]
            if (target, offset) in inner or _reaches(
                table, argument, target, offset, seen | {argument}
            ):
                return True
    return False


def violations(text: str, source: str, table: dict) -> tuple[list[str], int]:
    """The derivatives of `text` that break the rule, in words, and how many were undecided.

    A total derivative along a local edge is allowed only where it differs from the
    local one: where another path of the step joins the two (the GRU's dh_t/dh_{t-1}
    also runs through its gates; its ∂h_t/∂h_{t-1} is the copy z_t alone).
    """
    bad, undecided = [], 0
    for d in derivatives(text, source):
        edge = local_edge(d, table)
        if edge is None:
            undecided += 1
            continue
        if d.kind == "partial" and not edge:
            bad.append(f"{d}: should be written with d (it is total)")
        elif d.kind == "total" and isinstance(edge, tuple):
            top, argument, offset = edge
            if not _reaches(table, top, argument, offset, frozenset({top})):
                bad.append(f"{d}: should be written with ∂ (it is local)")
    return bad, undecided


def html_text(page: str) -> str:
    """The text of an HTML page, TeX included, without scripts, styles and tags."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", page))
