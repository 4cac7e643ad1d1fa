"""derivations: backpropagation through time derived by SymPy, for any T.

Any cell, written once as equations (`cell`, built-ins in `cells`): `cell_unroll` (its
program) -> `cell_sums` (the expanded sum, each (i, k) term a sum over paths) and
`cell_loop` (the backward loop, one carry per state) -> `cell_lambdified`,
`cell_sums_latex`, `cell_loop_render`, `cell_markdown` -> `cell_proofs`,
`cell_loop_proofs`, `cell_verify` (against `rnnnum`) -> `cli` (``--cell``).

The vanilla RNN's own data flow, one module per stage:
`notation` (names and LaTeX) -> `spec` (T, activation, loss, sizes) -> `unroll`
(the straight-line program in scalar symbols) -> `terms` (a term: factors, loss i,
step k) -> `gradients` (expanded sums, Jacobian products, the backward loop) ->
`lambdified` (one compiled function) -> `render` (LaTeX, Markdown, JSON) and
`proofs` / `verify` (exact proofs, checks against `rnnnum`) -> `cli`.

Example:

    >>> from derivations import ModelSpec, expanded_sum
    >>> terms = expanded_sum("Wxh", 3)
    >>> [(t.loss, t.step) for t in terms]
    [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3)]
    >>> [f.kind for f in terms[3].factors]  # x_1^T ∂L_3/∂y_3 W_yh^T F_3 W_hh^T F_2 W_hh^T F_1
    ['xT', 'g', 'WyhT', 'fprime', 'WhhT', 'fprime', 'WhhT', 'fprime']
"""

# The names are loaded when first asked for (PEP 562), each from its own module:
# importing one stage (say derivations.core.cell) does not import every other stage, so
# the site's generator jobs depend only on the modules they really use (an edit to
# derivations/vanilla/render.py reruns the jobs that render, not the gated chapter).
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Imported now, not lazily: the function `unroll` shares its name with its module, and
# importing the submodule derivations.vanilla.unroll binds that name on the package to the
# module, which would hide the function from any later `from derivations import unroll`.
from derivations.vanilla.unroll import Unrolled, unroll

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
    from derivations.render.loop import cell_elementwise_latex, cell_loop_code
    from derivations.render.page import cell_derivation_markdown
    from derivations.render.sums import (
        block_matrix_latex,
        cell_compact_latex,
        cell_derivation_json,
        cell_written_out_latex,
    )
    from derivations.vanilla.gradients import (
        RULES,
        backward_loop,
        expanded_sum,
        jacobian,
        loop_map,
        pairs,
    )
    from derivations.vanilla.lambdified import Evaluation, Lambdified, lambdify_model
    from derivations.vanilla.render import (
        compact_latex,
        derivation_json,
        derivation_markdown,
        jacobian_latex,
        written_out_latex,
    )
    from derivations.vanilla.render_loop import elementwise_latex, loop_code
    from derivations.vanilla.terms import Factor, JacobianProduct, Term

#: Each public name -> the module that defines it.
_WHERE = {
    "ACTIVATION_NAMES": "derivations.core.notation",
    "BUILTIN_CELLS": "derivations.core.cells",
    "FUNC_KINDS": "derivations.core.ops",
    "GRADIENT_NAMES": "derivations.core.notation",
    "LOSSES": "derivations.core.spec",
    "LOSS_NAMES": "derivations.core.notation",
    "PARAM_NAMES": "derivations.core.notation",
    "QUANTITIES": "derivations.core.notation",
    "RULES": "derivations.vanilla.gradients",
    "Add": "derivations.core.cell",
    "Bias": "derivations.core.cell",
    "Cell": "derivations.core.cell",
    "CellDefinitionError": "derivations.core.cell",
    "CellLambdified": "derivations.compile.lambdify",
    "CellLoadError": "derivations.core.cells",
    "CellLoop": "derivations.gradient.loop",
    "CellTerm": "derivations.gradient.sums",
    "DerivationError": "derivations.core.errors",
    "Div": "derivations.core.arith",
    "Equation": "derivations.core.cell",
    "Evaluation": "derivations.vanilla.lambdified",
    "Expr": "derivations.core.write",
    "Factor": "derivations.vanilla.terms",
    "Func": "derivations.core.cell",
    "Gain": "derivations.core.arith",
    "Input": "derivations.core.cell",
    "JacobianProduct": "derivations.vanilla.terms",
    "Lambdified": "derivations.vanilla.lambdified",
    "LocalFactor": "derivations.core.factors",
    "LocalSum": "derivations.core.factors",
    "MatMul": "derivations.core.cell",
    "ModelSpec": "derivations.core.spec",
    "Mul": "derivations.core.cell",
    "Offset": "derivations.core.arith",
    "OneMinus": "derivations.core.cell",
    "OutOfRangeError": "derivations.core.errors",
    "Param": "derivations.core.cell",
    "Pow": "derivations.core.arith",
    "Prev": "derivations.core.cell",
    "Ref": "derivations.core.cell",
    "Scale": "derivations.core.arith",
    "Shift": "derivations.core.arith",
    "Stack": "derivations.core.cell",
    "State": "derivations.core.cell",
    "Term": "derivations.vanilla.terms",
    "TooLargeError": "derivations.core.errors",
    "UnknownChoiceError": "derivations.core.errors",
    "UnrolledCell": "derivations.program.unroll",
    "act": "derivations.core.write",
    "backward_loop": "derivations.vanilla.gradients",
    "block_matrix_latex": "derivations.render.sums",
    "cell": "derivations.core.define",
    "cell_backward_loop": "derivations.gradient.loop",
    "cell_compact_latex": "derivations.render.sums",
    "cell_derivation_json": "derivations.render.sums",
    "cell_derivation_markdown": "derivations.render.page",
    "cell_elementwise_latex": "derivations.render.loop",
    "cell_expanded_sum": "derivations.gradient.sums",
    "cell_loop_code": "derivations.render.loop",
    "cell_loop_map": "derivations.gradient.loop",
    "cell_pairs": "derivations.gradient.sums",
    "cell_written_out_latex": "derivations.render.sums",
    "compact_latex": "derivations.vanilla.render",
    "define_cell": "derivations.core.define",
    "derivation_json": "derivations.vanilla.render",
    "derivation_markdown": "derivations.vanilla.render",
    "elementwise_latex": "derivations.vanilla.render_loop",
    "exp": "derivations.core.write",
    "expanded_sum": "derivations.vanilla.gradients",
    "jacobian": "derivations.vanilla.gradients",
    "jacobian_latex": "derivations.vanilla.render",
    "lambdify_cell": "derivations.compile.lambdify",
    "lambdify_model": "derivations.vanilla.lambdified",
    "leaky_relu": "derivations.core.write",
    "load_cell": "derivations.core.cells",
    "log": "derivations.core.write",
    "loop_code": "derivations.vanilla.render_loop",
    "loop_map": "derivations.vanilla.gradients",
    "matrix": "derivations.core.write",
    "named_path_latex": "derivations.gradient.named_paths",
    "named_paths": "derivations.gradient.named_paths",
    "pairs": "derivations.vanilla.gradients",
    "prev": "derivations.core.write",
    "relu": "derivations.core.write",
    "scalar": "derivations.core.write",
    "sigmoid": "derivations.core.write",
    "softplus": "derivations.core.write",
    "tanh": "derivations.core.write",
    "unroll_cell": "derivations.program.unroll",
    "vector": "derivations.core.write",
    "verify_cell": "derivations.check.verify",
    "written_out_latex": "derivations.vanilla.render",
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
    "RULES",
    "Add",
    "Bias",
    "Cell",
    "CellDefinitionError",
    "CellLambdified",
    "CellLoadError",
    "CellLoop",
    "CellTerm",
    "DerivationError",
    "Div",
    "Equation",
    "Evaluation",
    "Expr",
    "Factor",
    "Func",
    "Gain",
    "Input",
    "JacobianProduct",
    "Lambdified",
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
    "Stack",
    "State",
    "Term",
    "TooLargeError",
    "UnknownChoiceError",
    "Unrolled",
    "UnrolledCell",
    "act",
    "backward_loop",
    "block_matrix_latex",
    "cell",
    "cell_backward_loop",
    "cell_compact_latex",
    "cell_derivation_json",
    "cell_derivation_markdown",
    "cell_elementwise_latex",
    "cell_expanded_sum",
    "cell_loop_code",
    "cell_loop_map",
    "cell_pairs",
    "cell_written_out_latex",
    "compact_latex",
    "define_cell",
    "derivation_json",
    "derivation_markdown",
    "elementwise_latex",
    "exp",
    "expanded_sum",
    "jacobian",
    "jacobian_latex",
    "lambdify_cell",
    "lambdify_model",
    "leaky_relu",
    "load_cell",
    "log",
    "loop_code",
    "loop_map",
    "matrix",
    "named_path_latex",
    "named_paths",
    "pairs",
    "prev",
    "relu",
    "scalar",
    "sigmoid",
    "softplus",
    "tanh",
    "unroll",
    "unroll_cell",
    "vector",
    "verify_cell",
    "written_out_latex",
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
