"""The named fragments the hand-written pages use as ``{{ name }}``.

Formulas come from `derivations` (its renderers and notation), numbers from `rnnnum`
computations made here, at build time. Each fragment is Markdown: inline math
``\\(...\\)``, display math ``$$...$$``, a table or a plain number. This is one of the
places where the symbolic and the numeric halves meet (with the tests and
`derivations.verify`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import sympy as sp
from gen_format import NONNORMAL_W, ChecksFailed, code, display, math, sci, table

import rnnnum
from derivations.gradients import RULES, pairs
from derivations.notation import GRADIENT_NAMES, QUANTITIES
from derivations.render import (
    compact_latex,
    forward_entry_latex,
    forward_latex,
    hidden_latex,
    jacobian_latex,
    local_jacobians_latex,
    loop_code,
    loop_map_rows,
    model_latex,
    parameter_locals_latex,
    written_out_latex,
)
from derivations.spec import ACTIVATIONS, ModelSpec

#: The seed of every random draw on the site's pages.
SEED = 2013
#: The sizes of the small numeric examples (the symbolic default: D=2, H=3, V=4).
EXAMPLE = ModelSpec()
#: Central differences with rnnnum.FD_STEP on O(1) entries err by ~1e-10 (truncation
#: h^2 f''' ~ 1e-12 plus rounding eps/h ~ 1e-10); a wrong transpose errs by O(0.1).
COLUMN_ATOL = 1e-8
#: The bound (gamma sigma)^(t-k) is exact math; float64 products and SVDs of 40
#: factors err by ~1e-14 relative, so a ratio above 1 + 1e-9 is a real violation.
BOUND_SLACK = 1e-9
#: Components of O(1) gradients summed in two orders: a few ulps; 1e-12 is still
#: three orders above what T = 30 terms can accumulate.
SUM_ATOL = 1e-12
#: The two distances the vanishing page quotes in its prose.
VANISH_DISTANCES = (10, 20)
#: Gain of the orthogonal W_hh of the overflow demonstration (linear RNN).
OVERFLOW_GAIN = 3.0
#: Norm clipping rescales exactly, up to float64 rounding of one division and a norm.
CLIP_RTOL = 1e-12
#: Sizes of the criterion and gradient-reach measurements: (H, T), and seeds for reach.
CRITERION_SIZE = (8, 40)
REACH_SIZE = (32, 80)
REACH_SEEDS = 5
#: Sequence lengths shown written out in tabs on the expanded-sum page.
WRITTEN_TABS = (1, 2, 3, 4)


def claim(holds: bool, statement: str) -> None:
    """A sentence the prose states about a computed result: if false, the build fails."""
    if not holds:
        raise ChecksFailed(f"the prose says: {statement}; the numbers computed now disagree")


def fmt(x: float, digits: int = 3) -> str:
    """A number for prose: `digits` significant digits, scientific when tiny or huge."""
    if x == 0 or not np.isfinite(x):
        return {"inf": "∞", "-inf": "−∞", "nan": "NaN"}.get(str(x), str(x))
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.{digits}g}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return rf"\({mantissa} \times 10^{{{int(exponent)}}}\)"


# --- formulas -------------------------------------------------------------------


def notation_fragments() -> dict[str, str]:
    out = {f"sym.{name}": math(q.at("t")) for name, q in QUANTITIES.items()}
    out.update(
        {
            f"sym.{name}.{t}": math(q.at(t))
            for name, q in QUANTITIES.items()
            if q.per_step
            for t in (1, 2, 3, "k", "i", "t-1", "T")
        }
    )
    rows = [
        [code(q.name), math(q.at("t")), q.shape, q.meaning.replace("\\partial", "∂")]
        for q in QUANTITIES.values()
    ]
    out["table.notation"] = table(["code name", "symbol", "shape", "what it is"], rows)
    out["eq.model"] = display(model_latex(EXAMPLE))
    return out


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
    rows = []
    for name, act in ACTIVATIONS.items():
        a = sp.Symbol("a", real=True)
        h = act.forward(a)
        # gamma = sup |f'| checked against SymPy's derivative at a grid of points
        # (f' peaks at 0 for tanh and sigmoid, and is piecewise constant otherwise)
        grid = [sp.Rational(n, 4) for n in range(-40, 41) if n != 0]
        fprime = sp.diff(h, a)
        values = [abs(float(fprime.subs(a, v))) for v in grid]
        claim(
            max(values) <= float(act.gamma) * (1 + 1e-12),
            f"sup |f'| of {name} is its gamma {act.gamma}",
        )
        rows.append(
            [
                name,
                math(act.latex("a")),
                math(act.derivative_latex("a", "h")),
                math(sp.latex(act.gamma)),
                math(sp.latex(1 / act.gamma)),
            ]
        )
    return {
        **{f"gamma.{name}": math(sp.latex(act.gamma)) for name, act in ACTIVATIONS.items()},
        "eq.local": display(local_jacobians_latex(EXAMPLE)),
        "eq.local.mse": display(local_jacobians_latex(ModelSpec(loss="mse"))),
        "eq.param_locals": display(parameter_locals_latex()),
        "table.activations": table(
            ["activation", "h = f(a)", "f'(a)", "γ = sup |f'|", "1/γ"], rows
        ),
    }


def path_fragments() -> dict[str, str]:
    return {
        "eq.paths.L2h2": display(hidden_latex(2, EXAMPLE, losses=(2,))),
        "eq.paths.L3h2": display(hidden_latex(2, EXAMPLE, losses=(3,))),
        "eq.paths.h2": display(hidden_latex(2, EXAMPLE)),
        "eq.paths.h1": display(hidden_latex(1, EXAMPLE)),
        "eq.jacobian.32": display(jacobian_latex(3, 2, EXAMPLE)),
    }


def sum_fragments() -> dict[str, str]:
    out = {f"eq.compact.{n}": display(compact_latex(n, EXAMPLE)) for n in GRADIENT_NAMES}
    for T in WRITTEN_TABS:
        out[f"eq.written.Wxh.T{T}"] = display(written_out_latex("Wxh", ModelSpec(T=T)))
    header = ["gradient", *(f"T = {T}" for T in range(1, 7)), "T = 100"]
    rows = [
        [code(n), *(str(len(pairs(n, T))) for T in (*range(1, 7), 100))] for n in GRADIENT_NAMES
    ]
    out["table.termcounts"] = table(header, rows)
    out["num.terms.Wxh.T3"] = str(len(pairs("Wxh", 3)))
    out["table.updates"] = table(
        ["gradient", "update in the loop"],
        [[code(n), math(RULES[n].update)] for n in GRADIENT_NAMES],
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


def _problem(
    T: int,
    *,
    H: int = 16,
    D: int = 4,
    V: int = 4,
    kind: str = "xavier",
    activation: str = "tanh",
    seed: int = SEED,
    on_overflow: str = "raise",
    **options: float,
):
    """A random one-sequence problem: params, inputs (1, T, D), targets (1, T), cache."""
    rng = np.random.default_rng(seed)
    params = rnnnum.init_params(kind, D, H, V, rng, **options)
    X = rng.standard_normal((1, T, D))
    targets = rng.integers(0, V, size=(1, T))
    cache = rnnnum.forward(params, X, targets, activation=activation, on_overflow=on_overflow)
    return params, X, targets, cache


def vanishing_fragments() -> dict[str, str]:
    T = 30
    params, _, _, cache = _problem(T, kind="spectral", sigma_max=1.0)
    parts = rnnnum.components(params, cache, "Wxh")
    norms = parts.norms()  # (T, T): [i-1, k-1]
    total = rnnnum.bptt(params, cache).Wxh
    error = float(np.abs(parts.total() - total).max())
    claim(error <= SUM_ATOL, f"the components add up to bptt up to rounding ({error:.2e})")
    last = norms[T - 1]
    d1, d2 = VANISH_DISTANCES
    rows = [
        [str(k), str(T - k), fmt(float(last[k - 1])), fmt(float(last[k - 1] / last[T - 1]))]
        for k in (T, T - 1, T - 2, T - 5, T - d1, T - d2, 1)
    ]
    per_loss = np.array([np.linalg.norm(parts.terms[i].sum(axis=0)) for i in range(T)])
    d1, d2 = VANISH_DISTANCES
    return {
        "vanish.d1": str(d1),
        "vanish.d2": str(d2),
        "vanish.rel.d1": fmt(float(last[T - 1 - d1] / last[T - 1])),
        "vanish.rel.d2": fmt(float(last[T - 1 - d2] / last[T - 1])),
        "vanish.T": str(T),
        "vanish.H": str(params.H),
        "table.vanish.last": table(
            ["input step k", "distance i − k", "norm of the component", "relative to k = i"], rows
        ),
        "vanish.sum_error": fmt(error),
        "vanish.total_norm": fmt(float(np.linalg.norm(total))),
        "vanish.far_share": fmt(float(last[: T - d1].sum() / last.sum())),
        "vanish.loss_norm_min": fmt(float(per_loss.min())),
        "vanish.loss_norm_max": fmt(float(per_loss.max())),
    }


def _distance_profile(params: rnnnum.RNNParams, cache: rnnnum.ForwardCache) -> np.ndarray:
    """Median over losses i of |component (i, i-d)| / |component (i, i)|, for each distance d."""
    norms = rnnnum.component_norms(params, cache, "Wxh")
    T = norms.shape[0]
    return np.array(
        [np.median([norms[i, i - d] / norms[i, i] for i in range(d, T)]) for d in range(T)]
    )


def speed_fragments() -> dict[str, str]:
    out = {
        "num.pow.0.9.10": fmt(0.9**10),
        "num.pow.0.9.50": fmt(0.9**50),
        "num.pow.1.1.50": fmt(1.1**50),
        "num.steps.1pct.0.9": str(int(np.ceil(np.log(0.01) / np.log(0.9)))),
    }
    # the linear RNN with W_hh = s Q: every product has norm exactly s^(t-k)
    deviations = []
    for s in (0.9, 1.0, 1.1):
        params, _, _, cache = _problem(40, H=8, kind="orthogonal", activation="identity", gain=s)
        norms = rnnnum.jacobian_products(params, cache).norms[0]
        i, k = np.tril_indices(41)
        deviations.append(np.max(np.abs(norms[i, k] / s ** (i - k).astype(float) - 1)))
    out["linear.maxdev"] = sci(float(max(deviations)))
    # the criterion: tanh with sigma_max < 1/gamma = 1, bound (gamma sigma)^(t-k)
    rows = []
    for activation, sigma in (("tanh", 0.9), ("tanh", 1.5), ("sigmoid", 3.0), ("sigmoid", 6.0)):
        gamma = float(ACTIVATIONS[activation].gamma)
        H, T = CRITERION_SIZE
        params, _, _, cache = _problem(
            T, H=H, kind="spectral", sigma_max=sigma, activation=activation
        )
        norms = rnnnum.jacobian_products(params, cache).norms[0]
        i, k = np.tril_indices(T + 1, -1)
        bound = (gamma * sigma) ** (i - k).astype(float)
        ratio = float(np.max(norms[i, k] / bound))
        claim(ratio <= 1 + BOUND_SLACK, f"the bound (gamma sigma)^(t-k) holds (ratio {ratio})")
        if sigma > 1 / gamma:
            claim(norms[T, 0] < 1, f"above 1/gamma the product still vanishes ({activation})")
        rows.append(
            [
                activation,
                fmt(sigma),
                fmt(1 / gamma),
                fmt(ratio),
                fmt(float(norms[T, 0])),
                fmt(float((gamma * sigma) ** T)),
            ]
        )
    H, T = CRITERION_SIZE
    out["criterion.H"], out["criterion.T"] = str(H), str(T)
    out["table.criterion"] = table(
        [
            "activation",
            "σ_max of W_hh",
            "1/γ",
            "largest norm / bound",
            f"norm of ∂h_{T}/∂h_0",
            f"bound at distance {T}",
        ],
        rows,
    )
    out["eq.bound.linear"] = display(
        r"\Big\lVert \frac{\partial h_t}{\partial h_k} \Big\rVert \le "
        r"\lVert W_{hh} \rVert^{\,t-k}"
    )
    out["eq.bound.nonlinear"] = display(
        r"\Big\lVert \frac{\partial h_t}{\partial h_k} \Big\rVert = \Big\lVert "
        r"\prod_{s=k+1}^{t} W_{hh}\,\operatorname{diag}(f'(a_s)) \Big\rVert \le "
        r"\big(\gamma\, \sigma_{\max}(W_{hh})\big)^{t-k}"
    )
    # spectral radius vs largest singular value: a non-normal 2 x 2 matrix
    W = np.array(NONNORMAL_W)
    radius = float(np.max(np.abs(np.linalg.eigvals(W))))
    sigma = float(np.linalg.norm(W, 2))
    powers = [float(np.linalg.norm(np.linalg.matrix_power(W, n), 2)) for n in range(1, 61)]
    peak = int(np.argmax(powers)) + 1
    below = next(n for n in range(1, 61) if powers[n - 1] < 1 and n > peak)
    out.update(
        {
            "nonnormal.W": math(sp.latex(sp.Matrix(NONNORMAL_W).applyfunc(sp.nsimplify))),
            "nonnormal.radius": fmt(radius),
            "nonnormal.sigma": fmt(sigma),
            "nonnormal.peak": fmt(powers[peak - 1]),
            "nonnormal.peak_step": str(peak),
            "nonnormal.below_one": str(below),
            "nonnormal.at60": fmt(powers[59]),
        }
    )
    # gradient reach: how far back the median component stays above 1% of the nearest
    rows, standard = [], []
    H, T = REACH_SIZE
    for label, kind, options in (
        ("Xavier (Glorot)", "xavier", {}),
        ("orthogonal, gain 1", "orthogonal", {"gain": 1.0}),
        ("σ_max = 0.5", "spectral", {"sigma_max": 0.5}),
        ("σ_max = 2", "spectral", {"sigma_max": 2.0}),
    ):
        reach = []
        for seed in range(REACH_SEEDS):
            params, _, _, cache = _problem(T, H=H, kind=kind, seed=SEED + seed, **options)
            profile = _distance_profile(params, cache)
            small = np.nonzero(profile < 0.01)[0]
            reach.append(int(small[0]) if small.size else T)
        median = int(np.median(reach))
        if kind in ("xavier", "orthogonal"):
            standard.append(median)
        rows.append([label, ", ".join(str(r) for r in reach), str(median)])
    out["table.reach"] = table(
        ["initialisation of W_hh", f"distance below 1 % ({REACH_SEEDS} seeds)", "median"], rows
    )
    out["reach.H"], out["reach.T"], out["reach.seeds"] = str(H), str(T), str(REACH_SEEDS)
    out["reach.standard"] = (
        f"{min(standard)} to {max(standard)}"
        if min(standard) != max(standard)
        else str(standard[0])
    )
    return out


def exploding_fragments() -> dict[str, str]:
    out: dict[str, str] = {}
    rows, overflowed_first, nan_at_end = [], False, False
    for T in (10, 50, 100, 200, 400, 700):
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("always")
            params, _, _, cache = _problem(
                T,
                H=8,
                kind="orthogonal",
                activation="identity",
                gain=OVERFLOW_GAIN,
                on_overflow="warn",
            )
            grads = rnnnum.bptt(params, cache, on_overflow="warn")
            norm = rnnnum.global_norm(grads.Whh)  # scale-safe: no overflow in the squares
            h_max = float(np.max(np.abs(cache.h)))
        first = next((str(w.message).split(";")[0] for w in caught), "none")
        overflowed_first |= bool(np.isinf(norm) and np.isfinite(h_max) and np.isfinite(cache.loss))
        nan_at_end = bool(np.isnan(norm) and np.isnan(cache.loss))
        rows.append(
            [str(T), fmt(h_max), fmt(float(cache.loss)), fmt(norm), str(len(caught)), first]
        )
    out["table.overflow"] = table(
        ["T", "largest entry of h_t", "loss L", "‖∂L/∂W_hh‖", "warnings", "first warning"], rows
    )
    claim(overflowed_first, "the gradient overflows while the states and the loss are finite")
    claim(nan_at_end, "at the longest length everything is NaN")
    out["overflow.gain"] = fmt(OVERFLOW_GAIN)
    out["overflow.limit"] = fmt(float(np.finfo(np.float64).max))
    out["overflow.steps"] = str(int(np.log(np.finfo(np.float64).max) / np.log(OVERFLOW_GAIN)))
    # clipping a large gradient by norm and by value
    params, _, _, cache = _problem(30, H=8, kind="spectral", sigma_max=1.6)
    grads = rnnnum.bptt(params, cache)
    raw = np.concatenate([getattr(grads, n).ravel() for n in rnnnum.PARAM_NAMES])
    rows = []
    for threshold in (1.0, 5.0):
        for how, clip in (("by norm", rnnnum.clip_by_norm), ("by value", rnnnum.clip_by_value)):
            clipped = clip(grads, threshold)
            flat = np.concatenate([getattr(clipped, n).ravel() for n in rnnnum.PARAM_NAMES])
            cosine = float(raw @ flat / (np.linalg.norm(raw) * np.linalg.norm(flat)))
            if how == "by norm":
                claim(
                    abs(np.linalg.norm(flat) / threshold - 1) < CLIP_RTOL
                    and abs(cosine - 1) < CLIP_RTOL,
                    "norm clipping gives the threshold as the norm and a cosine of 1",
                )
            elif threshold == 1.0:
                claim(
                    cosine < 1 - 1e-3, "value clipping turns the gradient away from its direction"
                )
            rows.append([how, fmt(threshold), fmt(float(np.linalg.norm(flat))), f"{cosine:.6f}"])
    out["clip.raw_norm"] = fmt(float(np.linalg.norm(raw)))
    out["table.clipping"] = table(
        ["clipping", "threshold θ", "norm after", "cosine with the raw gradient"], rows
    )
    out["eq.clip.norm"] = display(
        r"g \leftarrow \begin{cases} \theta\, g / \lVert g \rVert & \text{if } "
        r"\lVert g \rVert > \theta \\ g & \text{otherwise} \end{cases}"
    )
    out["eq.clip.value"] = display(r"g_j \leftarrow \min(\max(g_j, -\theta), \theta)")
    return out


def column_fragments() -> dict[str, str]:
    """The column convention, and a numeric check that its Jacobian is our transpose."""
    params, X, _, cache = _problem(3, H=5)
    ours = rnnnum.jacobian_products(params, cache).matrices[0, 2, 1]  # dh_2/dh_1, row conv.
    U, W, b = params.Whh.T, params.Wxh.T, params.bh  # the column convention's matrices
    h1 = cache.h[0, 0]

    def step(h: np.ndarray) -> np.ndarray:  # h_2 = tanh(U h_1 + W x_2 + b), columns
        return np.tanh(U @ h + W @ X[0, 1] + b)

    theirs = np.column_stack(
        [
            (step(h1 + rnnnum.FD_STEP * e) - step(h1 - rnnnum.FD_STEP * e)) / (2 * rnnnum.FD_STEP)
            for e in np.eye(params.H)
        ]
    )  # entry (l, j) = d h_2,l / d h_1,j: numerator layout
    error = float(np.abs(theirs - ours.T).max())
    claim(error <= COLUMN_ATOL, f"the column-convention Jacobian is our transpose ({error:.2e})")
    return {
        "column.error": sci(error),
        "eq.column.model": display(
            r"h_t = f(U h_{t-1} + W x_t + b),\qquad U = W_{hh}^\top,\ W = W_{xh}^\top,\ "
            r"b = b_h^\top"
        ),
        "eq.column.jacobian": display(
            r"\Big(\frac{\partial h_t}{\partial h_{t-1}}\Big)_{\text{column}} = "
            r"\operatorname{diag}(f'(a_t))\,U = \big(W_{hh}\,\operatorname{diag}(f'(a_t))\big)^\top"
        ),
    }


FRAGMENT_GROUPS: tuple[Callable[[], dict[str, str]], ...] = (
    notation_fragments,
    model_fragments,
    local_fragments,
    path_fragments,
    sum_fragments,
    loop_fragments,
    vanishing_fragments,
    speed_fragments,
    exploding_fragments,
    column_fragments,
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
