r"""LaTeX of a cell's model: the recurrence, the forward pass, the local derivatives, paths.

The pages of sections 1 to 3 (the model, local derivatives, paths through time)
print these for the vanilla cell: the step equations for a general t and written out
for t = 1..T, one entry of each equation's variable as the unrolled program defines
it, every local Jacobian of one step, how each parameter enters its step, and the
paths from the losses to a state, $\mathrm{d}L_i/\mathrm{d}h_t$. Each is printed from
the cell's equations; the read-out $y_t = h_t W_{yh} + b_y$ and the loss are shared by
every cell.
"""

from __future__ import annotations

from derivations.core.cell import Cell
from derivations.core.errors import DerivationError, TooLargeError
from derivations.core.factors import ONE, Notation
from derivations.core.nodes import Input, ParamUse, Prev
from derivations.core.notation import LOSS_NAMES, local_derivative, total_derivative
from derivations.core.spec import LOSSES, check_choice
from derivations.program.unroll import unroll_cell
from derivations.render.formulas import generic_sum
from derivations.render.lines import MAX_WRITTEN_STEPS, broken_sum

__all__ = [
    "forward_entry_latex",
    "forward_latex",
    "hidden_latex",
    "local_jacobians_latex",
    "model_latex",
    "parameter_locals_latex",
]


def _step_rows(cell: Cell, t: int | str, loss: str) -> list[tuple[str, str]]:
    """(lhs, rhs) of one forward step: the cell's equations, then the shared read-out."""
    check_choice(loss, "loss", LOSS_NAMES)
    rows = [tuple(eq.split(" = ", 1)) for eq in cell.equation_latex(t)]
    h = cell.notation.at("h", t)
    rows.append((f"y_{{{t}}}", rf"{h} W_{{yh}} + b_y"))
    if LOSSES[loss].uses_softmax:
        rows.append((f"p_{{{t}}}", rf"\operatorname{{softmax}}(y_{{{t}}})"))
    rows.append((f"L_{{{t}}}", LOSSES[loss].value_latex(t)))
    return [(lhs, rhs) for lhs, rhs in rows]


def model_latex(cell: Cell, loss: str = "cross_entropy") -> str:
    """The recurrence at a general step t, and the total loss."""
    lines = [rf"{lhs} &= {rhs}" for lhs, rhs in _step_rows(cell, "t", loss)]
    lines.append(r"L &= \sum_{t=1}^{T} L_{t}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def forward_latex(cell: Cell, T: int, loss: str = "cross_entropy") -> str:
    """The forward pass written out step by step for t = 1..T, one block per step."""
    if not 1 <= T <= MAX_WRITTEN_STEPS:
        raise TooLargeError(
            f"T={T}: the forward pass is written out for 1 <= T <= {MAX_WRITTEN_STEPS} "
            f"steps. Use model_latex for a general step t."
        )
    blocks = [
        r" \\ ".join(rf"{lhs} &= {rhs}" for lhs, rhs in _step_rows(cell, t, loss))
        for t in range(1, T + 1)
    ]
    blocks.append(r"L &= " + " + ".join(f"L_{{{t}}}" for t in range(1, T + 1)))
    return r"\begin{aligned}" + r" \\[6pt] ".join(blocks) + r"\end{aligned}"


def forward_entry_latex(cell: Cell, t: int, j: int, *, D: int = 2, H: int = 3) -> str:
    """Entry j of every equation's variable at step t as the unrolled program (`unroll_cell`)
    defines it, printed by SymPy."""
    program = unroll_cell(cell, T=t, D=D, H=H)
    if not 1 <= j <= H:
        raise DerivationError(f"entry j must be from 1 to H={H}; got {j}. Pick one of them.")
    definitions = dict(program.assignments)
    names = program.latex_names
    lines = []
    for eq in cell.equations:
        symbol = program.values[eq.name][t][j - 1]
        lines.append(rf"{names[symbol]} &= {broken_sum(definitions[symbol], names)}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def local_jacobians_latex(cell: Cell, loss: str = "cross_entropy") -> str:
    r"""Every local derivative of one step, each a Jacobian in the row convention.

    Entry (j, l) of $\partial u / \partial v$ is $\partial u_l / \partial v_j$, so a
    backward step multiplies a row of signals by the transpose. The read-out rows are
    shared by every cell; the rest is each equation of the cell against each argument
    it reads (`Cell.local_jacobian`), from the last equation back.
    """
    check_choice(loss, "loss", LOSS_NAMES)
    notation = cell.notation
    lines = [rf"{local_derivative('L_{t}', 'y_{t}')} &= {LOSSES[loss].gradient_latex('t')}"]
    own = cell.readout
    if own is None:
        lines.append(rf"{local_derivative('y_{t}', notation.at('h', 't'))} &= W_{{yh}}")
    else:  # the cell's own read-out
        lines += [
            f"{local_derivative('y_{t}', notation.at(s, 't'))} &= "
            f"{own.jacobian(s).latex('t', notation)}"
            for s in own.states
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


def parameter_locals_latex(cell: Cell) -> str:
    """How each parameter and input enters its step: the local rule of every gradient.

    The cell's parameters from `Cell.param_uses`, the input and the initial states from
    `Cell.local_jacobian`; the read-out rows ($W_{yh}$, $b_y$) are shared. In the order
    of `Cell.gradient_names`.
    """
    notation = cell.notation
    h = notation.at("h", "i")
    lines: dict[str, list[str]] = {
        "Wyh": [rf"\partial y_i / \partial W_{{yh}} &: \text{{the outer product with }} {h}^\top"],
        "by": [r"\partial y_i / \partial b_y &= I"],
    }
    if cell.readout is not None:  # the cell's own read-out: each use, as a cell parameter's
        own = Notation(notation.activation, {**notation.latex, "y": "y"})
        lines = {
            p: [_outer_rule("y", p, use, own) for use in cell.read_out.param_uses(p)]
            for p in cell.read_out.param_names
        }
    for param in cell.param_names:
        lines[param] = [
            _outer_rule(eq.name, param, use, notation)
            for eq in cell.equations
            for use in cell.param_uses(eq.name, param)
        ]
    leaves: list[tuple[str, Input | Prev, int | str]] = [("X", Input(), "k")]
    leaves += [(f"{s}0", Prev(s), 1) for s in cell.state_names]
    for name, leaf, t in leaves:
        lines[name] = []
        for eq in cell.equations:
            if leaf in cell.leaves(eq.name):
                weight = cell.local_jacobian(eq.name, leaf)
                lhs = rf"\partial {notation.at(eq.name, t)} / \partial {leaf.latex(t, notation)}"
                applied = weight.transpose().latex(t, notation)
                lines[name].append(
                    rf"{lhs} &= {weight.latex(t, notation)} \text{{ (applied as }} {applied})"
                )
    ordered = [line for name in cell.gradient_names for line in lines[name]]
    return r"\begin{aligned}" + r" \\ ".join(ordered) + r"\end{aligned}"


def _hidden_path(cell: Cell, i: int, t: int) -> str:
    r"""$\mathrm{d}L_i/\mathrm{d}h_t$ of a one-state cell, the one path from $L_i$: its
    $\partial L_i/\partial y_i\,W_{yh}^\top$, then each later step's transposed Jacobian."""
    block = cell.step_jacobian_blocks()["h", "h"].transpose()
    steps = [block.latex(s, cell.notation) for s in range(i, t, -1)]
    steps = [f"({s})" if len(block) > 1 else s for s in steps]
    first = rf"\frac{{\partial L_{{{i}}}}}{{\partial y_{{{i}}}}}\,W_{{yh}}^\top"
    return r"\,".join([first, *steps])


def hidden_latex(cell: Cell, t: int, T: int, *, losses: tuple[int, ...] | None = None) -> str:
    r"""$\mathrm{d}L_i/\mathrm{d}h_t$ for one loss, or $\bar h_t = \mathrm{d}L/\mathrm{d}h_t$.

    For a cell whose one state is h. Both are total derivatives (they follow the path
    from $h_t$ through later states); with one loss the left side names that loss, with
    several (default: every $i \ge t$) it is the derivative of $L$, one path per loss.
    """
    if cell.state_names != ("h",) or cell.readout is not None:
        raise DerivationError(
            f"hidden_latex writes the one path from a loss to h_t of a cell whose only state "
            f"is h, read out as y_t = h_t W_yh + b_y; the {cell.name} cell has "
            f"{', '.join(cell.state_names)} and {'its own' if cell.readout else 'that'} "
            "read-out. Use "
            "derivations.gradient.paths.routes for several states."
        )
    chosen = losses or tuple(range(t, T + 1))
    if not all(1 <= t <= i <= T for i in chosen):
        raise DerivationError(
            f"L_i depends on h_{t} only for t <= i <= T={T}; got losses {chosen}. Pick "
            f"losses from {t} to {T}."
        )
    paths = [_hidden_path(cell, i, t) for i in chosen]
    h = cell.notation.at("h", t)
    if len(chosen) == 1:
        return f"{total_derivative(f'L_{{{chosen[0]}}}', h)} = {paths[0]}"
    named = " + ".join(total_derivative(f"L_{{{i}}}", h) for i in chosen)
    return (
        rf"\begin{{aligned}}\bar h_{{{t}}} = {total_derivative('L', h)} &= {named} \\ "
        + r" \\ ".join(("&= " if n == 0 else "&\\quad + ") + path for n, path in enumerate(paths))
        + r"\end{aligned}"
    )
