r"""The intermediate representation of one gradient term: its factors, loss i, step k.

A `Term` is an ordered product of `Factor`s, each a matrix: its value is the plain
matrix product, so the same data renders to LaTeX (`Term.latex`), to a SymPy matrix
(`Term.matrix`) and to a number (`Term.value`). Display and check cannot drift apart.

Example, the term of $\mathrm{d}L/\mathrm{d}W_{xh}$ from $L_3$ through $x_1$ (tanh), a
(D, 1)(1, V)(V, H)(H, H)... product of shape (D, H):

$$x_1^\top\,\frac{\partial L_3}{\partial y_3}\,W_{yh}^\top\,\mathrm{diag}(1-h_3^2)\,
W_{hh}^\top\,\mathrm{diag}(1-h_2^2)\,W_{hh}^\top\,\mathrm{diag}(1-h_1^2).$$
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce

import numpy as np
import sympy as sp
from numpy.typing import NDArray

from derivations.core.notation import step_latex
from derivations.core.spec import ModelSpec
from vanilla_reference.unroll import Unrolled

__all__ = ["FACTOR_KINDS", "Factor", "JacobianProduct", "Term", "Trace", "signal_factors"]

FloatArray = NDArray[np.float64]
#: Numeric values of the program: per-step arrays are indexed by step t (row 0 is h_0
#: for "h" and unused elsewhere; the layouts of `derivations.core.notation`): "x" (T+1, D),
#: "h" (T+1, H), "a"/"d" (T+1, H), "y"/"g"/"r" (T+1, V); parameters "Wxh" (D, H),
#: "Whh" (H, H), "Wyh" (H, V).
Trace = Mapping[str, FloatArray]

#: kind -> (what it is, shape in D/H/V)
FACTOR_KINDS = {
    "g": ("∂L_t/∂y_t, the loss's local derivative", "(1, V)"),
    "WyhT": ("W_yh^T, ∂y_t/∂h_t as it acts on a row gradient", "(V, H)"),
    "fprime": ("diag(f'(a_t)), ∂h_t/∂a_t", "(H, H)"),
    "WhhT": ("W_hh^T, ∂a_t/∂h_{t-1} as it acts on a row gradient", "(H, H)"),
    "Whh": ("W_hh, the forward step of a perturbation of h_{t-1}", "(H, H)"),
    "xT": ("x_t^T, ∂a_t/∂W_xh", "(D, 1)"),
    "hT": ("h_t^T, ∂a_{t+1}/∂W_hh or ∂y_t/∂W_yh", "(H, 1)"),
    "WxhT": ("W_xh^T, ∂a_t/∂x_t as it acts on a row gradient", "(H, D)"),
}


@dataclass(frozen=True)
class Factor:
    """One matrix in a chain-rule product: a kind from `FACTOR_KINDS`, at step t."""

    kind: str
    t: int | None = None

    def latex(self, spec: ModelSpec) -> str:  # noqa: PLR0911 - one case per factor kind
        r"""LaTeX of the factor; empty for $\mathrm{diag}(f')$ of the identity activation (it
        is $I$)."""
        t = self.t
        match self.kind:
            case "g":
                return rf"\frac{{\partial L_{{{t}}}}}{{\partial y_{{{t}}}}}"
            case "WyhT":
                return r"W_{yh}^\top"
            case "fprime":
                if spec.activation == "identity":
                    return ""
                inner = spec.act.derivative_latex(step_latex("a", t), step_latex("h", t))
                return rf"\operatorname{{diag}}({inner})"
            case "WhhT":
                return r"W_{hh}^\top"
            case "Whh":
                return r"W_{hh}"
            case "xT":
                return rf"x_{{{t}}}^\top"
            case "hT":
                return rf"h_{{{t}}}^\top"
            case "WxhT":
                return r"W_{xh}^\top"
        raise AssertionError(self.kind)  # pragma: no cover - kinds are fixed above

    def matrix(self, model: Unrolled) -> sp.Matrix:  # noqa: PLR0911 - one case per kind
        """The factor as a SymPy matrix in the program's symbols."""
        t = self.t if self.t is not None else 0
        match self.kind:
            case "g":
                return model.g[t]
            case "WyhT":
                return model.params["Wyh"].T
            case "fprime":
                return sp.diag(*model.d[t])
            case "WhhT":
                return model.params["Whh"].T
            case "Whh":
                return model.params["Whh"]
            case "xT":
                return model.x[t].T
            case "hT":
                return model.h[t].T
            case "WxhT":
                return model.params["Wxh"].T
        raise AssertionError(self.kind)  # pragma: no cover

    def value(self, trace: Trace) -> FloatArray:  # noqa: PLR0911 - one case per kind
        """The factor as a float64 array, from the numeric `trace`."""
        t = self.t if self.t is not None else 0
        match self.kind:
            case "g":
                return trace["g"][t][None, :]
            case "WyhT":
                return trace["Wyh"].T
            case "fprime":
                return np.diag(trace["d"][t])
            case "WhhT":
                return trace["Whh"].T
            case "Whh":
                return trace["Whh"]
            case "xT":
                return trace["x"][t][:, None]
            case "hT":
                return trace["h"][t][:, None]
            case "WxhT":
                return trace["Wxh"].T
        raise AssertionError(self.kind)  # pragma: no cover


def _product_latex(factors: tuple[Factor, ...], spec: ModelSpec, empty: str) -> str:
    parts = [f.latex(spec) for f in factors]
    text = r"\,".join(p for p in parts if p)
    return text or empty


def _product_value(factors: tuple[Factor, ...], trace: Trace, size: int) -> FloatArray:
    values = [f.value(trace) for f in factors]
    if not values:
        return np.eye(size)
    return reduce(np.matmul, values)


def signal_factors(i: int, k: int) -> tuple[Factor, ...]:
    r"""Factors of $\delta_{i,k} = \mathrm{d}L_i/\mathrm{d}a_k$, (1, H), for $1 \le k \le i$.

    $$\frac{\partial L_i}{\partial y_i} W_{yh}^\top \mathrm{diag}(f'(a_i)) W_{hh}^\top
    \mathrm{diag}(f'(a_{i-1})) \cdots W_{hh}^\top \mathrm{diag}(f'(a_k)).$$
    """
    factors = [Factor("g", i), Factor("WyhT"), Factor("fprime", i)]
    for t in range(i - 1, k - 1, -1):
        factors += [Factor("WhhT"), Factor("fprime", t)]
    return tuple(factors)


@dataclass(frozen=True)
class Term:
    """The part of the gradient of $L$ by `wrt` from loss $L_i$ (``loss`` = i) through the
    copy used at step $k$.

    The chain runs from $L_i$ back to $a_k$ (``via = "a"``) or stops at $y_i$ (``via = "y"``,
    $k = i$), closed by the local derivative ``left`` and/or ``right`` of it. The factor
    list is built on demand, so a T = 100 expansion (5050 terms) costs little until a
    term is rendered or evaluated. For ``wrt = "X"`` the term belongs to the gradient of
    $x_k$.
    """

    wrt: str
    loss: int
    step: int
    via: str = "a"
    left: Factor | None = None
    right: Factor | None = None

    @property
    def factors(self) -> tuple[Factor, ...]:
        """The chain of local Jacobians, left to right."""
        chain = (
            (Factor("g", self.loss),) if self.via == "y" else signal_factors(self.loss, self.step)
        )
        return (
            *((self.left,) if self.left else ()),
            *chain,
            *((self.right,) if self.right else ()),
        )

    def latex(self, spec: ModelSpec) -> str:
        """The chain of local Jacobians, left to right, as LaTeX."""
        return _product_latex(self.factors, spec, "I")

    def matrix(self, model: Unrolled) -> sp.Matrix:
        """The product as a SymPy matrix in the program's symbols (shape of the gradient)."""
        return reduce(lambda left, right: left * right, (f.matrix(model) for f in self.factors))

    def value(self, trace: Trace) -> FloatArray:
        """The product as a number, shaped like rnnnum's gradient (vectors flattened)."""
        out = _product_value(self.factors, trace, 0)
        return out.ravel() if self.wrt in ("bh", "by", "X", "h0") else out


@dataclass(frozen=True)
class JacobianProduct:
    r"""$\mathrm{d}h_i/\mathrm{d}h_k = \prod_{t=k+1}^{i} W_{hh}\,\mathrm{diag}(f'(a_t))$, (H, H).

    Row convention: a small change $\Delta h_k$ moves $h_i$ by
    $\Delta h_k\,(\mathrm{d}h_i/\mathrm{d}h_k)$.
    The identity when i = k.
    """

    to: int  # i
    frm: int  # k
    factors: tuple[Factor, ...]

    def latex(self, spec: ModelSpec) -> str:
        """The explicit product as LaTeX (``I`` when i = k)."""
        return _product_latex(self.factors, spec, "I")

    def matrix(self, model: Unrolled) -> sp.Matrix:
        """The product as a SymPy matrix in the program's symbols."""
        H = model.spec.H
        return reduce(
            lambda left, right: left * right, (f.matrix(model) for f in self.factors), sp.eye(H)
        )

    def value(self, trace: Trace) -> FloatArray:
        """The product as a float64 (H, H) array."""
        return _product_value(self.factors, trace, trace["Whh"].shape[0])
