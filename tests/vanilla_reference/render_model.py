r"""The reference's own LaTeX of the model: one entry of a_t and h_t as its unrolled
model defines them, and the paths from the losses to a hidden state,
$\mathrm{d}L_i/\mathrm{d}h_t$, from its hand-structured factors. The engine's
`derivations.render.model` is read against these (tests/test_derivations_render_cell_model).
"""

from __future__ import annotations

from typing import Any

from derivations.core.errors import TooLargeError
from derivations.core.notation import QUANTITIES, total_derivative
from derivations.core.spec import ModelSpec
from derivations.render.lines import broken_sum
from vanilla_reference.terms import Factor, _product_latex, signal_factors
from vanilla_reference.unroll import unroll

__all__ = [
    "forward_entry_latex",
    "hidden_latex",
    "hidden_path_factors",
]


def _q(name: str, t: Any = None) -> str:
    return QUANTITIES[name].at(t)


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
