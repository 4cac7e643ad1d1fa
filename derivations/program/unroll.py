r"""Any cell unrolled over T steps: a straight-line program in real scalar symbols.

For each step t and each equation of the cell (`derivations.core.cell.Cell`), in order,
every entry of the variable it defines is a fresh symbol (``c_t_j``, ``ai_t_j``)
defined once in terms of earlier symbols; then the read-out and the loss shared
with the vanilla model (`derivations.core.spec.LOSSES`):

$$y_t = h_t W_{yh} + b_y,\qquad L_t = \ell(y_t, r_t),\qquad
\frac{\partial L_t}{\partial y_t},\qquad L = \sum_{t=1}^{T} L_t .$$

The states at step 0 (``h0_j``, the LSTM's ``c0_j``) are inputs. For the vanilla cell
the program is the one the tests' vanilla reference pipeline builds, symbol for symbol, except
that the targets are called ``target_t_j`` (a GRU's reset gate takes ``r``) and
$\partial L_t/\partial y_t$ ``dy_t_j`` (the LSTM's candidate takes ``g``).
SymPy's `MatrixSymbol` is not used (see `derivations.program.symbols`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from derivations.core.cell import Cell
from derivations.core.factors import FloatArray, Scope
from derivations.core.spec import ModelSpec
from derivations.program.symbols import Assignment, back_substitute, matrix_of_symbols

__all__ = ["UnrolledCell", "unroll_cell"]

Expr = Any


@dataclass(frozen=True, eq=False)
class UnrolledCell:
    r"""The unrolled program of `cell` (T steps; sizes D, H, V; a loss of `LOSSES`).

    Shapes (row convention): ``params[name]`` as the cell declares it ((D, H), (H, H),
    (1, H) for a bias), plus ``"Wyh"`` (H, V) and ``"by"`` (1, V); ``x[t]`` (1, D) and
    ``targets[t]`` (1, V) for t = 1..T; ``values[name][t]`` (1, width) for every
    equation and t = 1..T, and for every state also t = 0 (the initial state);
    ``y[t]``, ``dy[t]`` (the local derivative $\partial L_t/\partial y_t$), ``p[t]``
    (cross-entropy only) (1, V); ``L[t]`` scalars.
    """

    cell: Cell
    spec: ModelSpec
    params: dict[str, sp.Matrix]
    x: dict[int, sp.Matrix]
    targets: dict[int, sp.Matrix]
    values: dict[str, dict[int, sp.Matrix]]
    y: dict[int, sp.Matrix]
    p: dict[int, sp.Matrix]
    dy: dict[int, sp.Matrix]
    L: dict[int, sp.Symbol]
    #: the forward pass and ∂L_t/∂y_t, in evaluation order
    assignments: tuple[Assignment, ...] = field(repr=False)
    #: the total loss L = sum_t L_t, in the L_t symbols
    loss: Expr = field(repr=False)

    @property
    def T(self) -> int:
        """The number of steps."""
        return self.spec.T

    def state(self, name: str) -> dict[int, sp.Matrix]:
        """A state's rows for t = 0..T, (1, H) each."""
        return self.values[name]

    def inputs(self) -> list[sp.Symbol]:
        r"""Every free symbol: the cell's parameters, `Wyh`, `by`, $x_1, \dots, x_T$, the
        states at step 0 and the targets."""
        out: list[sp.Symbol] = []
        for name in (*self.cell.param_names, *self.cell.read_out.param_names):
            out.extend(self.params[name])
        for t in range(1, self.T + 1):
            out.extend(self.x[t])
        for state in self.cell.state_names:
            out.extend(self.values[state][0])
        for t in range(1, self.T + 1):
            out.extend(self.targets[t])
        return out

    def step_scope(self, t: int) -> Scope:
        """The symbols step t reads and defines, for the cell's local Jacobians (1 <= t <= T)."""
        return Scope(
            x=list(self.x[t]),
            prev={s: list(self.values[s][t - 1]) for s in self.cell.state_names},
            refs={eq.name: list(self.values[eq.name][t]) for eq in self.cell.equations}
            | {"y": list(self.y[t])},
            params=self.params,
            activation=self.cell.activation,
        )

    @cached_property
    def definitions(self) -> dict[sp.Symbol, Expr]:
        """Each defined symbol as an expression in the inputs alone (back-substituted)."""
        return back_substitute(self.assignments)

    def nested(self, expr: Expr) -> Expr:
        """`expr` with every defined symbol replaced by its expression in the inputs."""
        return sp.sympify(expr).xreplace(self.definitions)

    @cached_property
    def latex_names(self) -> dict[sp.Symbol, str]:
        """LaTeX of every symbol (``c_{2,1}``, ``(W_{xf})_{1,2}``), for ``sympy.latex``."""
        notation = self.cell.notation
        names: dict[sp.Symbol, str] = {}
        for key, matrix in self.params.items():
            base = notation.latex.get(key) or self.cell.read_out.param(key).latex
            for i in range(matrix.rows):
                for j in range(matrix.cols):
                    index = f"{j + 1}" if matrix.rows == 1 else f"{i + 1},{j + 1}"
                    names[matrix[i, j]] = f"({base})_{{{index}}}"
        families = {"x": self.x, "r": self.targets, "y": self.y, "p": self.p}
        families |= {notation.latex[name]: rows for name, rows in self.values.items()}
        for base, family in families.items():
            for t, row in family.items():
                for j, symbol in enumerate(row, 1):
                    names[symbol] = f"{base}_{{{t},{j}}}"
        for t, row in self.dy.items():  # the local derivative ∂L_t/∂y_t, entry j
            for j, symbol in enumerate(row, 1):
                names[symbol] = rf"(\partial L_{{{t}}} / \partial y_{{{t}}})_{{{j}}}"
        names.update({s: f"L_{{{t}}}" for t, s in self.L.items()})
        return names

    def evaluate(self, numbers: Mapping[sp.Symbol, float]) -> dict[sp.Symbol, float]:
        """Run the program on numbers for every input symbol: every symbol's float value."""
        values: dict[sp.Symbol, Any] = {s: sp.Float(numbers[s]) for s in self.inputs()}
        for symbol, expr in self.assignments:
            values[symbol] = sp.Float(expr.xreplace(values).evalf())
        return {s: float(v) for s, v in values.items()}

    def trace(self, numbers: Mapping[sp.Symbol, float]) -> dict[str, FloatArray]:
        r"""Numeric values by name, what `numeric_scope` reads.

        Each cell variable, ``"x"``, ``"y"`` and ``"dy"`` ($\partial L_t/\partial y_t$) as a
        (T+1, width) array, row t for step t (row 0 holds the initial states, NaN for the others);
        parameters as arrays, a bias 1-D.
        """
        values = self.evaluate(numbers)
        out: dict[str, FloatArray] = {}
        for name, matrix in self.params.items():
            arr = np.array([[values[s] for s in matrix.row(i)] for i in range(matrix.rows)])
            out[name] = arr[0] if matrix.rows == 1 else arr
        for name, family in {"x": self.x, "y": self.y, "dy": self.dy, **self.values}.items():
            width = family[1].cols
            arr = np.full((self.T + 1, width), np.nan)
            for t, row in family.items():
                arr[t] = [values[s] for s in row]
            out[name] = arr
        return out

    def numeric_scope(self, trace: Mapping[str, FloatArray], t: int) -> Scope:
        """The float values step t reads and defines, from a `trace` (1 <= t <= T)."""
        return Scope(
            x=trace["x"][t],
            prev={s: trace[s][t - 1] for s in self.cell.state_names},
            refs={eq.name: trace[eq.name][t] for eq in self.cell.equations}
            | ({"y": trace["y"][t]} if "y" in trace else {}),
            params={p: trace[p] for p in self.cell.param_names},
            activation=self.cell.activation,
        )


def unroll_cell(
    cell: Cell, T: int = 3, D: int = 2, H: int = 3, V: int = 4, loss: str = "cross_entropy"
) -> UnrolledCell:
    r"""The straight-line program of `cell` over T steps with its read-out and `loss`.

    Per step t: each equation of the cell in order, then its read-out $y_t$ (by default
    $y_t = h_t W_{yh} + b_y$),
    ($p_t = \operatorname{softmax}(y_t)$ for cross-entropy), $L_t$ and
    $\partial L_t/\partial y_t$. Sizes and T are checked as `ModelSpec` checks them.
    """
    spec = ModelSpec(T=T, activation=cell.activation, loss=loss, D=D, H=H, V=V)
    loss_def = spec.loss_def
    params = {p.name: matrix_of_symbols(p.name, *p.shape(D, H)) for p in cell.params}
    readout = cell.read_out
    params |= {p.name: matrix_of_symbols(p.name, *p.shape(D, H, V)) for p in readout.params}
    x = {t: matrix_of_symbols("x", 1, D, t=t) for t in range(1, T + 1)}
    targets = {t: matrix_of_symbols("target", 1, V, t=t) for t in range(1, T + 1)}
    values: dict[str, dict[int, sp.Matrix]] = {eq.name: {} for eq in cell.equations}
    for state in cell.state_names:
        values[state][0] = matrix_of_symbols(f"{state}0", 1, H)
    y: dict[int, sp.Matrix] = {}
    p: dict[int, sp.Matrix] = {}
    dy: dict[int, sp.Matrix] = {}
    L: dict[int, sp.Symbol] = {}
    program: list[Assignment] = []
    for t in range(1, T + 1):
        prev = {s: list(values[s][t - 1]) for s in cell.state_names}
        refs: dict[str, list[Expr]] = {}
        for eq in cell.equations:
            rows = eq.expr.forward(Scope(list(x[t]), prev, refs, params, cell.activation))
            values[eq.name][t] = matrix_of_symbols(eq.name, 1, len(rows), t=t)
            program.extend(zip(values[eq.name][t], rows, strict=True))
            refs[eq.name] = list(values[eq.name][t])
        y[t] = matrix_of_symbols("y", 1, V, t=t)
        if cell.readout is None:
            out = values["h"][t] * params["Wyh"] + params["by"]
        else:  # the cell's own read-out, over the states of step t
            states = {s: list(values[s][t]) for s in cell.state_names}
            out = readout.expr.forward(Scope(list(x[t]), prev, states, params, cell.activation))
        program.extend(zip(y[t], out, strict=True))
        probabilities = None
        if loss_def.uses_softmax:
            p[t] = matrix_of_symbols("p", 1, V, t=t)
            z = sp.Add(*(sp.exp(yv) for yv in y[t]))
            program.extend((pv, sp.exp(yv) / z) for pv, yv in zip(p[t], y[t], strict=True))
            probabilities = list(p[t])
        L[t] = sp.Symbol(f"L_{t}", real=True)
        program.append((L[t], loss_def.value(list(y[t]), list(targets[t]))))
        dy[t] = matrix_of_symbols("dy", 1, V, t=t)
        gradient = loss_def.gradient(list(y[t]), probabilities, list(targets[t]))
        program.extend(zip(dy[t], gradient, strict=True))
    return UnrolledCell(
        cell=cell,
        spec=spec,
        params=params,
        x=x,
        targets=targets,
        values=values,
        y=y,
        p=p,
        dy=dy,
        L=L,
        assignments=tuple(program),
        loss=sp.Add(*L.values()),
    )
