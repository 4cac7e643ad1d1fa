r"""The built-in cells, each written once as equations, and the loader for a user's own.

- `vanilla`: $a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\ h_t = f(a_t)$.
- `residual`: $a_t$ as above, $h_t = h_{t-1} + f(a_t)$.
- `lstm`: gates i, f, o, g (rnnnum's stacking order), each $a^{i}_t = x_t W_{xi} +
  h_{t-1} W_{hi} + b_{i}$; $i, f, o = \sigma(\cdot)$, $g = \tanh(\cdot)$;
  $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, $h_t = o_t \odot \tanh(c_t)$.
- `gru`: gates r, z, n with an input and a hidden bias each (PyTorch's);
  $r_t = \sigma(x_t W_{xr} + b_{xr} + h_{t-1} W_{hr} + b_{hr})$, z alike;
  $v^{n}_t = h_{t-1} W_{hn} + b_{hn}$ (reset "after") or $(r_t \odot h_{t-1}) W_{hn} +
  b_{hn}$ ("before", Cho et al. 2014); $n_t = \tanh(x_t W_{xn} + b_{xn} + r_t \odot
  v^{n}_t)$ ("after") or $\tanh(x_t W_{xn} + b_{xn} + v^{n}_t)$ ("before");
  $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$ (z keeps the old state).

`rnnnum` computes the same cells on its own; the two halves share only names, shapes
and gate order (each cell's ``stacks``), which the tests check numerically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from derivations.core.cell import (
    Add,
    Bias,
    Cell,
    Equation,
    Func,
    Input,
    MatMul,
    Mul,
    NumericTwin,
    OneMinus,
    Param,
    Prev,
    Ref,
    Stack,
    State,
)
from derivations.core.errors import UnknownChoiceError
from derivations.core.load import CellLoadError, user_cell_value
from derivations.core.nodes import Node
from derivations.core.notation import QUANTITIES
from derivations.core.spec import check_choice

__all__ = [
    "BUILTIN_CELLS",
    "GRU_GATES",
    "LSTM_GATES",
    "RESETS",
    "CellLoadError",
    "gru",
    "load_cell",
    "lstm",
    "residual",
    "unit_of",
    "vanilla",
]

#: The LSTM's gates in the order rnnnum stacks them, with the function each applies.
LSTM_GATES = (("i", "sigmoid"), ("f", "sigmoid"), ("o", "sigmoid"), ("g", "tanh"))
#: The GRU's gates in the order rnnnum stacks them.
GRU_GATES = ("r", "z", "n")
#: Where the GRU applies its reset gate: after the product h W_hn (PyTorch) or before it.
RESETS = ("after", "before")

H_PREV = Prev("h")


#: The vanilla RNN's and the residual cell's twins: rnnnum's `RNNParams`, with the
#: activation chosen and the residual flag set.
RNN_TWIN = NumericTwin("RNNParams", forward_options=(("residual", False),), activation=True)
RESIDUAL_TWIN = NumericTwin("RNNParams", forward_options=(("residual", True),), activation=True)


def _one_layer(name: str, h: Node, activation: str, twin: NumericTwin) -> Cell:
    """The vanilla cell's parameters and pre-activation a_t, with the state equation `h`."""
    params = tuple(
        Param(p, rows, latex=QUANTITIES[p].latex, meaning=QUANTITIES[p].meaning)
        for p, rows in (("Wxh", "D"), ("Whh", "H"), ("bh", None))
    )
    a = Add(MatMul(Input(), "Wxh"), MatMul(H_PREV, "Whh"), Bias("bh"))
    equations = (Equation("a", a, "a"), Equation("h", h, "h"))
    return Cell(name, params, (State("h", "h"),), equations, activation=activation, twin=twin)


def vanilla(activation: str = "tanh") -> Cell:
    r"""$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\ h_t = f(a_t)$; f is `activation`."""
    return _one_layer("vanilla", Func("act", Ref("a")), activation, RNN_TWIN)


def residual(activation: str = "tanh") -> Cell:
    r"""Residual through time: $a_t$ as in `vanilla`, $h_t = h_{t-1} + f(a_t)$."""
    return _one_layer("residual", Add(H_PREV, Func("act", Ref("a"))), activation, RESIDUAL_TWIN)


def _gate_params(gate: str, biases: tuple[str, ...]) -> tuple[Param, ...]:
    """W_x{gate} (D, H), W_h{gate} (H, H) and the gate's biases (1, H).

    Each meaning names the unit the parameter feeds as ``{unit}``, filled in from the
    finished cell's equations by `_with_units` (a gate or a candidate).
    """
    out = [
        Param(f"Wx{gate}", "D", latex=f"W_{{x{gate}}}", meaning="input weights of the {unit}"),
        Param(f"Wh{gate}", "H", latex=f"W_{{h{gate}}}", meaning="recurrent weights of the {unit}"),
    ]
    out += [Param(b, None, latex=f"b_{{{b[1:]}}}", meaning="bias of the {unit}") for b in biases]
    return tuple(out)


def unit_of(cell: Cell, param: str) -> tuple[str, str]:
    """The unit `param` feeds, as ``(word, variable)``: ``("gate", "f")``, ``("candidate", "g")``.

    Read from the equations: follow the variables that use `param`, directly or through
    earlier variables, to the first one whose equation applies an element-wise function.
    A sigmoid there makes it a gate (a value in (0, 1) that scales another); any other
    function makes it a candidate (a new value, such as the LSTM's g or the GRU's n).
    """
    reached: set[str] = set()
    for eq in cell.equations:
        reads = {leaf.name for leaf in cell.leaves(eq.name) if isinstance(leaf, Ref)}
        if cell.param_uses(eq.name, param) or reads & reached:
            if isinstance(eq.expr, Func):
                return ("gate" if eq.expr.kind == "sigmoid" else "candidate"), eq.name
            reached.add(eq.name)
    raise UnknownChoiceError(
        f"parameter {param!r} of cell {cell.name!r} feeds no equation with an element-wise "
        "function, so it belongs to no gate or candidate; name its unit in its meaning."
    )


def _with_units(cell: Cell) -> Cell:
    """`cell` with each ``{unit}`` of a parameter's meaning replaced by `unit_of` it."""
    params = tuple(
        replace(p, meaning=p.meaning.format(unit=" ".join(unit_of(cell, p.name))))
        if "{unit}" in p.meaning
        else p
        for p in cell.params
    )
    return replace(cell, params=params)


def lstm() -> Cell:
    r"""The LSTM, gates i, f, o, g: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ and
    $h_t = o_t \odot \tanh(c_t)$.

    Each gate's pre-activation $a^{i}_t = x_t W_{xi} + h_{t-1} W_{hi} + b_{i}$ is an
    equation of its own, so $\operatorname{diag}(\sigma'(a^{i}_t))$ is a factor of its own.
    """
    params: tuple[Param, ...] = ()
    equations: list[Equation] = []
    for gate, _ in LSTM_GATES:
        params += _gate_params(gate, (f"b{gate}",))
        pre = Add(MatMul(Input(), f"Wx{gate}"), MatMul(H_PREV, f"Wh{gate}"), Bias(f"b{gate}"))
        equations.append(Equation(f"a{gate}", pre, f"a^{{{gate}}}"))
    equations += [Equation(g, Func(kind, Ref(f"a{g}")), g) for g, kind in LSTM_GATES]
    c = Add(Mul(Ref("f"), Prev("c")), Mul(Ref("i"), Ref("g")))
    h = Mul(Ref("o"), Func("tanh", Ref("c")))
    equations += [Equation("c", c, "c"), Equation("h", h, "h")]
    names = [g for g, _ in LSTM_GATES]
    cell = Cell(
        "lstm",
        params,
        (State("h", "h"), State("c", "c")),
        tuple(equations),
        stacks=tuple(
            Stack(stacked, tuple(f"{prefix}{g}" for g in names))
            for stacked, prefix in (("Wx", "Wx"), ("Wh", "Wh"), ("b", "b"))
        ),
        twin=NumericTwin("LSTMParams"),
    )
    return _with_units(cell)


def gru(reset: str = "after") -> Cell:
    r"""The GRU with PyTorch's two biases per gate; the reset gate ``"after"`` or ``"before"``.

    $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$: z = 1 keeps the old state.
    """
    check_choice(reset, "reset", RESETS)
    params: tuple[Param, ...] = ()
    for gate in GRU_GATES:
        params += _gate_params(gate, (f"bx{gate}", f"bh{gate}"))

    def gate_sum(gate: str, hidden: Node) -> Add:
        return Add(MatMul(Input(), f"Wx{gate}"), Bias(f"bx{gate}"), hidden)

    def sigmoid_gate(gate: str) -> Equation:
        pre = Add(
            MatMul(Input(), f"Wx{gate}"),
            Bias(f"bx{gate}"),
            MatMul(H_PREV, f"Wh{gate}"),
            Bias(f"bh{gate}"),
        )
        return Equation(gate, Func("sigmoid", pre), gate)

    r, z = sigmoid_gate("r"), sigmoid_gate("z")
    if reset == "after":
        vn = Add(MatMul(H_PREV, "Whn"), Bias("bhn"))
        an = gate_sum("n", Mul(Ref("r"), Ref("hn")))
    else:
        vn = Add(MatMul(Mul(Ref("r"), H_PREV), "Whn"), Bias("bhn"))
        an = gate_sum("n", Ref("hn"))
    h = Add(Mul(OneMinus(Ref("z")), Ref("n")), Mul(Ref("z"), H_PREV))
    equations = (
        r,
        z,
        Equation("hn", vn, "v^{n}"),
        Equation("an", an, "a^{n}"),
        Equation("n", Func("tanh", Ref("an")), "n"),
        Equation("h", h, "h"),
    )
    stacks = tuple(
        Stack(stacked, tuple(f"{prefix}{g}" for g in GRU_GATES))
        for stacked, prefix in (("Wx", "Wx"), ("Wh", "Wh"), ("bx", "bx"), ("bh", "bh"))
    )
    name = "gru" if reset == "after" else "gru-before"
    twin = NumericTwin("GRUParams", params_options=(("reset", reset),))
    cell = Cell(name, params, (State("h", "h"),), equations, stacks=stacks, twin=twin)
    return _with_units(cell)


#: Built-in cells by name; vanilla and residual take the activation, the gated ones fix theirs.
BUILTIN_CELLS: dict[str, Callable[..., Cell]] = {
    "vanilla": vanilla,
    "residual": residual,
    "lstm": lstm,
    "gru": gru,
    "gru-before": lambda: gru("before"),
}
_TAKES_ACTIVATION = ("vanilla", "residual")


def load_cell(spec: str, *, activation: str | None = None) -> Cell:
    """A cell by built-in name (`BUILTIN_CELLS`) or as ``"package.module:attribute"``.

    The attribute is a `Cell` or a function of no arguments returning one. `activation`
    (vanilla and residual only; default tanh) picks f. Raises `CellLoadError` saying
    which part of the spec failed, or `UnknownChoiceError` for an unknown built-in name.
    """
    names = ", ".join(BUILTIN_CELLS)
    if not isinstance(spec, str) or not spec:
        raise CellLoadError(
            f"a cell spec must be a built-in name ({names}) or 'package.module:attribute'; "
            f"got {spec!r}."
        )
    if ":" not in spec:
        check_choice(spec, "cell", tuple(BUILTIN_CELLS))
        if spec in _TAKES_ACTIVATION:
            return BUILTIN_CELLS[spec](activation or "tanh")
        if activation is not None:
            raise UnknownChoiceError(
                f"cell {spec!r} fixes its own functions (sigmoid gates, tanh); got "
                f"activation={activation!r}. Pass an activation only with "
                f"{', '.join(_TAKES_ACTIVATION)}."
            )
        return BUILTIN_CELLS[spec]()
    cell: Cell = user_cell_value(spec, Cell, names)
    if activation is not None:
        raise UnknownChoiceError(
            f"a user cell ({spec}) carries its own activation ({cell.activation}); got "
            f"activation={activation!r}. Set Cell(activation=...) in its definition instead."
        )
    return cell
