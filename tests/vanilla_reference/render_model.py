r"""LaTeX of the model itself: the recurrence, the forward pass, the local derivatives, paths.

The pages of sections 1 to 3 (the model, local derivatives, paths through time)
print these: the step equations for a general t and written out for t = 1..T, one
entry of a_t and h_t as SymPy defines it, every local Jacobian of one step, how
each parameter enters its step, and the paths from the losses to a hidden state,
$\mathrm{d}L_i/\mathrm{d}h_t$. The cell's part of each (its step equations, local
Jacobians and parameter uses) is printed from the vanilla cell; the read-out and the
loss are shared by every cell. Re-exported by `vanilla_reference.render`.
"""

from __future__ import annotations

from typing import Any

from derivations.core.cells import vanilla
from derivations.core.errors import TooLargeError
from derivations.core.factors import ONE, Notation
from derivations.core.nodes import Input, ParamUse, Prev
from derivations.core.notation import GRADIENT_NAMES, QUANTITIES, local_derivative, total_derivative
from derivations.core.spec import ModelSpec
from derivations.render.formulas import generic_sum
from derivations.render.lines import broken_sum
from vanilla_reference.lines import check_written
from vanilla_reference.terms import Factor, _product_latex, signal_factors
from vanilla_reference.unroll import unroll

__all__ = [
    "forward_entry_latex",
    "forward_latex",
    "hidden_latex",
    "hidden_path_factors",
    "local_jacobians_latex",
    "model_latex",
    "parameter_locals_latex",
]


def _q(name: str, t: Any = None) -> str:
    return QUANTITIES[name].at(t)


def _step_equations(spec: ModelSpec, t: Any, prev: Any) -> list[tuple[str, str]]:
    """(lhs, rhs) of one forward step: the vanilla cell's equations, then the shared read-out.

    `prev` (the index of h_{t-1}) is kept for the callers; the cell writes it itself.
    """
    rows: list[tuple[str, str]] = []
    for equation in vanilla(spec.activation).equation_latex(t):
        lhs, rhs = equation.split(" = ", 1)
        rows.append((lhs, rhs))
    rows.append((_q("y", t), rf"{_q('h', t)} W_{{yh}} + b_y"))
    if spec.loss_def.uses_softmax:
        rows.append((_q("p", t), rf"\operatorname{{softmax}}({_q('y', t)})"))
    rows.append((_q("L", t), spec.loss_def.value_latex(t)))
    return rows


def model_latex(spec: ModelSpec) -> str:
    """The recurrence at a general step t, and the total loss, for this activation and loss."""
    rows = _step_equations(spec, "t", "t-1")
    lines = [rf"{lhs} &= {rhs}" for lhs, rhs in rows]
    lines.append(r"L &= \sum_{t=1}^{T} L_{t}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def forward_latex(spec: ModelSpec) -> str:
    """The forward pass written out step by step for t = 1..T, one block per step."""
    check_written("Wxh", spec)
    blocks = []
    for t in range(1, spec.T + 1):
        rows = _step_equations(spec, t, t - 1)
        blocks.append(r" \\ ".join(rf"{lhs} &= {rhs}" for lhs, rhs in rows))
    total = " + ".join(_q("L", t) for t in range(1, spec.T + 1))
    blocks.append(rf"L &= {total}")
    return r"\begin{aligned}" + r" \\[6pt] ".join(blocks) + r"\end{aligned}"


def forward_entry_latex(spec: ModelSpec, t: int, j: int) -> str:
    """Entry j of $a_t$ and of $h_t$ as the symbolic model defines them, printed by SymPy."""
    model = unroll(spec)
    definitions = dict(model.assignments)
    names = model.latex_names
    lines = []
    for family in (model.a, model.h):
        symbol = family[t][j - 1]
        lines.append(rf"{names[symbol]} &= {broken_sum(definitions[symbol], names)}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def local_jacobians_latex(spec: ModelSpec) -> str:
    r"""Every local derivative of one step, each a Jacobian in the row convention.

    Entry (j, l) of $\partial u / \partial v$ is $\partial u_l / \partial v_j$, so a
    backward step multiplies a row of signals by the transpose. The read-out rows are
    shared by every cell; the rest is each equation of the vanilla cell against each
    argument it reads (`Cell.local_jacobian`), from the last equation back.
    """
    cell = vanilla(spec.activation)
    notation = cell.notation
    lines = [
        rf"{local_derivative(_q('L', 't'), _q('y', 't'))} &= {spec.loss_def.gradient_latex('t')}",
        rf"{local_derivative(_q('y', 't'), _q('h', 't'))} &= W_{{yh}}",
    ]
    for eq in reversed(cell.equations):
        for leaf in reversed(cell.leaves(eq.name)):
            jacobian = cell.local_jacobian(eq.name, leaf)
            lhs = local_derivative(notation.at(eq.name, "t"), leaf.latex("t", notation))
            text, generic = jacobian.latex("t", notation), generic_sum(jacobian, "t", notation)
            rhs = text if generic == text else f"{generic} = {text}"
            lines.append(f"{lhs} &= {rhs}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def _outer_rule(eq: str, param: str, use: ParamUse, notation: Notation) -> str:
    """How `param` enters equation `eq` at step k: the row it multiplies, the path on."""
    lhs = rf"\partial {notation.at(eq, 'k')} / \partial {notation.latex[param]}"
    path = "" if use.path == ONE else rf" \text{{, then }} {use.path.latex('k', notation)}"
    if use.row is None:
        return f"{lhs} &= {use.path.latex('k', notation)}"
    row = use.row.latex("k", notation)
    return rf"{lhs} &: \text{{the outer product with }} {row}^\top{path}"


def parameter_locals_latex(activation: str = "tanh") -> str:
    """How each parameter and input enters its step: the local rule of every gradient.

    The vanilla cell's parameters from `Cell.param_uses`, the input and the initial
    state from `Cell.local_jacobian`; the read-out rows ($W_{yh}$, $b_y$) are shared.
    """
    cell = vanilla(activation)
    notation = cell.notation
    lines: dict[str, list[str]] = {
        "Wyh": [r"\partial y_i / \partial W_{yh} &: \text{the outer product with } h_i^\top"],
        "by": [r"\partial y_i / \partial b_y &= I"],
    }
    for param in cell.param_names:
        lines[param] = [
            _outer_rule(eq.name, param, use, notation)
            for eq in cell.equations
            for use in cell.param_uses(eq.name, param)
        ]
    for name, leaf, t in (("X", Input(), "k"), ("h0", Prev("h"), 1)):
        lines[name] = []
        for eq in cell.equations:
            if leaf in cell.leaves(eq.name):
                weight = cell.local_jacobian(eq.name, leaf)
                lhs = rf"\partial {notation.at(eq.name, t)} / \partial {leaf.latex(t, notation)}"
                applied = weight.transpose().latex(t, notation)
                lines[name].append(
                    rf"{lhs} &= {weight.latex(t, notation)} \text{{ (applied as }} {applied})"
                )
    ordered = [line for name in GRADIENT_NAMES for line in lines[name]]
    return r"\begin{aligned}" + r" \\ ".join(ordered) + r"\end{aligned}"


def hidden_path_factors(i: int, t: int) -> tuple[Factor, ...]:
    r"""Factors of $\mathrm{d}L_i / \mathrm{d}h_t$, (1, H), for $t \le i$: the one path
    from $L_i$.

    $g_i W_{yh}^\top$ when $t = i$; else $\delta_{i,t+1} W_{hh}^\top$, back through
    $h_{t+1}$.
    """
    if not 1 <= t <= i:
        raise TooLargeError(f"L_{i} depends on h_{t} only for 1 <= t <= i; got i={i}, t={t}.")
    if t == i:
        return (Factor("g", i), Factor("WyhT"))
    return (*signal_factors(i, t + 1), Factor("WhhT"))


def hidden_latex(t: int, spec: ModelSpec, *, losses: tuple[int, ...] | None = None) -> str:
    r"""$\mathrm{d}L_i/\mathrm{d}h_t$ for one loss, or $\bar h_t = \mathrm{d}L/\mathrm{d}h_t$.

    Both are total derivatives (they follow the path from $h_t$ through later states);
    with one loss the left side names that loss, with several (default: every
    $i \ge t$) it is the derivative of $L$, one path per loss.
    """
    chosen = losses or tuple(range(t, spec.T + 1))
    paths = [_product_latex(hidden_path_factors(i, t), spec, "I") for i in chosen]
    if len(chosen) == 1:
        (i,) = chosen
        return f"{total_derivative(f'L_{{{i}}}', f'h_{{{t}}}')} = {paths[0]}"
    named = " + ".join(total_derivative(f"L_{{{i}}}", f"h_{{{t}}}") for i in chosen)
    return (
        rf"\begin{{aligned}}{_q('dh', t)} = {total_derivative('L', f'h_{{{t}}}')} &= {named} \\ "
        + r" \\ ".join(("&= " if n == 0 else "&\\quad + ") + path for n, path in enumerate(paths))
        + r"\end{aligned}"
    )
