r"""The backward loop of any cell as a NumPy listing and entry by entry, from the same plan.

`cell_loop_code` prints `derivations.gradient.loop.loop_plan` line by line: each adjoint
$\bar v_t$ in reverse equation order, the signals, the gradient updates and one carry
per state (``dh_next``, ``dc_next``). Each part of a line is a local Jacobian's piece
printed by the piece itself (``@ W.T`` for a weight, ``*`` for a diagonal), so the
listing is the loop `derivations.gradient.loop.cell_backward_loop` runs on symbols.

`cell_elementwise_latex` prints each entry of a gradient in the loop's scalar
signals with SymPy's LaTeX printer, then the definitions of the signals it uses.
"""

from __future__ import annotations

import keyword
from typing import Any

import sympy as sp

from derivations.core.cell import Cell
from derivations.core.errors import TooLargeError
from derivations.core.factors import Notation, code_name
from derivations.core.nodes import CellDefinitionError, Node
from derivations.core.notation import total_derivative
from derivations.core.spec import check_choice
from derivations.gradient.loop import (
    Adjoint,
    Carried,
    CellLoop,
    Negated,
    Output,
    Pulled,
    Readout,
    Row,
    Signal,
    cell_backward_loop,
    loop_plan,
    signal_symbol_name,
)
from derivations.program.unroll import unroll_cell
from derivations.render.lines import MAX_WRITTEN_STEPS, broken_sum

__all__ = ["LISTING_WIDTH", "cell_elementwise_latex", "cell_loop_code", "cell_loop_update_latex"]

#: Longest line of a printed listing: it must read on a page and in a terminal.
LISTING_WIDTH = 88
_INDENT = "    "
#: Names the listing reads or defines besides the cell's own.
_FIXED = ("x", "dy", "t", "T", "H", "D", "dX", "zeros", "zeros_like", "range", "Wyh", "by")


def _adjoint_name(name: str) -> str:
    """``dc`` for the adjoint of c; ``do_`` for o (``do`` is a Python keyword)."""
    out = f"d{name}"
    return f"{out}_" if keyword.iskeyword(out) else out


class _Names:
    """The listing's identifiers, checked not to collide with the cell's own names."""

    def __init__(self, cell: Cell) -> None:
        self.cell = cell
        taken = {code_name(n) for n in (*cell.param_names, *cell.state_names)}
        taken |= {code_name(eq.name) for eq in cell.equations} | set(_FIXED)
        mine = [_adjoint_name(eq.name) for eq in cell.equations]
        mine += [f"d{s}_next" for s in cell.state_names] + [f"d{s}0" for s in cell.state_names]
        mine += [f"d{p}" for p in (*cell.param_names, *cell.read_out.param_names)]
        clash = sorted(taken & set(mine))
        if clash or len(set(mine)) != len(mine):
            raise CellDefinitionError(
                f"cell {cell.name!r}: the backward listing names adjoints d<name> and "
                f"gradients d<param>, but {', '.join(clash) or 'two of them'} is also a name "
                "the listing reads. Rename that variable or parameter of the cell."
            )

    def code(self, row: Row) -> str:
        """A row of the plan as NumPy code."""
        act = self.cell.activation
        if isinstance(row, Adjoint):
            return _adjoint_name(row.name)
        if isinstance(row, Signal):
            return signal_symbol_name(row)
        if isinstance(row, Carried):
            return f"d{row.state}_next"
        if isinstance(row, Readout | Output):  # dL_t/dy_t, into h by default
            return "dy[t] @ Wyh.T" if isinstance(row, Readout) else "dy[t]"
        if isinstance(row, Pulled):
            return row.piece.code(self.code(row.row), act)
        if isinstance(row, Negated):
            return f"-{self.code(row.row)}"
        raise AssertionError(row)  # pragma: no cover - every Row kind is handled above

    def outer(self, node: Node | None, signal: Row) -> str:
        """row(node)ᵀ signal, or the signal alone for a bias."""
        if node is None:
            return self.code(signal)
        row = node.code(self.cell.activation)
        row = row if row.replace("[t-1]", "").replace("[t]", "").isidentifier() else f"({row})"
        return f"{row}.T @ {self.code(signal)}"


def _line(lhs: str, op: str, parts: list[str], indent: str, comment: str = "") -> list[str]:
    """``lhs op a + b - c``, broken inside parentheses when wider than `LISTING_WIDTH`."""
    text = " + ".join(parts).replace("+ -", "- ") if parts else "0"
    head = f"{indent}{lhs} {op} "
    one = head + text + (f"  # {comment}" if comment else "")
    if len(one) <= LISTING_WIDTH:
        return [one]
    if len(head + text) <= LISTING_WIDTH:  # the comment goes on a line of its own
        return [f"{indent}# {comment}", head + text]
    lines = [f"{indent}# {comment}"] if comment else []
    lines.append(head + "(")
    inner = indent + _INDENT
    current = inner
    for n, part in enumerate(parts):
        sign = "" if n == 0 else ("- " if part.startswith("-") else "+ ")
        piece = sign + (part[1:] if n and part.startswith("-") else part)
        if current.strip() and len(current) + len(piece) + 1 > LISTING_WIDTH:
            lines.append(current)
            current = inner
        current += ("" if not current.strip() else " ") + piece
    lines += [current, indent + ")"]
    return lines


def _header(cell: Cell, chosen: tuple[str, ...]) -> list[str]:
    """The carries, zero before t = T, and the gradients, zero before the loop."""
    out = [f"# the backward loop of the {cell.name} cell, printed from its equations"]
    for n, state in enumerate(cell.state_names):
        note = f"d(L_{{t+1}} + ... + L_T)/d{state}_t: 0 at t = T" if n == 0 else ""
        out += _line(f"d{state}_next", "=", ["zeros((1, H))"], "", note)
    params = [p for p in (*cell.param_names, *cell.read_out.param_names) if p in chosen]
    out += [f"d{p} = zeros_like({code_name(p)})" for p in params]
    if "X" in chosen:
        out.append("dX = zeros((T + 1, D))  # row t: dL/dx_t")
    return out


def cell_loop_code(cell: Cell, names: tuple[str, ...] | None = None) -> str:
    r"""The backward loop of `cell` as NumPy code, updating the gradients in `names`.

    Rows are (1, width) arrays: ``x[t]``, ``dy[t]`` (the local derivative
    $\partial L_t/\partial y_t$) and every variable ``v[t]`` of the forward pass for
    t = 1..T, the states also at t = 0; parameters as the cell declares them, a bias
    (1, H). Default: every gradient of `cell.gradient_names`.
    """
    chosen = names or cell.gradient_names
    for name in chosen:
        check_choice(name, f"the gradient of the {cell.name} cell", cell.gradient_names)
    plan = loop_plan(cell)
    names_ = _Names(cell)
    out = [*_header(cell, chosen), "for t in range(T, 0, -1):"]
    for define in plan.defines:
        lhs = names_.code(define.target)
        parts = [names_.code(p) for p in define.parts]
        if not parts:
            parts = [f"zeros_like({code_name(define.target.name)}[t])"]
        note = "dL/dh_t: through y_t, plus the carry" if define.target == Adjoint("h") else ""
        out += _line(lhs, "=", parts, _INDENT, note)
    if "X" in chosen:
        out += _line("dX[t]", "=", [names_.code(p) for p in plan.inputs], _INDENT)
    for update in plan.updates:
        if update.param in chosen:
            parts = [names_.outer(node, sig) for node, sig in update.uses]
            out += _line(f"d{code_name(update.param)}", "+=", parts, _INDENT)
    if "Wyh" in chosen and cell.readout is None:
        out.append(f"{_INDENT}dWyh += h[t].T @ dy[t]")
    if "by" in chosen and cell.readout is None:
        out.append(f"{_INDENT}dby += dy[t]")
    for n, (state, rows) in enumerate(plan.carries.items()):
        note = "carried to step t-1" if n == 0 else ""
        code = [names_.code(p) for p in rows] or ["zeros((1, H))"]
        out += _line(f"d{state}_next", "=", code, _INDENT, note)
    for state in cell.state_names:
        if f"{state}0" in chosen:
            out.append(f"d{state}0 = d{state}_next  # after t = 1: dL/d{state}_0")
    return "\n".join(out)


def _entry_lhs(cell: Cell, wrt: str, matrix: sp.Matrix, r: int, c: int, k: int) -> str:
    latex = cell.notation.latex
    readout = cell.read_out
    bases = {p.name: p.latex for p in readout.params} | {"X": f"x_{{{k}}}"}
    base = bases.get(wrt) or (latex[wrt[:-1]] + "_{0}" if wrt.endswith("0") else latex[wrt])
    # a bias, b_y, a row x_k and an initial state are vectors
    params = {p.name: p for p in (*cell.params, *readout.params)}
    vector = params[wrt].rows is None if wrt in params else True
    index = f"{c + 1}" if vector else f"{r + 1},{c + 1}"
    return total_derivative("L", f"({base})_{{{index}}}")


def cell_elementwise_latex(
    cell: Cell, wrt: str, T: int, *, D: int = 2, H: int = 3, V: int = 4, loss: str = "cross_entropy"
) -> str:
    r"""Each entry of dL/d`wrt` in the loop's scalar signals, printed by SymPy's LaTeX printer.

    Lines: every entry (a sum over the iterations t); then each adjoint $\bar v_{t,j}$
    and signal $\delta^{u}_{t}[j]$ (`signal_entry_latex`) it uses, the carries written
    out through their definitions; then $\partial L_t/\partial y_t$ entry by entry.
    """
    check_choice(wrt, f"the gradient of the {cell.name} cell", cell.gradient_names)
    if T > MAX_WRITTEN_STEPS:
        raise TooLargeError(
            f"T={T} is too long to write the {cell.name} gradient out entry by entry (at most "
            f"{MAX_WRITTEN_STEPS} steps). Use --steps {MAX_WRITTEN_STEPS} or fewer."
        )
    loop = cell_backward_loop(unroll_cell(cell, T=T, D=D, H=H, V=V, loss=loss))
    return _elementwise(loop, wrt)


def _elementwise(loop: CellLoop, wrt: str) -> str:
    program, cell = loop.program, loop.program.cell
    names = loop.latex_names
    definitions = dict(loop.assignments)
    carries = {s for rows in loop.carries.values() for row in rows.values() for s in row}
    inline = {s: definitions[s] for s in carries if s in definitions}

    def tex(expr: Any) -> str:
        return broken_sum(expr, names)

    lines, used = [], set()
    blocks = loop.gradients[wrt]
    for k, matrix in enumerate(blocks if wrt == "X" else [blocks], start=1):
        for r in range(matrix.rows):
            for c in range(matrix.cols):
                entry = sp.sympify(matrix[r, c]).xreplace(inline)
                used |= entry.free_symbols
                lines.append(rf"{_entry_lhs(cell, wrt, matrix, r, c, k)} &= {tex(entry)}")
    shown = []
    for symbol, expr in reversed(loop.assignments):  # what the entries use, transitively
        if symbol in used and symbol not in carries:
            shown.append(symbol)
            used |= expr.xreplace(inline).free_symbols
    for symbol in reversed(shown):
        lines.append(rf"{names[symbol]} &= {tex(definitions[symbol].xreplace(inline))}")
    forward = dict(program.assignments)
    for t in range(1, program.T + 1):
        for symbol in program.dy[t]:
            if symbol in used:
                lines.append(rf"{names[symbol]} &= {tex(forward[symbol])}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


# --- one gradient's line of the loop, in LaTeX -------------------------------------------


def _row_latex(row: Row, t: int | str, notation: Notation) -> str:
    r"""A row of the loop plan in LaTeX: $\bar a_{t}$, $\bar a_{t} W_{hh}^\top$, ..."""
    if isinstance(row, Adjoint):
        return rf"\bar {notation.at(row.name, t)}"
    if isinstance(row, Signal):
        mark = notation.latex[row.name] + (f",{row.index}" if row.index > 1 else "")
        return rf"\delta^{{{mark}}}_{{{t}}}"
    if isinstance(row, Pulled):
        return f"{_row_latex(row.row, t, notation)} {row.piece.transpose().latex(t, notation)}"
    if isinstance(row, Negated):
        return f"-{_row_latex(row.row, t, notation)}"
    if isinstance(row, Output):
        return rf"g_{{{t}}}"
    raise CellDefinitionError(f"the loop plan has a row of an unknown kind: {row!r}.")


def cell_loop_update_latex(cell: Cell, name: str) -> str:
    r"""The backward loop's line for gradient `name` in LaTeX, from the cell's loop plan.

    ``\bar W_{xh} \mathrel{+}= x_{t}^\top \bar a_{t}`` for a parameter, ``\bar x_{t} =
    ...`` for the input, ``\bar h_{0} = ...`` after t = 1; the read-out's ($W_{yh}$, $b_y$)
    take $g_t = \partial L_t/\partial y_t$.
    """
    check_choice(name, f"the gradient of the {cell.name} cell", cell.gradient_names)
    notation, plan = cell.notation, loop_plan(cell)

    def rows(parts: tuple[Row, ...], t: int | str) -> str:
        return " + ".join(_row_latex(r, t, notation) for r in parts).replace("+ -", "- ")

    own = cell.readout.param_names if cell.readout else ()
    if name == "Wyh" and not own:
        return rf"\bar W_{{yh}} \mathrel{{+}}= {notation.at('h', 't')}^\top g_{{t}}"
    if name == "by" and not own:
        return r"\bar b_y \mathrel{+}= g_{t}"
    if name == "X":
        return rf"\bar x_{{t}} = {rows(plan.inputs, 't')}"
    if name not in (*cell.param_names, *own):  # an initial state s0: its carry after t = 1
        state = name.removesuffix("0")
        return rf"\bar {notation.at(state, 0)} = {rows(plan.carries[state], 1)}"
    (update,) = (u for u in plan.updates if u.param == name)
    parts = [
        _row_latex(sig, "t", notation)
        if node is None
        else rf"{node.latex('t', notation)}^\top {_row_latex(sig, 't', notation)}"
        for node, sig in update.uses
    ]
    return rf"\bar {notation.latex[name]} \mathrel{{+}}= {' + '.join(parts)}"
