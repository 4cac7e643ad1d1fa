r"""The gated cells' records: what `rnnnum.forward` keeps and `rnnnum.bptt` returns.

$$y_t = h_t W_{yh} + b_y,\qquad L = \sum_t L_t(y_t)$$

on top of `rnnnum.lstm` or `rnnnum.gru` (run through their kernels, `rnnnum.kernel`);
the caches and gradients carry each cell's own names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from rnnnum._checks import FloatArray
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.gru import GRUTape
from rnnnum.lstm import LSTMTape

__all__ = ["GRUCache", "GRUGradients", "LSTMCache", "LSTMGradients"]


@dataclass(frozen=True, eq=False)
class _GatedCache:
    """Everything the forward pass of a gated cell computed; batch first, step t at index t-1
    (laid out step after step in memory, as `rnnnum.ForwardCache` says)."""

    X: FloatArray = field(repr=False)
    targets: NDArray[Any] = field(repr=False)
    h0: FloatArray = field(repr=False)
    loss_name: str
    y: FloatArray = field(repr=False)
    p: FloatArray | None = field(repr=False)
    losses: FloatArray = field(repr=False)
    loss: float

    @property
    def N(self) -> int:
        """Batch size."""
        return int(self.X.shape[0])

    @property
    def T(self) -> int:
        """Sequence length."""
        return int(self.X.shape[1])


@dataclass(frozen=True, eq=False)
class LSTMCache(_GatedCache):
    """The LSTM's forward pass, kept for `rnnnum.bptt` and the components.

    Attributes:
        params, X (N, T, D), targets, h0 (N, H), c0 (N, H), loss_name.
        tape: the `rnnnum.lstm.LSTMTape` (states and gates).
        y (N, T, V), p (N, T, V) for cross-entropy else None, losses (T,), loss.

    Properties ``h`` and ``c`` (N, T, H) hold h_1..h_T and c_1..c_T; ``i``, ``f``,
    ``o``, ``g`` (N, T, H) the gates of every step.
    """

    params: LSTMParams = field(repr=False, kw_only=True)
    c0: FloatArray = field(repr=False, kw_only=True)
    tape: LSTMTape = field(repr=False, kw_only=True)

    h = property(lambda self: self.tape.h[:, 1:], doc="h_1..h_T, (N, T, H).")
    h_prev = property(lambda self: self.tape.h[:, :-1], doc="h_0..h_{T-1}, (N, T, H).")
    c = property(lambda self: self.tape.c[:, 1:], doc="c_1..c_T, (N, T, H).")
    i = property(lambda self: self.tape.gate("i"), doc="input gate, (N, T, H).")
    f = property(lambda self: self.tape.gate("f"), doc="forget gate, (N, T, H).")
    o = property(lambda self: self.tape.gate("o"), doc="output gate, (N, T, H).")
    g = property(lambda self: self.tape.gate("g"), doc="candidate, (N, T, H).")


@dataclass(frozen=True, eq=False)
class GRUCache(_GatedCache):
    """The GRU's forward pass, kept for `rnnnum.bptt` and the components.

    Attributes:
        params, X (N, T, D), targets, h0 (N, H), loss_name.
        tape: the `rnnnum.gru.GRUTape` (states, gates, the hidden side of n).
        y (N, T, V), p (N, T, V) for cross-entropy else None, losses (T,), loss.

    Properties ``h`` (N, T, H) holds h_1..h_T; ``r``, ``z``, ``n`` (N, T, H) the gates.
    """

    params: GRUParams = field(repr=False, kw_only=True)
    tape: GRUTape = field(repr=False, kw_only=True)

    h = property(lambda self: self.tape.h[:, 1:], doc="h_1..h_T, (N, T, H).")
    h_prev = property(lambda self: self.tape.h[:, :-1], doc="h_0..h_{T-1}, (N, T, H).")
    r = property(lambda self: self.tape.gate("r"), doc="reset gate, (N, T, H).")
    z = property(lambda self: self.tape.gate("z"), doc="update gate (keeps h_{t-1}), (N, T, H).")
    n = property(lambda self: self.tape.gate("n"), doc="candidate, (N, T, H).")


class _GatedGradients:
    """Shared methods of the gated cells' gradients."""

    names: ClassVar[tuple[str, ...]]
    param_names: ClassVar[tuple[str, ...]]

    def as_dict(self) -> dict[str, FloatArray]:
        """Every array by name: the parameters, then X, h0 (and c0)."""
        return {name: getattr(self, name) for name in self.names}

    def parameters(self) -> dict[str, FloatArray]:
        """The parameter gradients by name (what an optimiser updates)."""
        return {name: getattr(self, name) for name in self.param_names}

    def __repr__(self) -> str:
        norms = ", ".join(f"|{k}|={np.linalg.norm(v):.3g}" for k, v in self.as_dict().items())
        return f"{type(self).__name__}({norms})"


@dataclass(frozen=True, eq=False, repr=False)
class LSTMGradients(_GatedGradients):
    """dL/d(every LSTM quantity): Wx (D, 4H), Wh (H, 4H), b (4H,), Wyh, by, X, h0, c0."""

    names: ClassVar[tuple[str, ...]] = LSTMParams.gradient_names
    param_names: ClassVar[tuple[str, ...]] = LSTMParams.param_names

    Wx: FloatArray
    Wh: FloatArray
    b: FloatArray
    Wyh: FloatArray
    by: FloatArray
    X: FloatArray
    h0: FloatArray
    c0: FloatArray


@dataclass(frozen=True, eq=False, repr=False)
class GRUGradients(_GatedGradients):
    """dL/d(every GRU quantity): Wx (D, 3H), Wh (H, 3H), bx, bh (3H,), Wyh, by, X, h0."""

    names: ClassVar[tuple[str, ...]] = GRUParams.gradient_names
    param_names: ClassVar[tuple[str, ...]] = GRUParams.param_names

    Wx: FloatArray
    Wh: FloatArray
    bx: FloatArray
    bh: FloatArray
    Wyh: FloatArray
    by: FloatArray
    X: FloatArray
    h0: FloatArray
