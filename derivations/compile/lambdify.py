r"""Any cell's forward program and backward loop compiled into one function by `sympy.lambdify`.

The forward program
(`derivations.program.unroll.unroll_cell`) and the loop
(`derivations.gradient.loop.cell_backward_loop`) are handed to `lambdify` as its common
subexpressions (its ``cse=`` hook), so the generated function is the program itself,
one line per symbol, linear in T. It returns the loss, every gradient of
`Cell.gradient_names` and the trace of the forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from derivations.compile.targets import one_hot
from derivations.core.errors import OutOfRangeError
from derivations.core.factors import FloatArray
from derivations.gradient.loop import CellLoop, cell_backward_loop
from derivations.program.unroll import UnrolledCell

__all__ = [
    "CellEvaluation",
    "CellLambdified",
    "cell_input_shapes",
    "cell_numbers",
    "check_cell_values",
    "flat_cell_inputs",
    "lambdify_cell",
    "random_cell_values",
]

#: The code printer's settings: terms in the program's own order. SymPy's default sorts
#: the terms of every sum before printing it, which was two thirds of the time to
#: compile a GRU at T = 100 (the gradients are sums of T terms).
_PRINTER_SETTINGS = {"order": "none", "fully_qualified_modules": False}


@dataclass(frozen=True)
class CellEvaluation:
    r"""One evaluation: the loss, $L_1, \dots, L_T$, the gradients and the forward trace.

    ``gradients`` by `Cell.gradient_names`, each shaped like its input: weights
    (rows, H), biases (H,), ``Wyh`` (H, V), ``by`` (V,), ``X`` (T, D), ``h0`` (H,)
    [``c0`` (H,)]. ``trace`` is keyed like `UnrolledCell.trace`: every variable of
    the cell, ``"x"``, ``"y"`` and ``"dy"`` ($\partial L_t/\partial y_t$) as a (T+1, width)
    array indexed by t (row 0: the initial states, NaN for the others), the parameters as arrays (a
    bias 1-D); so the expanded sum's terms evaluate from it (`CellTerm.value`).
    """

    loss: float
    losses: FloatArray
    gradients: dict[str, FloatArray]
    trace: dict[str, FloatArray] = field(repr=False)


def cell_input_shapes(program: UnrolledCell) -> dict[str, tuple[int, ...]]:
    """The shape of every numeric input by name (the targets apart)."""
    spec = program.spec
    shapes: dict[str, tuple[int, ...]] = {}
    for name in (*program.cell.param_names, *program.cell.read_out.param_names):
        rows, cols = program.params[name].shape
        shapes[name] = (cols,) if rows == 1 else (rows, cols)
    shapes["X"] = (spec.T, spec.D)
    shapes.update({f"{s}0": (spec.H,) for s in program.cell.state_names})
    return shapes


def check_cell_values(program: UnrolledCell, values: Mapping[str, Any]) -> dict[str, FloatArray]:
    """Validate and convert the inputs of `CellLambdified.__call__`; targets become ``R``."""
    spec, cell = program.spec, program.cell
    T, V = spec.T, spec.V
    shapes = cell_input_shapes(program)
    states = [f"{s}0" for s in cell.state_names]
    unknown = sorted(set(values) - {*shapes, "targets"})
    if unknown:
        raise OutOfRangeError(
            f"unknown inputs {unknown} for the {cell.name} cell; its inputs are "
            f"{', '.join(shapes)} and targets."
        )
    arrays: dict[str, FloatArray] = {}
    for name, shape in shapes.items():
        if name not in values:
            if name in states:
                arrays[name] = np.zeros(shape)
                continue
            raise OutOfRangeError(
                f"missing input {name!r} of shape {shape} for the {cell.name} cell; pass it "
                f"by name (only the initial states {', '.join(states)} default to zeros)."
            )
        arr = np.asarray(values[name], dtype=np.float64)
        if arr.shape != shape:
            raise OutOfRangeError(
                f"{name} must have shape {shape} for T={T}, D={spec.D}, H={spec.H}, V={V}; "
                f"got {arr.shape}. Pass the array in the cell's own layout (a bias 1-D)."
            )
        if not np.all(np.isfinite(arr)):
            raise OutOfRangeError(f"{name} must be finite; it holds NaN or infinity.")
        arrays[name] = arr
    if "targets" not in values:
        raise OutOfRangeError("missing input 'targets'; pass one per step.")
    if spec.loss == "cross_entropy":
        arrays["R"] = one_hot(values["targets"], V, T)
    else:
        R = np.asarray(values["targets"], dtype=np.float64)
        if R.shape != (T, V):
            raise OutOfRangeError(f"mse targets must have shape ({T}, {V}); got {R.shape}.")
        arrays["R"] = R
    return arrays


def random_cell_values(program: UnrolledCell, rng: np.random.Generator) -> dict[str, Any]:
    """The one random point of the cell side: every input by name, uniform in (-1, 1).

    In `CellLambdified`'s layout (`cell_input_shapes`; initial states non-zero), with
    targets as class indices (T,) for cross-entropy or reals (T, V) for mse.
    """
    values: dict[str, Any] = {
        name: rng.uniform(-1.0, 1.0, size=shape)
        for name, shape in cell_input_shapes(program).items()
    }
    T, V = program.T, program.spec.V
    if program.spec.loss == "cross_entropy":
        values["targets"] = rng.integers(0, V, size=T)
    else:
        values["targets"] = rng.uniform(-1.0, 1.0, size=(T, V))
    return values


def cell_numbers(program: UnrolledCell, values: Mapping[str, Any]) -> dict[sp.Symbol, float]:
    """The same point keyed by the program's input symbols (one-hot targets)."""
    return dict(zip(program.inputs(), flat_cell_inputs(program, values), strict=True))


def _flatten(program: UnrolledCell, arrays: dict[str, FloatArray]) -> list[float]:
    order = [*cell_input_shapes(program), "R"]
    return np.concatenate([arrays[name].ravel() for name in order]).tolist()


def flat_cell_inputs(program: UnrolledCell, values: Mapping[str, Any]) -> list[float]:
    """The numeric inputs in `UnrolledCell.inputs()` order (validated, targets one-hot)."""
    return _flatten(program, check_cell_values(program, values))


@dataclass(frozen=True, eq=False)
class CellLambdified:
    """The compiled program of one `UnrolledCell`; call it with numeric inputs."""

    program: UnrolledCell
    loop: CellLoop = field(repr=False)
    function: Callable[..., list[float]] = field(repr=False)

    def __call__(self, values: Mapping[str, Any]) -> CellEvaluation:
        """Evaluate at `values`: each parameter by name (`cell_input_shapes`), X (T, D), the
        initial states (``h0``, ``c0``; optional, zeros) and the targets ((T,) class indices
        for cross-entropy, (T, V) reals for mse)."""
        arrays = check_cell_values(self.program, values)
        out = np.asarray(self.function(*_flatten(self.program, arrays)), dtype=np.float64)
        return self._unpack(out, arrays)

    def _unpack(self, out: FloatArray, arrays: dict[str, FloatArray]) -> CellEvaluation:
        program, T = self.program, self.program.T
        shapes = cell_input_shapes(program)
        losses, pos = out[:T], T
        trace: dict[str, FloatArray] = {}
        for name, family in _traced(program).items():
            width = family[1].cols
            trace[name] = np.full((T + 1, width), np.nan)
            trace[name][1:] = out[pos : pos + T * width].reshape(T, width)
            pos += T * width
        for state in program.cell.state_names:
            trace[state][0] = arrays[f"{state}0"]
        trace["x"] = np.vstack([np.full(program.spec.D, np.nan), arrays["X"]])
        gradients: dict[str, FloatArray] = {}
        for name in program.cell.gradient_names:
            size = int(np.prod(shapes[name]))
            gradients[name] = out[pos : pos + size].reshape(shapes[name])
            pos += size
        trace.update(
            {p: arrays[p] for p in (*program.cell.param_names, *program.cell.read_out.param_names)}
        )
        return CellEvaluation(float(losses.sum()), losses, gradients, trace)


def _traced(program: UnrolledCell) -> dict[str, dict[int, sp.Matrix]]:
    """The per-step families the trace holds besides x: the cell's variables, y and dy."""
    return {**program.values, "y": program.y, "dy": program.dy}


def lambdify_cell(program: UnrolledCell, loop: CellLoop | None = None) -> CellLambdified:
    """Compile the forward program and the backward loop into one function (module docstring)."""
    loop = loop or cell_backward_loop(program)
    T = program.T
    outputs: list[Any] = [program.L[t] for t in range(1, T + 1)]
    for family in _traced(program).values():
        for t in range(1, T + 1):
            outputs.extend(family[t])
    for name in program.cell.gradient_names:
        gradient = loop.gradients[name]
        outputs.extend(sp.Matrix.vstack(*gradient) if name == "X" else gradient)
    assignments = [*program.assignments, *loop.assignments]
    function = sp.lambdify(
        program.inputs(),
        outputs,
        modules="math",
        cse=lambda exprs: (assignments, exprs),
        docstring_limit=0,
        printer=PythonCodePrinter(_PRINTER_SETTINGS),
    )
    return CellLambdified(program, loop, function)
