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

from derivations.core.cell import Cell, Func, NumericTwin, Ref, Stack
from derivations.core.define import cell
from derivations.core.errors import UnknownChoiceError
from derivations.core.load import CellLoadError, user_cell_value
from derivations.core.notation import QUANTITIES
from derivations.core.spec import check_choice
from derivations.core.write import Declared, act, matrix, prev, sigmoid, tanh, vector, x

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


#: The vanilla RNN's and the residual cell's twins: rnnnum's `RNNParams`, with the
#: activation chosen and the residual flag set.
RNN_TWIN = NumericTwin("RNNParams", forward_options=(("residual", False),), activation=True)
RESIDUAL_TWIN = NumericTwin("RNNParams", forward_options=(("residual", True),), activation=True)


def _one_layer(name: str, residual: bool, activation: str, twin: NumericTwin) -> Cell:
    """The vanilla cell (`residual` False) or the residual one, written as their equations."""
    known = {p: (QUANTITIES[p].latex, QUANTITIES[p].meaning) for p in ("Wxh", "Whh", "bh")}

    class one_layer:
        W_xh = matrix(rows="D", latex=known["Wxh"][0], meaning=known["Wxh"][1])
        W_hh = matrix(rows="H", latex=known["Whh"][0], meaning=known["Whh"][1])
        b_h = vector(latex=known["bh"][0], meaning=known["bh"][1])
        a = x @ W_xh + prev.h @ W_hh + b_h
        h = prev.h + act(a) if residual else act(a)

    # called rather than written as @cell: a type checker reads a decorated class as the class
    return cell(name=name, activation=activation, twin=twin)(one_layer)


def vanilla(activation: str = "tanh") -> Cell:
    r"""$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\ h_t = f(a_t)$; f is `activation`."""
    return _one_layer("vanilla", False, activation, RNN_TWIN)


def residual(activation: str = "tanh") -> Cell:
    r"""Residual through time: $a_t$ as in `vanilla`, $h_t = h_{t-1} + f(a_t)$."""
    return _one_layer("residual", True, activation, RESIDUAL_TWIN)


def _gate_params(gate: str, biases: tuple[str, ...]) -> tuple[Declared, ...]:
    """W_x{gate} (D, H), W_h{gate} (H, H) and the gate's biases (1, H), as the pages write them.

    Each meaning names the unit the parameter feeds as ``{unit}``, filled in from the
    finished cell's equations by `_with_units` (a gate or a candidate).
    """
    return (
        matrix(rows="D", latex=f"W_{{x{gate}}}", meaning="input weights of the {unit}"),
        matrix(rows="H", latex=f"W_{{h{gate}}}", meaning="recurrent weights of the {unit}"),
        *(vector(latex=f"b_{{{b}}}", meaning="bias of the {unit}") for b in biases),
    )


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
    stacks = tuple(
        Stack(stacked, tuple(f"{stacked}{g}" for g, _ in LSTM_GATES))
        for stacked in ("Wx", "Wh", "b")
    )

    class lstm:
        W_xi, W_hi, b_i = _gate_params("i", ("i",))
        W_xf, W_hf, b_f = _gate_params("f", ("f",))
        W_xo, W_ho, b_o = _gate_params("o", ("o",))
        W_xg, W_hg, b_g = _gate_params("g", ("g",))
        a_i = (x @ W_xi + prev.h @ W_hi + b_i).shown_as("a^{i}")
        a_f = (x @ W_xf + prev.h @ W_hf + b_f).shown_as("a^{f}")
        a_o = (x @ W_xo + prev.h @ W_ho + b_o).shown_as("a^{o}")
        a_g = (x @ W_xg + prev.h @ W_hg + b_g).shown_as("a^{g}")
        i = sigmoid(a_i)
        f = sigmoid(a_f)
        o = sigmoid(a_o)
        g = tanh(a_g)
        c = f * prev.c + i * g
        h = o * tanh(c)

    return _with_units(cell(name="lstm", stacks=stacks, twin=NumericTwin("LSTMParams"))(lstm))


def gru(reset: str = "after") -> Cell:
    r"""The GRU with PyTorch's two biases per gate; the reset gate ``"after"`` or ``"before"``.

    $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$: z = 1 keeps the old state.
    """
    after = check_choice(reset, "reset", RESETS) == "after"
    stacks = tuple(
        Stack(stacked, tuple(f"{stacked}{g}" for g in GRU_GATES))
        for stacked in ("Wx", "Wh", "bx", "bh")
    )
    twin = NumericTwin("GRUParams", params_options=(("reset", reset),))

    class gru:
        W_xr, W_hr, b_xr, b_hr = _gate_params("r", ("xr", "hr"))
        W_xz, W_hz, b_xz, b_hz = _gate_params("z", ("xz", "hz"))
        W_xn, W_hn, b_xn, b_hn = _gate_params("n", ("xn", "hn"))
        r = sigmoid(x @ W_xr + b_xr + prev.h @ W_hr + b_hr)
        z = sigmoid(x @ W_xz + b_xz + prev.h @ W_hz + b_hz)
        h_n = (prev.h @ W_hn + b_hn if after else (r * prev.h) @ W_hn + b_hn).shown_as("v^{n}")
        a_n = (x @ W_xn + b_xn + (r * h_n if after else h_n)).shown_as("a^{n}")
        n = tanh(a_n)
        h = (1 - z) * n + z * prev.h

    return _with_units(cell(name="gru" if after else "gru-before", stacks=stacks, twin=twin)(gru))


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
