r"""LaTeX of the model itself: the recurrence, the forward pass, the local derivatives, paths.

The pages of sections 1 to 3 (the model, local derivatives, paths through time)
print these: the step equations for a general t and written out for t = 1..T, one
entry of a_t and h_t as SymPy defines it, every local Jacobian of one step, how
each parameter enters its step (the `RULES` of `derivations.gradients`), and the
paths from the losses to a hidden state, $\mathrm{d}L_i/\mathrm{d}h_t$. Re-exported
by `derivations.render`.
"""

from __future__ import annotations

from typing import Any

from derivations.errors import TooLargeError
from derivations.gradients import RULES
from derivations.notation import QUANTITIES, total_derivative
from derivations.render_lines import _broken_sum, _check_written
from derivations.spec import ModelSpec
from derivations.terms import Factor, _product_latex, signal_factors
from derivations.unroll import unroll

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
    """(lhs, rhs) of one forward step, in the notation; `prev` is the index of h_{t-1}."""
    h_prev = QUANTITIES["h0"].latex if prev == 0 else _q("h", prev)
    rows = [
        (_q("a", t), rf"{_q('X', t)} W_{{xh}} + {h_prev} W_{{hh}} + b_h"),
        (_q("h", t), spec.act.latex(_q("a", t))),
        (_q("y", t), rf"{_q('h', t)} W_{{yh}} + b_y"),
    ]
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
    _check_written("Wxh", spec)
    blocks = []
    for t in range(1, spec.T + 1):
        rows = _step_equations(spec, t, t - 1)
        blocks.append(r" \\ ".join(rf"{lhs} &= {rhs}" for lhs, rhs in rows))
    total = " + ".join(_q("L", t) for t in range(1, spec.T + 1))
    blocks.append(rf"L &= {total}")
    return r"\begin{aligned}" + r" \\[6pt] ".join(blocks) + r"\end{aligned}"


def forward_entry_latex(spec: ModelSpec, t: int, j: int) -> str:
    """Entry j of a_t and of h_t as the symbolic model defines them, printed by SymPy."""
    model = unroll(spec)
    definitions = dict(model.assignments)
    names = model.latex_names
    lines = []
    for family in (model.a, model.h):
        symbol = family[t][j - 1]
        lines.append(rf"{names[symbol]} &= {_broken_sum(definitions[symbol], names)}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def local_jacobians_latex(spec: ModelSpec) -> str:
    r"""Every local derivative of one step, each a Jacobian in the row convention.

    Entry (j, l) of $\partial u / \partial v$ is $\partial u_l / \partial v_j$, so a
    backward step multiplies a row of signals by the transpose.
    """
    fprime = spec.act.derivative_latex(_q("a", "t"), _q("h", "t"))
    lines = [
        rf"\frac{{\partial L_t}}{{\partial y_t}} &= {spec.loss_def.gradient_latex('t')}",
        r"\frac{\partial y_t}{\partial h_t} &= W_{yh}",
        rf"\frac{{\partial h_t}}{{\partial a_t}} &= \operatorname{{diag}}(f'(a_t)) = "
        rf"\operatorname{{diag}}({fprime})",
        r"\frac{\partial a_t}{\partial h_{t-1}} &= W_{hh}",
        r"\frac{\partial a_t}{\partial x_t} &= W_{xh}",
    ]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def parameter_locals_latex() -> str:
    """How each parameter and input enters its step: the local rule of every gradient."""
    lines = [RULES[name].local.replace(":", " &:", 1) for name in RULES]
    lines = [line if "&" in line else line.replace(" = ", " &= ", 1) for line in lines]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def hidden_path_factors(i: int, t: int) -> tuple[Factor, ...]:
    r"""Factors of $\mathrm{d}L_i / \mathrm{d}h_t$, (1, H), for t <= i: the one path from L_i.

    $g_i W_{yh}^\top$ when t = i; else $\delta_{i,t+1} W_{hh}^\top$, back through h_{t+1}.
    """
    if not 1 <= t <= i:
        raise TooLargeError(f"L_{i} depends on h_{t} only for 1 <= t <= i; got i={i}, t={t}.")
    if t == i:
        return (Factor("g", i), Factor("WyhT"))
    return (*signal_factors(i, t + 1), Factor("WhhT"))


def hidden_latex(t: int, spec: ModelSpec, *, losses: tuple[int, ...] | None = None) -> str:
    r"""$\mathrm{d}L_i/\mathrm{d}h_t$ for one loss, or $\bar h_t = \mathrm{d}L/\mathrm{d}h_t$.

    Both are total derivatives (they follow the path from h_t through later states);
    with one loss the left side names that loss, with several (default: every
    i >= t) it is the derivative of L, one path per loss.
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
