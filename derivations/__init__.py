"""derivations: backpropagation through time derived by SymPy, for any T.

Any cell, written once as equations (`Cell`; built-ins in `derivations.core.cells`:
vanilla, residual, LSTM, GRU; a notebook shows a cell as its equations, and
`derive(cell, wrt, T)` as its expanded sum), one folder per stage of the data flow:
`core` (the cell) -> `program` (`unroll_cell`: its straight-line program) -> `gradient`
(`cell_expanded_sum`: each (i, k) term a sum over paths; `cell_backward_loop`: the loop,
one carry per state) -> `compile` (`lambdify_cell`) -> `render` (LaTeX, Markdown, JSON;
`cell_derivation_markdown` is the one page assembler) -> `check` (exact proofs,
`verify_cell` against `rnnnum`) -> `cli`.

Example:

    >>> from derivations import cell_expanded_sum, load_cell
    >>> terms = cell_expanded_sum(load_cell("vanilla"), "Wxh", 3)
    >>> [(t.loss, t.step) for t in terms]
    [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3)]
"""

# The names are loaded when first asked for (PEP 562), each from its own module:
# importing one stage (say derivations.core.cell) does not import every other stage, so
# the site's generator jobs depend only on the modules they really use (an edit to
# derivations/render/page.py reruns the jobs that render, not the numeric ones).
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from derivations.check.verify import verify_cell
    from derivations.compile.lambdify import CellLambdified, lambdify_cell
    from derivations.core.arith import Div, Gain, Offset, Pow, Scale, Shift
    from derivations.core.cell import (
        Add,
        Bias,
        Cell,
        CellDefinitionError,
        Equation,
        Func,
        Input,
        MatMul,
        Mul,
        OneMinus,
        Param,
        Prev,
        Ref,
        Stack,
        State,
    )
    from derivations.core.cells import BUILTIN_CELLS, CellLoadError, load_cell
    from derivations.core.define import cell, define_cell
    from derivations.core.degenerate import DegenerateCellWarning
    from derivations.core.errors import (
        DerivationError,
        OutOfRangeError,
        TooLargeError,
        UnknownChoiceError,
    )
    from derivations.core.factors import LocalFactor, LocalSum
    from derivations.core.notation import (
        ACTIVATION_NAMES,
        GRADIENT_NAMES,
        LOSS_NAMES,
        PARAM_NAMES,
        QUANTITIES,
    )
    from derivations.core.ops import FUNC_KINDS
    from derivations.core.spec import LOSSES, ModelSpec
    from derivations.core.write import (
        Expr,
        act,
        exp,
        leaky_relu,
        log,
        matrix,
        prev,
        relu,
        scalar,
        sigmoid,
        softplus,
        tanh,
        vector,
        x,
    )
    from derivations.gradient.loop import CellLoop, cell_backward_loop, cell_loop_map
    from derivations.gradient.named_paths import named_path_latex, named_paths
    from derivations.gradient.sums import CellTerm, cell_expanded_sum, cell_pairs
    from derivations.program.unroll import UnrolledCell, unroll_cell
    from derivations.render.display import Derivation, ShownTerm, derive
    from derivations.render.jacobians import state_product_latex
    from derivations.render.loop import (
        cell_elementwise_latex,
        cell_loop_code,
        cell_loop_update_latex,
    )
    from derivations.render.page import (
        cell_derivation_markdown,
        cell_derive_json,
        cell_derive_latex,
    )
    from derivations.render.sums import (
        block_matrix_latex,
        cell_compact_latex,
        cell_derivation_json,
        cell_written_out_latex,
    )

#: Each public name -> the module that defines it.
_WHERE = {
    "ACTIVATION_NAMES": "derivations.core.notation",
    "Add": "derivations.core.cell",
    "BUILTIN_CELLS": "derivations.core.cells",
    "Bias": "derivations.core.cell",
    "Cell": "derivations.core.cell",
    "CellDefinitionError": "derivations.core.cell",
    "CellLambdified": "derivations.compile.lambdify",
    "CellLoadError": "derivations.core.cells",
    "CellLoop": "derivations.gradient.loop",
    "CellTerm": "derivations.gradient.sums",
    "DegenerateCellWarning": "derivations.core.degenerate",
    "Derivation": "derivations.render.display",
    "DerivationError": "derivations.core.errors",
    "Div": "derivations.core.arith",
    "Equation": "derivations.core.cell",
    "Expr": "derivations.core.write",
    "FUNC_KINDS": "derivations.core.ops",
    "Func": "derivations.core.cell",
    "GRADIENT_NAMES": "derivations.core.notation",
    "Gain": "derivations.core.arith",
    "Input": "derivations.core.cell",
    "LOSSES": "derivations.core.spec",
    "LOSS_NAMES": "derivations.core.notation",
    "LocalFactor": "derivations.core.factors",
    "LocalSum": "derivations.core.factors",
    "MatMul": "derivations.core.cell",
    "ModelSpec": "derivations.core.spec",
    "Mul": "derivations.core.cell",
    "Offset": "derivations.core.arith",
    "OneMinus": "derivations.core.cell",
    "OutOfRangeError": "derivations.core.errors",
    "PARAM_NAMES": "derivations.core.notation",
    "Param": "derivations.core.cell",
    "Pow": "derivations.core.arith",
    "Prev": "derivations.core.cell",
    "QUANTITIES": "derivations.core.notation",
    "Ref": "derivations.core.cell",
    "Scale": "derivations.core.arith",
    "Shift": "derivations.core.arith",
    "ShownTerm": "derivations.render.display",
    "Stack": "derivations.core.cell",
    "State": "derivations.core.cell",
    "TooLargeError": "derivations.core.errors",
    "UnknownChoiceError": "derivations.core.errors",
    "UnrolledCell": "derivations.program.unroll",
    "act": "derivations.core.write",
    "block_matrix_latex": "derivations.render.sums",
    "cell": "derivations.core.define",
    "cell_backward_loop": "derivations.gradient.loop",
    "cell_compact_latex": "derivations.render.sums",
    "cell_derivation_json": "derivations.render.sums",
    "cell_derivation_markdown": "derivations.render.page",
    "cell_derive_json": "derivations.render.page",
    "cell_derive_latex": "derivations.render.page",
    "cell_elementwise_latex": "derivations.render.loop",
    "cell_expanded_sum": "derivations.gradient.sums",
    "cell_loop_code": "derivations.render.loop",
    "cell_loop_map": "derivations.gradient.loop",
    "cell_loop_update_latex": "derivations.render.loop",
    "cell_pairs": "derivations.gradient.sums",
    "cell_written_out_latex": "derivations.render.sums",
    "define_cell": "derivations.core.define",
    "derive": "derivations.render.display",
    "exp": "derivations.core.write",
    "lambdify_cell": "derivations.compile.lambdify",
    "leaky_relu": "derivations.core.write",
    "load_cell": "derivations.core.cells",
    "log": "derivations.core.write",
    "matrix": "derivations.core.write",
    "named_path_latex": "derivations.gradient.named_paths",
    "named_paths": "derivations.gradient.named_paths",
    "prev": "derivations.core.write",
    "relu": "derivations.core.write",
    "scalar": "derivations.core.write",
    "sigmoid": "derivations.core.write",
    "softplus": "derivations.core.write",
    "state_product_latex": "derivations.render.jacobians",
    "tanh": "derivations.core.write",
    "unroll_cell": "derivations.program.unroll",
    "vector": "derivations.core.write",
    "verify_cell": "derivations.check.verify",
    "x": "derivations.core.write",
}

__all__ = [
    "ACTIVATION_NAMES",
    "BUILTIN_CELLS",
    "FUNC_KINDS",
    "GRADIENT_NAMES",
    "LOSSES",
    "LOSS_NAMES",
    "PARAM_NAMES",
    "QUANTITIES",
    "Add",
    "Bias",
    "Cell",
    "CellDefinitionError",
    "CellLambdified",
    "CellLoadError",
    "CellLoop",
    "CellTerm",
    "DegenerateCellWarning",
    "Derivation",
    "DerivationError",
    "Div",
    "Equation",
    "Expr",
    "Func",
    "Gain",
    "Input",
    "LocalFactor",
    "LocalSum",
    "MatMul",
    "ModelSpec",
    "Mul",
    "Offset",
    "OneMinus",
    "OutOfRangeError",
    "Param",
    "Pow",
    "Prev",
    "Ref",
    "Scale",
    "Shift",
    "ShownTerm",
    "Stack",
    "State",
    "TooLargeError",
    "UnknownChoiceError",
    "UnrolledCell",
    "act",
    "block_matrix_latex",
    "cell",
    "cell_backward_loop",
    "cell_compact_latex",
    "cell_derivation_json",
    "cell_derivation_markdown",
    "cell_derive_json",
    "cell_derive_latex",
    "cell_elementwise_latex",
    "cell_expanded_sum",
    "cell_loop_code",
    "cell_loop_map",
    "cell_loop_update_latex",
    "cell_pairs",
    "cell_written_out_latex",
    "define_cell",
    "derive",
    "exp",
    "lambdify_cell",
    "leaky_relu",
    "load_cell",
    "log",
    "matrix",
    "named_path_latex",
    "named_paths",
    "prev",
    "relu",
    "scalar",
    "sigmoid",
    "softplus",
    "state_product_latex",
    "tanh",
    "unroll_cell",
    "vector",
    "verify_cell",
    "x",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'derivations' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # asked once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
