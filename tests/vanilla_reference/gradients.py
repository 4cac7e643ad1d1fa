r"""The gradients: expanded sums over (loss i, step k), Jacobian products, and the loop.

Every gradient of $L = \sum_i L_i$ is a sum of terms, one per loss $L_i$ and per
step $k \le i$ at which the shared weight (or the input, or $h_0$) was used:

$$\frac{\mathrm{d}L}{\mathrm{d}W_{xh}} = \sum_{i=1}^{T}\sum_{k=1}^{i} x_k^\top\,\delta_{i,k},$$

$$\delta_{i,k} = \frac{\mathrm{d}L_i}{\mathrm{d}a_k}
= \frac{\partial L_i}{\partial y_i}\,W_{yh}^\top
\Big(\frac{\mathrm{d}h_i}{\mathrm{d}h_k}\Big)^{\!\top}\mathrm{diag}(f'(a_k)).$$

`RULES` says, for each of the seven gradients, which local derivative closes the
chain at step k (the factor left or right of $\delta_{i,k}$); `expanded_sum` turns
that into `Term`s, `jacobian` into explicit products, and `backward_loop` into the
usual reverse loop over t as a straight-line program in the same symbols.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from derivations.core.errors import OutOfRangeError
from derivations.core.notation import GRADIENT_NAMES
from derivations.core.spec import check_choice
from derivations.program.symbols import Assignment, back_substitute, matrix_of_symbols
from vanilla_reference.terms import Factor, JacobianProduct, Term
from vanilla_reference.unroll import Unrolled

__all__ = [
    "RULES",
    "Loop",
    "Rule",
    "backward_loop",
    "check_gradient_name",
    "expanded_sum",
    "jacobian",
    "loop_map",
    "pairs",
]


@dataclass(frozen=True)
class Rule:
    """How the chain for one gradient closes at step $k$.

    ``via`` is ``"a"`` when the quantity enters through $a_k$ (the chain runs back from
    $L_i$ to $a_k$) and ``"y"`` when it enters through $y_i$ (only $k = i$). ``left`` and
    ``right`` give the local-derivative factor at (i, k), if any; ``increment`` is
    what the symbolic loop adds at step t. What the reference prints of the loop comes
    from the vanilla cell (`vanilla_reference.render.loop_code`, `loop_update_latex`);
    tests read these rules against it.
    """

    name: str
    via: str
    left: Callable[[int, int], Factor | None]
    right: Callable[[int, int], Factor | None]
    #: which (i, k) pairs exist: "all" (k <= i), "diagonal" (k = i), "first" (k = 1)
    steps: str
    increment: Callable[[Unrolled, int, sp.Matrix, sp.Matrix], sp.Matrix] = field(repr=False)


def _none(i: int, k: int) -> Factor | None:
    return None


RULES: dict[str, Rule] = {
    "Wxh": Rule(
        "Wxh",
        "a",
        lambda i, k: Factor("xT", k),
        _none,
        "all",
        lambda m, t, delta, g: m.x[t].T * delta,
    ),
    "Whh": Rule(
        "Whh",
        "a",
        lambda i, k: Factor("hT", k - 1),
        _none,
        "all",
        lambda m, t, delta, g: m.h[t - 1].T * delta,
    ),
    "Wyh": Rule(
        "Wyh",
        "y",
        lambda i, k: Factor("hT", i),
        _none,
        "diagonal",
        lambda m, t, delta, g: m.h[t].T * g,
    ),
    "bh": Rule(
        "bh",
        "a",
        _none,
        _none,
        "all",
        lambda m, t, delta, g: delta,
    ),
    "by": Rule(
        "by",
        "y",
        _none,
        _none,
        "diagonal",
        lambda m, t, delta, g: g,
    ),
    "X": Rule(
        "X",
        "a",
        _none,
        lambda i, k: Factor("WxhT", None),
        "all",
        lambda m, t, delta, g: delta * m.params["Wxh"].T,
    ),
    "h0": Rule(
        "h0",
        "a",
        _none,
        lambda i, k: Factor("WhhT", None),
        "first",
        lambda m, t, delta, g: delta * m.params["Whh"].T,
    ),
}


def check_gradient_name(name: object) -> str:
    """Return `name` if it is one of the seven gradient names, else raise listing them."""
    return check_choice(name, "the gradient (param)", GRADIENT_NAMES)


def pairs(name: str, T: int) -> list[tuple[int, int]]:
    """The $(i, k)$ pairs with a term in the gradient of $L$ with respect to `name`, ordered
    by loss $i$ then step $k$."""
    steps = RULES[check_gradient_name(name)].steps
    if steps == "diagonal":
        return [(i, i) for i in range(1, T + 1)]
    if steps == "first":
        return [(i, 1) for i in range(1, T + 1)]
    return [(i, k) for i in range(1, T + 1) for k in range(1, i + 1)]


def expanded_sum(name: str, T: int) -> list[Term]:
    """Every term of the gradient of $L$ with respect to `name` for a T-step model, one per
    (loss $i$, step $k$)."""
    rule = RULES[check_gradient_name(name)]
    return [
        Term(name, i, k, rule.via, rule.left(i, k), rule.right(i, k)) for i, k in pairs(name, T)
    ]


def jacobian(i: int, k: int, T: int | None = None) -> JacobianProduct:
    r"""The explicit product for $0 \le k \le i$ (at most T if given).

    $\mathrm{d}h_i / \mathrm{d}h_k = \prod_{t=k+1}^{i} W_{hh}\,\mathrm{diag}(f'(a_t))$.
    """
    for value, what in ((i, "the later step i (--from)"), (k, "the earlier step k (--to)")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise OutOfRangeError(f"{what} must be an integer >= 0; got {value!r}.")
    if k > i:
        raise OutOfRangeError(
            f"dh_i/dh_k is a product of one-step Jacobians only for k <= i (h_i does not "
            f"depend on later states); got i={i}, k={k}. Swap them: --from {k} --to {i}."
        )
    if T is not None and i > T:
        raise OutOfRangeError(
            f"step i must be at most T={T}; got i={i}. "
            f"Unroll more steps (--steps {i}) or pick i <= {T}."
        )
    factors: list[Factor] = []
    for t in range(k + 1, i + 1):
        factors += [Factor("Whh"), Factor("fprime", t)]
    return JacobianProduct(i, k, tuple(factors))


@dataclass(frozen=True, eq=False)
class Loop:
    r"""The backward loop as a straight-line program in the model's symbols.

    Iteration t (from T down to 1) computes ``dh[t]`` = $\mathrm{d}L/\mathrm{d}h_t$ (direct
    path through $y_t$ plus the carry), ``delta[t]`` = $\mathrm{d}L/\mathrm{d}a_t$, and the
    carry ``carry[t]`` =
    $\delta_t W_{hh}^\top = \mathrm{d}(L_t + \dots + L_T)/\mathrm{d}h_{t-1}$.
    ``increments[name][t]`` is what
    iteration t adds to the gradient ``name``; ``gradients[name]`` the sum (for
    ``X``, a list of the T rows).
    """

    dh: dict[int, sp.Matrix]
    delta: dict[int, sp.Matrix]
    carry: dict[int, sp.Matrix]
    assignments: tuple[Assignment, ...] = field(repr=False)
    increments: dict[str, dict[int, sp.Matrix]] = field(repr=False)
    gradients: dict[str, Any] = field(repr=False)

    @property
    def definitions(self) -> dict[sp.Symbol, Any]:
        """Each loop symbol in terms of $g_t$, $f'(a_t)$, $h_t$, $x_t$ and the parameters."""
        return back_substitute(self.assignments)


def backward_loop(model: Unrolled) -> Loop:
    """Reverse over t, carrying `dh_next`: the loop of `rnnnum.bptt`, in symbols."""
    T, H = model.spec.T, model.spec.H
    Whh_T, Wyh_T = model.params["Whh"].T, model.params["Wyh"].T
    dh: dict[int, sp.Matrix] = {}
    delta: dict[int, sp.Matrix] = {}
    carry: dict[int, sp.Matrix] = {}
    program: list[Assignment] = []
    increments: dict[str, dict[int, sp.Matrix]] = {name: {} for name in GRADIENT_NAMES}
    carried = sp.zeros(1, H)  # dh_next: nothing flows into h_T from later losses
    for t in range(T, 0, -1):
        dh[t] = matrix_of_symbols("dh", 1, H, t=t)
        program += zip(dh[t], model.g[t] * Wyh_T + carried, strict=True)
        delta[t] = matrix_of_symbols("delta", 1, H, t=t)
        program += zip(delta[t], dh[t].multiply_elementwise(model.d[t]), strict=True)
        carry[t] = matrix_of_symbols("carry", 1, H, t=t)
        program += zip(carry[t], delta[t] * Whh_T, strict=True)
        carried = carry[t]
        for name, rule in RULES.items():
            if name == "h0" and t != 1:
                continue
            increments[name][t] = rule.increment(model, t, delta[t], model.g[t])
    gradients: dict[str, Any] = {
        name: _sum(list(parts.values())) for name, parts in increments.items() if name != "X"
    }
    gradients["X"] = [increments["X"][t] for t in range(1, T + 1)]
    return Loop(dh, delta, carry, tuple(program), increments, gradients)


def _sum(matrices: list[sp.Matrix]) -> sp.Matrix:
    """Entry-wise sum in one Add per entry: adding matrices pairwise re-flattens a
    growing Add T times, which made the loop quadratic in T."""
    first = matrices[0]
    return sp.Matrix(first.rows, first.cols, lambda r, c: sp.Add(*(m[r, c] for m in matrices)))


def loop_map(name: str, T: int) -> dict[int, list[tuple[int, int]]]:
    r"""For each loop iteration t (T down to 1), the (i, k) terms of the gradient by `name`
    it adds.

    Iteration t adds exactly the terms with step $k = t$: $\delta_t$ carries
    $\sum_{i \ge t} \mathrm{d}L_i/\mathrm{d}a_t$, so every loss at or after $t$ arrives at
    once.
    """
    out: dict[int, list[tuple[int, int]]] = {t: [] for t in range(T, 0, -1)}
    for i, k in pairs(name, T):
        out[k].append((i, k))
    return out
