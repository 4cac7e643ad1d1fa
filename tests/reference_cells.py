"""The built-in cells as they were written before the front door (issue 23): node by
node, with the engine's constructors. The reference `test_derivations_core_write` holds
the front-door definitions in `derivations.core.cells` to: equal cells, hence equal
derivations. Not a test module; kept verbatim from the commit before the rewrite.
"""

from __future__ import annotations

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
from derivations.core.cells import (
    GRU_GATES,
    LSTM_GATES,
    RESETS,
    RESIDUAL_TWIN,
    RNN_TWIN,
    unit_of,
)
from derivations.core.nodes import Node
from derivations.core.notation import QUANTITIES
from derivations.core.spec import check_choice

H_PREV = Prev("h")


def with_units(cell: Cell) -> Cell:
    """`cell` with each ``{unit}`` of a parameter's meaning replaced by `unit_of` it."""
    params = tuple(
        replace(p, meaning=p.meaning.format(unit=" ".join(unit_of(cell, p.name))))
        if "{unit}" in p.meaning
        else p
        for p in cell.params
    )
    return replace(cell, params=params)


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
    return with_units(cell)


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
    return with_units(cell)
