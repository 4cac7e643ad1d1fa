"""Initialisers: each takes the sizes and a `numpy.random.Generator`, returns `RNNParams`.

Biases start at zero in all of them. Only the recurrent matrix ``Whh`` differs
between the schemes in ways that matter for vanishing and exploding gradients;
``Wxh`` and ``Wyh`` use the Glorot rule except in `init_normal`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from rnnnum._checks import FloatArray, choice, describe, positive_float, positive_int
from rnnnum.errors import DTypeError
from rnnnum.params import RNNParams

__all__ = [
    "INITIALISERS",
    "init_identity",
    "init_normal",
    "init_orthogonal",
    "init_params",
    "init_spectral",
    "init_xavier",
    "orthogonal_matrix",
]

#: Standard deviation of `init_normal`: small, as in the classic char-RNN examples.
DEFAULT_NORMAL_SCALE = 0.01


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise DTypeError(
            f"rng must be a numpy.random.Generator; got {describe(rng)}. "
            "Create one with numpy.random.default_rng(seed)."
        )
    return rng


def _sizes(D: Any, H: Any, V: Any) -> tuple[int, int, int]:
    return positive_int(D, "D"), positive_int(H, "H"), positive_int(V, "V")


def _glorot(fan_in: int, fan_out: int, rng: np.random.Generator, distribution: str) -> FloatArray:
    """Glorot & Bengio (2010): variance 2 / (`fan_in` + `fan_out`)."""
    if distribution == "uniform":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


def _assemble(Wxh: FloatArray, Whh: FloatArray, Wyh: FloatArray) -> RNNParams:
    H, V = Wyh.shape
    return RNNParams(Wxh=Wxh, Whh=Whh, Wyh=Wyh, bh=np.zeros(H), by=np.zeros(V))


def orthogonal_matrix(n: int, rng: np.random.Generator) -> FloatArray:
    """A random orthogonal (n, n) matrix, uniformly (Haar) distributed.

    QR of a Gaussian matrix, with the signs of R's diagonal folded into Q
    (Mezzadri 2007) so the distribution does not depend on QR's sign convention.
    """
    n = positive_int(n, "n")
    q, r = np.linalg.qr(_check_rng(rng).standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def init_normal(
    D: int, H: int, V: int, rng: np.random.Generator, *, scale: float = DEFAULT_NORMAL_SCALE
) -> RNNParams:
    """Every weight drawn from a normal distribution of mean 0 and standard deviation `scale`."""
    D, H, V = _sizes(D, H, V)
    rng, scale = _check_rng(rng), positive_float(scale, "scale")
    return _assemble(
        scale * rng.standard_normal((D, H)),
        scale * rng.standard_normal((H, H)),
        scale * rng.standard_normal((H, V)),
    )


def init_xavier(
    D: int,
    H: int,
    V: int,
    rng: np.random.Generator,
    *,
    distribution: Literal["uniform", "normal"] = "uniform",
) -> RNNParams:
    r"""Glorot/Xavier for all three weight matrices: variance $2 / (n_\text{in} + n_\text{out})$.

    $n_\text{in}$ and $n_\text{out}$ are a matrix's rows and columns.
    """
    D, H, V = _sizes(D, H, V)
    rng = _check_rng(rng)
    distribution = choice(distribution, "distribution", ("uniform", "normal"))  # type: ignore[assignment]
    return _assemble(
        _glorot(D, H, rng, distribution),
        _glorot(H, H, rng, distribution),
        _glorot(H, V, rng, distribution),
    )


def init_orthogonal(
    D: int, H: int, V: int, rng: np.random.Generator, *, gain: float = 1.0
) -> RNNParams:
    """``Whh = gain * Q``, Q random orthogonal (all singular values = `gain`); Glorot elsewhere."""
    D, H, V = _sizes(D, H, V)
    rng, gain = _check_rng(rng), positive_float(gain, "gain")
    return _assemble(
        _glorot(D, H, rng, "uniform"),
        gain * orthogonal_matrix(H, rng),
        _glorot(H, V, rng, "uniform"),
    )


def init_identity(
    D: int, H: int, V: int, rng: np.random.Generator, *, gain: float = 1.0
) -> RNNParams:
    """``Whh = gain * I``; Glorot elsewhere. With ReLU this is the IRNN of Le, Jaitly
    and Hinton (2015): at the start every state is carried forward unchanged."""
    D, H, V = _sizes(D, H, V)
    rng, gain = _check_rng(rng), positive_float(gain, "gain")
    return _assemble(_glorot(D, H, rng, "uniform"), gain * np.eye(H), _glorot(H, V, rng, "uniform"))


def init_spectral(
    D: int, H: int, V: int, rng: np.random.Generator, *, sigma_max: float
) -> RNNParams:
    """A Gaussian ``Whh`` rescaled so its largest singular value is `sigma_max`; Glorot elsewhere.

    Unlike `init_orthogonal`, the other singular values stay spread out, so
    `sigma_max` bounds the one-step gain without fixing it in every direction.
    """
    D, H, V = _sizes(D, H, V)
    rng, sigma_max = _check_rng(rng), positive_float(sigma_max, "sigma_max")
    Wxh = _glorot(D, H, rng, "uniform")
    G = rng.standard_normal((H, H))
    Whh = G * (sigma_max / np.linalg.norm(G, ord=2))
    return _assemble(Wxh, Whh, _glorot(H, V, rng, "uniform"))


#: The initialisers by name, for `init_params` and command lines.
INITIALISERS = {
    "normal": init_normal,
    "xavier": init_xavier,
    "orthogonal": init_orthogonal,
    "identity": init_identity,
    "spectral": init_spectral,
}


def init_params(
    kind: str, D: int, H: int, V: int, rng: np.random.Generator, **options: Any
) -> RNNParams:
    """Dispatch by name: ``init_params("spectral", 3, 4, 4, rng, sigma_max=0.9)``."""
    kind = choice(kind, "kind", INITIALISERS)
    initialiser: Any = INITIALISERS[kind]
    return initialiser(D, H, V, rng, **options)
