"""Gradient checks by central differences, entry by entry and along random directions.

The central difference (L(x + s e) - L(x - s e)) / 2s has truncation error
O(s^2 L''') and rounding error O(eps |L| / s); in float64 (eps ~ 2.2e-16) the
two balance near s ~ eps^(1/3) ~ 6e-6, leaving errors around 1e-10 relative to
|L| for the smooth losses here. The tolerances below sit two orders of
magnitude above that, and far below any error a wrong term would cause.
ReLU-family activations are not differentiable at a = 0: a check is only
meaningful if no pre-activation lies within the step of a kink
(`distance_to_kink`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnnum._checks import FloatArray, positive_float, positive_int
from rnnnum.bptt import AnyGradients
from rnnnum.forward import AnyCache, AnyParams, forward
from rnnnum.kernel.registry import kernel_for

__all__ = [
    "FD_ATOL",
    "FD_RTOL",
    "FD_STEP",
    "N_DIRECTIONS",
    "DirectionalCheck",
    "directional_checks",
    "distance_to_kink",
    "numerical_gradients",
]

#: Step of the central differences: near the float64 optimum eps^(1/3).
FD_STEP = 1e-6
#: Relative tolerance for finite differences against an analytic gradient: measured
#: errors are ~1e-9 relative; 1e-6 leaves margin yet catches any missing term.
FD_RTOL = 1e-6
#: Absolute tolerance, for entries that are (near) zero, e.g. vanishing components:
#: rounding error eps |L| / FD_STEP ~ 1e-9 for |L| ~ 10.
FD_ATOL = 1e-7
#: Random directions per quantity in `directional_checks`.
N_DIRECTIONS = 3


class _Objective:
    """L as a function of any one quantity (parameter, X, h0, c0), the others held fixed."""

    def __init__(
        self,
        params: AnyParams,
        X: Any,
        targets: Any,
        *,
        h0: Any,
        c0: Any = None,
        activation: str | None,
        residual: bool = False,
        loss: str,
    ) -> None:
        kwargs: dict[str, Any] = {
            "h0": h0, "activation": activation, "residual": residual, "loss": loss,
        }  # fmt: skip
        if c0 is not None:
            kwargs["c0"] = c0
        base: AnyCache = forward(params, X, targets, **kwargs)
        self.cache = base
        self.kernel = kernel_for(params)
        self.names: tuple[str, ...] = params.gradient_names
        self.values: dict[str, FloatArray] = {**params.as_dict(), "X": base.X}
        for state in self.kernel.states:  # h0, and the LSTM's c0
            self.values[f"{state}0"] = getattr(base, f"{state}0")
        self.kwargs: dict[str, Any] = {k: v for k, v in kwargs.items() if k not in ("h0", "c0")}

    def __call__(self, name: str, value: FloatArray) -> float:
        c = self.cache
        p = c.params
        params = p.replace(**{name: value}) if name in p.param_names else p
        states: dict[str, Any] = {"h0": value if name == "h0" else c.h0}
        if "c0" in self.values:
            states["c0"] = value if name == "c0" else self.values["c0"]
        return forward(
            params, value if name == "X" else c.X, c.targets, **states, **self.kwargs
        ).loss

    def gradients(self, arrays: dict[str, FloatArray]) -> AnyGradients:
        """`arrays` as the gradient type of these parameters."""
        return self.kernel.gradients_type(**arrays)


def numerical_gradients(
    params: AnyParams,
    X: Any,
    targets: Any,
    *,
    h0: Any = None,
    c0: Any = None,
    activation: str | None = None,
    residual: bool = False,
    loss: str = "cross_entropy",
    step: float = FD_STEP,
) -> AnyGradients:
    r"""$\mathrm{d}L/\mathrm{d}\theta$ for every entry $\theta$ of every quantity, by central
    differences: 2 forward passes per entry.

    Accepts the parameters of every cell (`RNNParams`, `LSTMParams`, `GRUParams`) and
    returns the matching gradient type; `c0` is the LSTM's initial cell state and
    ``residual=True`` the residual vanilla cell $h_t = h_{t-1} + f(a_t)$, as in `rnnnum.forward`.
    """
    step = positive_float(step, "step")
    objective = _Objective(
        params, X, targets, h0=h0, c0=c0, activation=activation, residual=residual, loss=loss
    )
    grads = {}
    for name in objective.names:
        x = objective.values[name]
        g = np.empty_like(x)
        for idx in np.ndindex(x.shape):
            plus, minus = x.copy(), x.copy()
            plus[idx] += step
            minus[idx] -= step
            g[idx] = (objective(name, plus) - objective(name, minus)) / (2 * step)
        grads[name] = g
    return objective.gradients(grads)


@dataclass(frozen=True)
class DirectionalCheck:
    """One directional-derivative comparison: <grad, v> against the central difference along v."""

    wrt: str
    direction: int
    numeric: float
    analytic: float
    rtol: float
    atol: float

    @property
    def error(self) -> float:
        """|numeric - analytic|."""
        return abs(self.numeric - self.analytic)

    @property
    def ok(self) -> bool:
        """Within atol + rtol * |numeric|, the rule of `numpy.isclose`."""
        return self.error <= self.atol + self.rtol * abs(self.numeric)

    def __str__(self) -> str:
        return (
            f"d L / d {self.wrt} along random direction #{self.direction}: finite difference "
            f"{self.numeric:.12g}, analytic {self.analytic:.12g}, error {self.error:.3g} "
            f"(allowed {self.atol + self.rtol * abs(self.numeric):.3g})"
        )


def directional_checks(
    params: AnyParams,
    X: Any,
    targets: Any,
    grads: AnyGradients,
    rng: np.random.Generator,
    *,
    h0: Any = None,
    c0: Any = None,
    activation: str | None = None,
    residual: bool = False,
    loss: str = "cross_entropy",
    directions: int = N_DIRECTIONS,
    step: float = FD_STEP,
    rtol: float = FD_RTOL,
    atol: float = FD_ATOL,
) -> list[DirectionalCheck]:
    """Compare `grads` with central differences along random unit directions, per quantity.

    Cheaper than `numerical_gradients` (2 forward passes per direction, whatever
    the size) and sensitive to every entry at once. `residual` as in `rnnnum.forward`.
    """
    directions = positive_int(directions, "directions")
    step = positive_float(step, "step")
    objective = _Objective(
        params, X, targets, h0=h0, c0=c0, activation=activation, residual=residual, loss=loss
    )
    checks = []
    for name in objective.names:
        x = objective.values[name]
        for d in range(directions):
            v = rng.standard_normal(x.shape)
            v /= np.linalg.norm(v)
            numeric = (objective(name, x + step * v) - objective(name, x - step * v)) / (2 * step)
            analytic = float(np.sum(getattr(grads, name) * v))
            checks.append(DirectionalCheck(name, d, numeric, analytic, rtol, atol))
    return checks


def distance_to_kink(cache: AnyCache) -> float:
    r"""Smallest $\lvert a_t \rvert$ over all pre-activations for ReLU-family activations,
    else infinity.

    The gated cells are smooth everywhere (sigmoid and tanh): infinity.
    """
    return kernel_for(cache.params).distance_to_kink(cache)
