"""The activations' table and their γ, proved exactly by SymPy (job ``activations``).

γ = sup |f'| of each activation is taken from SymPy's own derivative of the
forward function (`derivations.core.spec.derivative_supremum`, a few seconds of symbolic
limits), so it is a job of its own: it imports only `derivations.core.spec`, and an edit
to the renderers does not rerun it.
"""

from __future__ import annotations

import sympy as sp
from gen_format import claim, code, math, table

from derivations.core.spec import ACTIVATIONS, derivative_supremum


def activation_fragments() -> dict[str, str]:
    """``gamma.<name>`` for each activation, and ``table.activations``."""
    rows = []
    for name, act in ACTIVATIONS.items():
        # gamma against the exact supremum of SymPy's own f' (both sides: nothing
        # exceeds it, and it is reached)
        supremum, attained = derivative_supremum(act)
        claim(
            supremum == act.gamma and attained is not sp.S.EmptySet,
            f"sup |f'| of {name} is its gamma {act.gamma}, reached at some a "
            f"(SymPy: sup {supremum}, reached on {attained})",
        )
        rows.append(
            [
                code(name),
                math(act.latex("a")),
                math(act.derivative_latex("a", "h")),
                math(sp.latex(act.gamma)),
                math(r"a \in " + sp.latex(attained)),
                math(sp.latex(1 / act.gamma)),
            ]
        )
    return {
        **{f"gamma.{name}": math(sp.latex(act.gamma)) for name, act in ACTIVATIONS.items()},
        "table.activations": table(
            # a '|' inside a cell must be escaped, or the row splits and no table renders
            ["activation", "h = f(a)", "f'(a)", r"γ = sup \|f'\|", r"where \|f'\| = γ", "1/γ"],
            rows,
        ),
    }


def activations_job() -> dict[str, dict[str, str]]:
    return {"fragments": activation_fragments()}
