r"""The straight-line programs turned into one Python function by `sympy.lambdify`.

The forward program (`vanilla_reference.unroll`) and the backward loop
(`vanilla_reference.gradients.backward_loop`) are handed to `lambdify` as its common
subexpressions (its ``cse=`` hook), so the generated function is exactly the
program: one line per intermediate symbol, linear in T. It returns the loss, every
gradient, and the trace ($h_t$, $g_t$, $f'(a_t)$, ...) from which each expanded `Term`
and `JacobianProduct` evaluates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import NDArray

from derivations.compile.targets import one_hot
from derivations.core.errors import OutOfRangeError
from derivations.core.notation import GRADIENT_NAMES, step_position
from vanilla_reference.gradients import Loop, backward_loop
from vanilla_reference.unroll import Unrolled

__all__ = ["Evaluation", "Lambdified", "flat_inputs", "lambdify_model"]

FloatArray = NDArray[np.float64]

#: per-step quantities returned in the trace
TRACE_NAMES = ("a", "h", "y", "p", "g", "d")


@dataclass(frozen=True)
class Evaluation:
    """The numbers of one evaluation: loss, gradients (rnnnum's shapes) and the trace.

    ``gradients["X"]`` is (T, D), ``"h0"`` (H,), biases 1-D, matrices 2-D.
    ``trace`` maps ``a, h, d`` to (T+1, H) arrays, ``y, p, g, r`` to (T+1, V) and
    ``x`` to (T+1, D), indexed by step t (row 0 is $h_0$ for ``h``, NaN otherwise),
    plus the parameters by name: what `Term.value` reads. ``losses`` is by position:
    entry t - 1 is $L_t$ (the layouts of `derivations.core.notation`).
    """

    loss: float
    losses: FloatArray  # (T,)
    gradients: dict[str, FloatArray]
    trace: dict[str, FloatArray] = field(repr=False)


@dataclass(frozen=True, eq=False)
class Lambdified:
    """The compiled program of one `Unrolled` model; call it with numeric inputs."""

    model: Unrolled
    loop: Loop = field(repr=False)
    function: Callable[..., list[float]] = field(repr=False)
    layout: list[tuple[str, int | None, tuple[int, ...]]] = field(repr=False)

    def __call__(self, values: Mapping[str, Any]) -> Evaluation:
        """Evaluate at `values`: Wxh (D, H), Whh (H, H), Wyh (H, V), bh (H,), by (V,),
        X (T, D), h0 (H,) (optional, zeros), targets ((T,) class indices for
        cross-entropy, (T, V) reals for mse); X and targets by position (row t - 1 is
        step t, as in rnnnum)."""
        arrays = check_values(self.model, values)
        out = np.asarray(self.function(*_flatten(arrays)), dtype=np.float64)
        return self._unpack(out, arrays)

    def _unpack(self, out: FloatArray, arrays: dict[str, FloatArray]) -> Evaluation:
        spec = self.model.spec
        T = spec.T
        pos = 0
        losses = np.empty(T)
        gradients: dict[str, FloatArray] = {}
        trace: dict[str, FloatArray] = {
            name: np.full((T + 1, _width(spec, name)), np.nan) for name in TRACE_NAMES
        }
        for kind, t, shape in self.layout:
            size = int(np.prod(shape)) if shape else 1
            chunk = out[pos : pos + size]
            pos += size
            if kind == "L":
                losses[step_position(t)] = chunk[0]  # type: ignore[arg-type]
            elif kind in TRACE_NAMES:
                trace[kind][t] = chunk
            else:
                gradients[kind] = chunk.reshape(shape)
        # the inputs come by position (row t - 1 is step t); the trace is by step
        trace["h"][0] = arrays["h0"]
        trace["x"] = np.vstack([np.full(spec.D, np.nan), arrays["X"]])
        trace["r"] = np.vstack([np.full(spec.V, np.nan), arrays["R"]])
        for name in ("Wxh", "Whh", "Wyh", "bh", "by"):
            trace[name] = arrays[name]
        return Evaluation(float(losses.sum()), losses, gradients, trace)


_INPUT_ORDER = ("Wxh", "Whh", "Wyh", "bh", "by", "X", "h0", "R")


def _flatten(arrays: dict[str, FloatArray]) -> list[float]:
    return np.concatenate([arrays[name].ravel() for name in _INPUT_ORDER]).tolist()


def flat_inputs(model: Unrolled, values: Mapping[str, Any]) -> list[float]:
    """The numeric inputs in `Unrolled.inputs()` order (validated, targets one-hot)."""
    return _flatten(check_values(model, values))


def _width(spec: Any, name: str) -> int:
    return {"a": spec.H, "h": spec.H, "d": spec.H, "y": spec.V, "p": spec.V, "g": spec.V}[name]


def check_values(model: Unrolled, values: Mapping[str, Any]) -> dict[str, FloatArray]:
    """Validate and convert the numeric inputs of `Lambdified.__call__`."""
    spec = model.spec
    T, D, H, V = spec.T, spec.D, spec.H, spec.V
    shapes = {
        "Wxh": (D, H),
        "Whh": (H, H),
        "Wyh": (H, V),
        "bh": (H,),
        "by": (V,),
        "X": (T, D),
        "h0": (H,),
    }
    unknown = set(values) - {*shapes, "targets"}
    if unknown:
        raise OutOfRangeError(
            f"unknown inputs {sorted(unknown)}; the inputs are {', '.join(shapes)} and targets."
        )
    arrays: dict[str, FloatArray] = {}
    for name, shape in shapes.items():
        if name not in values:
            if name == "h0":
                arrays[name] = np.zeros(H)
                continue
            raise OutOfRangeError(f"missing input {name!r} of shape {shape}; pass it by name.")
        arr = np.asarray(values[name], dtype=np.float64)
        if arr.shape != shape:
            raise OutOfRangeError(
                f"{name} must have shape {shape} for T={T}, D={D}, H={H}, V={V}; got {arr.shape}."
            )
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


def lambdify_model(model: Unrolled, loop: Loop | None = None) -> Lambdified:
    """Compile forward program + backward loop into one function (see module docstring)."""
    loop = loop or backward_loop(model)
    spec = model.spec
    T = spec.T
    outputs: list[Any] = []
    layout: list[tuple[str, int | None, tuple[int, ...]]] = []

    def emit(kind: str, t: int | None, matrix: Any) -> None:
        if isinstance(matrix, sp.MatrixBase):
            outputs.extend(matrix)
            shape = (matrix.rows, matrix.cols)
            layout.append((kind, t, shape if kind not in ("bh", "by", "h0") else (matrix.cols,)))
        else:
            outputs.append(matrix)
            layout.append((kind, t, ()))

    for t in range(1, T + 1):
        emit("L", t, model.L[t])
        for name in TRACE_NAMES:
            family = getattr(model, name)
            if t in family:
                emit(name, t, family[t])
    for name in GRADIENT_NAMES:
        if name == "X":
            emit("X", None, sp.Matrix.vstack(*loop.gradients["X"]))
        else:
            emit(name, None, loop.gradients[name])
    program = [*model.assignments, *loop.assignments]
    function = sp.lambdify(
        model.inputs(),
        outputs,
        modules="math",
        cse=lambda exprs: (program, exprs),
        docstring_limit=0,
    )
    return Lambdified(model, loop, function, layout)
