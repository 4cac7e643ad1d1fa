"""The notation's fragments: each quantity's symbol, inline derivatives, the notation table.

The first stage of the hand-written pages' fragments (``gen_fragments.py`` gathers
them): ``sym.<name>[.<step>]``, ``d.<of>.<by>``, ``p.<of>.<by>``, ``table.notation``,
``eq.model`` and the rules of the two kinds of derivative, each printed by the
notation's own helpers (`derivations.core.notation`).
"""

from __future__ import annotations

import re

from gen_format import (
    SYMBOL_STEPS,
    code,
    display,
    math,
    table,
)

from derivations.core.cell import Prev
from derivations.core.cells import vanilla
from derivations.core.notation import (
    QUANTITIES,
    local_derivative,
    signal_entry_latex,
    step_latex,
    total_derivative,
)
from derivations.core.spec import ModelSpec
from derivations.render.model import model_latex

#: The sizes of the small numeric examples (the symbolic default: D=2, H=3, V=4).
EXAMPLE = ModelSpec()
#: The ``d.<of>.<by>`` fragments (inline total derivatives) the pages use.
TOTAL_DERIVATIVES = (
    "h_i/h_k", "h_t/h_k", "h_t/h_t-1", "h_t/h_t-d", "h_T/h_T-d",
    "L/Wxh", "L/Whh", "L/h_t", "L/a_t", "L_i/h_k",
)  # fmt: skip
#: The ``p.<of>.<by>`` fragments (inline local derivatives) the pages use.
LOCAL_DERIVATIVES = ("L_t/y_t", "h_t/a_t")
#: Plain notation in the notation table's descriptions: dL/dh_t, ∂L_t/∂y_t, y_t.
PLAIN = re.compile(r"([d∂])(\w+)/[d∂](\w+)|(?<![\\\w])([A-Za-z]_\w+)(?!\w)")


def symbol_latex(token: str) -> str:
    """LaTeX of a quantity named as in the fragments: ``"h_t-1"`` -> ``h_{t-1}``, ``"L"`` -> ``L``.

    The name before the first ``_`` is a code name of `QUANTITIES`, what follows the step.
    """
    name, _, step = token.partition("_")
    if name not in QUANTITIES:
        raise KeyError(
            f"{token!r}: {name!r} is not a quantity of the notation ({list(QUANTITIES)})"
        )
    q = QUANTITIES[name]
    if step:
        return q.at(step)
    return q.latex.split("_", 1)[0] if q.per_step else q.latex


def derivative_fragments() -> dict[str, str]:
    """``d.<of>.<by>`` and ``p.<of>.<by>``: inline derivatives by the notation's helpers."""
    out = {}
    for prefix, pairs_, rule in (
        ("d", TOTAL_DERIVATIVES, total_derivative),
        ("p", LOCAL_DERIVATIVES, local_derivative),
    ):
        for pair in pairs_:
            of, by = pair.split("/")
            out[f"{prefix}.{of}.{by}"] = math(rule(symbol_latex(of), symbol_latex(by), inline=True))
    return out


def plain_notation(text: str) -> str:
    """A description of the notation (plain text) with its symbols and derivatives as math."""

    def one(match: re.Match[str]) -> str:
        if match[4]:
            return math(symbol_latex(match[4]))
        rule = local_derivative if match[1] == "∂" else total_derivative
        return math(rule(symbol_latex(match[2]), symbol_latex(match[3]), inline=True))

    return PLAIN.sub(one, text)


def notation_fragments() -> dict[str, str]:
    out = {f"sym.{name}": math(q.at("t")) for name, q in QUANTITIES.items()}
    out.update(
        {
            f"sym.{name}.{t}": math(q.at(t))
            for name, q in QUANTITIES.items()
            if q.per_step
            for t in SYMBOL_STEPS
        }
    )
    out.update(derivative_fragments())
    rows = [
        [code(q.name), math(q.at("t")), q.shape, plain_notation(q.meaning)]
        for q in QUANTITIES.values()
    ]
    out["table.notation"] = table(["code name", "symbol", "shape", "what it is"], rows)
    out["eq.model"] = display(model_latex(vanilla(EXAMPLE.activation), EXAMPLE.loss))
    out.update(rule_fragments())
    return out


def rule_fragments() -> dict[str, str]:
    """Examples of the two kinds of derivative, printed by the notation's own helpers."""
    q = step_latex
    cell = vanilla()
    weight = cell.local_jacobian("a", Prev("h")).latex("t", cell.notation)  # W_hh, from the cell
    local = [
        local_derivative(q("L", "t"), q("y", "t")),
        rf"{local_derivative(q('a', 't'), q('h', 't-1'))} = {weight}",
        rf"{local_derivative(q('a', 't'), QUANTITIES['Wxh'].latex)}",
    ]
    total = [
        total_derivative("L", QUANTITIES["Wxh"].latex),
        rf"{q('dh', 't')} = {total_derivative('L', q('h', 't'))}",
        rf"\delta_{{i,k}} = {total_derivative(q('L', 'i'), q('a', 'k'))}",
        total_derivative(q("h", "i"), q("h", "k")),
    ]
    return {
        "eq.rule.local": display(r",\qquad ".join(local)),
        "eq.rule.total": display(r",\qquad ".join(total)),
        "rule.total.one_loss": math(total_derivative(q("L", "i"), q("h", "t"), inline=True)),
        "eq.rule.delta": display(
            rf"\begin{{aligned}}\delta_{{i,k}} &= {total_derivative(q('L', 'i'), q('a', 'k'))} \\ "
            rf"{q('delta', 't')} &= {total_derivative('L', q('a', 't'))} = "
            rf"\sum_{{i=t}}^{{T}} \delta_{{i,t}} \\ "
            rf"{signal_entry_latex('t', 'j')} &= \text{{entry }} j \text{{ of }} {q('delta', 't')}"
            r"\end{aligned}"
        ),
    }
