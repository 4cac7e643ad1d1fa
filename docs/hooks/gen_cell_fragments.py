"""The chapter's formula fragments for the hand-written pages (job ``cell-pages``).

- ``gated.path.formula``: the LSTM's cell-state path dc_i/dc_k with h held fixed;
- ``gated.block.lstm``: the LSTM's one-step state Jacobian as a 2x2 block matrix;
- ``gated.rule.block``: the LSTM's blocks by the notation's rule (`BLOCK_RULE`): ∂ for
  those that hold a state fixed, d for those that follow every path;
- ``gated.gru.after`` / ``gated.gru.before``: the candidate's equations of each reset;
- ``gated.gru.moves``: the paths of dh_t/dh_{t-1} through the candidate n (the reset
  r and W_hn), which differ.
Each printed from the cells, never typed.
"""

from __future__ import annotations

from gen_format import claim, display

from derivations.cell import Cell
from derivations.cell_factors import LocalSum
from derivations.cell_named_paths import named_path_latex
from derivations.cell_paths import block_derivative, held_fixed
from derivations.cell_sums_latex import block_matrix_latex
from derivations.cells import gru, lstm
from derivations.notation import total_derivative

#: The GRU's equations whose form the reset changes (the rest are the same).
RESET_EQUATIONS = ("hn", "an")


def _aligned(rows: list[str]) -> str:
    return display(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}")


def _through_wn(cell: Cell) -> LocalSum:
    """The paths of dh_t/dh_{t-1} through the candidate (a^n: the reset and W_hn)."""
    block = cell.step_jacobian_blocks()["h", "h"]
    return LocalSum(tuple(term for term in block.terms if "an" in term.via))


def _block_rule(cell: Cell) -> str:
    """The cell's one-step blocks grouped by the rule: holding a state fixed (∂), or not (d)."""
    blocks = cell.step_jacobian_blocks()
    held, free = [], []
    for (s, s2), block in blocks.items():
        if block:
            (held if held_fixed(cell, s2) else free).append(block_derivative(cell, s, s2))
    fixed = {f for s2 in cell.state_names for f in held_fixed(cell, s2)}
    claim(bool(held) and bool(free), "the LSTM has blocks of both kinds")
    which = r",\ ".join(cell.notation.at(f, "t", -1) for f in sorted(fixed))
    gate = cell.notation.at("af", "k")
    in_step = total_derivative(r"s_{k}", gate)
    return _aligned(
        [
            "&" + r",\ ".join(held) + rf"\quad ({which}\ \text{{held fixed}})",
            "&" + r",\ ".join([*free, in_step]) + r"\quad (\text{every path})",
        ]
    )


def gated_fragments() -> dict[str, str]:
    cell = lstm()
    held = total_derivative("c_{i}", "c_{k}")  # over several steps: total, h held fixed
    path = named_path_latex(cell, "c")
    matrix, where = block_matrix_latex(cell)
    jt = total_derivative(r"s_{t}", r"s_{t-1}")
    after, before = gru("after"), gru("before")
    fragments = {
        "gated.path.formula": display(
            rf"{held}\Big|_{{h\ \text{{fixed}}}} = {path},\qquad "
            rf"i = 3,\ k = 1:\ {named_path_latex(cell, 'c', 3, 1)}"
        ),
        "gated.block.lstm": display(rf"J_t = {jt} = {matrix}") + _aligned(where),
        "gated.rule.block": _block_rule(cell),
    }
    for name, c in (("after", after), ("before", before)):
        lines = dict(zip((eq.name for eq in c.equations), c.equation_latex(), strict=True))
        fragments[f"gated.gru.{name}"] = _aligned(
            [lines[n].replace(" = ", " &= ", 1) for n in RESET_EQUATIONS]
        )
    rows = []
    lhs = total_derivative("h_{t}", "h_{t-1}")
    for name, c in (("after", after), ("before", before)):
        moving = _through_wn(c)
        claim(
            len(moving) == 2, f"reset {name}: two paths of dh_t/dh_(t-1) pass through the candidate"
        )
        parts = [LocalSum((term,)).latex("t", c.notation) for term in moving.terms]
        rows.append(rf"&\text{{reset {name}:}} \\ {lhs} &\ni {parts[0]}")
        rows += [rf"&\qquad + {part}" for part in parts[1:]]
    claim(
        _through_wn(after).latex("t", after.notation)
        != _through_wn(before).latex("t", before.notation),
        "the paths through the candidate differ between the two resets",
    )
    fragments["gated.gru.moves"] = _aligned(rows)
    return fragments
