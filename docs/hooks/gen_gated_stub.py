"""TEMPORARY STUB, to be deleted at merge: the gated chapter's derivation-side fragments.

The derivation half of the gated chapter (branch pages14) provides these fragments;
until it is merged, this module prints them from the cells so that the numeric pages
(docs/gated/cell-state-path.md, docs/gated/gru-resets.md) build. Nothing here is
typed by hand: each is printed by `derivations`. Registered in the ``pages`` process
(generate.py job ``gated-stub``); the lab job must not import it (it imports SymPy).

- ``gated.path.formula``: the LSTM's cell-state path product, display math;
- ``gated.block.lstm``: the LSTM's 2x2 block one-step state Jacobian, display math;
- ``gated.gru.after``, ``gated.gru.before``: the n-equations of each reset placement;
- ``gated.gru.moves``: the terms of dh_t/dh_{t-1} that differ between the two.
"""

from __future__ import annotations

from gen_format import display

from derivations.cell_named_paths import named_path_latex
from derivations.cell_sums_latex import block_matrix_latex
from derivations.cells import gru, lstm
from derivations.notation import total_derivative

#: The equations of the GRU's candidate, where the reset gate acts.
_N_EQUATIONS = ("v^{n}_{t}", "a^{n}_{t}")


def _n_equations(reset: str) -> str:
    lines = [e for e in gru(reset).equation_latex() if e.startswith(_N_EQUATIONS)]
    return display(r"\begin{aligned} " + r" \\ ".join(e.replace(" = ", " &= ", 1) for e in lines)
                   + r" \end{aligned}")  # fmt: skip


def _moves() -> str:
    """The products of dh_t/dh_{t-1} of each placement that the other has not."""
    terms = {}
    for reset in ("after", "before"):
        cell = gru(reset)
        block = cell.step_jacobian_blocks()["h", "h"]
        terms[reset] = [f.latex("t", cell.notation) for f in block.terms]
    lhs = total_derivative("h_{t}", "h_{t-1}")
    rows = []
    for reset, other in (("after", "before"), ("before", "after")):
        rows.append(rf"&\text{{{reset}:}}\ {lhs} = \dots")
        rows += [rf"&\qquad + {t}" for t in terms[reset] if t not in terms[other]]
    return display(r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}")


def stub_job() -> dict[str, dict[str, str]]:
    """The five fragments above."""
    cell = lstm()
    matrix, _ = block_matrix_latex(cell)
    lhs = total_derivative("c_{i}", "c_{k}")
    return {
        "fragments": {
            "gated.path.formula": display(
                rf"\left({lhs}\right)_{{h\ \text{{fixed}}}} = {named_path_latex(cell, 'c')}"
            ),
            "gated.block.lstm": display(rf"J_t = {matrix}"),
            "gated.gru.after": _n_equations("after"),
            "gated.gru.before": _n_equations("before"),
            "gated.gru.moves": _moves(),
        }
    }
