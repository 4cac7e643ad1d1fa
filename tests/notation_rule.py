r"""Read text for derivatives and judge each against the rule of `derivations.core.notation`.

A derivative written with the partial sign (``\frac{\partial u}{\partial v}``,
``\partial u / \partial v``, ``∂u/∂v``) must be *local*: v is an argument of the one
equation that defines u. One written with an upright or plain d
(``\frac{\mathrm{d} u}{\mathrm{d} v}``, ``\mathrm{d} u / \mathrm{d} v``, ``du/dv``) must
not be local. Which derivatives are local is read off the model's own program
(`vanilla_reference.unroll.Unrolled.equation_arguments`), not typed here: `local_offsets`
reads the vanilla model, `cell_offsets` any cell of `derivations.core.cells` (a gated cell's
h_t reads h_{t-1} directly, the vanilla one's does not).

A cell with several states adds a third kind (`derivations.core.notation.BLOCK_RULE`): a
block of its one-step Jacobian from a state that another state of the same step reads
(the LSTM's h_t reads c_t, so the block from c_{t-1} to h_t holds h_{t-1} fixed) is a
partial derivative of the step map and must carry ∂, never d. Which blocks these are
is read off the cell's equations here too (`_held_blocks`). A cell's tables also know
its own names (``a^{f}``, ``v^{n}``, its weights, a summand ``(x_{k}\, W_{xr})``) and
its stacked state s, which no equation defines: ``ds_k/da^{f}_k`` (every path inside
the step) is judged total.

A derivative whose quantities this module cannot name (``\theta``, a sum in
parentheses) is left undecided and counted, never judged.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from vanilla_reference.unroll import unroll

from derivations.core.cell import Cell, Input, Prev, Ref

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


def _quantity(  # noqa: PLR0911
    text: str, letters: set[str], names: dict[str, str] | None = None
) -> tuple[str, str | None] | None:
    """(quantity, index) of a written quantity: ``h_{t-1}`` -> ("h", "t-1"); None if unknown.

    `names` maps a cell's own LaTeX names to its names: ``a^{f}_{k}`` -> ("af", "k").
    """
    text = text.strip()
    while text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    entry = re.fullmatch(r"\((.+)\)_\{?[\d,]+\}?", text)  # (W_{xh})_{1,2}: an entry
    if entry:
        text = entry[1]
    if text in PARAMETERS:
        return PARAMETERS[text], None
    term = re.fullmatch(r"\((.+?)\\,\s*(W_\{\w+\})\)", text)  # (x_{k}\, W_{xr})
    if term and names and term[2] in names:
        return f"{TERM}{names[term[2]]}", None  # a summand of the equation using W
    for latex, name in (names or {}).items():
        if text == latex:
            return name, None
        if "^" in latex and text.startswith(latex + "_"):
            index = text[len(latex) + 1 :]
            return name, index[1:-1] if index.startswith("{") else index
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


#: Keys of a cell's table that are not quantities: the blocks written ∂ because they
#: hold another state fixed, as (state, earlier state); the cell's names, as (LaTeX, name).
HELD = "blocks holding a state fixed"
NAMES = "names"
#: Prefix of a summand u W of an equation (the product of a weight and what it multiplies).
TERM = "term "
#: The stacked state of a cell with several states (the LSTM's s_t = (h_t, c_t)).
STACKED = "s"


def _held_blocks(out: dict, states: tuple[str, ...]) -> set[tuple[str, int | None]]:
    """(s, s2): blocks from s2 at t - 1 to s at t that hold fixed a state reading s2.

    From the table's own edges: a state s3 != s2 reads s2 within its step (through
    variables of that step), and s at t reads s2 at t - 1 (some chain of the step).
    """

    def reads(name: str, target: str, offset: int, seen: frozenset[str]) -> bool:
        for argument, step in out.get(name, ()):
            if (argument, step) == (target, offset):
                return True
            if (
                step == 0
                and argument not in seen
                and reads(argument, target, offset, seen | {argument})
            ):
                return True
        return False

    held = set()
    for s2 in states:
        if any(s3 != s2 and reads(s3, s2, 0, frozenset({s3})) for s3 in states):
            held |= {(s, s2) for s in states if reads(s, s2, -1, frozenset({s}))}
    return held  # type: ignore[return-value]


def cell_offsets(*cells: Cell) -> dict[str | None, set[tuple[str, int | None]]]:
    """`local_offsets` for the given cells' own equations (their union), same read-out.

    Plus, under `HELD`, the blocks of each cell that hold another state fixed, under
    `NAMES` the cell's own LaTeX names, and the stacked state `STACKED` (no equation)
    when a cell has several states.
    """
    out = {k: set(v) for k, v in local_offsets().items() if k in (None, "y", "p", "L")}
    held: set = set()
    names: set = set()
    for cell in cells:
        names |= {(latex, name) for name, latex in cell.notation.latex.items() if latex != name}
        if len(cell.state_names) > 1:
            out.setdefault(STACKED, set())
        for equation in cell.equations:
            arguments = out.setdefault(equation.name, set())
            for leaf in cell.leaves(equation.name):
                if isinstance(leaf, Input):
                    arguments.add(("x", 0))
                elif isinstance(leaf, Prev):
                    arguments.add((leaf.state, -1))
                elif isinstance(leaf, Ref):
                    arguments.add((leaf.name, 0))
            used = [p for p in cell.param_names if cell.param_uses(equation.name, p)]
            arguments.update((p, None) for p in used)
            arguments.update((TERM + p, None) for p in used)
        held |= _held_blocks(out, cell.state_names)
    out[HELD], out[NAMES] = held, names
    return out


def _letters(table: dict) -> set[str]:
    """The one-letter quantities a table can judge: its equations and their arguments."""
    names = {k for k in table if k and k not in (HELD, NAMES)}
    names |= {a for k, args in table.items() if k not in (HELD, NAMES) for a, _ in args}
    return {n for n in names if len(n) == 1} | set(PER_STEP)


Edge = tuple[str, str, int | None]  # (quantity, argument, step offset of the argument)


def local_edge(derivative: Derivative, table: dict) -> Edge | bool | None:  # noqa: PLR0911
    """The equation edge that makes the derivative local, False if none, None if undecidable."""
    letters, names = _letters(table), dict(table.get(NAMES, ()))
    top = _quantity(derivative.numerator, letters, names)
    bottom = _quantity(derivative.denominator, letters, names)
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


def _held(derivative: Derivative, table: dict) -> str | None:
    """For a block that holds another state fixed (`HELD`), that state's name; else None."""
    letters = _letters(table)
    top, bottom = (
        _quantity(derivative.numerator, letters),
        _quantity(derivative.denominator, letters),
    )
    if top is None or bottom is None or (top[0], bottom[0]) not in table.get(HELD, ()):
        return None
    here, there = _step(top[1]), _step(bottom[1])
    if here is None or there is None or here[0] != there[0] or there[1] - here[1] != -1:
        return None
    return f"fixed the other states that read {bottom[0]}"


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
        held = _held(d, table)
        if held:
            if d.kind == "total":
                bad.append(f"{d}: should be written with ∂ (a block of one step holding {held})")
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
