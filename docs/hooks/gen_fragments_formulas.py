"""The formulas of the hand-written pages: the model, its local derivatives, the sums, the loop.

The second stage of the hand-written pages' fragments (``gen_fragments.py`` gathers
them): every formula printed by `derivations` for the example's sizes (`EXAMPLE`), and
the general statements of the laboratory's pages, printed from the cells here, not in
the lab job, which imports neither `derivations` nor SymPy.
"""

from __future__ import annotations

import re

import numpy as np
from gen_format import (
    claim,
    code,
    display,
    math,
    plain_symbol,
    table,
)
from gen_fragments_notation import EXAMPLE

from derivations.core.cells import residual, vanilla
from derivations.core.notation import total_derivative
from derivations.gradient.loop import cell_loop_map
from derivations.gradient.sums import cell_gradient
from derivations.render.formulas import (
    generic_equation,
    generic_sum,
    product_bound,
    step_derivative,
)
from derivations.render.jacobians import (
    product_compact_latex,
    product_order_latex,
    state_product_latex,
    transposed_step_latex,
)
from derivations.render.loop import cell_loop_code, cell_loop_update_latex
from derivations.render.model import (
    forward_entry_latex,
    forward_latex,
    hidden_latex,
    local_jacobians_latex,
    parameter_locals_latex,
)
from derivations.render.sums import cell_written_out_latex

#: Sequence lengths shown written out in tabs on the expanded-sum page.
WRITTEN_TABS = (1, 2, 3, 4)
#: The fragment that holds those tabs (read back tab by tab by gen_pages).
WRITTEN_TABS_FRAGMENT = "tabs.written.Wxh"
#: The largest singular value, as the lab's labels write it (``σ_max``).
SIGMA_MAX = plain_symbol("σ", "max")


#: The cell of the hand-written pages.
CELL = vanilla()


def model_fragments() -> dict[str, str]:
    spec = EXAMPLE
    sizes = {"D": spec.D, "H": spec.H, "V": spec.V}
    shapes = {
        "Wxh": (spec.D, spec.H),
        "Whh": (spec.H, spec.H),
        "Wyh": (spec.H, spec.V),
        "bh": (spec.H,),
        "by": (spec.V,),
    }
    count = sum(int(np.prod(s)) for s in shapes.values())
    return {
        "eq.forward.T3": display(forward_latex(CELL, spec.T)),
        "eq.forward.entry": display(forward_entry_latex(CELL, 1, 1, D=spec.D, H=spec.H)),
        "num.sizes": ", ".join(f"{k} = {v}" for k, v in sizes.items()),
        "num.param_count": str(count),
        "num.T": str(spec.T),
    }


def local_fragments() -> dict[str, str]:
    return {
        "eq.local": display(local_jacobians_latex(CELL, EXAMPLE.loss)),
        "eq.local.mse": display(local_jacobians_latex(CELL, "mse")),
        "eq.param_locals": display(parameter_locals_latex(CELL)),
    }


def path_fragments() -> dict[str, str]:
    return {
        "eq.paths.L2h2": display(hidden_latex(CELL, 2, EXAMPLE.T, losses=(2,))),
        "eq.paths.L3h2": display(hidden_latex(CELL, 2, EXAMPLE.T, losses=(3,))),
        "eq.paths.h2": display(hidden_latex(CELL, 2, EXAMPLE.T)),
        "eq.paths.h1": display(hidden_latex(CELL, 1, EXAMPLE.T)),
        "eq.jacobian.32": display(state_product_latex(CELL, 3, 2)),
        "eq.jacobian.32.transposed": display(transposed_step_latex(CELL, 3)),
    }


def sum_fragments() -> dict[str, str]:
    names = CELL.gradient_names
    out = {f"eq.compact.{n}": display(product_compact_latex(CELL, n, EXAMPLE.T)) for n in names}
    claim(EXAMPLE.T in WRITTEN_TABS, f"the tabs include the example's T = {EXAMPLE.T}")
    tabs = []
    for T in WRITTEN_TABS:
        written = display(cell_written_out_latex(CELL, "Wxh", T)).replace("\n", "\n    ")
        # the tab of the example's length opens first: the text around it speaks of it
        tabs.append(f'==={"+" if T == EXAMPLE.T else ""} "T = {T}"\n{written}')
    out[WRITTEN_TABS_FRAGMENT] = "\n\n".join(tabs)
    out["num.example.T"] = str(EXAMPLE.T)
    # the steps of the diag(...) factors of dh_4/dh_1, as the reader sees them written
    steps = [int(t) for t in re.findall(r"h_\{(\d+)\}\^\{2\}", state_product_latex(CELL, 4, 1))]
    claim(steps == [2, 3, 4], f"the product's factors stand in step order ({steps})")
    out["eq.product.order"] = display(product_order_latex(CELL))
    header = ["gradient", *(f"T = {T}" for T in range(1, 7)), "T = 100"]
    rows = [
        [code(n), *(str(len(cell_gradient(CELL, n).pairs(T))) for T in (*range(1, 7), 100))]
        for n in names
    ]
    out["table.termcounts"] = table(header, rows)
    out["num.terms.Wxh.example"] = str(len(cell_gradient(CELL, "Wxh").pairs(EXAMPLE.T)))
    out["table.updates"] = table(
        ["gradient", "update in the loop"],
        [[code(n), math(cell_loop_update_latex(CELL, n))] for n in names],
    )
    return out


def loop_fragments() -> dict[str, str]:
    out = {"code.loop": "\n\n```python\n" + cell_loop_code(CELL) + "\n```\n\n"}
    for name, T in (("Wxh", 3), ("Wxh", 4), ("h0", 3), ("Wyh", 3)):
        rows = [
            [str(t), ", ".join(f"({i}, {k})" for i, k in added)]
            for t, added in cell_loop_map(CELL, name, T).items()
            if added
        ]
        out[f"table.loopmap.{name}.T{T}"] = table(["iteration t", "terms (i, k) it adds"], rows)
    return out


def statement_fragments() -> dict[str, str]:
    """General statements of the lab pages (bounds, the residual step, gradient descent).

    Printed from the cells (`derivations.render.formulas`) here, not in the lab job, which
    imports neither `derivations` nor SymPy.
    """
    cell = residual()
    notation = cell.notation
    return {
        "eq.bound.linear": display(product_bound(vanilla("identity"), sigma=False, equality=False)),
        "eq.bound.nonlinear": display(product_bound(vanilla())),
        "eq.residual": display(
            generic_equation(cell, "h", inline=("a",)) + r",\qquad " + step_derivative(cell)
        ),
        "eq.gd": display(rf"\theta \leftarrow \theta - \eta\, {total_derivative('L', r'\theta')}"),
        "residual.factor": math(generic_sum(cell.step_jacobian_blocks()["h", "h"], "t", notation)),
        "sym.sigma_max": math(SIGMA_MAX),
        "bound.power": math(rf"(\gamma\, {SIGMA_MAX})^{{d}}"),
    }
