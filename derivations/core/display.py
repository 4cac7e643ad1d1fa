r"""How a cell shows itself: a short ``repr``, and its equations in Jupyter.

`Cell` takes these as its ``__repr__``, ``_repr_latex_`` and ``_repr_markdown_``: a
notebook shows a cell as its equations, one aligned row each, as the cell's page of the
site writes them ($c_{t} = f_{t} \odot c_{t-1} + i_{t} \odot g_{t}$), and ``repr``
names what a reader looks for (states, parameters with their shapes, the equations'
variables) in one line instead of every expression tree. Functions of any object with
a cell's fields, so that `derivations.core.cell` can import them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["cell_latex", "cell_markdown", "cell_repr", "equations_latex"]

#: Most parameters ``repr`` lists by name; the rest are counted.
SHOWN_PARAMS = 6


def _shape(param: Any) -> str:
    return f"({param.rows}, {param.cols})" if param.rows else f"({param.cols},)"


def cell_repr(cell: Any) -> str:
    """One line: ``Cell('vanilla', tanh; states h; params Wxh (D, H), ...; equations a, h)``
    (the activation named only where an equation applies the chosen one)."""
    params = [f"{p.name} {_shape(p)}" for p in cell.params[:SHOWN_PARAMS]]
    if len(cell.params) > SHOWN_PARAMS:
        params.append(f"... {len(cell.params) - SHOWN_PARAMS} more")
    twin = f"; twin rnnnum.{cell.twin.params}" if cell.twin is not None else ""
    chosen = any(
        getattr(node, "kind", None) == "act" for eq in cell.equations for node in eq.expr.walk()
    )  # the activation is the cell's choice only where an equation applies "act"
    activation = f", {cell.activation}" if chosen else ""
    return (
        f"Cell({cell.name!r}{activation}; states {', '.join(cell.state_names)}; "
        f"params {', '.join(params)}; equations {', '.join(eq.name for eq in cell.equations)}"
        f"{twin})"
    )


def equations_latex(cell: Any) -> str:
    r"""The equations at step t as one ``aligned`` block, each row ``v_{t} &= ...``."""
    rows = [line.replace(" = ", " &= ", 1) for line in cell.equation_latex()]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def cell_latex(cell: Any) -> str:
    """Jupyter's LaTeX of a cell: its equations as display math."""
    return f"$${equations_latex(cell)}$$"


def cell_markdown(cell: Any) -> str:
    """Jupyter's Markdown of a cell: its name, states and parameters, then its equations."""
    params = ", ".join(f"${p.latex or p.name}$ {_shape(p)}" for p in cell.params)
    states = ", ".join(f"${s.latex}$" for s in cell.states)
    return (
        f"The `{cell.name}` cell (states {states}; parameters {params})\n\n"
        f"$$\n{equations_latex(cell)}\n$$\n"
    )
