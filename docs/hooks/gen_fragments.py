"""The named fragments the hand-written pages use as ``{{ name }}``.

Formulas come from `derivations` (its renderers and notation), numbers from `rnnnum`
computations made here, at build time. Each fragment is Markdown: inline math
``\\(...\\)``, display math ``$$...$$``, a table or a plain number. This is one of the
places where the symbolic and the numeric halves meet (with the tests and
`derivations.vanilla.verify`).

Symbols in a sentence are always one of these inline fragments (the build fails on
plain ``h_t`` in prose, see ``prose_check.py``):

- ``sym.<name>``: a quantity of the notation by its code name, at step t if it has one
  (``sym.Whh`` is W_hh, ``sym.h`` is h_t, ``sym.h0`` is h_0); ``sym.<name>.<step>`` at
  another step, one of `SYMBOL_STEPS` (``sym.h.t-1``, ``sym.X.k``, ``sym.L.i``);
- ``d.<of>.<by>``: a total derivative written inline, ``p.<of>.<by>`` a local one; each
  side a code name, with ``_<step>`` for a per-step quantity: ``d.h_i.h_k`` is
  dh_i/dh_k, ``d.L.Whh`` is dL/dW_hh, ``p.L_t.y_t`` is ∂L_t/∂y_t (the list:
  `TOTAL_DERIVATIVES`, `LOCAL_DERIVATIVES`);
- the gated cells' symbols, ``sym.<cell>.<name>[.<step>]``, ``d.<cell>.<of>.<by>`` and
  ``eq.<cell>.<equation>``: see ``gen_cell_fragments.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from gen_format import (
    SYMBOL_STEPS,
    claim,
    code,
    display,
    fmt,
    math,
    plain_symbol,
    sci,
    table,
)

import rnnnum
from derivations.core.cell import Prev
from derivations.core.cells import residual, vanilla
from derivations.core.factors import Scope
from derivations.core.notation import (
    GRADIENT_NAMES,
    QUANTITIES,
    local_derivative,
    pair_position,
    signal_entry_latex,
    step_latex,
    step_position,
    total_derivative,
)
from derivations.core.spec import ModelSpec
from derivations.render.formulas import (
    PASCANU_NAMES,
    column_block,
    column_equation,
    column_notation,
    column_scope,
    generic_equation,
    generic_sum,
    product_bound,
    step_derivative,
)
from derivations.vanilla.gradients import jacobian, pairs
from derivations.vanilla.render import (
    compact_latex,
    forward_entry_latex,
    forward_latex,
    hidden_latex,
    jacobian_latex,
    local_jacobians_latex,
    loop_code,
    loop_map_rows,
    loop_update_latex,
    model_latex,
    parameter_locals_latex,
    product_order_latex,
    transposed_step_latex,
    written_out_latex,
)
from rnnnum.lab import problem

#: The sizes of the small numeric examples (the symbolic default: D=2, H=3, V=4).
EXAMPLE = ModelSpec()
#: Central differences with rnnnum.FD_STEP on O(1) entries err by ~1e-10 (truncation
#: h^2 f''' ~ 1e-12 plus rounding eps/h ~ 1e-10); a wrong transpose errs by O(0.1).
COLUMN_ATOL = 1e-8
#: Components of O(1) gradients summed in two orders: a few ulps; 1e-12 is still
#: three orders above what T = 30 terms can accumulate.
SUM_ATOL = 1e-12
#: The largest singular value set by init_spectral, as an SVD of float64 recovers it:
#: exact up to a few ulps; 1e-12 leaves margin yet would catch any other scaling.
SPECTRAL_ATOL = 1e-12
#: "Close to": the spectral radius times the mean derivative is an estimate of the factor
#: per step, not a bound; within 10 % it explains the measured rate.
ESTIMATE_RTOL = 0.1
#: The two distances the vanishing page quotes in its prose.
VANISH_DISTANCES = (10, 20)
#: Sequence lengths shown written out in tabs on the expanded-sum page.
WRITTEN_TABS = (1, 2, 3, 4)
#: The fragment that holds those tabs (read back tab by tab by gen_pages).
WRITTEN_TABS_FRAGMENT = "tabs.written.Wxh"
#: The ``d.<of>.<by>`` fragments (inline total derivatives) the pages use.
TOTAL_DERIVATIVES = (
    "h_i/h_k", "h_t/h_k", "h_t/h_t-1", "h_t/h_t-d", "h_T/h_T-d",
    "L/Wxh", "L/Whh", "L/h_t", "L/a_t", "L_i/h_k",
)  # fmt: skip
#: The ``p.<of>.<by>`` fragments (inline local derivatives) the pages use.
LOCAL_DERIVATIVES = ("L_t/y_t", "h_t/a_t")
#: The largest singular value, as the lab's labels write it (``σ_max``).
SIGMA_MAX = plain_symbol("σ", "max")
#: Plain notation in the notation table's descriptions: dL/dh_t, ∂L_t/∂y_t, y_t.
PLAIN = re.compile(r"([d∂])(\w+)/[d∂](\w+)|(?<![\\\w])([A-Za-z]_\w+)(?!\w)")


# --- formulas -------------------------------------------------------------------


def symbol_latex(token: str) -> str:
    """LaTeX of a quantity named as in the fragments: ``"h_t-1"`` -> ``h_{t-1}``, ``"L"`` -> ``L``.

    The name before the first ``_`` is a code name of `QUANTITIES`, what follows the step.
    """
    name, _, step = token.partition("_")
    if name not in QUANTITIES:
        raise KeyError(
            f"{token!r}: {name!r} is not a quantity of the notation ({list(QUANTITIES)})"
        )
    q = QUANTITIES[name]
    if step:
        return q.at(step)
    return q.latex.split("_", 1)[0] if q.per_step else q.latex


def derivative_fragments() -> dict[str, str]:
    """``d.<of>.<by>`` and ``p.<of>.<by>``: inline derivatives by the notation's helpers."""
    out = {}
    for prefix, pairs_, rule in (
        ("d", TOTAL_DERIVATIVES, total_derivative),
        ("p", LOCAL_DERIVATIVES, local_derivative),
    ):
        for pair in pairs_:
            of, by = pair.split("/")
            out[f"{prefix}.{of}.{by}"] = math(rule(symbol_latex(of), symbol_latex(by), inline=True))
    return out


def plain_notation(text: str) -> str:
    """A description of the notation (plain text) with its symbols and derivatives as math."""

    def one(match: re.Match[str]) -> str:
        if match[4]:
            return math(symbol_latex(match[4]))
        rule = local_derivative if match[1] == "∂" else total_derivative
        return math(rule(symbol_latex(match[2]), symbol_latex(match[3]), inline=True))

    return PLAIN.sub(one, text)


def notation_fragments() -> dict[str, str]:
    out = {f"sym.{name}": math(q.at("t")) for name, q in QUANTITIES.items()}
    out.update(
        {
            f"sym.{name}.{t}": math(q.at(t))
            for name, q in QUANTITIES.items()
            if q.per_step
            for t in SYMBOL_STEPS
        }
    )
    out.update(derivative_fragments())
    rows = [
        [code(q.name), math(q.at("t")), q.shape, plain_notation(q.meaning)]
        for q in QUANTITIES.values()
    ]
    out["table.notation"] = table(["code name", "symbol", "shape", "what it is"], rows)
    out["eq.model"] = display(model_latex(EXAMPLE))
    out.update(rule_fragments())
    return out


def rule_fragments() -> dict[str, str]:
    """Examples of the two kinds of derivative, printed by the notation's own helpers."""
    q = step_latex
    cell = vanilla()
    weight = cell.local_jacobian("a", Prev("h")).latex("t", cell.notation)  # W_hh, from the cell
    local = [
        local_derivative(q("L", "t"), q("y", "t")),
        rf"{local_derivative(q('a', 't'), q('h', 't-1'))} = {weight}",
        rf"{local_derivative(q('a', 't'), QUANTITIES['Wxh'].latex)}",
    ]
    total = [
        total_derivative("L", QUANTITIES["Wxh"].latex),
        rf"{q('dh', 't')} = {total_derivative('L', q('h', 't'))}",
        rf"\delta_{{i,k}} = {total_derivative(q('L', 'i'), q('a', 'k'))}",
        total_derivative(q("h", "i"), q("h", "k")),
    ]
    return {
        "eq.rule.local": display(r",\qquad ".join(local)),
        "eq.rule.total": display(r",\qquad ".join(total)),
        "rule.total.one_loss": math(total_derivative(q("L", "i"), q("h", "t"), inline=True)),
        "eq.rule.delta": display(
            rf"\begin{{aligned}}\delta_{{i,k}} &= {total_derivative(q('L', 'i'), q('a', 'k'))} \\ "
            rf"{q('delta', 't')} &= {total_derivative('L', q('a', 't'))} = "
            rf"\sum_{{i=t}}^{{T}} \delta_{{i,t}} \\ "
            rf"{signal_entry_latex('t', 'j')} &= \text{{entry }} j \text{{ of }} {q('delta', 't')}"
            r"\end{aligned}"
        ),
    }


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
        "eq.forward.T3": display(forward_latex(spec)),
        "eq.forward.entry": display(forward_entry_latex(spec, 1, 1)),
        "num.sizes": ", ".join(f"{k} = {v}" for k, v in sizes.items()),
        "num.param_count": str(count),
        "num.T": str(spec.T),
    }


def local_fragments() -> dict[str, str]:
    return {
        "eq.local": display(local_jacobians_latex(EXAMPLE)),
        "eq.local.mse": display(local_jacobians_latex(ModelSpec(loss="mse"))),
        "eq.param_locals": display(parameter_locals_latex()),
    }


def path_fragments() -> dict[str, str]:
    return {
        "eq.paths.L2h2": display(hidden_latex(2, EXAMPLE, losses=(2,))),
        "eq.paths.L3h2": display(hidden_latex(2, EXAMPLE, losses=(3,))),
        "eq.paths.h2": display(hidden_latex(2, EXAMPLE)),
        "eq.paths.h1": display(hidden_latex(1, EXAMPLE)),
        "eq.jacobian.32": display(jacobian_latex(3, 2, EXAMPLE)),
        "eq.jacobian.32.transposed": display(transposed_step_latex(3, EXAMPLE)),
    }


def sum_fragments() -> dict[str, str]:
    out = {f"eq.compact.{n}": display(compact_latex(n, EXAMPLE)) for n in GRADIENT_NAMES}
    claim(EXAMPLE.T in WRITTEN_TABS, f"the tabs include the example's T = {EXAMPLE.T}")
    tabs = []
    for T in WRITTEN_TABS:
        written = display(written_out_latex("Wxh", ModelSpec(T=T))).replace("\n", "\n    ")
        # the tab of the example's length opens first: the text around it speaks of it
        tabs.append(f'==={"+" if T == EXAMPLE.T else ""} "T = {T}"\n{written}')
    out[WRITTEN_TABS_FRAGMENT] = "\n\n".join(tabs)
    out["num.example.T"] = str(EXAMPLE.T)
    steps = [f.t for f in jacobian(4, 1, 4).factors if f.kind == "fprime"]
    known = [t for t in steps if t is not None]
    claim(
        known == steps and known == sorted(known),
        f"the product's factors stand in step order ({steps})",
    )
    out["eq.product.order"] = display(product_order_latex())
    header = ["gradient", *(f"T = {T}" for T in range(1, 7)), "T = 100"]
    rows = [
        [code(n), *(str(len(pairs(n, T))) for T in (*range(1, 7), 100))] for n in GRADIENT_NAMES
    ]
    out["table.termcounts"] = table(header, rows)
    out["num.terms.Wxh.example"] = str(len(pairs("Wxh", EXAMPLE.T)))
    out["table.updates"] = table(
        ["gradient", "update in the loop"],
        [[code(n), math(loop_update_latex(n))] for n in GRADIENT_NAMES],
    )
    return out


def loop_fragments() -> dict[str, str]:
    out = {"code.loop": "\n\n```python\n" + loop_code() + "\n```\n\n"}
    for name, T in (("Wxh", 3), ("Wxh", 4), ("h0", 3), ("Wyh", 3)):
        rows = [
            [str(t), ", ".join(f"({i}, {k})" for i, k in added)]
            for t, added in loop_map_rows(name, ModelSpec(T=T))
        ]
        out[f"table.loopmap.{name}.T{T}"] = table(["iteration t", "terms (i, k) it adds"], rows)
    return out


# --- numbers --------------------------------------------------------------------


def vanishing_fragments() -> dict[str, str]:
    T = 30
    params, _, _, cache = problem(T, kind="spectral", sigma_max=1.0)
    parts = rnnnum.components(params, cache, "Wxh")
    norms = parts.norms()  # (T, T), by pair: entry pair_position(i, k) is loss i, step k
    total = rnnnum.bptt(params, cache).Wxh
    error = float(np.abs(parts.total() - total).max())
    claim(error <= SUM_ATOL, f"the components add up to bptt up to rounding ({error:.2e})")
    d1, d2 = VANISH_DISTANCES

    def last(k: int) -> float:  # the component of the last loss L_T through step k
        return float(norms[pair_position(T, k)])

    rows = [
        [str(k), str(T - k), fmt(last(k)), fmt(last(k) / last(T))]
        for k in (T, T - 1, T - 2, T - 5, T - d1, T - d2, 1)
    ]
    per_loss = np.array(
        [np.linalg.norm(parts.terms[step_position(i)].sum(axis=0)) for i in range(1, T + 1)]
    )
    far = norms[step_position(T), : step_position(T - d1 + 1)]  # steps 1..T-d1
    return {
        **_why_so_fast(params, cache, last(T - d1) / last(T), d1),
        "vanish.d1": str(d1),
        "vanish.d2": str(d2),
        "vanish.rel.d1": fmt(last(T - d1) / last(T)),
        "vanish.rel.d2": fmt(last(T - d2) / last(T)),
        "gd.steps_ratio": fmt(last(T) / last(T - d2)),
        "vanish.T": str(T),
        "vanish.H": str(params.H),
        "table.vanish.last": table(
            ["input step k", "distance i − k", "norm of the component", "relative to k = i"], rows
        ),
        "vanish.sum_error": fmt(error),
        "vanish.total_norm": fmt(float(np.linalg.norm(total))),
        "vanish.far_share": fmt(float(far.sum() / norms[step_position(T)].sum())),
        "vanish.loss_norm_min": fmt(float(per_loss.min())),
        "vanish.loss_norm_max": fmt(float(per_loss.max())),
    }


def _why_so_fast(
    params: rnnnum.RNNParams, cache: rnnnum.ForwardCache, ratio: float, distance: int
) -> dict[str, str]:
    """Where the factor per step comes from when the largest singular value is 1: the other
    singular values, the spectral radius, the activation's derivatives, each step's norm."""
    singular = np.linalg.svd(params.Whh, compute_uv=False)  # descending
    radius = float(np.abs(np.linalg.eigvals(params.Whh)).max())
    fprime = cache.fprime[0]  # f'(a_t) = 1 - h_t^2 for tanh, (T, H)
    steps = np.linalg.norm(rnnnum.step_jacobians(params, cache)[0], ord=2, axis=(1, 2))  # (T,)
    per_step = ratio ** (1 / distance)  # the component's geometric mean factor per step
    claim(abs(singular[0] - 1) < SPECTRAL_ATOL, f"the largest singular value is 1 ({singular[0]})")
    claim(radius < 1, f"the spectral radius is below 1 ({radius})")
    claim(bool(fprime.max() < 1), "the derivatives of tanh are all below 1")
    claim(bool(np.all(steps < 1)), "every one-step Jacobian has norm below 1")
    claim(
        per_step < float(steps.min()),
        f"the component shrinks faster per step ({per_step:.3g}) than any one Jacobian's norm",
    )
    estimate = radius * float(fprime.mean())  # the long-run rate, with an average derivative
    claim(
        abs(estimate / per_step - 1) < ESTIMATE_RTOL,
        f"the spectral radius times the mean derivative ({estimate:.3g}) is close to the "
        f"measured factor per step ({per_step:.3g})",
    )
    return {
        "vanish.sv.min": fmt(float(singular[-1])),
        "vanish.sv.median": fmt(float(np.median(singular))),
        "vanish.radius": fmt(radius),
        "vanish.fprime.mean": fmt(float(fprime.mean())),
        "vanish.fprime.min": fmt(float(fprime.min())),
        "vanish.step.min": fmt(float(steps.min())),
        "vanish.step.median": fmt(float(np.median(steps))),
        "vanish.step.max": fmt(float(steps.max())),
        "vanish.per_step": fmt(per_step),
        "vanish.radius_fprime": fmt(estimate),
    }


def column_fragments() -> dict[str, str]:
    """The column convention, and a numeric check that its Jacobian is our transpose."""
    params, X, _, cache = problem(3, H=5)
    # dh_2/dh_1, row convention; the products are by step ([i, k], 0..T)
    ours = rnnnum.jacobian_products(params, cache).matrices[0, 2, 1]
    U, W, b = params.Whh.T, params.Wxh.T, params.bh  # the column convention's matrices
    one, two = step_position(1), step_position(2)  # the caches and inputs are by position
    h1, x2 = cache.h[0, one], X[0, two]

    def step(h: np.ndarray) -> np.ndarray:  # h_2 = tanh(U h_1 + W x_2 + b), columns
        return np.tanh(U @ h + W @ x2 + b)

    theirs = np.column_stack(
        [
            (step(h1 + rnnnum.FD_STEP * e) - step(h1 - rnnnum.FD_STEP * e)) / (2 * rnnnum.FD_STEP)
            for e in np.eye(params.H)
        ]
    )  # entry (l, j) = d h_2,l / d h_1,j: numerator layout
    error = float(np.abs(theirs - ours.T).max())
    claim(error <= COLUMN_ATOL, f"the column-convention Jacobian is our transpose ({error:.2e})")
    # the printed column Jacobian, evaluated on the column matrices, is the same matrix
    cell = vanilla()
    block = cell.step_jacobian_blocks()["h", "h"]
    row_params = {"Wxh": params.Wxh, "Whh": params.Whh, "bh": params.bh}
    refs = {"a": cache.a[0, two], "h": cache.h[0, two]}
    scope = Scope(x2, {"h": h1}, refs, row_params, cell.activation)
    printed = column_block(block).value(column_scope(scope), params.H, params.H)
    shown_error = float(np.abs(theirs - printed).max())
    claim(
        shown_error <= COLUMN_ATOL,
        f"the printed column-convention Jacobian is the transpose of the row block "
        f"({shown_error:.2e})",
    )
    column = column_notation(cell)
    names = ",\\ ".join(
        rf"{latex} = {cell.notation.latex[name]}^\top" for name, latex in PASCANU_NAMES.items()
    )
    lhs = total_derivative(cell.notation.at("h", "t"), cell.notation.at("h", "t", -1))
    return {
        "column.error": sci(error),
        "eq.column.model": display(column_equation(cell, "h", inline=("a",)) + rf",\qquad {names}"),
        "eq.column.jacobian": display(
            rf"\Big({lhs}\Big)_{{\text{{column}}}} = "
            rf"{generic_sum(column_block(block), 't', column)} = "
            rf"\big({generic_sum(block, 't', cell.notation)}\big)^\top"
        ),
    }


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


FRAGMENT_GROUPS: tuple[Callable[[], dict[str, str]], ...] = (
    notation_fragments,
    model_fragments,
    local_fragments,
    path_fragments,
    sum_fragments,
    loop_fragments,
    vanishing_fragments,
    column_fragments,
    statement_fragments,
)


def prose_fragments() -> dict[str, str]:
    """Every fragment of the hand-written pages."""
    out: dict[str, str] = {}
    for group in FRAGMENT_GROUPS:
        produced = group()
        clash = out.keys() & produced.keys()
        if clash:
            raise AssertionError(f"fragment names defined twice: {sorted(clash)}")
        out.update(produced)
    return out
