r"""The expanded sums of any cell as LaTeX and JSON: written out, compact, block matrices.

- `cell_written_out_latex`: every (i, k) term on its own aligned line with its tag, each
  a sum of path products broken into lines of at most `FACTORS_PER_LINE` factors (the
  layout the vanilla pages have always had).
- `cell_compact_latex`: the sum over i and k for any T, the state Jacobian a product of
  the one-step block matrices $J_t = \mathrm{d}s_t/\mathrm{d}s_{t-1}$ of the stacked
  state $s_t$ (the LSTM's $(h_t, c_t)$), printed by `block_matrix_latex`.
- `named_paths`: for each state the part of its own block that its equation reads
  directly from $s_{t-1}$, e.g. the LSTM's $\partial c_t/\partial c_{t-1} =
  \operatorname{diag}(f_t)$; over i - k steps, with h held fixed, the product of these is
  the cell-state path (the constant error carousel), the residual skip I, the GRU's
  $\operatorname{diag}(z_t)$.
"""

from __future__ import annotations

from typing import Any

from derivations.core.cell import Cell, Ref
from derivations.core.errors import TooLargeError
from derivations.core.factors import LocalSum, Notation
from derivations.core.notation import local_derivative, total_derivative
from derivations.core.spec import LOSSES, check_choice
from derivations.gradient.links import sum_notation
from derivations.gradient.paths import block_derivative
from derivations.gradient.sums import (
    CellGradient,
    CellTerm,
    cell_expanded_sum,
    cell_gradient,
)
from derivations.render.lines import (
    CONTINUED_PRODUCT,
    FACTORS_PER_LINE,
    MAX_WRITTEN_STEPS,
    balanced,
)
from derivations.render.readout import (
    readout_jacobian_row,
    readout_jacobian_symbol,
    readout_param_sum,
)

__all__ = [
    "MATRIX_ENVIRONMENTS",
    "MAX_WRITTEN_PATHS",
    "block_matrix_latex",
    "cell_compact_latex",
    "cell_derivation_json",
    "cell_written_out_latex",
    "gradient_lhs",
    "gradient_target",
    "sum_signs",
    "written_groups",
]

#: Most path products one written-out gradient holds: every gradient of every built-in
#: cell at T = 3 fits (the largest, the GRU's dL/dh_0, has 155); the LSTM's X at T = 4
#: (434) does not: beyond this only the compact form reads.
MAX_WRITTEN_PATHS = 200
#: How a path after the first of a term starts, and how its product goes on: the sign
#: of a path sits where a continued product of the vanilla page starts, its own
#: continuation one \quad further in.
CONTINUED_PATH = CONTINUED_PRODUCT
CONTINUED_PATH_PRODUCT = CONTINUED_PRODUCT + r"\quad "
#: Matrix environments `block_matrix_latex` can print.
MATRIX_ENVIRONMENTS = ("pmatrix", "bmatrix")
#: A block is printed inside the block matrix when it is one product of at most this
#: many pieces; longer ones are named there and defined in the ``where`` lines.
INLINE_PIECES = 2


def gradient_target(cell: Cell, wrt: str, at: str = "k") -> str:
    """What dL/d`wrt` differentiates by, in LaTeX: ``W_{xf}``, ``x_{k}``, ``c_0``."""
    notation = sum_notation(cell)
    if wrt == "X":
        return f"x_{{{at}}}"
    if wrt in notation.latex and wrt not in cell.state_names:
        return notation.latex[wrt]
    return f"{notation.latex[wrt[:-1]]}_0"


def gradient_lhs(cell: Cell, wrt: str, at: str = "k") -> str:
    """dL/d`wrt` in LaTeX (total: every path to L), by `gradient_target`."""
    return total_derivative("L", gradient_target(cell, wrt, at))


def _written_lines(term: CellTerm, notation: Notation, first: bool) -> str:
    """One term as ``aligned`` rows: its paths, each product broken into balanced lines.

    A one-path term is laid out as the vanilla page lays it out; with several paths,
    each later path starts a row with its sign and its product goes on one \\quad further.
    """
    paths = term.paths
    joiner = CONTINUED_PATH_PRODUCT if len(paths) > 1 else CONTINUED_PRODUCT
    rows: list[str] = []
    for n, path in enumerate(paths):
        lines = [r"\,".join(line) for line in balanced(path.parts(notation), FACTORS_PER_LINE)]
        negative = path.sign < 0
        if n == 0:
            lead = (
                (r"&= -" if negative else r"&= ")
                if first
                else (r"&\quad - " if negative else r"&\quad + ")
            )
            lines[0] = lead + lines[0] + rf"\qquad && (i={term.loss},\ k={term.step})"
        else:
            lines[0] = ("- " if negative else "+ ") + lines[0]
        rows.append(joiner.join(lines))
    return CONTINUED_PATH.join(rows)


def check_written(cell: Cell, wrt: str, T: int, terms: list[CellTerm]) -> None:
    count = sum(t.path_count() for t in terms)
    if T > MAX_WRITTEN_STEPS or count > MAX_WRITTEN_PATHS:
        raise TooLargeError(
            f"T={T} gives {len(terms)} terms with {count} products for dL/d{wrt} of the "
            f"{cell.name} cell, too many to write out (at most T = {MAX_WRITTEN_STEPS} and "
            f"{MAX_WRITTEN_PATHS} products). Ask for the compact form (cell_compact_latex, "
            "--form compact: block products, any T) or fewer steps."
        )


def written_groups(cell: Cell, wrt: str, terms: list[CellTerm]) -> list[tuple[str, list[CellTerm]]]:
    """The equations a written-out dL/d`wrt` consists of: (left-hand side, its terms).

    For ``X`` one equation per input x_k, holding exactly the terms (i, k) of that k
    (i increasing), in k order; otherwise one equation holding every term. Every page,
    LaTeX and Markdown output that writes a sum out takes its equations from here, so a
    left-hand side appears once with exactly its terms.
    """
    groups: dict[int, list[CellTerm]] = {}
    for term in sorted(terms, key=lambda t: (t.step, t.loss) if wrt == "X" else (0,)):
        groups.setdefault(term.step if wrt == "X" else 0, []).append(term)
    return [
        (gradient_lhs(cell, wrt, str(key) if wrt == "X" else "k"), group)
        for key, group in groups.items()
    ]


def cell_written_out_latex(cell: Cell, wrt: str, T: int = 3) -> str:
    """Every term of dL/d`wrt` written out, one tagged ``aligned`` row per (i, k).

    One equation per group of `written_groups` (for ``X`` one per input x_k).
    Raises `TooLargeError` beyond `MAX_WRITTEN_STEPS` steps or `MAX_WRITTEN_PATHS` products.
    """
    terms = cell_expanded_sum(cell, wrt, T)
    check_written(cell, wrt, T, terms)
    notation = sum_notation(cell)
    blocks = []
    for lhs, group in written_groups(cell, wrt, terms):
        rows = [_written_lines(term, notation, n == 0) for n, term in enumerate(group)]
        blocks.append(lhs + " " + r" \\ ".join(rows))
    return r"\begin{aligned}" + r" \\[4pt] ".join(blocks) + r"\end{aligned}"


# --- the block matrix of one step, and the compact form ---------------------------------


def _sum_body(block: LocalSum, t: int | str, notation: Notation) -> str:
    """A block's sum for the right of an ``aligned`` row, a new row per product when long."""
    if not block:
        return "0"
    breaking = sum(len(term.pieces) for term in block.terms) > FACTORS_PER_LINE
    out = ""
    for n, term in enumerate(block.terms):
        parts = [p for p in (piece.latex(t, notation) for piece in term.pieces) if p] or ["I"]
        text = CONTINUED_PATH_PRODUCT.join(
            r"\,".join(line) for line in balanced(parts, FACTORS_PER_LINE)
        )
        if n == 0:
            out = ("-" if term.sign < 0 else "") + text
        else:
            out += (CONTINUED_PATH if breaking else " ") + ("- " if term.sign < 0 else "+ ") + text
    return out


def _sum_rows(lhs: str, block: LocalSum, t: int | str, notation: Notation) -> str:
    """``lhs &= product + ...`` for an ``aligned`` list."""
    return f"{lhs} &= {_sum_body(block, t, notation)}"


def block_matrix_latex(
    cell: Cell, t: int | str = "t", env: str = "pmatrix"
) -> tuple[str, list[str]]:
    r"""The one-step Jacobian $J_t$ of the stacked state as a block matrix, and its ``where`` rows.

    Row convention: block (r, c) differentiates state c at t by state r at t - 1 (written
    by `derivations.gradient.paths.block_derivative`: ∂ when it holds another state fixed),
    rows by the earlier state, columns by the later one (as `rnnnum.jacobian_products` stores
    them), so $\Delta s_t = \Delta s_{t-1} J_t$. A zero block prints 0, a short one (one
    product of at most `INLINE_PIECES` pieces) itself; a longer one is named by its
    derivative and defined in the returned rows (``aligned`` rows, ``lhs &= ...``).
    """
    check_choice(env, "env (the matrix environment)", MATRIX_ENVIRONMENTS)
    blocks = cell.step_jacobian_blocks()
    notation = cell.notation
    rows, where = [], []
    for s2 in cell.state_names:  # the earlier state: a block row
        entries = []
        for s in cell.state_names:  # the later state: a block column
            block = blocks[s, s2]
            if not block:
                entries.append("0")
            elif len(block) == 1 and len(block.terms[0].pieces) <= INLINE_PIECES:
                entries.append(block.latex(t, notation))
            else:
                symbol = block_derivative(cell, s, s2, t)
                entries.append(symbol)
                where.append(_sum_rows(symbol, block, t, notation))
        rows.append(" & ".join(entries))
    return rf"\begin{{{env}}} " + r" \\ ".join(rows) + rf" \end{{{env}}}", where


def _state_row(cell: Cell, t: str) -> str:
    states = [cell.notation.at(s, t) for s in cell.state_names]
    return (
        states[0]
        if len(states) == 1
        else r"\begin{pmatrix} " + " & ".join(states) + r" \end{pmatrix}"
    )


def cell_compact_latex(cell: Cell, wrt: str, T: int, env: str = "pmatrix") -> str:
    r"""dL/d`wrt` for any T: sums over (i, k), the state Jacobian a product of block matrices.

    $\mathrm{d}s_i/\mathrm{d}s_k = J_{k+1} J_{k+2} \cdots J_i$ (t increasing to the
    right, I when k = i) with $J_t$ from `block_matrix_latex`; the h rows of it are
    picked by $(I\ 0)$ when the cell has more than one state. ``aligned`` rows: the sum,
    then ``where`` rows defining $s_t$, $J_t$, its long blocks and the in-step
    derivatives $\mathrm{d}s_k/\mathrm{d}u_k$ of each place `wrt` enters.
    """
    g = cell_gradient(cell, wrt)
    g.pairs(T)  # checks T
    notation = sum_notation(cell)
    lhs = gradient_lhs(cell, wrt)
    dy = r"\frac{\partial L_{i}}{\partial y_{i}}"
    if g.kind in ("Wyh", "by"):
        row = r"h_{i}^\top\," if g.kind == "Wyh" else ""
        return rf"\begin{{aligned}}{lhs} &= \sum_{{i=1}}^{{{T}}} {row}{dy}\end{{aligned}}"
    if g.kind == "readout":
        summand = readout_param_sum(cell, wrt)
        return rf"\begin{{aligned}}{lhs} &= \sum_{{i=1}}^{{{T}}} {summand}\end{{aligned}}"
    n = len(cell.state_names)
    pick = (
        r"\begin{pmatrix} I & " + " & ".join(["0"] * (n - 1)) + r" \end{pmatrix}" if n > 1 else ""
    )
    head = r"\,W_{yh}^\top"
    if cell.readout is not None:  # the cell's own read-out: dy_i/ds_i, defined below
        head, pick = rf"\Big({readout_jacobian_symbol(cell, 'i')}\Big)^{{\!\top}}", ""
    k = "1" if g.kind == "initial" else "k"
    product = (
        rf"\big(J_{{{k}+1}} \cdots J_{{i}}\big)^{{\!\top}}"
        if k == "k"
        else r"\big(J_{2} \cdots J_{i}\big)^{\!\top}"
    )
    summands, where = [], []
    for m, entry in enumerate(g.entries):
        close = ""
        if entry.row is not None:
            text = entry.row.latex(k, notation)
            close = rf"{text}^\top\," if " " not in text else rf"({text})^\top\,"
        u = _entry_symbol(cell, g, m, k)
        inner = _in_step(cell, g, m, None, _state_row_symbol(cell, k), u)
        summands.append(rf"{close}{dy}{head}{pick}{product}\Big({inner}\Big)^{{\!\top}}")
        where.append(_entry_rows(cell, g, m, k, u, notation, env))
    sums = sum_signs(g.kind, T)
    first = rf"{lhs} &= {sums} " + (
        summands[0] if len(summands) == 1 else r"\Big[" + " + ".join(summands) + r"\Big]"
    )
    jt = total_derivative(_state_row_symbol(cell, "t"), _state_row_symbol(cell, "t-1"))
    empty = r"J_{k+1} \cdots J_{i} = I" if k == "k" else r"J_{2} \cdots J_{i} = I"
    when = r"\ \text{when } i = " + ("k" if k == "k" else "1")
    lines = [first, rf"\text{{where}}\quad {empty}{when},\quad J_{{t}} &= {jt}"]
    if n > 1:
        matrix, block_rows = block_matrix_latex(cell, "t", env)
        lines[-1] += rf" = {matrix},\quad s_{{t}} = {_state_row(cell, 't')}"
        lines += block_rows
    else:
        lines[-1] += " = " + _sum_body(cell.step_jacobian_blocks()["h", "h"], "t", cell.notation)
    if cell.readout is not None:
        lines.append(readout_jacobian_row(cell))
    for rows in where:
        lines += rows
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def sum_signs(kind: str, T: int) -> str:
    r"""The sums a compact form runs over, by the gradient's kind (`CellGradient.kind`):
    $\sum_{i \ge k}$ for an input $x_k$, $\sum_i$ for an initial state (its one step is
    1), $\sum_i \sum_{k \le i}$ for a parameter of the cell."""
    if kind == "X":
        return rf"\sum_{{i=k}}^{{{T}}}"
    if kind == "initial":
        return rf"\sum_{{i=1}}^{{{T}}}"
    return rf"\sum_{{i=1}}^{{{T}}}\sum_{{k=1}}^{{i}}"


def _state_row_symbol(cell: Cell, t: str) -> str:
    return f"s_{{{t}}}" if len(cell.state_names) > 1 else cell.notation.at("h", t)


def _in_step(cell: Cell, g: CellGradient, m: int, state: str | None, top: str, u: str) -> str:
    """d s_k/d u_k, written with ∂ when it is local: one path, s's own equation reading u.

    `state` None stands for the whole state row (local only for a one-state cell). For
    an initial state s'_0 the entry of one state is the block from s'_0 to s_1, written
    as every block is (`derivations.gradient.paths.block_derivative`).
    """
    if g.kind == "initial" and state is not None:
        return block_derivative(cell, state, g.wrt[:-1], 1)
    entry = g.entries[m]
    states = cell.state_names if state is None else (state,)
    name = entry.start.split("_")[0]
    local = (
        entry.direct
        and len(states) == 1
        and len(entry.to_state[states[0]]) == 1
        and Ref(name) in cell.leaves(states[0])
    )
    return (local_derivative if local else total_derivative)(top, u)


def _entry_symbol(cell: Cell, g: CellGradient, m: int, k: str) -> str:
    """What `wrt` enters at step k: x_k, s_0, the equation's variable, or the product e W."""
    entry, notation = g.entries[m], sum_notation(cell)
    if g.kind == "X":
        return f"x_{{{k}}}"
    if g.kind == "initial":
        return notation.latex[g.wrt[:-1]] + "_{0}"
    name = entry.start.split("_")[0]
    if entry.direct:  # wrt is added or multiplied at the top of the equation: u_k is v_k
        return notation.at(name, k)
    if entry.row is None:
        return f"{notation.latex[g.wrt]}"
    return f"({entry.row.latex(k, notation)}\\, {notation.latex[g.wrt]})"


def _entry_rows(
    cell: Cell, g: CellGradient, m: int, k: str, u: str, notation: Notation, env: str
) -> list[str]:
    """The in-step derivatives d s_k/d u_k of entry m: a block row, each long block defined."""
    entry = g.entries[m]
    lhs = _in_step(cell, g, m, None, _state_row_symbol(cell, k), u)
    if len(cell.state_names) == 1:
        return [_sum_rows(lhs, entry.to_state["h"], k, notation)]
    entries, rows = [], []
    for s in cell.state_names:
        block = entry.to_state[s]
        if not block:
            entries.append("0")
        elif len(block) == 1 and len(block.terms[0].pieces) <= INLINE_PIECES:
            entries.append(block.latex(k, notation))
        else:
            symbol = _in_step(cell, g, m, s, notation.at(s, k), u)
            entries.append(symbol)
            rows.append(_sum_rows(symbol, block, k, notation))
    return [rf"{lhs} &= \begin{{{env}}} " + " & ".join(entries) + rf" \end{{{env}}}", *rows]


def cell_derivation_json(
    cell: Cell, wrt: str, T: int = 3, loss: str = "cross_entropy", *, form: str = "full"
) -> dict[str, Any]:
    """The derivation as a JSON-ready dict: compact form, and for ``form="full"`` every term.

    ``terms`` holds, per (loss, step), the term's LaTeX and its paths (sign, the LaTeX of
    each factor, the variables passed through).
    """
    check_choice(loss, "loss", tuple(LOSSES))
    check_choice(form, "form", ("full", "compact"))
    out: dict[str, Any] = {
        "cell": cell.name,
        "param": wrt,
        "steps": T,
        "loss": loss,
        "compact": cell_compact_latex(cell, wrt, T),
        "local_derivatives": r"\frac{\partial L_t}{\partial y_t} = "
        + LOSSES[loss].gradient_latex("t"),
    }
    if form == "full":
        notation = sum_notation(cell)
        terms = cell_expanded_sum(cell, wrt, T)
        out["written_out"] = cell_written_out_latex(cell, wrt, T)
        out["terms"] = [
            {
                "loss": term.loss,
                "step": term.step,
                "latex": term.latex(notation),
                "paths": [
                    {"sign": p.sign, "factors": p.parts(notation), "through": list(p.through)}
                    for p in term.paths
                ],
            }
            for term in terms
        ]
    return out
