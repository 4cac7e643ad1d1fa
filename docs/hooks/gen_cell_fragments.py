"""The chapter's formula fragments for the hand-written pages (job ``cell-pages``).

- ``gated.path.formula``: the LSTM's cell-state path dc_i/dc_k with h held fixed;
- ``gated.block.lstm``: the LSTM's one-step state Jacobian as a 2x2 block matrix;
- ``gated.rule.block``: the LSTM's blocks by the notation's rule (`BLOCK_RULE`): ∂ for
  those that hold a state fixed, d for those that follow every path;
- ``gated.gru.after`` / ``gated.gru.before``: the candidate's equations of each reset;
- ``gated.gru.moves``: the paths of dh_t/dh_{t-1} through the candidate n (the reset
  r and W_hn), which differ.
Each printed from the cells, never typed.

The gated cells' symbols for sentences, from each cell's own notation
(`derivations.Cell.notation`), for the cells of `SYMBOL_CELLS`:

- ``sym.<cell>.<name>``: a parameter (``sym.lstm.bf`` is b_f, ``sym.gru.Whn`` W_hn) or a
  state or equation variable without a step (``sym.lstm.c``);
  ``sym.<cell>.<name>.<step>`` a state or variable at one of
  `gen_format.SYMBOL_STEPS` (``sym.lstm.c.t``, ``sym.gru.h.t-1``, ``sym.gru.hn.t``);
- ``d.<cell>.<of>.<by>``: the total derivative of one state by another, each side a
  state with its step: ``d.lstm.c_i.c_k``, ``d.gru.h_t.h_t-1`` (pairs: `STATE_PAIRS`);
- ``eq.<cell>.<equation>``: one equation at step t, inline (``eq.gru.h``,
  ``eq.residual.h``);
- ``gated.path.entry``: the cell-state path's entry j as a product of forget gates and
  as the exponential of a sum of their logs; ``gated.path.ftj``, ``gated.path.logf``
  its pieces.
"""

from __future__ import annotations

from gen_format import SYMBOL_STEPS, claim, display, math

from derivations.core.cell import Cell
from derivations.core.cells import BUILTIN_CELLS, gru, lstm
from derivations.core.factors import LocalSum
from derivations.core.notation import total_derivative
from derivations.gradient.named_paths import named_path_latex
from derivations.gradient.paths import block_derivative, held_fixed
from derivations.render.sums import block_matrix_latex

#: The GRU's equations whose form the reset changes (the rest are the same).
RESET_EQUATIONS = ("hn", "an")
#: The cells whose symbols are fragments (the vanilla cell's are ``sym.*``).
SYMBOL_CELLS = ("residual", "lstm", "gru", "gru-before")
#: The (of, by) steps of the ``d.<cell>.<of>.<by>`` fragments, for every pair of states.
STATE_PAIRS = (("i", "k"), ("t", "t-1"), ("t", "k"))


def symbol_fragments(cell: Cell) -> dict[str, str]:
    """``sym.<cell>.*``, ``d.<cell>.*`` and ``eq.<cell>.*`` of one cell (module docstring)."""
    notation, prefix = cell.notation, cell.name
    out = {f"sym.{prefix}.{name}": math(latex) for name, latex in notation.latex.items()}
    variables = (*cell.state_names, *(eq.name for eq in cell.equations))
    for name in variables:
        for t in SYMBOL_STEPS:
            out[f"sym.{prefix}.{name}.{t}"] = math(notation.at(name, str(t)))
    for of in cell.state_names:
        for by in cell.state_names:
            for i, k in STATE_PAIRS:
                derivative = total_derivative(notation.at(of, i), notation.at(by, k), inline=True)
                out[f"d.{prefix}.{of}_{i}.{by}_{k}"] = math(derivative)
    for eq, line in zip(cell.equations, cell.equation_latex(), strict=True):
        out[f"eq.{prefix}.{eq.name}"] = math(line)
    return out


def _aligned(rows: list[str]) -> str:
    return display(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}")


def _through_wn(cell: Cell) -> LocalSum:
    """The paths of dh_t/dh_{t-1} through the candidate (a^n: the reset and W_hn)."""
    block = cell.step_jacobian_blocks()["h", "h"]
    return LocalSum(tuple(term for term in block.terms if "an" in term.via))


def _block_rule(cell: Cell) -> str:
    """The cell's one-step blocks grouped by the rule: holding a state fixed (∂), or not (d)."""
    blocks = cell.step_jacobian_blocks()
    held: list[str] = []
    free: list[str] = []
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
    ftj = cell.notation.at("f", "t,j")
    fragments["gated.path.ftj"] = math(ftj)
    fragments["gated.path.logf"] = math(rf"\log {ftj}")
    fragments["gated.path.entry"] = math(rf"\prod_t {ftj} = \exp\big(\sum_t \log {ftj}\big)")
    for name in SYMBOL_CELLS:
        fragments.update(symbol_fragments(BUILTIN_CELLS[name]()))
    return fragments
