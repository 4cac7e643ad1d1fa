r"""The one notation of the project: names, shapes and LaTeX of every quantity.

Row vectors, one sequence (batch size 1; in a batch the rows are independent and
their gradients add):

$$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\quad h_t = f(a_t),\quad
y_t = h_t W_{yh} + b_y,\quad L = \sum_{t=1}^{T} L_t.$$

The code names (``Wxh``, ``Whh``, ``Wyh``, ``bh``, ``by``, ``X``, ``h0``) are the
names `rnnnum` uses for the same arrays; the tests check that the two lists agree.

Derivatives follow one rule (`LOCAL_RULE`, `TOTAL_RULE`). A *local* derivative
$\partial u / \partial v$ differentiates the left side of one equation of the model
by one of its arguments, holding that equation's other arguments fixed
($\partial L_t/\partial y_t$, $\partial a_t/\partial h_{t-1} = W_{hh}$). A *total*
derivative $\mathrm{d}u / \mathrm{d}v$ follows every path from $v$ to $u$ through the
unrolled graph: every gradient $\mathrm{d}L/\mathrm{d}W_{xh}$, the backward signals
$\delta_{i,k} = \mathrm{d}L_i / \mathrm{d}a_k$ (one loss, one step) and
$\delta_t = \mathrm{d}L / \mathrm{d}a_t = \sum_{i \ge t} \delta_{i,t}$ (all losses),
and the Jacobian products $\mathrm{d}h_i/\mathrm{d}h_k$. The letter δ means one thing,
the backward signal at a pre-activation: with a loss and a step, $\delta_{i,k}$, one
loss's share; with one step, $\delta_t$ (or a cell's $\delta^{u}_t$), the sum over the
losses. Entry j of a step signal is written with a bracket, $\delta_t[j]$
(`signal_entry_latex`), never $\delta_{t,j}$, which would read as a loss and a step.
A cell with several states adds a third case (`BLOCK_RULE`): a block of its one-step
Jacobian from a state that another state of the same step reads (the LSTM's $h_{t-1}$
reads $c_{t-1}$) holds that state fixed, so it is a partial derivative of the step map,
$\partial h_t/\partial c_{t-1}$; a block from a state no other state reads,
$\mathrm{d}h_t/\mathrm{d}h_{t-1}$, and a derivative of a state by something of its own
step, $\mathrm{d}s_k/\mathrm{d}a^{f}_k$, leave nothing out and are total. Plain text (code
comments, the command line) writes the same two forms as ``∂L_t/∂y_t`` and ``dL/dh_t``.

Time indices. Steps are $t = 1, \dots, T$ and $h_0$ is the initial state everywhere in the
formulas; the arrays hold them in one of three layouts, and every place that goes
from one to another says so and converts with `step_position` or `pair_position`:

- *by step*, T + 1 rows, row t is step t and row 0 the initial state: the symbolic
  program (``UnrolledCell.values["h"][t]``, ``[0]`` is $h_0$), the numeric trace of
  `derivations.compile.lambdify` (``trace["h"][t]``) and
  ``rnnnum.jacobian_products(...).matrices[n, i, k]`` (i, k = 0..T);
- *by position*, T rows, position t - 1 holds step t (`step_position`): rnnnum's
  caches (``cache.h[:, t - 1]`` is $h_t$, $h_0$ is the separate ``cache.h0``), the
  inputs and targets a caller passes (``values["X"][t - 1]`` is $x_t$) and the losses;
- *by pair*, a (T, T) table whose entry (i - 1, k - 1) is the term of loss $L_i$ through
  step k (`pair_position`): ``rnnnum.components(...).terms`` and the component norms.
  A `derivations.gradient.sums.CellTerm` names its pair directly, 1-based:
  ``CellTerm.loss`` = i, ``CellTerm.step`` = k.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivations.core.errors import OutOfRangeError

__all__ = [
    "ACTIVATION_NAMES",
    "BLOCK_RULE",
    "GRADIENT_NAMES",
    "LOCAL_RULE",
    "LOSS_NAMES",
    "PARAM_NAMES",
    "QUANTITIES",
    "TOTAL_RULE",
    "Quantity",
    "entry_latex",
    "entry_name",
    "local_derivative",
    "pair_position",
    "signal_entry_latex",
    "step_latex",
    "step_position",
    "total_derivative",
]

#: The five parameters, in the order `rnnnum.PARAM_NAMES` uses.
PARAM_NAMES = ("Wxh", "Whh", "Wyh", "bh", "by")
#: Everything a gradient is taken with respect to: parameters, each input x_t, h_0.
GRADIENT_NAMES = (*PARAM_NAMES, "X", "h0")
ACTIVATION_NAMES = ("tanh", "sigmoid", "relu", "leaky_relu", "identity")
LOSS_NAMES = ("cross_entropy", "mse")

#: The two kinds of derivative, in words (the notation page quotes these).
LOCAL_RULE = (
    "a local derivative ∂u/∂v differentiates the left side u of one equation of the model by "
    "one of its arguments v, holding that equation's other arguments fixed"
)
TOTAL_RULE = (
    "a total derivative du/dv follows every path from v to u through the unrolled graph, "
    "adding the chain-rule product along each"
)

BLOCK_RULE = (
    "a block ∂s_t/∂s'_{t-1} of a cell's one-step Jacobian from a state s' that another "
    "state of the same step reads holds that other state fixed at t-1, leaving out the paths "
    "through it: it is a partial derivative of the step map and is written with ∂; a block "
    "from a state no other state reads leaves nothing out and is total"
)


def local_derivative(numerator: str, denominator: str, *, inline: bool = False) -> str:
    r"""A local derivative: ``\frac{\partial L_{t}}{\partial y_{t}}`` (or inline ``a/b``)."""
    if inline:
        return rf"\partial {numerator} / \partial {denominator}"
    return rf"\frac{{\partial {numerator}}}{{\partial {denominator}}}"


def total_derivative(numerator: str, denominator: str, *, inline: bool = False) -> str:
    r"""A total derivative: ``\frac{\mathrm{d} L}{\mathrm{d} W_{xh}}`` (or inline ``a/b``)."""
    if inline:
        return rf"\mathrm{{d}} {numerator} / \mathrm{{d}} {denominator}"
    return rf"\frac{{\mathrm{{d}} {numerator}}}{{\mathrm{{d}} {denominator}}}"


@dataclass(frozen=True)
class Quantity:
    """A named quantity: its LaTeX, its shape in terms of D, H, V, and what it is."""

    name: str
    latex: str  # with "{t}" where the time index goes, for per-step quantities
    shape: str
    meaning: str
    per_step: bool = False

    def at(self, t: int | str | None = None) -> str:
        """LaTeX of the quantity, at step `t` if it has one (``at(2)`` -> ``x_{2}``)."""
        return self.latex.format(t=t) if self.per_step else self.latex


QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in (
        Quantity("Wxh", "W_{xh}", "(D, H)", "input-to-hidden weights"),
        Quantity("Whh", "W_{hh}", "(H, H)", "hidden-to-hidden (recurrent) weights"),
        Quantity("Wyh", "W_{yh}", "(H, V)", "hidden-to-output weights"),
        Quantity("bh", "b_h", "(H,)", "hidden bias"),
        Quantity("by", "b_y", "(V,)", "output bias"),
        Quantity("X", "x_{{{t}}}", "(D,) per step", "input at step t", per_step=True),
        Quantity("h0", "h_0", "(H,)", "initial hidden state"),
        Quantity("a", "a_{{{t}}}", "(H,)", "pre-activation at step t", per_step=True),
        Quantity("h", "h_{{{t}}}", "(H,)", "hidden state at step t", per_step=True),
        Quantity("y", "y_{{{t}}}", "(V,)", "output (logits) at step t", per_step=True),
        Quantity("p", "p_{{{t}}}", "(V,)", "softmax of y_t", per_step=True),
        Quantity(
            "r", "r_{{{t}}}", "(V,)", "target at step t (one-hot for cross-entropy)", per_step=True
        ),
        Quantity("L", "L_{{{t}}}", "()", "loss at step t", per_step=True),
        Quantity("g", "g_{{{t}}}", "(V,)", r"local derivative ∂L_t/∂y_t", per_step=True),
        Quantity("d", "f'(a_{{{t}}})", "(H,)", "local derivative of the activation", per_step=True),
        Quantity(
            "delta",
            r"\delta_{{{t}}}",
            "(H,)",
            "total backward signal dL/da_t",
            per_step=True,
        ),
        Quantity(
            "dh",
            r"\bar h_{{{t}}}",
            "(H,)",
            "total derivative dL/dh_t",
            per_step=True,
        ),
    )
}


def step_latex(name: str, t: int | str | None = None) -> str:
    """LaTeX of quantity `name` (a key of `QUANTITIES`), at step `t` when per-step."""
    return QUANTITIES[name].at(t)


def entry_name(name: str, *index: int) -> str:
    """Python identifier of one scalar entry, 1-based: ``entry_name("Whh", 1, 2) == "Whh_1_2"``."""
    return "_".join((name, *(str(i) for i in index)))


def entry_latex(name: str, *index: int) -> str:
    r"""LaTeX of one scalar entry, 1-based.

    Matrices: ``(W_{hh})_{1,2}``; vectors: ``(b_h)_{2}``; per-step vectors take the
    step first, then the component: ``entry_latex("h", 3, 1) == "h_{3,1}"``, except the
    signal δ, whose two subscripts mean a loss and a step: ``\delta_{3}[1]``.
    """
    q = QUANTITIES[name]
    if q.per_step:
        t, *rest = index
        base = q.latex.split("_", 1)[0] if name not in ("d", "delta", "dh") else None
        inner = ",".join(str(i) for i in (t, *rest))
        if base is not None:
            return f"{base}_{{{inner}}}"
        if name == "d":
            return f"f'(a_{{{inner}}})"
        if name == "delta":
            return signal_entry_latex(t, ",".join(str(i) for i in rest))
        return rf"\bar h_{{{inner}}}"
    return f"({q.latex})_{{{','.join(str(i) for i in index)}}}"


def signal_entry_latex(t: int | str, j: int | str, mark: str | None = None) -> str:
    r"""Entry j of the step signal $\delta_t$ (a cell's $\delta^{mark}_t$): ``\delta_{3}[1]``.

    The bracket keeps it apart from $\delta_{i,k} = \mathrm{d}L_i/\mathrm{d}a_k$, one
    loss's signal at one step.
    """
    sup = f"^{{{mark}}}" if mark else ""
    return rf"\delta{sup}_{{{t}}}[{j}]"


def step_position(t: int) -> int:
    """Where step t (1..T) sits in a layout by position (rnnnum's caches, inputs): t - 1."""
    if t < 1:
        raise OutOfRangeError(
            f"steps are numbered from 1 (h_0 has no position in this layout); got t={t}. "
            "Read h_0 from its own field (cache.h0, values['h0'])."
        )
    return t - 1


def pair_position(i: int, k: int) -> tuple[int, int]:
    """Where the term of loss $L_i$ through step $k$ sits in a (T, T) table: (i - 1, k - 1).

    The layout of ``rnnnum.components(...).terms`` and of the component norms.
    """
    return step_position(i), step_position(k)
