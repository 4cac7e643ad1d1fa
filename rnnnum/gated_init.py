"""Initialisers of the gated cells: each gate block drawn on its own, from a Generator.

Every block of ``Wx`` is Glorot (Xavier) uniform with fan-in D and fan-out H; every
block of ``Wh`` is Glorot (``scheme="xavier"``) or a random orthogonal H x H matrix
(``scheme="orthogonal"``): drawn per gate, so each gate's recurrent map has the
scale of a vanilla W_hh rather than a quarter of it. Biases start at zero, except
the LSTM's forget-gate bias when `forget_bias` is given: b_f = 1 makes f = sigma(1)
~ 0.73 at the start, so the cell state is kept rather than halved at every step
(Gers, Schmidhuber and Cummins 2000; Jozefowicz, Zaremba and Sutskever 2015).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnnum._checks import FloatArray, choice, describe, positive_int
from rnnnum.errors import DTypeError, NonFiniteError
from rnnnum.gated_params import GRU_GATES, LSTM_GATES, GRUParams, LSTMParams
from rnnnum.init import _check_rng, _glorot, _sizes, orthogonal_matrix

__all__ = ["GATED_INITS", "chrono_bias", "init_gru", "init_lstm"]

#: How the recurrent blocks are drawn.
GATED_INITS = ("xavier", "orthogonal")


def _stacked(
    D: int, H: int, gates: int, scheme: str, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Wx (D, G H) and Wh (H, G H), one independently drawn block per gate."""
    scheme = choice(scheme, "scheme", GATED_INITS)
    Wx = np.concatenate([_glorot(D, H, rng, "uniform") for _ in range(gates)], axis=1)
    if scheme == "xavier":
        blocks = [_glorot(H, H, rng, "uniform") for _ in range(gates)]
    else:
        blocks = [orthogonal_matrix(H, rng) for _ in range(gates)]
    return Wx, np.concatenate(blocks, axis=1)


def chrono_bias(H: int, longest: int, rng: np.random.Generator) -> FloatArray:
    r"""The chrono start (Tallec and Ollivier 2018): $b = \log u$, $u \sim U(1, T_{max} - 1)$, (H,).

    A gate $\sigma(b)$ that keeps the old state keeps it for about $1 + e^{b} = u$ steps,
    so the units start with time constants spread evenly between 1 and `longest`
    ($T_{max}$, the longest dependency expected), instead of all near 2 (b = 0).
    """
    H = positive_int(H, "H")
    longest = positive_int(longest, "longest", minimum=3)
    return np.log(rng.uniform(1.0, longest - 1.0, size=H))


def lstm_arrays(
    D: int,
    H: int,
    rng: np.random.Generator,
    scheme: str,
    forget_bias: float,
    chrono: int | None = None,
) -> dict[str, FloatArray]:
    """The LSTM cell's own arrays ``Wx`` (D, 4H), ``Wh`` (H, 4H), ``b`` (4H,), b_f = forget_bias.

    With `chrono` ($T_{max}$) the chrono start replaces `forget_bias`:
    b_f = `chrono_bias` and b_i = -b_f (Tallec and Ollivier 2018).
    """
    forget_bias = real_number(forget_bias, "forget_bias")
    Wx, Wh = _stacked(D, H, len(LSTM_GATES), scheme, rng)
    b = np.zeros(4 * H)
    f, i = LSTM_GATES.index("f"), LSTM_GATES.index("i")
    b[f * H : (f + 1) * H] = forget_bias if chrono is None else chrono_bias(H, chrono, rng)
    if chrono is not None:
        b[i * H : (i + 1) * H] = -b[f * H : (f + 1) * H]
    return {"Wx": Wx, "Wh": Wh, "b": b}


def gru_arrays(
    D: int, H: int, rng: np.random.Generator, scheme: str, chrono: int | None = None
) -> dict[str, FloatArray]:
    """The GRU cell's own arrays ``Wx`` (D, 3H), ``Wh`` (H, 3H), ``bx``, ``bh`` (3H,) = 0.

    With `chrono` ($T_{max}$) the update gate's input-side bias starts at `chrono_bias`:
    positive, because z = 1 keeps the old state in this GRU (`rnnnum.gru`).
    """
    Wx, Wh = _stacked(D, H, len(GRU_GATES), scheme, rng)
    bx = np.zeros(3 * H)
    if chrono is not None:
        z = GRU_GATES.index("z")
        bx[z * H : (z + 1) * H] = chrono_bias(H, chrono, rng)
    return {"Wx": Wx, "Wh": Wh, "bx": bx, "bh": np.zeros(3 * H)}


def real_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DTypeError(f"{name} must be a real number; got {describe(value)}.")
    if not np.isfinite(value):
        raise NonFiniteError(f"{name} must be finite; got {value!r}. Use 1.0 for the usual remedy.")
    return float(value)


def init_lstm(
    D: int,
    H: int,
    V: int,
    rng: np.random.Generator,
    *,
    scheme: str = "xavier",
    forget_bias: float = 0.0,
) -> LSTMParams:
    """An LSTM: Glorot input blocks, `scheme` recurrent blocks, b_f = `forget_bias`, others 0."""
    D, H, V = _sizes(D, H, V)
    cell = lstm_arrays(D, H, _check_rng(rng), scheme, forget_bias)
    return LSTMParams(**cell, Wyh=_glorot(H, V, rng, "uniform"), by=np.zeros(V))


def init_gru(
    D: int,
    H: int,
    V: int,
    rng: np.random.Generator,
    *,
    scheme: str = "xavier",
    reset: str = "after",
) -> GRUParams:
    """A GRU: Glorot input blocks, `scheme` recurrent blocks, zero biases, the given `reset`."""
    D, H, V = _sizes(D, H, V)
    cell = gru_arrays(D, H, _check_rng(rng), scheme)
    return GRUParams(**cell, Wyh=_glorot(H, V, rng, "uniform"), by=np.zeros(V), reset=reset)
