r"""A recurrent cell written once, as equations: the data every derivation reads.

A `Cell` is its parameters (`Param`), its states (`State`) and an ordered tuple of
`Equation`s, each defining one variable of step t by an expression tree
(`derivations.core.nodes`, `derivations.core.ops`). For the LSTM, in part:

$$c_{t} = f_{t} \odot c_{t-1} + i_{t} \odot g_{t},\qquad
h_{t} = o_{t} \odot \tanh(c_{t}).$$

Nothing about a cell is typed twice: `Cell.equation_latex` prints the equations from
the trees, `Cell.local_jacobian` gives each local derivative $\partial u/\partial v$
of one equation as data (`derivations.core.factors.LocalSum`), and
`Cell.step_jacobian_blocks` composes them, equation by equation, into the one-step
blocks between states: the total derivative $\mathrm{d}s_t/\mathrm{d}s'_{t-1}$ ($x_t$ and
the parameters held fixed, every path through the step's equations). For the LSTM,
$\mathrm{d}c_t/\mathrm{d}c_{t-1} = \operatorname{diag}(f_t)$: one path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from derivations.core.arith import Div, Pow, Scale, Shift
from derivations.core.degenerate import warn_degenerate
from derivations.core.display import cell_latex, cell_markdown, cell_repr
from derivations.core.factors import ZERO, FloatArray, LocalSum, Notation, Scope
from derivations.core.nodes import CellDefinitionError, Input, Node, ParamUse, Prev, Ref, leaves
from derivations.core.notation import ACTIVATION_NAMES
from derivations.core.ops import Add, Bias, Func, MatMul, Mul, OneMinus
from derivations.core.parts import Equation, Param, Stack, State
from derivations.core.readout import DEFAULT_READOUT, Readout, check_readout
from derivations.core.spec import check_choice
from derivations.core.twin import NumericTwin

# the node types are re-exported so that a cell can be written from this module alone
__all__ = [
    "RESERVED_NAMES",
    "Add",
    "Bias",
    "Cell",
    "CellDefinitionError",
    "Div",
    "Equation",
    "Func",
    "Input",
    "MatMul",
    "Mul",
    "NumericTwin",
    "OneMinus",
    "Param",
    "Pow",
    "Prev",
    "Readout",
    "Ref",
    "Scale",
    "Shift",
    "Stack",
    "State",
]

Expr = Any
#: Names the unrolled program uses for its own symbols; a cell may not take them.
RESERVED_NAMES = ("x", "y", "p", "dy", "L", "target", "Wyh", "by")
_NAME = re.compile(r"[A-Za-z]+")
_ROWS = ("D", "H", None)


class _Shapes:
    """The shape rules' view of a cell while its equations are checked in order."""

    def __init__(self, cell: Cell) -> None:
        self.cell = cell
        self.defined: dict[str, str] = {}
        self.names = [eq.name for eq in cell.equations]

    def param_cols(self, name: str, where: str) -> str:
        self.param_rows(name, where)  # unknown: its error
        return self.cell.param(name).cols

    def param_rows(self, name: str, where: str) -> str | None:
        for param in self.cell.params:
            if param.name == name:
                return param.rows
        known = ", ".join(p.name for p in self.cell.params)
        raise CellDefinitionError(
            f"{where}: unknown parameter {name!r}; the cell declares {known}. "
            f"Add Param({name!r}, ...) to the cell's params or fix the name."
        )

    def ref_width(self, name: str, where: str) -> str:
        if name in self.defined:
            return self.defined[name]
        if name in self.names:
            raise CellDefinitionError(
                f"{where}: Ref({name!r}) is used before the equation that defines {name} "
                f"(equations are evaluated in order: {', '.join(self.names)}). Move the "
                f"equation for {name} earlier, or write Prev({name!r}) for its value at t-1."
            )
        raise CellDefinitionError(
            f"{where}: Ref({name!r}) names no equation of the cell (equations: "
            f"{', '.join(self.names)}). Define {name} by an earlier equation or fix the name."
        )

    def state_width(self, name: str, where: str) -> str:
        if name not in self.cell.state_names:
            raise CellDefinitionError(
                f"{where}: Prev({name!r}) reads a state the cell does not declare (states: "
                f"{', '.join(self.cell.state_names)}). Add State({name!r}, ...) or fix the name."
            )
        return "H"


@dataclass(frozen=True)
class Cell:
    """A recurrent cell: parameters, states and the ordered equations of one step.

    Checked on construction (`check`). ``activation`` is what ``Func("act", ...)``
    applies (one of `derivations.core.notation.ACTIVATION_NAMES`); ``stacks`` says how
    `rnnnum` stacks the per-gate parameters (empty: each stored as it is); ``twin``
    names the `rnnnum` code that computes the same cell (None: a cell of one's own,
    checked against finite differences only); ``readout`` is the cell's own $y_t$
    (`derivations.core.readout`; None: $y_t = h_t W_{yh} + b_y$, shared by every cell).
    """

    name: str
    params: tuple[Param, ...]
    states: tuple[State, ...]
    equations: tuple[Equation, ...]
    activation: str = "tanh"
    stacks: tuple[Stack, ...] = field(default=())
    twin: NumericTwin | None = None
    readout: Readout | None = None

    def __post_init__(self) -> None:
        self.check()
        warn_degenerate(self.name, self.state_names, self.equations)

    # one line, and in Jupyter the equations (`derivations.core.display`)
    __repr__, _repr_latex_, _repr_markdown_ = cell_repr, cell_latex, cell_markdown

    # --- names and notation -------------------------------------------------------------

    @property
    def state_names(self) -> tuple[str, ...]:
        """The states' names in order (``("h", "c")`` for the LSTM)."""
        return tuple(s.name for s in self.states)

    @property
    def param_names(self) -> tuple[str, ...]:
        """The parameters' names in order."""
        return tuple(p.name for p in self.params)

    @property
    def gradient_names(self) -> tuple[str, ...]:
        """Every quantity L has a gradient with respect to: the cell's parameters, the
        read-out ``Wyh`` and ``by``, the inputs ``X`` and each initial state (``h0``, ``c0``).

        The same names `rnnnum` gives the gradient fields (per gate here, stacked there).
        """
        readout = self.read_out.param_names
        return (*self.param_names, *readout, "X", *(f"{s}0" for s in self.state_names))

    @property
    def read_out(self) -> Readout:
        r"""The read-out: the cell's own, or $y_t = h_t W_{yh} + b_y$ (`DEFAULT_READOUT`)."""
        return self.readout or DEFAULT_READOUT

    def param(self, name: str) -> Param:
        """The parameter called `name`."""
        return next(p for p in self.params if p.name == name)

    def equation(self, name: str) -> Equation:
        """The equation defining `name`."""
        return next(eq for eq in self.equations if eq.name == name)

    @cached_property
    def notation(self) -> Notation:
        """The LaTeX of every name, with the chosen activation."""
        latex = {p.name: p.latex for p in self.params}
        latex.update({s.name: s.latex for s in self.states})
        latex.update({eq.name: eq.latex for eq in self.equations})
        if self.readout is not None:
            latex.update({p.name: p.latex for p in self.readout.params})
        return Notation(self.activation, latex)

    def stacking(self) -> dict[str, tuple[str, ...]]:
        """rnnnum's stacked arrays and their per-gate column blocks, in gate order."""
        return {s.name: s.blocks for s in self.stacks}

    # --- the equations, printed and evaluated -------------------------------------------

    def equation_latex(self, t: int | str = "t") -> tuple[str, ...]:
        r"""Each equation at step t, printed from its tree: ``c_{t} = f_{t} \odot c_{t-1} + ..``."""
        notation = self.notation
        own = (f"y_{{{t}}} = {self.readout.expr.latex(t, notation)}",) if self.readout else ()
        return (
            *(f"{notation.at(eq.name, t)} = {eq.expr.latex(t, notation)}" for eq in self.equations),
            *own,  # a cell's own read-out; the default one is shared and shown apart
        )

    def forward(self, scope: Scope) -> dict[str, list[Expr]]:
        """Every equation's row of SymPy expressions, in order (``scope.refs`` is ignored).

        With symbols in `scope`, later equations read the earlier ones' expressions.
        """
        refs: dict[str, list[Expr]] = {}
        for eq in self.equations:
            step = Scope(scope.x, scope.prev, refs, scope.params, self.activation)
            refs[eq.name] = eq.expr.forward(step)
        return refs

    def evaluate(self, scope: Scope) -> dict[str, FloatArray]:
        """Every equation's row as float64 arrays, in order."""
        refs: dict[str, FloatArray] = {}
        for eq in self.equations:
            step = Scope(scope.x, scope.prev, refs, scope.params, self.activation)
            refs[eq.name] = eq.expr.evaluate(step)
        return refs

    # --- local derivatives and the one-step blocks -------------------------------------

    def leaves(self, name: str) -> list[Node]:
        """The leaves equation `name` reads directly: Input(), Prev(state), Ref(variable)."""
        return leaves(self.equation(name).expr)

    def local_jacobian(self, name: str, leaf: Node) -> LocalSum:
        """∂(variable `name`)/∂(leaf), one equation with its other arguments held fixed."""
        return self.equation(name).expr.jacobian(leaf, Ref(name))

    def param_uses(self, name: str, param: str) -> tuple[ParamUse, ...]:
        """Where `param` enters equation `name`, each with its product to the equation's value."""
        return self.equation(name).expr.param_uses(param, Ref(name))

    def through_step(self, start: Node) -> dict[str, LocalSum]:
        r"""For each variable v of the step, $\mathrm{d}v_t/\mathrm{d}(\text{start})$, all paths.

        `start` is a leaf outside the step's equations (``Input()`` or ``Prev(state)``).
        Forward accumulation in equation order: the total for v is its local Jacobian
        with respect to `start` plus, for each earlier variable u it reads, the total
        for u times $\partial v/\partial u$. Each product's ``via`` lists the variables
        its path passes through.
        """
        totals: dict[str, LocalSum] = {}
        for eq in self.equations:
            total = self.local_jacobian(eq.name, start)
            for leaf in self.leaves(eq.name):
                if isinstance(leaf, Ref) and totals[leaf.name]:
                    total += totals[leaf.name] @ self.local_jacobian(eq.name, leaf)
            totals[eq.name] = total.through(eq.name)
        return totals

    def step_jacobian_blocks(self) -> dict[tuple[str, str], LocalSum]:
        r"""$\mathrm{d}s_t/\mathrm{d}s'_{t-1}$ for every pair of states, keyed ``(s, s')``.

        Row convention, (H, H) each: a perturbation $\Delta s'_{t-1}$ moves $s_t$ by
        $\Delta s'_{t-1}$ times the block. A pair with no path maps to the empty sum (zero).
        """
        blocks: dict[tuple[str, str], LocalSum] = {}
        for source in self.state_names:
            totals = self.through_step(Prev(source))
            for target in self.state_names:
                blocks[target, source] = totals.get(target, ZERO)
        return blocks

    # --- validation ----------------------------------------------------------------------

    def check(self) -> None:
        """Validate the definition; raise `CellDefinitionError` naming the rule broken and a fix."""
        check_choice(self.activation, "activation", ACTIVATION_NAMES)
        self._check_names()
        shapes = _Shapes(self)
        used: set[str] = set()
        for n, eq in enumerate(self.equations, 1):
            where = f"cell {self.name!r}, equation {n} ({eq.name})"
            if not isinstance(eq.expr, Node):
                raise CellDefinitionError(
                    f"{where}: the right side must be an expression tree (Input, Prev, Ref, "
                    f"MatMul, Bias, Add, Mul, Func, OneMinus, Scale, Shift, Pow, Div; or write "
                    f"the cell with derivations.core.write); got {eq.expr!r}."
                )
            width = eq.expr.width(shapes, where)
            if eq.name in self.state_names and width != "H":
                raise CellDefinitionError(
                    f"{where}: state {eq.name} must be H wide; its equation gives width {width}. "
                    "Multiply the input by a (D, H) matrix."
                )
            shapes.defined[eq.name] = width
            used.update(
                p for n in eq.expr.walk() if isinstance(p := getattr(n, "param", None), str)
            )
        undefined = [s for s in self.state_names if s not in shapes.defined]
        if undefined:
            raise CellDefinitionError(
                f"cell {self.name!r}: every state needs an equation defining it at step t; "
                f"none defines {', '.join(undefined)}. Add Equation({undefined[0]!r}, ...)."
            )
        if self.readout is not None:
            names = (*self.param_names, *self.state_names, *shapes.names)
            check_readout(self.name, self.readout, self.state_names, names)
            if self.twin is not None:
                raise CellDefinitionError(
                    f"cell {self.name!r}: rnnnum computes y_t = h_t W_yh + b_y, not this "
                    "cell's own read-out; leave twin out (it is checked by finite differences)."
                )
        unused = [p for p in self.param_names if p not in used]
        if unused:
            raise CellDefinitionError(
                f"cell {self.name!r}: every parameter must appear in an equation; "
                f"{', '.join(unused)} never does. Use it (MatMul or Bias) or remove it."
            )

    def _check_names(self) -> None:
        for what, items, cls in (
            ("params", self.params, Param),
            ("states", self.states, State),
            ("equations", self.equations, Equation),
        ):
            wrong = [item for item in items if not isinstance(item, cls)]
            if not isinstance(items, tuple) or wrong:
                raise CellDefinitionError(
                    f"cell {self.name!r}: {what} must be a tuple of {cls.__name__}; got "
                    f"{wrong[0] if wrong else items!r}. Write {cls.__name__}(...) for each."
                )
        kinds: tuple[tuple[str, tuple[str, ...]], ...] = (
            ("parameter", self.param_names),
            ("state", self.state_names),
            ("equation", tuple(eq.name for eq in self.equations)),
        )
        for kind, names in kinds:
            for name in names:
                if not isinstance(name, str) or not _NAME.fullmatch(name):
                    raise CellDefinitionError(
                        f"cell {self.name!r}: a {kind} name must be ASCII letters only (it "
                        f"names SymPy symbols such as {kind}_t_j); got {name!r}. Write the "
                        "index in the LaTeX instead (name='Wxf', latex='W_{xf}')."
                    )
                if name in RESERVED_NAMES:
                    raise CellDefinitionError(
                        f"cell {self.name!r}: {kind} name {name!r} is taken by the read-out or "
                        f"the loss ({', '.join(RESERVED_NAMES)}). Choose another name."
                    )
            if len(set(names)) != len(names):
                raise CellDefinitionError(
                    f"cell {self.name!r}: {kind} names must be unique; got {', '.join(names)}."
                )
        clash = set(self.param_names) & {eq.name for eq in self.equations}
        if clash or "h" not in self.state_names:
            raise CellDefinitionError(
                f"cell {self.name!r}: parameters and equations need distinct names, and a "
                f"state named 'h' (the read-out y_t = h_t W_yh + b_y reads it); got shared "
                f"names {sorted(clash)} and states {list(self.state_names)}."
            )
        for param in self.params:
            if param.rows not in _ROWS or (param.cols, param.rows) not in (
                ("H", param.rows),
                ("1", None),
            ):
                raise CellDefinitionError(
                    f"cell {self.name!r}: parameter {param.name} must have rows 'D', 'H' or "
                    f"None (a bias) and cols 'H', or rows None and cols '1' (a scalar); got "
                    f"rows={param.rows!r}, cols={param.cols!r}."
                )
