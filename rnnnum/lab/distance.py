r"""How fast a product of recurrent Jacobians shrinks or grows with the distance t - k.

- Linear RNN with $W_{hh} = sQ$ (Q orthogonal): every product
  $dh_t/dh_k = W_{hh}^{t-k}$ has norm exactly $s^{t-k}$.
- With an activation: $\lVert dh_t/dh_k \rVert \le
  (\gamma\,\sigma_{\max}(W_{hh}))^{t-k}$, $\gamma = \sup|f'|$; so
  $\sigma_{\max} < 1/\gamma$ is sufficient for vanishing and $\sigma_{\max} > 1/\gamma$
  necessary for exploding (Pascanu, Mikolov and Bengio 2013).
- A non-normal $W_{hh}$ with spectral radius below 1 but $\sigma_{\max} > 1$: the
  powers grow before they decay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnnum._checks import FloatArray
from rnnnum.activations import get_activation
from rnnnum.jacobians import jacobian_products
from rnnnum.lab.shares import problem

__all__ = [
    "NONNORMAL_W",
    "BoundCheck",
    "DistanceLaw",
    "Transient",
    "linear_distance_law",
    "nonlinear_bound",
    "transient_growth",
]

#: A non-normal recurrent matrix: spectral radius 0.8 < 1, largest singular value 3.2 > 1.
NONNORMAL_W = ((0.8, 3.0), (0.0, 0.8))


@dataclass(frozen=True, eq=False)
class DistanceLaw:
    """Norms of dh_t/dh_k in linear RNNs with W_hh = s Q.

    Attributes:
        scales: the s values.
        norms: (len(scales), T+1, T+1): ``norms[j, t, k]`` = ||dh_t/dh_k|| for scale j.
        max_relative_deviation: max over s and k <= t of |norm / s^(t-k) - 1|.
    """

    scales: tuple[float, ...]
    norms: FloatArray = field(repr=False)
    max_relative_deviation: float


def linear_distance_law(
    scales: Sequence[float] = (0.9, 1.0, 1.1), *, T: int = 40, H: int = 8, seed: int = 2013
) -> DistanceLaw:
    r"""Every $\lVert \mathrm{d}h_t/\mathrm{d}h_k \rVert$ of identity-activation RNNs with
    $W_{hh} = sQ$, against $s^{t-k}$."""
    tables, deviation = [], 0.0
    t, k = np.tril_indices(T + 1)
    for s in scales:
        params, _, _, cache = problem(
            T, H=H, kind="orthogonal", activation="identity", seed=seed, gain=s
        )
        norms = jacobian_products(params, cache).norms[0]
        law = float(s) ** (t - k).astype(float)
        deviation = max(deviation, float(np.max(np.abs(norms[t, k] / law - 1))))
        tables.append(norms)
    return DistanceLaw(tuple(float(s) for s in scales), np.stack(tables), deviation)


@dataclass(frozen=True, eq=False)
class BoundCheck:
    """||dh_t/dh_k|| against the bound (gamma sigma_max)^(t-k) for one network.

    Attributes:
        activation, sigma_max, gamma: the network and its gamma = sup |f'|.
        norms: (T+1, T+1), ``norms[t, k]`` = ||dh_t/dh_k||.
        bound: (T+1, T+1), (gamma sigma_max)^(t-k) for k <= t, 0 above the diagonal.
        worst_ratio: max over k < t of norm / bound (at most 1 when the bound holds).
        median_ratio: (T+1,), entry d = median over t of norm / bound at distance d:
            how loose the bound is at each distance.
    """

    activation: str
    sigma_max: float
    gamma: float
    norms: FloatArray = field(repr=False)
    bound: FloatArray = field(repr=False)
    worst_ratio: float
    median_ratio: FloatArray = field(repr=False)


def nonlinear_bound(
    activation: str, sigma_max: float, *, T: int = 40, H: int = 8, seed: int = 2013
) -> BoundCheck:
    """Jacobian products of a random network with largest singular value `sigma_max`."""
    gamma = get_activation(activation).gamma
    params, _, _, cache = problem(
        T, H=H, kind="spectral", activation=activation, seed=seed, sigma_max=sigma_max
    )
    norms = jacobian_products(params, cache).norms[0]
    distance = np.subtract.outer(np.arange(T + 1), np.arange(T + 1)).astype(float)
    bound = np.where(distance >= 0, (gamma * sigma_max) ** np.maximum(distance, 0), 0.0)
    ratio = np.divide(norms, bound, out=np.zeros_like(norms), where=bound > 0)
    t, k = np.tril_indices(T + 1, -1)
    median = np.array([np.median(np.diagonal(ratio, offset=-d)) for d in range(T + 1)])
    return BoundCheck(
        activation=activation,
        sigma_max=float(sigma_max),
        gamma=float(gamma),
        norms=norms,
        bound=bound,
        worst_ratio=float(np.max(ratio[t, k])),
        median_ratio=median,
    )


@dataclass(frozen=True, eq=False)
class Transient:
    """Powers of a matrix: what a linear RNN does to a gradient n steps back.

    Attributes:
        radius: spectral radius (largest |eigenvalue|).
        sigma_max: largest singular value.
        norms: (n_max+1,), ||W^n|| for n = 0..n_max.
        peak, peak_power: the largest ||W^n|| and its n.
        back_below_one: the first n after the peak with ||W^n|| < 1 (-1 if none).
    """

    radius: float
    sigma_max: float
    norms: FloatArray = field(repr=False)
    peak: float
    peak_power: int
    back_below_one: int


def transient_growth(W: Sequence[Sequence[float]] = NONNORMAL_W, n_max: int = 60) -> Transient:
    r"""$\lVert W^n \rVert$ for $n = 0, \dots,$ `n_max`, against what the spectral radius alone
    would say."""
    M = np.asarray(W, dtype=np.float64)
    norms = np.empty(n_max + 1)
    power = np.eye(M.shape[0])
    for n in range(n_max + 1):
        norms[n] = np.linalg.norm(power, 2)
        power = power @ M
    peak_power = int(np.argmax(norms))
    later = np.nonzero(norms[peak_power:] < 1)[0]
    return Transient(
        radius=float(np.max(np.abs(np.linalg.eigvals(M)))),
        sigma_max=float(np.linalg.norm(M, 2)),
        norms=norms,
        peak=float(norms[peak_power]),
        peak_power=peak_power,
        back_below_one=int(later[0]) + peak_power if later.size else -1,
    )
