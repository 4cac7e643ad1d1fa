r"""A cell's written lines (`derivations.core.write`) turned into a `Cell`: `cell`, `define_cell`.

Read in the order written: each `matrix` or `vector` is a parameter named by its
variable; each other expression is an equation of step t; an expression a later line
reads by its name becomes $\mathrm{Ref}$ to that equation; a sum of sums is one sum.
The states are the variables read as ``prev.<name>``, in the order first read (the
LSTM's h, then c). A state's or variable's LaTeX is derived from its name unless
``shown_as`` gave it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import overload

from derivations.core.arith import Div, Gain, Offset, Pow, Scale, Shift
from derivations.core.cell import (
    Add,
    Bias,
    Cell,
    CellDefinitionError,
    Equation,
    Func,
    Input,
    MatMul,
    Mul,
    OneMinus,
    Param,
    Prev,
    Readout,
    Ref,
    Stack,
    State,
)
from derivations.core.names import derived_latex, engine_name
from derivations.core.nodes import Node
from derivations.core.twin import NumericTwin
from derivations.core.write import Declared, Expr

__all__ = ["cell", "define_cell"]


class _Lines:
    """The named expressions of one cell, and their conversion to the engine's nodes."""

    def __init__(self, cell_name: str, namespace: Mapping[str, object]) -> None:
        self.cell = cell_name
        self.params: dict[int, tuple[str, Declared]] = {}
        self.named: dict[int, str] = {}
        self.equations: list[tuple[str, Expr]] = []
        self.states: list[str] = []
        self.code_names: dict[str, str] = {}  # engine name -> the name written
        for code, value in namespace.items():
            if not code.startswith("__") and isinstance(value, Expr):
                self._take(code, value)

    def _take(self, code: str, value: Expr) -> None:
        written = value.name if isinstance(value, Declared) and value.name else code
        name = self._name(written)
        self.code_names.setdefault(name, written)
        first = self.named.get(id(value)) or self.params.get(id(value), ("", None))[0]
        if first:
            raise CellDefinitionError(
                f"cell {self.cell!r}: {code} is the same object as {first}; each line "
                f"defines its own variable. Read {first} where {code} is read."
            )
        if isinstance(value, Declared):
            self.params[id(value)] = (name, value)
        elif value.kind in ("input", "prev"):
            raise CellDefinitionError(
                f"cell {self.cell!r}: {code} = {value.describe()} only renames a leaf; "
                f"write {value.describe()} where {code} is read."
            )
        else:
            self.named[id(value)] = name
            self.equations.append((name, value))

    def _name(self, given: str) -> str:
        name = engine_name(given)
        if not (name.isascii() and name.isalpha()):
            raise CellDefinitionError(
                f"cell {self.cell!r}: a name is ASCII letters, with underscores before a "
                f"subscript (W_xh, b_h, alpha); got {given!r}. Spell an index in letters, or "
                "keep the name plain and give latex=..."
            )
        return name

    def _param(self, d: Declared) -> str:
        if id(d) not in self.params:
            raise CellDefinitionError(
                f"cell {self.cell!r}: {d.describe()} is used but declared outside the cell; "
                "declare it in the cell's body (W_xh = matrix(rows='D')) and use that name."
            )
        return self.params[id(d)][0]

    def node(self, e: object, root: bool = False) -> Node:
        """The engine node of `e`; a named expression below the root is a `Ref` to it."""
        if not isinstance(e, Expr):
            raise CellDefinitionError(
                f"cell {self.cell!r}: a number ({e!r}) alone is not a row; combine it with one "
                "(0.5 * a, a + 1)."
            )
        if not root and id(e) in self.named:
            return Ref(self.named[id(e)])
        if isinstance(e, Declared):
            if e.kind == "matrix":
                raise CellDefinitionError(
                    f"cell {self.cell!r}: {self._param(e)} is a matrix: it multiplies a row "
                    "from the right (x @ W) and cannot stand alone in a sum or product. "
                    "Declare a vector() for an element-wise row."
                )
            if e.kind == "scalar":
                raise CellDefinitionError(
                    f"cell {self.cell!r}: {self._param(e)} is a scalar: it scales a row "
                    "(s * e) or is added to one (e + s); it is not a row by itself."
                )
            return Bias(self._param(e))
        return _RULES[e.kind](self, *e.args)

    def _sum(self, *parts: Expr) -> Node:
        terms: list[Node] = []
        for part in parts:
            node = self.node(part)  # a named sum is a Ref here, so it stays one term
            terms += node.terms if isinstance(node, Add) else (node,)
        return Add(*terms)

    def _prev(self, state: str) -> Node:
        if state not in self.states:
            self.states.append(state)
        return Prev(self._name(state))

    def _shown(self, inner: Expr, latex: str) -> Node:
        raise CellDefinitionError(
            f"cell {self.cell!r}: (...).shown_as({latex!r}) says how a variable is written; "
            "assign it to a name (a_i = (...).shown_as(...)) and read it by that name."
        )

    def equation(self, name: str, e: Expr) -> Equation:
        if e.kind != "shown":
            return Equation(name, self.node(e, root=True), derived_latex(name))
        inner, latex = e.args
        return Equation(name, self.node(inner), latex)  # a named inner: a Ref to it

    def readout(self) -> Readout | None:
        """The line ``y = ...`` as the cell's read-out (None without one); its parameters,
        used in y alone, have V columns."""
        line = next((e for name, e in self.equations if name == "y"), None)
        if line is None:
            return None
        self.equations = [(name, e) for name, e in self.equations if name != "y"]
        expr = self.node(line, root=True)
        own = {p for n in expr.walk() if isinstance(p := getattr(n, "param", None), str)}
        for name, e in self.equations:
            shared = own & {getattr(n, "param", None) for n in self.node(e, root=True).walk()}
            if shared:
                raise CellDefinitionError(
                    f"cell {self.cell!r}: {', '.join(sorted(shared))} is used in y and in {name}; "
                    "a read-out parameter has V columns, a step's H. Declare one of each."
                )
        params = tuple(p for p in self._declared() if p.name in own)
        return Readout(expr, tuple(_v_wide(p) for p in params))

    def _declared(self) -> tuple[Param, ...]:
        return tuple(
            Param(
                name,
                d.rows,
                "1" if d.kind == "scalar" else "H",
                latex=d.latex or derived_latex(name),
                meaning=d.meaning,
            )
            for name, d in self.params.values()
        )

    def parts(self) -> tuple[tuple[Param, ...], tuple[State, ...], tuple[Equation, ...]]:
        """The cell's parameters, states and equations; a clear error if a state has no line."""
        equations = tuple(self.equation(name, e) for name, e in self.equations)
        defined = [eq.name for eq in equations]
        lines = ", ".join(defined) or "none"
        for state in self.states:
            if self._name(state) not in defined:
                raise CellDefinitionError(
                    f"cell {self.cell!r}: prev.{state} reads the state {state} at t-1, but no "
                    f"line defines {state} at t (lines: {lines}). Add {state} = ... ."
                )
        if "h" not in defined:
            raise CellDefinitionError(
                f"cell {self.cell!r}: the read-out y_t = h_t W_yh + b_y reads a state h; no "
                f"line defines h (lines: {lines}). Add h = ... ."
            )
        if "h" not in self.states:
            self.states.insert(0, "h")  # h feeds the read-out even if no line reads prev.h
        params = self._declared()
        latex = {eq.name: eq.latex for eq in equations}
        states = tuple(State(self._name(s), latex[self._name(s)]) for s in self.states)
        return params, states, equations


def _v_wide(param: Param) -> Param:
    """A read-out's matrix or vector: (H, V) or (1, V); a scalar stays (1, 1)."""
    cols = "1" if param.cols == "1" else "V"
    return Param(param.name, param.rows, cols, param.latex, param.meaning)


_RULES: dict[str, Callable[..., Node]] = {
    "input": lambda lines: Input(),
    "prev": _Lines._prev,
    "add": _Lines._sum,
    "matmul": lambda lines, a, w: MatMul(lines.node(a), lines._param(w)),
    "mul": lambda lines, a, b: Mul(lines.node(a), lines.node(b)),
    "div": lambda lines, a, b: Div(lines.node(a), lines.node(b)),
    "func": lambda lines, kind, a: Func(kind, lines.node(a)),
    "oneminus": lambda lines, a: OneMinus(lines.node(a)),
    "scale": lambda lines, c, a: lines.node(a) if c == 1 else Scale(c, lines.node(a)),
    "shift": lambda lines, c, a, first=False: Shift(c, lines.node(a), first),
    "pow": lambda lines, a, p: Pow(lines.node(a), p),
    "gain": lambda lines, s, a: Gain(lines._param(s), lines.node(a)),
    "offset": lambda lines, s, a: Offset(lines._param(s), lines.node(a)),
    "shown": _Lines._shown,
}


def define_cell(
    name: str,
    namespace: Mapping[str, object],
    *,
    activation: str = "tanh",
    stacks: tuple[Stack, ...] = (),
    twin: NumericTwin | None = None,
) -> Cell:
    """The `Cell` of a mapping of declarations and equations, in order (what `cell` reads
    from a class body); ``activation`` is what `derivations.core.write.act` applies."""
    lines = _Lines(name, namespace)
    readout = lines.readout()
    params, states, equations = lines.parts()
    if readout is not None:
        params = tuple(p for p in params if p.name not in readout.param_names)
    try:
        return Cell(
            name,
            params,
            states,
            equations,
            activation=activation,
            stacks=stacks,
            twin=twin,
            readout=readout,
        )
    except CellDefinitionError as error:  # the engine's words, with the lines' own names
        renamed = [f"{e} is {c}" for e, c in lines.code_names.items() if e != c]
        raise CellDefinitionError(
            f"{error} (In the class body{': ' + ', '.join(renamed) if renamed else ''}; a "
            "matrix multiplies as row @ W, a vector adds or scales as e + b or v * e.)"
        ) from error


@overload
def cell(body: type, /) -> Cell: ...
@overload
def cell(
    *, name: str | None = None, activation: str = "tanh", stacks: tuple[Stack, ...] = (),
    twin: NumericTwin | None = None,
) -> Callable[[type], Cell]: ...  # fmt: skip
def cell(
    body: type | None = None,
    /,
    *,
    name: str | None = None,
    activation: str = "tanh",
    stacks: tuple[Stack, ...] = (),
    twin: NumericTwin | None = None,
) -> Cell | Callable[[type], Cell]:
    """Class decorator: the class body's lines become a `Cell` named after the class.

    ``@cell`` or ``@cell(activation="relu", name="my-cell")``; the module
    `derivations.core.write` shows a whole cell.
    """

    def build(body: type) -> Cell:
        if not isinstance(body, type):
            raise CellDefinitionError(
                f"@cell decorates a class whose body holds the cell's lines; got "
                f"{type(body).__name__} {body!r}. Write `@cell` above `class my_cell:`."
            )
        return define_cell(
            name or body.__name__, vars(body), activation=activation, stacks=stacks, twin=twin
        )

    return build if body is None else build(body)
