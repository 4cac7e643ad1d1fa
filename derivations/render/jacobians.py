r"""The Jacobian between two states of a one-state cell, written out as a product, and the
product forms the prose reads (`product_compact_latex`, `product_order_latex`).

For a cell with one state h, $\mathrm{d}h_i/\mathrm{d}h_k$ is the product of the one-step
Jacobians of the steps $k+1, \dots, i$, the earliest on the left (row convention: a
change of $h_k$ passes step $k+1$ first). Each factor is the cell's one-step block
(`Cell.step_jacobian_blocks`) printed at its step; a block that is a sum (the residual
cell's $I + W_{hh}\,\mathrm{diag}(f'(a_t))$) is put in parentheses. A cell of several
states has block matrices instead: `derivations.gradient.paths.routes_latex` writes
those as sums over routes.
"""

from __future__ import annotations

from derivations.core.cell import Cell
from derivations.core.errors import DerivationError, TooLargeError
from derivations.core.notation import total_derivative
from derivations.gradient.sums import cell_gradient
from derivations.render.formulas import generic_sum
from derivations.render.sums import gradient_lhs, sum_signs

__all__ = [
    "MAX_JACOBIAN_SPAN",
    "MAX_LISTED_STEP_TERMS",
    "jacobian_spans",
    "product_compact_latex",
    "product_order_latex",
    "state_product_latex",
    "transposed_step_latex",
]

#: Longest explicit Jacobian product written out (i - k one-step factors): a longer one
#: does not fit a line of a page, and its compact form says the same.
MAX_JACOBIAN_SPAN = 20
#: A one-step Jacobian of at most this many products is listed as products of it on a
#: page: the vanilla cell's one, the residual cell's two ($I + W_{hh}\,\mathrm{diag}(f')$).
MAX_LISTED_STEP_TERMS = 2


def _one_state(cell: Cell) -> str:
    if len(cell.state_names) != 1:
        raise DerivationError(
            f"the {cell.name} cell has {len(cell.state_names)} states "
            f"({', '.join(cell.state_names)}), so its Jacobians are block matrices, not "
            "one product; write them as sums over routes (unrolled jacobian --cell "
            f"{cell.name} --of S --wrt S')."
        )
    return cell.state_names[0]


def _check_span(state: str, i: int, k: int) -> None:
    if not 0 <= k <= i:
        raise DerivationError(
            f"d{state}_i/d{state}_k needs k <= i (a state depends on earlier ones only) "
            f"and k >= 0; got i={i}, k={k}. Swap them: --from {k} --to {i}."
        )


def _factor(cell: Cell, state: str, t: int | str) -> str:
    """The one-step Jacobian at step t; a sum (the residual cell's) in parentheses."""
    block = cell.step_jacobian_blocks()[state, state]
    latex = block.latex(t, cell.notation)
    return f"({latex})" if len(block) > 1 else latex


def state_product_latex(cell: Cell, i: int, k: int, *, compact: bool = False) -> str:
    r"""$\mathrm{d}h_i/\mathrm{d}h_k = J_{k+1} \cdots J_i$ written out, $I$ when $i = k$;
    with ``compact``, as $\prod_{t=k+1}^{i}$ of the one-step Jacobian at step t (any span).

    Raises `DerivationError` for a cell of more than one state or for k > i, and
    `TooLargeError` beyond `MAX_JACOBIAN_SPAN` factors written out.
    """
    state = _one_state(cell)
    _check_span(state, i, k)
    latex = cell.notation.latex[state]
    lhs = total_derivative(f"{latex}_{{{i}}}", f"{latex}_{{{k}}}")
    if compact:
        product = rf"\prod_{{t={k + 1}}}^{{{i}}} {_factor(cell, state, 't')}" if i > k else "I"
        return f"{lhs} = {product}"
    if i - k > MAX_JACOBIAN_SPAN:
        raise TooLargeError(
            f"d{state}_{i}/d{state}_{k} has {i - k} one-step factors, too many to write out "
            f"(at most {MAX_JACOBIAN_SPAN}). Ask for the compact form (--form compact) or a "
            "shorter span."
        )
    factors = [_factor(cell, state, t) for t in range(k + 1, i + 1)]
    return f"{lhs} = {r'\,'.join(factors) or 'I'}"


def jacobian_spans(cell: Cell, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans (i, k), i > k, of `pairs` whose Jacobian a page lists as a product, in
    order: none for a cell of several states (their terms are sums over routes, written
    term by term), nor for one whose one-step Jacobian is longer than
    `MAX_LISTED_STEP_TERMS` products (the GRU's five: a product of a few such sums runs
    off any page, and its terms already show every path)."""
    if len(cell.state_names) != 1:
        return []
    state = cell.state_names[0]
    if len(cell.step_jacobian_blocks()[state, state]) > MAX_LISTED_STEP_TERMS:
        return []
    return sorted({(i, k) for i, k in pairs if i > k})


# --- the product forms of the prose: a one-step Jacobian, its order, the compact sums ---


def _generic_factor(cell: Cell, state: str, t: int | str) -> str:
    """The one-step Jacobian at step t with the activation's derivative written f'."""
    block = cell.step_jacobian_blocks()[state, state]
    latex = generic_sum(block, t, cell.notation)
    return f"({latex})" if len(block) > 1 else latex


def transposed_step_latex(cell: Cell, t: int) -> str:
    r"""$(\mathrm{d}h_t/\mathrm{d}h_{t-1})^\top$ as a backward chain applies it, from the
    right, to a row of gradient (the vanilla cell's $\mathrm{diag}(f'(a_t))\,W_{hh}^\top$)."""
    state = _one_state(cell)
    latex = cell.notation.latex[state]
    block = cell.step_jacobian_blocks()[state, state].transpose()
    lhs = total_derivative(f"{latex}_{{{t}}}", f"{latex}_{{{t - 1}}}")
    return rf"\Big({lhs}\Big)^{{\!\top}} = {block.latex(t, cell.notation)}"


def _product(cell: Cell, state: str, low: str, high: str) -> str:
    r"""$\prod_{t=low}^{high}$ of the one-step Jacobian, f' written generically."""
    return rf"\prod_{{t={low}}}^{{{high}}} {_generic_factor(cell, state, 't')}"


def product_order_latex(cell: Cell) -> str:
    r"""The order of the factors of $\prod$: the earliest step on the left, t increasing.

    $\mathrm{d}h_i/\mathrm{d}h_k = \prod_{t=k+1}^{i} J_t$ is written out with the factor
    of step $k+1$ first, as `state_product_latex` multiplies them (row convention: a
    change of $h_k$ passes step $k+1$ first, so its Jacobian stands nearest to it).
    """
    state = _one_state(cell)
    latex = cell.notation.latex[state]
    lhs = total_derivative(f"{latex}_{{i}}", f"{latex}_{{k}}")
    written = r"\,".join(_generic_factor(cell, state, t) for t in ("k+1", "k+2"))
    last = _generic_factor(cell, state, "i")
    return (  # three lines: the factors written out are too wide for one
        rf"\begin{{aligned}}{lhs} &= {_product(cell, state, 'k+1', 'i')}"
        rf" \\ &= {written} \\ &\quad\ \cdots\,{last}\end{{aligned}}"
    )


def product_compact_latex(cell: Cell, wrt: str, T: int) -> str:
    r"""dL/d`wrt` of a one-state cell as sums over (i, k) of chains with a product sign,
    f' written generically: the form the prose reads before any activation is chosen.

    Each place `wrt` enters step k (`CellGradient.entries`) gives a chain: its row
    transposed, $\partial L_i/\partial y_i\,W_{yh}^\top$, the transposed product of the
    one-step Jacobians from step k + 1 to i, and the transposed in-step derivative.
    """
    state = _one_state(cell)
    if cell.readout is not None:
        raise DerivationError(
            f"product_compact_latex writes the chains of the read-out y_t = h_t W_yh + b_y; "
            f"the {cell.name} cell defines its own y. Use cell_compact_latex, which prints "
            "its dy_i/ds_i."
        )
    g = cell_gradient(cell, wrt)
    g.pairs(T)  # checks T
    notation = cell.notation
    lhs = gradient_lhs(cell, wrt)
    if g.kind in ("Wyh", "by"):
        row = rf"{notation.at(state, 'i')}^\top\," if g.kind == "Wyh" else ""
        return rf"{lhs} = \sum_{{i=1}}^{{{T}}} {row}\frac{{\partial L_i}}{{\partial y_i}}"
    k = "1" if g.kind == "initial" else "k"
    chains = []
    for entry in g.entries:
        row = ""
        if entry.row is not None:
            text = entry.row.latex(k, notation)
            row = rf"{text}^\top\," if " " not in text else rf"({text})^\top\,"
        low = "2" if k == "1" else "k+1"
        step = generic_sum(entry.to_state[state].transpose(), k, notation)
        chains.append(
            rf"{row}\frac{{\partial L_{{i}}}}{{\partial y_{{i}}}}\,W_{{yh}}^\top"
            rf"\Big({_product(cell, state, low, 'i')}\Big)^{{\!\top}}{step}"
        )
    chain = chains[0] if len(chains) == 1 else r"\Big[" + " + ".join(chains) + r"\Big]"
    sums = sum_signs(g.kind, T)
    return f"{lhs} = {sums} {chain}"
