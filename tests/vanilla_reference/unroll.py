r"""The symbolic unroll: explicit matrices of scalar symbols, as a straight-line program.

Every intermediate quantity ($a_t$, $h_t$, $y_t$, $p_t$, $L_t$ and the local
derivatives $g_t = \partial L_t/\partial y_t$, $f'(a_t)$) is a fresh symbol defined
once in terms of earlier symbols. The program therefore grows linearly in T, where
the nested expression of $L$ in the parameters grows far faster (and `sympy.diff`
of it with it). `Unrolled.nested` substitutes the definitions back when a proof
needs expressions in the inputs alone.

SymPy's `MatrixSymbol` is not used for calculus here: differentiating it through
element-wise functions in the row convention is unreliable (SymPy issues #17229, #26561
and #26585); it appears only in display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from derivations.core.notation import entry_latex
from derivations.core.spec import ModelSpec
from derivations.program.symbols import Assignment, Expr, back_substitute, matrix_of_symbols

__all__ = ["Unrolled", "unroll"]


@dataclass(frozen=True, eq=False)
class Unrolled:
    """The unrolled model of `spec` as symbols and their defining assignments.

    Shapes (row convention): ``params["Wxh"]`` (D, H), ``"Whh"`` (H, H), ``"Wyh"``
    (H, V), ``"bh"`` (1, H), ``"by"`` (1, V); ``x[t]`` (1, D) and ``r[t]`` (1, V) for
    t = 1..T; ``h[t]`` (1, H) for t = 0..T with ``h[0]`` the initial state; ``a``,
    ``g`` (1, V), ``d`` (1, H, the vector $f'(a_t)$), ``y``, ``p`` (cross-entropy
    only) and ``L`` (scalars) for t = 1..T.
    """

    spec: ModelSpec
    params: dict[str, sp.Matrix]
    x: dict[int, sp.Matrix]
    r: dict[int, sp.Matrix]
    a: dict[int, sp.Matrix]
    h: dict[int, sp.Matrix]
    y: dict[int, sp.Matrix]
    p: dict[int, sp.Matrix]
    L: dict[int, sp.Symbol]
    g: dict[int, sp.Matrix]
    d: dict[int, sp.Matrix]
    #: the forward pass and the local derivatives, in evaluation order
    assignments: tuple[Assignment, ...] = field(repr=False)
    #: the total loss L = sum_t L_t, in terms of the L_t symbols
    loss: Expr = field(repr=False)

    @property
    def h0(self) -> sp.Matrix:
        """The initial state $h_0$, (1, H)."""
        return self.h[0]

    def inputs(self) -> list[sp.Symbol]:
        """Every free input symbol in a fixed order: parameters, X rows, $h_0$, targets."""
        T = self.spec.T
        out: list[sp.Symbol] = []
        for name in ("Wxh", "Whh", "Wyh", "bh", "by"):
            out.extend(self.params[name])
        for t in range(1, T + 1):
            out.extend(self.x[t])
        out.extend(self.h0)
        for t in range(1, T + 1):
            out.extend(self.r[t])
        return out

    def wrt(self, name: str) -> list[sp.Matrix]:
        r"""The symbol matrices a gradient named `name` is taken with respect to.

        One matrix for a parameter or ``h0``; the T rows $x_1, \dots, x_T$ for ``X``.
        """
        if name == "X":
            return [self.x[t] for t in range(1, self.spec.T + 1)]
        if name == "h0":
            return [self.h0]
        return [self.params[name]]

    @cached_property
    def definitions(self) -> dict[sp.Symbol, Expr]:
        """Each intermediate symbol's expression in the inputs alone (back-substituted)."""
        return back_substitute(self.assignments)

    def nested(self, expr: Expr) -> Expr:
        """`expr` with every intermediate symbol replaced by its definition in the inputs."""
        return sp.sympify(expr).xreplace(self.definitions)

    @cached_property
    def owners(self) -> dict[sp.Symbol, tuple[str, int | None]]:
        """Each scalar symbol's quantity and step: ``("a", 2)``, ``("h", 0)``, ``("Whh", None)``."""
        out: dict[sp.Symbol, tuple[str, int | None]] = {}
        for key, matrix in self.params.items():
            out.update(dict.fromkeys(matrix, (key, None)))
        families = {"x": self.x, "r": self.r, "a": self.a, "h": self.h, "y": self.y}
        families |= {"p": self.p, "g": self.g, "d": self.d}
        for key, family in families.items():
            for t, matrix in family.items():
                out.update(dict.fromkeys(matrix, (key, t)))
        out.update({s: ("L", t) for t, s in self.L.items()})
        return out

    def equation_arguments(self) -> dict[tuple[str, int | None], set[tuple[str, int | None]]]:
        """The arguments of each equation of the model, read off the program.

        Keys are the quantities the model defines, ``("a", t)``, ``("h", t)``, ``("y", t)``,
        ``("p", t)``, ``("L", t)`` and the total ``("L", None)``; values the quantities
        its right side reads. A derivative of a key by one of its arguments is *local*
        (`derivations.core.notation`); every other derivative is total. The local
        derivatives $g_t$ and $f'(a_t)$ are symbols of the program but not equations of
        the model, so they are left out.
        """
        out: dict[tuple[str, int | None], set[tuple[str, int | None]]] = {}
        for symbol, expr in self.assignments:
            key = self.owners[symbol]
            if key[0] in ("g", "d"):
                continue
            out.setdefault(key, set()).update(self.owners[s] for s in expr.free_symbols)
        out[("L", None)] = {("L", t) for t in self.L}
        return out

    @cached_property
    def latex_names(self) -> dict[sp.Symbol, str]:
        """LaTeX of every symbol, for ``sympy.latex(expr, symbol_names=...)``."""
        names: dict[sp.Symbol, str] = {}
        for key, matrix in self.params.items():
            for (i, j), s in _entries(matrix):
                names[s] = entry_latex(key, j) if matrix.rows == 1 else entry_latex(key, i, j)
        for key, family in (
            ("X", self.x),
            ("r", self.r),
            ("a", self.a),
            ("h", self.h),
            ("y", self.y),
            ("p", self.p),
            ("g", self.g),
            ("d", self.d),
        ):
            base = "x" if key == "X" else key
            for t, matrix in family.items():
                for (_, j), s in _entries(matrix):
                    names[s] = (
                        entry_latex("h0", j) if (key == "h" and t == 0) else _step_entry(base, t, j)
                    )
        for t, s in self.L.items():
            names[s] = f"L_{{{t}}}"
        return names


def _step_entry(base: str, t: int, j: int) -> str:
    if base == "x":
        return f"x_{{{t},{j}}}"
    return entry_latex(base, t, j)


def _entries(matrix: sp.Matrix) -> list[tuple[tuple[int, int], sp.Symbol]]:
    return [((i + 1, j + 1), matrix[i, j]) for i in range(matrix.rows) for j in range(matrix.cols)]


def unroll(spec: ModelSpec | None = None) -> Unrolled:
    r"""Build the straight-line program of `spec` (default: T = 3, tanh, cross-entropy).

    Per step, next to each forward quantity, its local derivative:

    $$\begin{aligned} a_t &= x_t W_{xh} + h_{t-1} W_{hh} + b_h, & h_t &= f(a_t), &
    d_t &= f'(a_t), \\ y_t &= h_t W_{yh} + b_y, & L_t &= \ell(y_t, r_t), &
    g_t &= \partial L_t / \partial y_t. \end{aligned}$$
    """
    spec = spec or ModelSpec()
    T, D, H, V = spec.T, spec.D, spec.H, spec.V
    act, loss_def = spec.act, spec.loss_def
    params = {
        "Wxh": matrix_of_symbols("Wxh", D, H),
        "Whh": matrix_of_symbols("Whh", H, H),
        "Wyh": matrix_of_symbols("Wyh", H, V),
        "bh": matrix_of_symbols("bh", 1, H),
        "by": matrix_of_symbols("by", 1, V),
    }
    x = {t: matrix_of_symbols("x", 1, D, t=t) for t in range(1, T + 1)}
    r = {t: matrix_of_symbols("r", 1, V, t=t) for t in range(1, T + 1)}
    h = {0: matrix_of_symbols("h0", 1, H)}
    a: dict[int, sp.Matrix] = {}
    y: dict[int, sp.Matrix] = {}
    p: dict[int, sp.Matrix] = {}
    g: dict[int, sp.Matrix] = {}
    d: dict[int, sp.Matrix] = {}
    L: dict[int, sp.Symbol] = {}
    program: list[Assignment] = []

    def define(symbols: sp.Matrix, exprs: sp.Matrix) -> None:
        program.extend(zip(symbols, exprs, strict=True))

    for t in range(1, T + 1):
        a[t] = matrix_of_symbols("a", 1, H, t=t)
        define(a[t], x[t] * params["Wxh"] + h[t - 1] * params["Whh"] + params["bh"])
        h[t] = matrix_of_symbols("h", 1, H, t=t)
        define(h[t], a[t].applyfunc(act.forward))
        d[t] = matrix_of_symbols("d", 1, H, t=t)
        define(d[t], sp.Matrix(1, H, [act.derivative(a[t][j], h[t][j]) for j in range(H)]))
        y[t] = matrix_of_symbols("y", 1, V, t=t)
        define(y[t], h[t] * params["Wyh"] + params["by"])
        probabilities = None
        if loss_def.uses_softmax:
            p[t] = matrix_of_symbols("p", 1, V, t=t)
            z = sp.Add(*(sp.exp(yv) for yv in y[t]))
            define(p[t], y[t].applyfunc(lambda yv, z=z: sp.exp(yv) / z))
            probabilities = list(p[t])
        L[t] = sp.Symbol(f"L_{t}", real=True)
        program.append((L[t], loss_def.value(list(y[t]), list(r[t]))))
        g[t] = matrix_of_symbols("g", 1, V, t=t)
        define(g[t], sp.Matrix(1, V, loss_def.gradient(list(y[t]), probabilities, list(r[t]))))
    return Unrolled(
        spec=spec,
        params=params,
        x=x,
        r=r,
        a=a,
        h=h,
        y=y,
        p=p,
        L=L,
        g=g,
        d=d,
        assignments=tuple(program),
        loss=sp.Add(*L.values()),
    )
