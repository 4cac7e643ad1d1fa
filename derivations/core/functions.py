r"""The element-wise functions an equation may apply besides the activations.

Each is a `derivations.core.spec.SymbolicActivation`: its SymPy forward map, its
derivative written through $a$ or $o = f(a)$, and the LaTeX of both:

$$\frac{\mathrm{d}}{\mathrm{d}a} e^{a} = e^{a} = o,\qquad
\frac{\mathrm{d}}{\mathrm{d}a} \log a = \frac{1}{a},\qquad
\frac{\mathrm{d}}{\mathrm{d}a} \log(1 + e^{a}) = \sigma(a) = 1 - e^{-o}.$$

The last identity: $e^{o} = 1 + e^{a}$, so $1 - e^{-o} = e^{a}/(1 + e^{a}) = \sigma(a)$;
written through $o \ge 0$ it never overflows. The tests check each derivative against
`sympy.diff` of the forward map and against finite differences.
"""

from __future__ import annotations

import sympy as sp

from derivations.core.spec import SymbolicActivation

__all__ = ["ELEMENTWISE"]

ELEMENTWISE: dict[str, SymbolicActivation] = {
    "exp": SymbolicActivation(
        "exp",
        forward=sp.exp,
        derivative=lambda a, o: o,  # (e^a)' = e^a
        derivative_latex=lambda a, o: o,
        gamma=sp.oo,
        latex=lambda a: rf"\exp({a})",
    ),
    "log": SymbolicActivation(
        "log",
        forward=sp.log,
        derivative=lambda a, o: 1 / a,  # (log a)' = 1/a, for a > 0
        derivative_latex=lambda a, o: rf"\frac{{1}}{{{a}}}",
        gamma=sp.oo,
        latex=lambda a: rf"\log({a})",
    ),
    "softplus": SymbolicActivation(
        "softplus",
        forward=lambda a: sp.log(1 + sp.exp(a)),
        derivative=lambda a, o: 1 - sp.exp(-o),  # σ(a), written through o = log(1 + e^a)
        derivative_latex=lambda a, o: rf"\sigma({a})",
        gamma=sp.Integer(1),
        latex=lambda a: rf"\operatorname{{softplus}}({a})",
    ),
}
