r"""LaTeX, Markdown and JSON of the derivations: pure functions of (gradient, spec).

Nothing here is typed by hand per formula. The written-out sums, the loop listing,
its update lines and its loop map are printed from the vanilla cell
(`derivations.core.cells.vanilla`) through the generic cell machinery; the compact sums
and Jacobian products from the `RULES` and `Factor`s of `vanilla_reference.gradients` /
`vanilla_reference.terms` (the vanilla model's own derivation, the one the proofs multiply
out, read against the cell's terms by the test suite); the
element-wise form by SymPy's LaTeX printer from the straight-line program.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derivations.core.cells import vanilla
from derivations.core.errors import TooLargeError
from derivations.core.notation import QUANTITIES, total_derivative
from derivations.core.spec import ModelSpec
from derivations.render.sums import cell_written_out_latex
from vanilla_reference.gradients import (
    RULES,
    check_gradient_name,
    expanded_sum,
    pairs,
)
from vanilla_reference.gradients import jacobian as jacobian_product
from vanilla_reference.lines import check_written
from vanilla_reference.render_loop import (
    elementwise_latex,
    loop_code,
    loop_map_rows,
    loop_update_latex,
)
from vanilla_reference.terms import Factor, _product_latex

__all__ = [
    "MAX_JACOBIAN_SPAN",
    "compact_latex",
    "derivation_json",
    "derivation_markdown",
    "jacobian_latex",
    "local_derivatives_latex",
    "product_order_latex",
    "transposed_step_latex",
    "written_out_latex",
]

#: Longest explicit Jacobian product written out (i - k one-step factors).
MAX_JACOBIAN_SPAN = 20

_I, _K = sp.Symbol("i"), sp.Symbol("k")


def _lhs(name: str, at: str = "k") -> str:
    """dL/d`name` (total: it follows every path from the quantity to L)."""
    target = QUANTITIES["X"].at(at) if name == "X" else QUANTITIES[name].latex
    return total_derivative("L", target)


def _fprime(t: Any) -> str:
    return rf"\operatorname{{diag}}(f'(a_{{{t}}}))"


def _step_factor(t: Any) -> str:
    """The one-step Jacobian dh_t/dh_{t-1} = W_hh diag(f'(a_t)), the factor of every product."""
    return rf"W_{{hh}}\,{_fprime(t)}"


def _product(k: Any, i: Any) -> str:
    """dh_i/dh_k with the product sign: the steps t = k + 1, ..., i."""
    return rf"\prod_{{t={sp.latex(sp.sympify(k) + 1)}}}^{{{i}}} {_step_factor('t')}"


def _signal(i: Any, k: Any) -> str:
    """Compact LaTeX of delta_{i,k} = dL_i/da_k with the product sign."""
    return (
        rf"\frac{{\partial L_{{{i}}}}}{{\partial y_{{{i}}}}}\,W_{{yh}}^\top"
        rf"\Big({_product(k, i)}\Big)^{{\!\top}}"
        rf"{_fprime(k)}"
    )


def product_order_latex() -> str:
    r"""The order of the factors of $\prod$: the earliest step on the left, t increasing.

    $\prod_{t=k+1}^{i} W_{hh}\,\mathrm{diag}(f'(a_t))$ is written out with the factor of
    step $k+1$ first, as `jacobian` multiplies them (row convention: a change of $h_k$
    passes step $k+1$ first, so its Jacobian stands nearest to it, on the left).
    """
    k, i = _K, _I
    steps = [k + 1, k + 2]
    written = r"\,".join(_step_factor(sp.latex(t)) for t in steps)
    return (  # three lines: the factors written out are too wide for one
        rf"\begin{{aligned}}{total_derivative(f'h_{{{i}}}', f'h_{{{k}}}')} &= {_product(k, i)}"
        rf" \\ &= {written} \\ &\quad\ \cdots\,{_step_factor(sp.latex(i))}\end{{aligned}}"
    )


def local_derivatives_latex(spec: ModelSpec) -> str:
    """The local derivatives the chains are made of, for this activation and loss."""
    act = spec.act.derivative_latex("a_t", "h_t")
    return (
        rf"\frac{{\partial L_t}}{{\partial y_t}} = {spec.loss_def.gradient_latex('t')},\qquad "
        rf"f'(a_t) = {act}"
    )


def compact_latex(name: str, spec: ModelSpec) -> str:
    """The gradient of $L$ with respect to `name` as sums over $(i, k)$ of chains with a
    product sign, for T = ``spec.T``."""
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


def written_out_latex(name: str, spec: ModelSpec) -> str:
    """Every term written out, one line per term, for T <= `MAX_WRITTEN_STEPS`.

    For ``X`` one equation per input $x_k$; otherwise one equation for the gradient.
    Printed from the vanilla cell's expanded sum (`cell_written_out_latex`).
    """
    check_written(name, spec)
    return cell_written_out_latex(vanilla(spec.activation), name, spec.T)


def jacobian_latex(i: int, k: int, spec: ModelSpec, *, compact: bool = False) -> str:
    r"""$\mathrm{d}h_i/\mathrm{d}h_k$ as an explicit product (or with a product sign when
    ``compact``)."""
    product = jacobian_product(i, k, spec.T)
    lhs = total_derivative(f"h_{{{i}}}", f"h_{{{k}}}")
    general = _product(k, i) if i > k else "I"
    if compact:
        return rf"{lhs} = {general}"
    if i - k > MAX_JACOBIAN_SPAN:
        raise TooLargeError(
            f"dh_{i}/dh_{k} has {i - k} one-step factors, too many to write out (at most "
            f"{MAX_JACOBIAN_SPAN}). Ask for the compact form (--form compact) or a shorter span."
        )
    return rf"{lhs} = {product.latex(spec)}"


def transposed_step_latex(t: int, spec: ModelSpec) -> str:
    r"""$(\mathrm{d}h_t/\mathrm{d}h_{t-1})^\top$: the one-step Jacobian as a backward chain
    applies it, from the right, to a row of gradient (``diag(f'(a_t)) W_hh^T``)."""
    factors = (Factor("fprime", t), Factor("WhhT"))
    lhs = total_derivative(f"h_{{{t}}}", f"h_{{{t - 1}}}")
    return rf"\Big({lhs}\Big)^{{\!\top}} = {_product_latex(factors, spec, 'I')}"


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
        "loop_update": loop_update_latex(name, spec.activation),
    }
    if form == "full":
        check_written(name, spec)
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
            loop_code((name,), spec.activation),
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
