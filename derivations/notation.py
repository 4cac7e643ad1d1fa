r"""The one notation of the project: names, shapes and LaTeX of every quantity.

Row vectors, one sequence (batch size 1; in a batch the rows are independent and
their gradients add):

$$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\quad h_t = f(a_t),\quad
y_t = h_t W_{yh} + b_y,\quad L = \sum_{t=1}^{T} L_t.$$

The code names (``Wxh``, ``Whh``, ``Wyh``, ``bh``, ``by``, ``X``, ``h0``) are the
names `rnnnum` uses for the same arrays; the tests check that the two lists agree.
Partial derivatives of one loss term are written $\partial L_i / \partial \cdot$;
the total derivative of $L = \sum_i L_i$ is $\partial L / \partial \cdot$.
Backward signals: $\delta_{i,k} = \partial L_i / \partial a_k$ (one loss, one step)
and $\delta_t = \partial L / \partial a_t = \sum_{i \ge t} \delta_{i,t}$ (all losses).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACTIVATION_NAMES",
    "GRADIENT_NAMES",
    "LOSS_NAMES",
    "PARAM_NAMES",
    "QUANTITIES",
    "Quantity",
    "entry_latex",
    "entry_name",
    "step_latex",
]

#: The five parameters, in the order `rnnnum.PARAM_NAMES` uses.
PARAM_NAMES = ("Wxh", "Whh", "Wyh", "bh", "by")
#: Everything a gradient is taken with respect to: parameters, each input x_t, h_0.
GRADIENT_NAMES = (*PARAM_NAMES, "X", "h0")
ACTIVATION_NAMES = ("tanh", "sigmoid", "relu", "leaky_relu", "identity")
LOSS_NAMES = ("cross_entropy", "mse")


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
        Quantity(
            "g", "g_{{{t}}}", "(V,)", r"local derivative \partial L_t/\partial y_t", per_step=True
        ),
        Quantity("d", "f'(a_{{{t}}})", "(H,)", "local derivative of the activation", per_step=True),
        Quantity(
            "delta",
            r"\delta_{{{t}}}",
            "(H,)",
            r"total backward signal \partial L/\partial a_t",
            per_step=True,
        ),
        Quantity(
            "dh",
            r"\bar h_{{{t}}}",
            "(H,)",
            r"total derivative \partial L/\partial h_t",
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
    step first, then the component: ``entry_latex("h", 3, 1) == "h_{3,1}"``.
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
        symbol = r"\delta" if name == "delta" else r"\bar h"
        return f"{symbol}_{{{inner}}}"
    return f"({q.latex})_{{{','.join(str(i) for i in index)}}}"
