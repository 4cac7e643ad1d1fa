r"""The model specification: sequence length, activation, loss and sizes.

Each activation carries its SymPy forward map, its local derivative written the
way the pages show it (in terms of $h = f(a)$ where that is shortest), and the
LaTeX of that derivative; each loss carries $L_t$ and $\partial L_t/\partial y_t$.
The test suite checks every local derivative against `sympy.diff`.

The losses (`LOSSES`, by name), each summed over the V outputs and the batch (no mean),
with $L = \sum_t L_t$:

- ``"cross_entropy"``: $L_t = -\log p_t[\mathrm{target}_t]$, which is
  $-r_t \cdot \log p_t$ with the one-hot row $r_t$ and $p_t = \operatorname{softmax}(y_t)$;
  $\partial L_t/\partial y_t = p_t - r_t$.
- ``"mse"``: $L_t = \tfrac{1}{2}\lVert y_t - r_t\rVert^{2}$ for a real target row $r_t$;
  the $\tfrac{1}{2}$ cancels the 2 of the square, so $\partial L_t/\partial y_t = y_t - r_t$.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.calculus.util import maximum, minimum

from derivations.core.errors import OutOfRangeError, UnknownChoiceError
from derivations.core.notation import ACTIVATION_NAMES, LOSS_NAMES

__all__ = [
    "ACTIVATIONS",
    "LEAKY_SLOPE",
    "LOSSES",
    "MAX_SIZE",
    "MAX_STEPS",
    "ModelSpec",
    "SymbolicActivation",
    "SymbolicLoss",
    "check_choice",
    "derivative_supremum",
]

#: Slope of leaky ReLU for a <= 0, exact (rnnnum uses the float 0.01).
LEAKY_SLOPE = sp.Rational(1, 100)
#: Longest sequence the symbolic unroll accepts: the benchmark's T = 100 with room to spare.
MAX_STEPS = 500
#: Largest D, H or V: the element-wise form is for reading, not for training.
MAX_SIZE = 16

Expr = Any  # a SymPy expression (sympy ships no precise types)


@dataclass(frozen=True)
class SymbolicActivation:
    r"""$h = f(a)$ in SymPy, $f'(a)$ as a function of $(a, h)$, and the LaTeX of
    $\mathrm{diag}(f'(a_t))$."""

    name: str
    forward: Callable[[Expr], Expr]
    derivative: Callable[[Expr, Expr], Expr]
    #: LaTeX of the vector f'(a_t), given the LaTeX of a_t and h_t
    derivative_latex: Callable[[str, str], str]
    #: sup |f'|, the constant of the vanishing/exploding criterion
    gamma: sp.Rational
    #: LaTeX of f itself, applied to the LaTeX of its argument
    latex: Callable[[str], str] = lambda a: f"f({a})"


def _piecewise_linear(slope: Expr) -> SymbolicActivation:
    name = "relu" if slope == 0 else "leaky_relu"
    return SymbolicActivation(
        name,
        forward=lambda a: sp.Piecewise((a, a > 0), (slope * a, True)),
        derivative=lambda a, h: sp.Piecewise((1, a > 0), (slope, True)),
        derivative_latex=(
            (lambda a, h: rf"\mathbb{{1}}[{a} > 0]")
            if slope == 0
            else (
                lambda a, h: rf"\mathbb{{1}}[{a} > 0] + \tfrac{{1}}{{100}}\,\mathbb{{1}}[{a} \le 0]"
            )
        ),
        gamma=sp.Integer(1),
        latex=(
            (lambda a: rf"\max(0, {a})")
            if slope == 0
            else (lambda a: rf"\max(\tfrac{{1}}{{100}}\,{a},\ {a})")
        ),
    )


ACTIVATIONS: dict[str, SymbolicActivation] = {
    "tanh": SymbolicActivation(
        "tanh",
        forward=sp.tanh,
        derivative=lambda a, h: 1 - h**2,  # d tanh(a)/da = 1 - tanh(a)^2
        derivative_latex=lambda a, h: rf"1 - {h}^{{2}}",
        gamma=sp.Integer(1),
        latex=lambda a: rf"\tanh({a})",
    ),
    "sigmoid": SymbolicActivation(
        "sigmoid",
        # 1/(1 + e^-a) written as (1 + tanh(a/2))/2, as rnnnum computes it: then
        # s'(a) = (1 - tanh(a/2)^2)/4 = s(1 - s) is a polynomial identity in tanh(a/2)
        forward=lambda a: (1 + sp.tanh(a / 2)) / 2,
        derivative=lambda a, h: h * (1 - h),  # s'(a) = s(a)(1 - s(a))
        derivative_latex=lambda a, h: rf"{h} \odot (1 - {h})",
        gamma=sp.Rational(1, 4),
        latex=lambda a: rf"\sigma({a})",
    ),
    "relu": _piecewise_linear(sp.Integer(0)),  # f'(0) = 0, as in rnnnum
    "leaky_relu": _piecewise_linear(LEAKY_SLOPE),
    "identity": SymbolicActivation(
        "identity",
        forward=lambda a: a,
        derivative=lambda a, h: sp.Integer(1),  # linear RNN: the Jacobians are W_hh alone
        derivative_latex=lambda a, h: "1",
        gamma=sp.Integer(1),
        latex=lambda a: a,
    ),
}


def derivative_supremum(act: SymbolicActivation) -> tuple[Expr, Any]:
    """sup |f'(a)| over the real line, exactly, and the set of a where |f'(a)| equals it.

    Computed by SymPy from its own derivative of ``act.forward`` (not from
    ``act.derivative``), so it checks ``act.gamma`` from both sides: nothing exceeds
    the supremum, and an empty set would say it is never reached. A piecewise f' is
    bounded piece by piece, each over the part of the line where that piece applies.
    """
    a = sp.Symbol("a", real=True)
    fprime = sp.diff(act.forward(a), a)
    pieces = fprime.args if isinstance(fprime, sp.Piecewise) else ((fprime, sp.true),)
    remaining: Any = sp.S.Reals
    parts = []  # (f' on this piece, where the piece applies)
    for expr, condition in pieces:
        domain = remaining.intersect(condition.as_set())
        remaining = remaining - domain
        if domain is not sp.S.EmptySet:
            parts.append((expr, domain))
    bounds = []
    for expr, domain in parts:
        if expr.free_symbols:
            bounds += [abs(maximum(expr, a, domain)), abs(minimum(expr, a, domain))]
        else:
            bounds.append(abs(expr))
    supremum = sp.Max(*bounds)
    attained: Any = sp.S.EmptySet
    for expr, domain in parts:
        for target in (supremum, -supremum):
            attained = attained.union(sp.solveset(sp.Eq(expr, target), a, domain))
    return supremum, attained


@dataclass(frozen=True)
class SymbolicLoss:
    r"""$L_t$ as a function of $(y_t, r_t)$ (row lists of V expressions), and
    $\partial L_t/\partial y_t$."""

    name: str
    value: Callable[[list[Expr], list[Expr]], Expr]
    #: ∂L_t/∂y_t from (y_t, p_t, r_t); p_t is None for losses without a softmax
    gradient: Callable[[list[Expr], list[Expr] | None, list[Expr]], list[Expr]]
    gradient_latex: Callable[[int | str], str]
    #: LaTeX of L_t itself, at step t
    value_latex: Callable[[int | str], str]
    uses_softmax: bool
    #: what r_t must be
    target_rule: str


def _ce_value(y: list[Expr], r: list[Expr]) -> Expr:
    # -sum_v r_v log softmax(y)_v = sum_v r_v (log sum_l exp(y_l) - y_v)
    log_z = sp.log(sp.Add(*(sp.exp(yl) for yl in y)))
    return sp.Add(*(rv * (log_z - yv) for rv, yv in zip(r, y, strict=True)))


LOSSES: dict[str, SymbolicLoss] = {  # the definitions: this module's docstring
    "cross_entropy": SymbolicLoss(
        "cross_entropy",
        value=_ce_value,
        # p - r, which is ∂L_t/∂y_t whenever sum_v r_v = 1 (a one-hot target)
        gradient=lambda y, p, r: [pv - rv for pv, rv in zip(p or [], r, strict=True)],
        gradient_latex=lambda t: rf"p_{{{t}}} - r_{{{t}}}",
        # -log p_t[target_t], written with the one-hot row r_t
        value_latex=lambda t: (
            rf"-\log p_{{{t}}}[\mathrm{{target}}_{{{t}}}] = -r_{{{t}}} \cdot \log p_{{{t}}}"
        ),
        uses_softmax=True,
        target_rule="one-hot rows (r_t = onehot(target_t)), so that sum_v r_t,v = 1",
    ),
    "mse": SymbolicLoss(
        "mse",
        value=lambda y, r: (
            sp.Rational(1, 2) * sp.Add(*((yv - rv) ** 2 for yv, rv in zip(y, r, strict=True)))
        ),
        gradient=lambda y, p, r: [
            yv - rv for yv, rv in zip(y, r, strict=True)
        ],  # the 1/2 cancels the 2
        gradient_latex=lambda t: rf"y_{{{t}}} - r_{{{t}}}",
        value_latex=lambda t: rf"\tfrac{{1}}{{2}}\lVert y_{{{t}}} - r_{{{t}}}\rVert^{{2}}",
        uses_softmax=False,
        target_rule="real rows r_t of length V",
    ),
}


def check_choice(
    value: object, name: str, choices: tuple[str, ...], flag: str | None = None
) -> str:
    """Return `value` if it is one of `choices`, else raise `UnknownChoiceError` listing them."""
    if not isinstance(value, str) or value not in choices:
        how = f"Pass {flag} " if flag else "Use "
        raise UnknownChoiceError(
            f"{name} must be one of {', '.join(choices)}; got {value!r}. "
            f"{how}one of these names exactly (they are case-sensitive)."
        )
    return value


def _check_int(value: object, name: str, low: int, high: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise OutOfRangeError(
            f"{name} must be an integer from {low} to {high}; got {value!r}. {hint}"
        )
    return value


@dataclass(frozen=True)
class ModelSpec:
    """What to unroll: T steps, the activation, the loss, and the sizes D, H, V.

    The sizes only matter for the element-wise form, the proofs and the numeric
    checks; the matrix-notation derivations hold for any sizes. The defaults are
    all different (D=2, H=3, V=4) so that a transposed matrix cannot go unnoticed.
    """

    T: int = 3
    activation: str = "tanh"
    loss: str = "cross_entropy"
    D: int = 2
    H: int = 3
    V: int = 4

    def __post_init__(self) -> None:
        _check_int(
            self.T,
            "T (the number of steps)",
            1,
            MAX_STEPS,
            "Unroll at least one step; for long sequences use rnnnum, which has no limit.",
        )
        for size in ("D", "H", "V"):
            _check_int(
                getattr(self, size),
                size,
                1,
                MAX_SIZE,
                "The symbolic model is for reading and proving; use rnnnum for large sizes.",
            )
        check_choice(self.activation, "activation", ACTIVATION_NAMES)
        check_choice(self.loss, "loss", LOSS_NAMES)

    @property
    def act(self) -> SymbolicActivation:
        """The activation's symbolic definition."""
        return ACTIVATIONS[self.activation]

    @property
    def loss_def(self) -> SymbolicLoss:
        """The loss's symbolic definition."""
        return LOSSES[self.loss]
