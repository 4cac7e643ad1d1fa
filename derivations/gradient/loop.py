r"""The backward loop of any cell: reverse over t, one carry per state, from its equations.

Iteration t (from T down to 1) visits the cell's equations in reverse order. The
adjoint $\bar v_t = \mathrm{d}L/\mathrm{d}v_t$ of each variable v is complete once
every later equation u of the step that reads v has sent its part back through its
local Jacobian (`derivations.core.cell.Cell.local_jacobian`):

$$\bar v_t = \sum_{u\ \text{reads}\ v} \bar u_t
  \Big(\frac{\partial u_t}{\partial v_t}\Big)^{\!\top}
  \ \Big[+\ \frac{\partial L_t}{\partial y_t}\,W_{yh}^\top\ \text{if } v = h\Big]
  \ \Big[+\ \kappa^{s}_{t+1}\ \text{if } v \text{ is a state } s\Big],$$

and the carry of each state s, what the losses from t on send into the state at t-1,

$$\kappa^{s}_{t} = \frac{\mathrm{d}(L_t + \dots + L_T)}{\mathrm{d}s_{t-1}}
  = \sum_{u\ \text{reads}\ s_{t-1}} \bar u_t
  \Big(\frac{\partial u_t}{\partial s_{t-1}}\Big)^{\!\top},\qquad \kappa^{s}_{T+1} = 0 .$$

A parameter P entering equation u through the product $\Pi$ (`Cell.param_uses`) gets
$e^\top(\bar u_t \Pi^\top)$ at iteration t, e the row it multiplies (the identity for
a bias); when $\Pi$ is not the identity, $\delta^{u}_t = \bar u_t \Pi^\top$ is a signal
of its own (the GRU's gates: $\bar r_t \odot r_t \odot (1 - r_t)$). The input gets
$\bar x_t$ the same way; $W_{yh}$ gets $h_t^\top\,\partial L_t/\partial y_t$ and $b_y$
$\partial L_t/\partial y_t$; the initial state $s_0$ gets $\kappa^{s}_1$. A cell's own
read-out sends $g_t = \partial L_t/\partial y_t$ into each state s it reads through
$(\partial y_t/\partial s_t)^\top$ instead, and each of its parameters gets its rows'
outer products with $g_t$ pulled back to where it enters $y_t$.

The loop is built once per cell as data (`loop_plan`: which rows are summed into
what), then run on SymPy symbols (`cell_backward_loop`) or printed as NumPy code
(`derivations.render.loop.cell_loop_code`): the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sympy as sp

from derivations.core.cell import Cell, Input, Prev, Ref
from derivations.core.factors import LocalFactor, LocalSum, Piece
from derivations.core.nodes import Node
from derivations.core.notation import signal_entry_latex
from derivations.core.spec import check_choice
from derivations.gradient.rows import (
    Adjoint,
    Carried,
    Define,
    LoopPlan,
    Negated,
    Output,
    Pulled,
    Readout,
    Row,
    Signal,
    Update,
)
from derivations.program.symbols import Assignment, back_substitute, matrix_of_symbols
from derivations.program.unroll import UnrolledCell

__all__ = [
    "Adjoint",
    "Carried",
    "CellLoop",
    "Define",
    "LoopPlan",
    "Negated",
    "Output",
    "Pulled",
    "Readout",
    "Row",
    "Signal",
    "Update",
    "cell_backward_loop",
    "cell_loop_map",
    "loop_plan",
]


# --- the loop as data -------------------------------------------------------------------


class _Pulls:
    """Rows pulled back through products of pieces, reusing the longest known suffix."""

    def __init__(self, start: Row) -> None:
        self.known: dict[tuple[Piece, ...], tuple[Row, int]] = {(): (start, 1)}

    def pull(self, factor: LocalFactor) -> Row:
        pieces = factor.pieces
        # the longest suffix already computed; the empty one always is
        cut = next((c for c in range(len(pieces)) if pieces[c:] in self.known), len(pieces))
        row, sign = self.known[pieces[cut:]]
        for piece in reversed(pieces[:cut]):  # g (p1 .. pn)^T = g pn^T .. p1^T
            row = Pulled(row, piece)
        return row if sign == factor.sign else Negated(row)  # signs are +1 or -1


@cache
def loop_plan(cell: Cell) -> LoopPlan:
    """The backward iteration of `cell`, built from its equations' local Jacobians."""
    pending: dict[str, list[Row]] = {eq.name: [] for eq in cell.equations}
    own, out = cell.readout, _Pulls(Output())  # own None: y_t = h_t W_yh + b_y
    readout_updates: tuple[Update, ...] = ()
    if own is None:
        pending["h"].append(Readout())
    else:  # dL_t/dy_t through the cell's own read-out into each state, and its parameters
        for state in cell.state_names:
            pending[state] += [out.pull(f) for f in own.jacobian(state).terms]
        readout_updates = tuple(
            Update(p, tuple((u.row, out.pull(f)) for u in own.param_uses(p) for f in u.path.terms))
            for p in own.param_names
        )
    for state in cell.state_names:
        pending[state].append(Carried(state))
    carries: dict[str, list[Row]] = {s: [] for s in cell.state_names}
    inputs: list[Row] = []
    defines: list[Define] = []
    uses: dict[str, list[tuple[Node | None, Row]]] = {p: [] for p in cell.param_names}
    for eq in reversed(cell.equations):
        bar = Adjoint(eq.name)
        defines.append(Define(bar, tuple(pending[eq.name])))
        pulls = _Pulls(bar)
        signals: dict[LocalSum, Row] = {}
        for param in cell.param_names:
            for use in cell.param_uses(eq.name, param):
                if use.path not in signals:
                    signals[use.path] = _signal(eq.name, use.path, pulls, defines, len(signals))
                uses[param].append((use.row, signals[use.path]))
        for leaf in cell.leaves(eq.name):
            parts = [pulls.pull(f) for f in cell.local_jacobian(eq.name, leaf).terms]
            if isinstance(leaf, Ref):
                pending[leaf.name] += parts
            elif isinstance(leaf, Prev):
                carries[leaf.state] += parts
            elif isinstance(leaf, Input):
                inputs += parts
    return LoopPlan(
        cell,
        tuple(defines),
        {s: tuple(parts) for s, parts in carries.items()},
        tuple(inputs),
        tuple(Update(p, tuple(uses[p])) for p in cell.param_names) + readout_updates,
    )


def _signal(name: str, path: LocalSum, pulls: _Pulls, defines: list[Define], n: int) -> Row:
    """The row where a parameter enters: the adjoint itself, or a new `Signal`."""
    if len(path.terms) == 1 and not path.terms[0].pieces:
        return pulls.pull(path.terms[0])  # ±I: the adjoint, or minus it
    signal = Signal(name, n + 1)
    defines.append(Define(signal, tuple(pulls.pull(f) for f in path.terms)))
    if len(path.terms) == 1:  # reuse it where a leaf's Jacobian ends in the same product
        pulls.known[path.terms[0].pieces] = (signal, path.terms[0].sign)
    return signal


# --- the loop on symbols ----------------------------------------------------------------


def signal_symbol_name(signal: Signal) -> str:
    """``delta_r`` (``delta2_r`` for a second place in the same equation)."""
    return f"delta{signal.index if signal.index > 1 else ''}_{signal.name}"


@dataclass(frozen=True, eq=False)
class CellLoop:
    r"""The backward loop of an `UnrolledCell` as a straight-line program in fresh symbols.

    ``adjoints[v][t]`` (1, width of v): $\bar v_t = \mathrm{d}L/\mathrm{d}v_t$, symbols
    ``bar_v_t_j`` (zeros if nothing reads v); ``signals[name][t]`` (1, H): the signals
    $\delta^{u}_t$ (``delta_u_t_j``); ``carries[s][t]`` (1, H): $\kappa^{s}_t =
    \mathrm{d}(L_t + \dots + L_T)/\mathrm{d}s_{t-1}$ (``carry_s_t_j``); ``increments[g][t]``
    what iteration t adds to gradient g, shaped like it (``X``: the row $\bar x_t$ (1, D);
    ``s0``: only at t = 1, $\kappa^{s}_1$); ``gradients[g]`` the sums (``X``: the T rows).
    """

    program: UnrolledCell
    adjoints: dict[str, dict[int, sp.Matrix]]
    signals: dict[str, dict[int, sp.Matrix]]
    carries: dict[str, dict[int, sp.Matrix]]
    assignments: tuple[Assignment, ...] = field(repr=False)
    increments: dict[str, dict[int, sp.Matrix]] = field(repr=False)
    gradients: dict[str, Any] = field(repr=False)

    @property
    def definitions(self) -> dict[sp.Symbol, Any]:
        """Each loop symbol in the forward program's symbols (back-substituted)."""
        return back_substitute(self.assignments)

    @property
    def latex_names(self) -> dict[sp.Symbol, str]:
        r"""LaTeX of the program's and the loop's symbols: \bar{c}_{t,j}, \delta^{r}_{t}[j], ..."""
        latex = self.program.cell.notation.latex
        names = dict(self.program.latex_names)
        # the targets are r_t unless the cell has an r of its own (the GRU's reset gate)
        target = r"\mathrm{target}" if "r" in latex.values() else "r"
        for t, row in self.program.targets.items():
            for v, s in enumerate(row, 1):
                names[s] = f"{target}_{{{t},{v}}}"
        families = [(self.adjoints, r"\bar{{{}}}"), (self.carries, r"\kappa^{{{}}}")]
        for rows, pattern in families:
            for name, family in rows.items():
                for t, row in family.items():
                    for j, s in enumerate(row, 1):
                        if isinstance(s, sp.Symbol):
                            names[s] = pattern.format(latex[name]) + f"_{{{t},{j}}}"
        for define in loop_plan(self.program.cell).defines:
            if isinstance(signal := define.target, Signal):
                mark = latex[signal.name] + (f",{signal.index}" if signal.index > 1 else "")
                for t, row in self.signals[signal_symbol_name(signal)].items():
                    for j, s in enumerate(row, 1):
                        names[s] = signal_entry_latex(t, j, mark)
        return names


def cell_backward_loop(program: UnrolledCell) -> CellLoop:
    """Reverse over t = T..1 with one carry per state: `loop_plan` run on the program's symbols."""
    cell, T = program.cell, program.T
    plan = loop_plan(cell)
    H, D = program.spec.H, program.spec.D
    adjoints: dict[str, dict[int, sp.Matrix]] = {eq.name: {} for eq in cell.equations}
    signals: dict[str, dict[int, sp.Matrix]] = {}
    carries: dict[str, dict[int, sp.Matrix]] = {s: {} for s in cell.state_names}
    increments: dict[str, dict[int, sp.Matrix]] = {g: {} for g in cell.gradient_names}
    assignments: list[Assignment] = []

    def assign(name: str, t: int, rows: list[sp.Matrix], width: int) -> sp.Matrix:
        if not rows:
            return sp.zeros(1, width)
        symbols = matrix_of_symbols(name, 1, width, t=t)
        assignments.extend((symbols[j], entry) for j, entry in enumerate(_row_sum(rows)))
        return symbols

    for t in range(T, 0, -1):
        step = _Iteration(program, t, carries)
        scope, value = step.scope, step.value
        for define in plan.defines:
            rows = [value(part) for part in define.parts]
            target = define.target
            if isinstance(target, Adjoint):
                width = program.values[target.name][t].cols
                step.values[target] = assign(f"bar_{target.name}", t, rows, width)
                adjoints[target.name][t] = step.values[target]
            else:
                name = signal_symbol_name(target)
                step.values[target] = assign(name, t, rows, rows[0].cols)
                signals.setdefault(name, {})[t] = step.values[target]
        for state, parts in plan.carries.items():
            carries[state][t] = assign(f"carry_{state}", t, [value(p) for p in parts], H)
        inputs = [value(p) for p in plan.inputs]
        increments["X"][t] = sp.Matrix([_row_sum(inputs)]) if inputs else sp.zeros(1, D)
        for update in plan.updates:
            increments[update.param][t] = _matrix_sum(
                [
                    value(sig) if node is None else sp.Matrix([node.forward(scope)]).T * value(sig)
                    for node, sig in update.uses
                ]
            )
        if cell.readout is None:
            increments["Wyh"][t] = program.values["h"][t].T * program.dy[t]
            increments["by"][t] = program.dy[t]
    for state in cell.state_names:
        increments[f"{state}0"][1] = carries[state][1]
    gradients: dict[str, Any] = {
        name: _matrix_sum([parts[t] for t in sorted(parts)]) for name, parts in increments.items()
    }
    gradients["X"] = [increments["X"][t] for t in range(1, T + 1)]
    return CellLoop(program, adjoints, signals, carries, tuple(assignments), increments, gradients)


class _Iteration:
    """The values of the plan's rows at iteration t, each computed once."""

    def __init__(self, program: UnrolledCell, t: int, carries: dict[str, Any]) -> None:
        self.program, self.t, self.carries = program, t, carries
        self.scope = program.step_scope(t)
        self.values: dict[Row, sp.Matrix] = {}

    def value(self, row: Row) -> sp.Matrix:
        """The (1, width) SymPy row of `row` (adjoints and signals once assigned)."""
        if row not in self.values:
            program, t = self.program, self.t
            if isinstance(row, Output):
                self.values[row] = program.dy[t]
            elif isinstance(row, Readout):
                self.values[row] = program.dy[t] * program.params["Wyh"].T
            elif isinstance(row, Carried):
                later = self.carries[row.state].get(t + 1)
                self.values[row] = sp.zeros(1, program.spec.H) if later is None else later
            elif isinstance(row, Pulled):
                self.values[row] = row.piece.pull(self.value(row.row), self.scope)
            elif isinstance(row, Negated):
                self.values[row] = -self.value(row.row)
        return self.values[row]


def _row_sum(rows: list[sp.Matrix]) -> list[Any]:
    """The entries of the sum of equally shaped rows, one Add per entry."""
    (shape,) = {row.shape for row in rows}  # two shapes would be a bug upstream
    return [sp.Add(*(row[j] for row in rows)) for j in range(shape[1])]


def _matrix_sum(matrices: list[sp.Matrix]) -> sp.Matrix:
    """Entry-wise sum in one Add per entry: adding matrices pairwise re-flattens a growing
    Add every time, which makes a sum over T steps quadratic in T."""
    first = matrices[0]
    return sp.Matrix(first.rows, first.cols, lambda r, c: sp.Add(*(m[r, c] for m in matrices)))


def cell_loop_map(cell: Cell, wrt: str, T: int) -> dict[int, list[tuple[int, int]]]:
    r"""For each iteration t (T down to 1), the (loss i, step k) terms of $\mathrm{d}L/\mathrm{d}w$
    (w: `wrt`) it adds.

    The pairs: a cell parameter and X have a term for every k <= i (the parameter, or
    $x_k$, is used at every step k and reaches every later loss); $W_{yh}$ and $b_y$ only
    k = i (they reach $L_i$ through $y_i$ alone). Iteration t adds exactly the terms with k = t:
    the adjoints of step t already hold every loss i >= t. An initial state $s_0$ reaches
    loss i through step 1, pairs (i, 1) for every i; all of them arrive together in the
    carry after iteration t = 1, $\kappa^{s}_1 = \sum_i \mathrm{d}L_i/\mathrm{d}s_0$.
    """
    check_choice(wrt, f"the gradient of the {cell.name} cell", cell.gradient_names)
    out: dict[int, list[tuple[int, int]]] = {t: [] for t in range(T, 0, -1)}
    if wrt in cell.read_out.param_names:
        for i in range(1, T + 1):
            out[i].append((i, i))
    elif wrt in (f"{s}0" for s in cell.state_names):
        out[1] = [(i, 1) for i in range(1, T + 1)]
    else:
        for i in range(1, T + 1):
            for k in range(1, i + 1):
                out[k].append((i, k))
    return out
