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
# importing one stage (say derivations.cell) does not import every other stage, so
# the site's generator jobs depend only on the modules they really use (an edit to
# derivations/render.py reruns the jobs that render, not the gated chapter).
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Imported now, not lazily: the function `unroll` shares its name with its module, and
# importing the submodule derivations.unroll binds that name on the package to the
# module, which would hide the function from any later `from derivations import unroll`.
from derivations.unroll import Unrolled, unroll

if TYPE_CHECKING:
    from derivations.cell import (
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
    from derivations.cell_factors import LocalFactor, LocalSum
    from derivations.cell_lambdified import CellLambdified, lambdify_cell
    from derivations.cell_loop import CellLoop, cell_backward_loop, cell_loop_map
    from derivations.cell_loop_render import cell_elementwise_latex, cell_loop_code
    from derivations.cell_markdown import cell_derivation_markdown
    from derivations.cell_named_paths import named_path_latex, named_paths
    from derivations.cell_sums import CellTerm, cell_expanded_sum, cell_pairs
    from derivations.cell_sums_latex import (
        block_matrix_latex,
        cell_compact_latex,
        cell_derivation_json,
        cell_written_out_latex,
    )
    from derivations.cell_unroll import UnrolledCell, unroll_cell
    from derivations.cell_verify import verify_cell
    from derivations.cells import BUILTIN_CELLS, CellLoadError, load_cell
    from derivations.errors import (
        DerivationError,
        OutOfRangeError,
        TooLargeError,
        UnknownChoiceError,
    )
    from derivations.gradients import RULES, backward_loop, expanded_sum, jacobian, loop_map, pairs
    from derivations.lambdified import Evaluation, Lambdified, lambdify_model
    from derivations.notation import (
        ACTIVATION_NAMES,
        GRADIENT_NAMES,
        LOSS_NAMES,
        PARAM_NAMES,
        QUANTITIES,
    )
    from derivations.render import (
        compact_latex,
        derivation_json,
        derivation_markdown,
        elementwise_latex,
        jacobian_latex,
        loop_code,
        written_out_latex,
    )
    from derivations.spec import ModelSpec
    from derivations.terms import Factor, JacobianProduct, Term

#: Each public name -> the module that defines it.
_WHERE = {
    "ACTIVATION_NAMES": "derivations.notation",
    "BUILTIN_CELLS": "derivations.cells",
    "GRADIENT_NAMES": "derivations.notation",
    "LOSS_NAMES": "derivations.notation",
    "PARAM_NAMES": "derivations.notation",
    "QUANTITIES": "derivations.notation",
    "RULES": "derivations.gradients",
    "Add": "derivations.cell",
    "Bias": "derivations.cell",
    "Cell": "derivations.cell",
    "CellDefinitionError": "derivations.cell",
    "CellLambdified": "derivations.cell_lambdified",
    "CellLoadError": "derivations.cells",
    "CellLoop": "derivations.cell_loop",
    "CellTerm": "derivations.cell_sums",
    "DerivationError": "derivations.errors",
    "Equation": "derivations.cell",
    "Evaluation": "derivations.lambdified",
    "Factor": "derivations.terms",
    "Func": "derivations.cell",
    "Input": "derivations.cell",
    "JacobianProduct": "derivations.terms",
    "Lambdified": "derivations.lambdified",
    "LocalFactor": "derivations.cell_factors",
    "LocalSum": "derivations.cell_factors",
    "MatMul": "derivations.cell",
    "ModelSpec": "derivations.spec",
    "Mul": "derivations.cell",
    "OneMinus": "derivations.cell",
    "OutOfRangeError": "derivations.errors",
    "Param": "derivations.cell",
    "Prev": "derivations.cell",
    "Ref": "derivations.cell",
    "Stack": "derivations.cell",
    "State": "derivations.cell",
    "Term": "derivations.terms",
    "TooLargeError": "derivations.errors",
    "UnknownChoiceError": "derivations.errors",
    "UnrolledCell": "derivations.cell_unroll",
    "backward_loop": "derivations.gradients",
    "block_matrix_latex": "derivations.cell_sums_latex",
    "cell_backward_loop": "derivations.cell_loop",
    "cell_compact_latex": "derivations.cell_sums_latex",
    "cell_derivation_json": "derivations.cell_sums_latex",
    "cell_derivation_markdown": "derivations.cell_markdown",
    "cell_elementwise_latex": "derivations.cell_loop_render",
    "cell_expanded_sum": "derivations.cell_sums",
    "cell_loop_code": "derivations.cell_loop_render",
    "cell_loop_map": "derivations.cell_loop",
    "cell_pairs": "derivations.cell_sums",
    "cell_written_out_latex": "derivations.cell_sums_latex",
    "compact_latex": "derivations.render",
    "derivation_json": "derivations.render",
    "derivation_markdown": "derivations.render",
    "elementwise_latex": "derivations.render",
    "expanded_sum": "derivations.gradients",
    "jacobian": "derivations.gradients",
    "jacobian_latex": "derivations.render",
    "lambdify_cell": "derivations.cell_lambdified",
    "lambdify_model": "derivations.lambdified",
    "load_cell": "derivations.cells",
    "loop_code": "derivations.render",
    "loop_map": "derivations.gradients",
    "named_path_latex": "derivations.cell_named_paths",
    "named_paths": "derivations.cell_named_paths",
    "pairs": "derivations.gradients",
    "unroll_cell": "derivations.cell_unroll",
    "verify_cell": "derivations.cell_verify",
    "written_out_latex": "derivations.render",
}

__all__ = [
    "ACTIVATION_NAMES",
    "BUILTIN_CELLS",
    "GRADIENT_NAMES",
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
    "Equation",
    "Evaluation",
    "Factor",
    "Func",
    "Input",
    "JacobianProduct",
    "Lambdified",
    "LocalFactor",
    "LocalSum",
    "MatMul",
    "ModelSpec",
    "Mul",
    "OneMinus",
    "OutOfRangeError",
    "Param",
    "Prev",
    "Ref",
    "Stack",
    "State",
    "Term",
    "TooLargeError",
    "UnknownChoiceError",
    "Unrolled",
    "UnrolledCell",
    "backward_loop",
    "block_matrix_latex",
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
    "derivation_json",
    "derivation_markdown",
    "elementwise_latex",
    "expanded_sum",
    "jacobian",
    "jacobian_latex",
    "lambdify_cell",
    "lambdify_model",
    "load_cell",
    "loop_code",
    "loop_map",
    "named_path_latex",
    "named_paths",
    "pairs",
    "unroll",
    "unroll_cell",
    "verify_cell",
    "written_out_latex",
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
