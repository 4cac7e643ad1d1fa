r"""LaTeX, Markdown and JSON of the derivations: pure functions of (gradient, spec).

Nothing here is typed by hand per formula: every expression is assembled from the
`RULES` and `Factor`s of `derivations.gradients` / `derivations.terms` (the same
data the proofs multiply out and the checks evaluate), and the element-wise form is
printed by SymPy's LaTeX printer from the straight-line program.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derivations.errors import TooLargeError
from derivations.gradients import (
    RULES,
    backward_loop,
    check_gradient_name,
    expanded_sum,
    loop_map,
    pairs,
)
from derivations.gradients import jacobian as jacobian_product
from derivations.notation import QUANTITIES, total_derivative
from derivations.spec import ModelSpec
from derivations.terms import Factor, Term, _product_latex, signal_factors
from derivations.unroll import unroll

__all__ = [
    "MAX_JACOBIAN_SPAN",
    "MAX_WRITTEN_STEPS",
    "compact_latex",
    "derivation_json",
    "derivation_markdown",
    "elementwise_latex",
    "forward_entry_latex",
    "forward_latex",
    "hidden_latex",
    "hidden_path_factors",
    "jacobian_latex",
    "local_derivatives_latex",
    "local_jacobians_latex",
    "loop_code",
    "loop_map_rows",
    "model_latex",
    "parameter_locals_latex",
    "written_out_latex",
]

#: Longest sequence whose expanded sum is written out term by term: T = 10 already
#: gives 55 terms of up to 21 factors each; beyond that only the compact form reads.
MAX_WRITTEN_STEPS = 10
#: Longest explicit Jacobian product written out (i - k one-step factors).
MAX_JACOBIAN_SPAN = 20
#: Most factors on one line of a written-out term. A T = 3 term has up to 8; on one
#: line the longest ran past the 688-px text column of a 1280-px page. Longer terms
#: are split into equal lines of at most this many factors.
FACTORS_PER_LINE = 6
#: Most summands on one line of an entry-wise sum (element-wise form, forward entries):
#: the seven-summand lines of the element-wise form were 900 px wide on one line.
SUMMANDS_PER_LINE = 4
#: How a broken line goes on inside ``aligned``: a continued product is indented past
#: the ``+`` of its term, a continued sum starts with its sign.
CONTINUED_PRODUCT = r" \\ &\qquad\qquad "
CONTINUED_SUM = r" \\ &\quad "

_I, _K = sp.Symbol("i"), sp.Symbol("k")


def _lhs(name: str, at: str = "k") -> str:
    """dL/d`name` (total: it follows every path from the quantity to L)."""
    target = QUANTITIES["X"].at(at) if name == "X" else QUANTITIES[name].latex
    return total_derivative("L", target)


def _balanced(items: list[str], per_line: int) -> list[list[str]]:
    """`items` cut into as few lines of at most `per_line` as possible, of equal length."""
    lines = max(1, -(-len(items) // per_line))
    size = -(-len(items) // lines)
    return [items[n : n + size] for n in range(0, len(items), size)]


def _broken_product(factors: tuple[Factor, ...], spec: ModelSpec) -> str:
    """A chain of factors for an ``aligned`` row, continued on new lines when long."""
    parts = [p for p in (f.latex(spec) for f in factors) if p] or ["I"]
    return CONTINUED_PRODUCT.join(r"\,".join(line) for line in _balanced(parts, FACTORS_PER_LINE))


def _broken_sum(expr: Any, names: dict[sp.Symbol, str]) -> str:
    """SymPy's LaTeX of `expr` for an ``aligned`` row, a new line every few summands.

    The summands, their order and their signs are those of SymPy's own ``_print_Add``
    (``as_ordered_terms`` and ``could_extract_minus_sign``); only the breaks are added.
    """

    def tex(e: Any) -> str:
        return sp.latex(e, symbol_names=names)

    if not isinstance(expr, sp.Add):
        return tex(expr)
    first, *others = expr.as_ordered_terms()
    summands = [tex(first)] + [
        f"- {tex(-term)}" if term.could_extract_minus_sign() else f"+ {tex(term)}"
        for term in others
    ]
    return CONTINUED_SUM.join(" ".join(line) for line in _balanced(summands, SUMMANDS_PER_LINE))


def _fprime(t: Any) -> str:
    return rf"\operatorname{{diag}}(f'(a_{{{t}}}))"


def _signal(i: Any, k: Any) -> str:
    """Compact LaTeX of delta_{i,k} = dL_i/da_k with the product sign."""
    return (
        rf"\frac{{\partial L_{{{i}}}}}{{\partial y_{{{i}}}}}\,W_{{yh}}^\top"
        rf"\Big(\prod_{{t={sp.latex(sp.sympify(k) + 1)}}}^{{{i}}} W_{{hh}}\,{_fprime('t')}"
        rf"\Big)^{{\!\top}}"
        rf"{_fprime(k)}"
    )


def local_derivatives_latex(spec: ModelSpec) -> str:
    """The local derivatives the chains are made of, for this activation and loss."""
    act = spec.act.derivative_latex("a_t", "h_t")
    return (
        rf"\frac{{\partial L_t}}{{\partial y_t}} = {spec.loss_def.gradient_latex('t')},\qquad "
        rf"f'(a_t) = {act}"
    )


def compact_latex(name: str, spec: ModelSpec) -> str:
    """dL/d`name` as sums over (i, k) of chains with a product sign, for T = spec.T."""
    rule = RULES[check_gradient_name(name)]
    T = spec.T
    left, right = rule.left(_I, _K), rule.right(_I, _K)
    lt = left.latex(spec) + r"\," if left else ""
    rt = r"\," + right.latex(spec) if right else ""
    if rule.steps == "diagonal":
        return rf"{_lhs(name)} = \sum_{{i=1}}^{{{T}}} {lt}\frac{{\partial L_i}}{{\partial y_i}}{rt}"
    if rule.steps == "first":
        left1 = rule.left(_I, 1)
        right1 = rule.right(_I, 1)
        lt = left1.latex(spec) + r"\," if left1 else ""
        rt = r"\," + right1.latex(spec) if right1 else ""
        return rf"{_lhs(name)} = \sum_{{i=1}}^{{{T}}} {lt}{_signal('i', 1)}{rt}"
    if name == "X":
        return rf"{_lhs(name)} = \sum_{{i=k}}^{{{T}}} {lt}{_signal('i', 'k')}{rt}"
    return rf"{_lhs(name)} = \sum_{{i=1}}^{{{T}}}\sum_{{k=1}}^{{i}} {lt}{_signal('i', 'k')}{rt}"


def _check_written(name: str, spec: ModelSpec) -> None:
    if spec.T > MAX_WRITTEN_STEPS:
        n = len(pairs(name, spec.T))
        raise TooLargeError(
            f"T={spec.T} gives {n} terms for dL/d{name}, too many to write out (the written-out "
            f"form stops at T <= {MAX_WRITTEN_STEPS}). Ask for the compact form (--form compact: "
            f"sums and products, any T) or use --steps {MAX_WRITTEN_STEPS} or fewer."
        )


def written_out_latex(name: str, spec: ModelSpec) -> str:
    """Every term written out, one line per term, for T <= `MAX_WRITTEN_STEPS`.

    For ``X`` one equation per input x_k; otherwise one equation for the gradient.
    """
    _check_written(name, spec)
    terms = expanded_sum(name, spec.T)
    groups: dict[int, list[Term]] = {}
    for term in terms:
        groups.setdefault(term.step if name == "X" else 0, []).append(term)
    blocks = []
    for key, group in groups.items():
        lhs = _lhs(name, str(key)) if name == "X" else _lhs(name)
        lines = []
        for n, term in enumerate(group):
            first, *rest = _broken_product(term.factors, spec).split(CONTINUED_PRODUCT)
            tag = rf"\qquad && (i={term.loss},\ k={term.step})"
            lead = r"&= " if n == 0 else r"&\quad + "
            lines.append(CONTINUED_PRODUCT.join([lead + first + tag, *rest]))
        blocks.append(lhs + r" " + r" \\ ".join(lines))
    return r"\begin{aligned}" + r" \\[4pt] ".join(blocks) + r"\end{aligned}"


def jacobian_latex(i: int, k: int, spec: ModelSpec, *, compact: bool = False) -> str:
    """dh_i/dh_k as an explicit product (or with a product sign when ``compact``)."""
    product = jacobian_product(i, k, spec.T)
    lhs = total_derivative(f"h_{{{i}}}", f"h_{{{k}}}")
    general = rf"\prod_{{t={k + 1}}}^{{{i}}} W_{{hh}}\,{_fprime('t')}" if i > k else "I"
    if compact:
        return rf"{lhs} = {general}"
    if i - k > MAX_JACOBIAN_SPAN:
        raise TooLargeError(
            f"dh_{i}/dh_{k} has {i - k} one-step factors, too many to write out (at most "
            f"{MAX_JACOBIAN_SPAN}). Ask for the compact form (--form compact) or a shorter span."
        )
    return rf"{lhs} = {product.latex(spec)}"


LOOP_HEADER = (
    "dh_next = 0                      # d(L_{t+1} + ... + L_T)/dh_t: 0 at t = T",
    "for t in T, T-1, ..., 1:",
    "    dh = g[t] @ Wyh.T + dh_next  # dL/dh_t: through y_t, plus the carry",
    "    delta = dh * fprime(a[t])    # dL/da_t = sum over i >= t of dL_i/da_t",
)


def loop_code(names: tuple[str, ...] | None = None) -> str:
    """The backward loop as code, with the update line of each gradient in `names`."""
    chosen = names or tuple(RULES)
    updates = [f"    {RULES[n].code}" for n in chosen if n != "h0"]
    lines = [*LOOP_HEADER, *updates, "    dh_next = delta @ Whh.T      # carried to step t-1"]
    if "h0" in chosen:
        lines.append("dh0 = dh_next                    # after t = 1: dL/dh_0")
    return "\n".join(lines)


def loop_map_rows(name: str, spec: ModelSpec) -> list[tuple[int, list[tuple[int, int]]]]:
    """(iteration t, the (i, k) terms it adds to dL/d`name`), from T down to 1."""
    return [(t, added) for t, added in loop_map(name, spec.T).items() if added]


def loop_latex_names(model: Any, loop: Any) -> dict[sp.Symbol, str]:
    r"""LaTeX of every symbol of the model and of its backward loop (\bar h_{t,j}, \delta_{t,j})."""
    names = dict(model.latex_names)
    for family, symbol in ((loop.dh, r"\bar h"), (loop.delta, r"\delta"), (loop.carry, "c")):
        for t, row in family.items():
            for j, s in enumerate(row, start=1):
                names[s] = f"{symbol}_{{{t},{j}}}"
    return names


def elementwise_latex(name: str, spec: ModelSpec) -> str:
    """The gradient entry by entry, in the loop's scalar signals, printed by SymPy.

    Lines: each entry of dL/d`name`; then the signals delta_{t,j} and \\bar h_{t,j}
    (total dL/dh_t) it uses; then the local derivatives g_{t,v} and f'(a_{t,j}).
    """
    _check_written(name, spec)
    model = unroll(spec)
    loop = backward_loop(model)
    names = loop_latex_names(model, loop)

    def tex(expr: Any) -> str:
        return _broken_sum(expr, names)

    lines = []
    blocks = loop.gradients[name] if name != "X" else loop.gradients["X"]
    matrices = blocks if name == "X" else [blocks]
    for n, matrix in enumerate(matrices, start=1):
        for r in range(matrix.rows):
            for c in range(matrix.cols):
                index = (c + 1,) if matrix.rows == 1 else (r + 1, c + 1)
                base = QUANTITIES["X"].at(n) if name == "X" else QUANTITIES[name].latex
                sub = ",".join(str(i) for i in index)
                lhs = total_derivative("L", f"({base})_{{{sub}}}")
                lines.append(rf"{lhs} &= {tex(matrix[r, c])}")
    through_a = RULES[name].via == "a"  # W_yh and b_y need only g_t, not the signals
    definitions = dict(loop.assignments)
    for t in sorted(loop.delta, reverse=True) if through_a else ():
        for s in loop.delta[t]:
            lines.append(rf"{names[s]} &= {tex(definitions[s])}")
        for s in loop.dh[t]:
            lines.append(rf"{names[s]} &= {tex(definitions[s].xreplace(_carry_to_delta(loop)))}")
    forward = dict(model.assignments)
    for t in range(1, spec.T + 1):
        for s in (*model.g[t], *(model.d[t] if through_a else ())):
            lines.append(rf"{names[s]} &= {tex(forward[s])}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def _carry_to_delta(loop: Any) -> dict[sp.Symbol, Any]:
    """Show the carry c_{t+1} through its definition delta_{t+1} W_hh^T, entry-wise."""
    definitions = dict(loop.assignments)
    return {s: definitions[s] for row in loop.carry.values() for s in row}


def derivation_json(name: str, spec: ModelSpec, *, form: str = "full") -> dict[str, Any]:
    """The derivation as a JSON-ready dict; ``terms`` holds loss, step, latex, factors."""
    name = check_gradient_name(name)
    out: dict[str, Any] = {
        "param": name,
        "steps": spec.T,
        "activation": spec.activation,
        "loss": spec.loss,
        "compact": compact_latex(name, spec),
        "local_derivatives": local_derivatives_latex(spec),
        "loop_update": RULES[name].update,
    }
    if form == "full":
        _check_written(name, spec)
        out["written_out"] = written_out_latex(name, spec)
        out["terms"] = [
            {
                "loss": t.loss,
                "step": t.step,
                "latex": t.latex(spec),
                "factors": [_factor_json(f) for f in t.factors],
            }
            for t in expanded_sum(name, spec.T)
        ]
        out["loop_map"] = [
            {"iteration": t, "adds": [list(p) for p in added]}
            for t, added in loop_map_rows(name, spec)
        ]
    return out


def _factor_json(factor: Factor) -> dict[str, Any]:
    return {"kind": factor.kind, "t": factor.t}


def derivation_markdown(name: str, spec: ModelSpec, *, form: str = "full", level: int = 2) -> str:
    """A Markdown section: compact sum, written-out terms, Jacobians, loop map, element-wise."""
    name = check_gradient_name(name)
    h = "#" * level
    title = QUANTITIES["X"].at("k") if name == "X" else QUANTITIES[name].latex
    parts = [
        f"{h} ${total_derivative('L', title, inline=True)}$ ({spec.T} steps, {spec.activation}, "
        f"{spec.loss})",
        "",
        "As a sum over losses $L_i$ and steps $k$:",
        "",
        f"$$\n{compact_latex(name, spec)}\n$$",
        "",
        "with the local derivatives",
        "",
        f"$$\n{local_derivatives_latex(spec)}\n$$",
    ]
    if form == "full":
        n = len(pairs(name, spec.T))
        parts += [
            "",
            f"Written out for T = {spec.T} ({n} terms):",
            "",
            f"$$\n{written_out_latex(name, spec)}\n$$",
        ]
        spans = sorted({(i, k) for i, k in pairs(name, spec.T) if i > k and RULES[name].via == "a"})
        if spans:
            parts += ["", "The Jacobian products in these terms:", ""]
            # one display block per product, a blank line between: back to back,
            # arithmatex reads "$$ ... $$\n$$ ... $$" as one formula with "$$$$" inside
            parts.append("\n\n".join(f"$$\n{jacobian_latex(i, k, spec)}\n$$" for i, k in spans))
        parts += [
            "",
            f"{h}# The backward loop",
            "",
            "```python",
            loop_code((name,)),
            "```",
            "",
            "| iteration t | terms (i, k) it adds |",
            "| --- | --- |",
        ]
        parts += [
            f"| {t} | {', '.join(f'({i}, {k})' for i, k in added)} |"
            for t, added in loop_map_rows(name, spec)
        ]
        parts += ["", f"{h}# Element-wise", "", f"$$\n{elementwise_latex(name, spec)}\n$$"]
    return "\n".join(parts) + "\n"


# --- The forward pass, the local derivatives and the paths to a hidden state --------


def _q(name: str, t: Any = None) -> str:
    return QUANTITIES[name].at(t)


def _step_equations(spec: ModelSpec, t: Any, prev: Any) -> list[tuple[str, str]]:
    """(lhs, rhs) of one forward step, in the notation; `prev` is the index of h_{t-1}."""
    h_prev = QUANTITIES["h0"].latex if prev == 0 else _q("h", prev)
    rows = [
        (_q("a", t), rf"{_q('X', t)} W_{{xh}} + {h_prev} W_{{hh}} + b_h"),
        (_q("h", t), spec.act.latex(_q("a", t))),
        (_q("y", t), rf"{_q('h', t)} W_{{yh}} + b_y"),
    ]
    if spec.loss_def.uses_softmax:
        rows.append((_q("p", t), rf"\operatorname{{softmax}}({_q('y', t)})"))
    rows.append((_q("L", t), spec.loss_def.value_latex(t)))
    return rows


def model_latex(spec: ModelSpec) -> str:
    """The recurrence at a general step t, and the total loss, for this activation and loss."""
    rows = _step_equations(spec, "t", "t-1")
    lines = [rf"{lhs} &= {rhs}" for lhs, rhs in rows]
    lines.append(r"L &= \sum_{t=1}^{T} L_{t}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def forward_latex(spec: ModelSpec) -> str:
    """The forward pass written out step by step for t = 1..T, one block per step."""
    _check_written("Wxh", spec)
    blocks = []
    for t in range(1, spec.T + 1):
        rows = _step_equations(spec, t, t - 1)
        blocks.append(r" \\ ".join(rf"{lhs} &= {rhs}" for lhs, rhs in rows))
    total = " + ".join(_q("L", t) for t in range(1, spec.T + 1))
    blocks.append(rf"L &= {total}")
    return r"\begin{aligned}" + r" \\[6pt] ".join(blocks) + r"\end{aligned}"


def forward_entry_latex(spec: ModelSpec, t: int, j: int) -> str:
    """Entry j of a_t and of h_t as the symbolic model defines them, printed by SymPy."""
    model = unroll(spec)
    definitions = dict(model.assignments)
    names = model.latex_names
    lines = []
    for family in (model.a, model.h):
        symbol = family[t][j - 1]
        lines.append(rf"{names[symbol]} &= {_broken_sum(definitions[symbol], names)}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def local_jacobians_latex(spec: ModelSpec) -> str:
    r"""Every local derivative of one step, each a Jacobian in the row convention.

    Entry (j, l) of $\partial u / \partial v$ is $\partial u_l / \partial v_j$, so a
    backward step multiplies a row of signals by the transpose.
    """
    fprime = spec.act.derivative_latex(_q("a", "t"), _q("h", "t"))
    lines = [
        rf"\frac{{\partial L_t}}{{\partial y_t}} &= {spec.loss_def.gradient_latex('t')}",
        r"\frac{\partial y_t}{\partial h_t} &= W_{yh}",
        rf"\frac{{\partial h_t}}{{\partial a_t}} &= \operatorname{{diag}}(f'(a_t)) = "
        rf"\operatorname{{diag}}({fprime})",
        r"\frac{\partial a_t}{\partial h_{t-1}} &= W_{hh}",
        r"\frac{\partial a_t}{\partial x_t} &= W_{xh}",
    ]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def parameter_locals_latex() -> str:
    """How each parameter and input enters its step: the local rule of every gradient."""
    lines = [RULES[name].local.replace(":", " &:", 1) for name in RULES]
    lines = [line if "&" in line else line.replace(" = ", " &= ", 1) for line in lines]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def hidden_path_factors(i: int, t: int) -> tuple[Factor, ...]:
    r"""Factors of $\mathrm{d}L_i / \mathrm{d}h_t$, (1, H), for t <= i: the one path from L_i.

    $g_i W_{yh}^\top$ when t = i; else $\delta_{i,t+1} W_{hh}^\top$, back through h_{t+1}.
    """
    if not 1 <= t <= i:
        raise TooLargeError(f"L_{i} depends on h_{t} only for 1 <= t <= i; got i={i}, t={t}.")
    if t == i:
        return (Factor("g", i), Factor("WyhT"))
    return (*signal_factors(i, t + 1), Factor("WhhT"))


def hidden_latex(t: int, spec: ModelSpec, *, losses: tuple[int, ...] | None = None) -> str:
    r"""$\mathrm{d}L_i/\mathrm{d}h_t$ for one loss, or $\bar h_t = \mathrm{d}L/\mathrm{d}h_t$.

    Both are total derivatives (they follow the path from h_t through later states);
    with one loss the left side names that loss, with several (default: every
    i >= t) it is the derivative of L, one path per loss.
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
