r"""The parameters of a vanilla RNN, row-vector convention.

$$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\qquad h_t = f(a_t),\qquad y_t = h_t W_{yh} + b_y$$

Shapes: ``Wxh`` (D, H), ``Whh`` (H, H), ``Wyh`` (H, V), ``bh`` (H,), ``by`` (V,).
One set of weights serves every time step (weight sharing), so a model of any
length T has exactly these five arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from rnnnum._checks import FloatArray, real_array
from rnnnum.errors import ShapeError

__all__ = ["GRADIENT_NAMES", "PARAM_NAMES", "RNNParams"]

#: The trainable parameters, in the order used everywhere (pages, CLI, tables).
PARAM_NAMES: tuple[str, ...] = ("Wxh", "Whh", "Wyh", "bh", "by")
#: Everything `rnnnum.bptt` differentiates: the parameters, the inputs and the initial state.
GRADIENT_NAMES: tuple[str, ...] = (*PARAM_NAMES, "X", "h0")

_LAYOUT = {"Wxh": "(D, H)", "Whh": "(H, H)", "Wyh": "(H, V)", "bh": "(H,)", "by": "(V,)"}


@dataclass(frozen=True, eq=False)
class RNNParams:
    """Weights and biases of a vanilla RNN; arrays are stored as float64 copies.

    Args:
        Wxh: input-to-hidden weights, shape (D, H).
        Whh: hidden-to-hidden (recurrent) weights, shape (H, H).
        Wyh: hidden-to-output weights, shape (H, V).
        bh: hidden bias, shape (H,).
        by: output bias, shape (V,).

    Raises:
        ShapeError: if the five shapes do not agree on D, H and V.
        DTypeError, NonFiniteError: for non-real or non-finite entries.
    """

    #: The arrays of this kind of parameters, and everything `rnnnum.bptt` differentiates.
    param_names: ClassVar[tuple[str, ...]] = PARAM_NAMES
    gradient_names: ClassVar[tuple[str, ...]] = GRADIENT_NAMES
    cell: ClassVar[str] = "vanilla"

    Wxh: FloatArray = field(repr=False)
    Whh: FloatArray = field(repr=False)
    Wyh: FloatArray = field(repr=False)
    bh: FloatArray = field(repr=False)
    by: FloatArray = field(repr=False)

    def __post_init__(self) -> None:
        for name in PARAM_NAMES:
            layout = _LAYOUT[name]
            ndim = 1 if name.startswith("b") else 2
            arr = real_array(getattr(self, name), name, ndim=ndim, layout=layout).copy()
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        D, H = self.Wxh.shape
        V = self.Wyh.shape[1]
        expected = {"Wxh": (D, H), "Whh": (H, H), "Wyh": (H, V), "bh": (H,), "by": (V,)}
        for name, shape in expected.items():
            got = getattr(self, name).shape
            if got != shape:
                raise ShapeError(
                    f"{name} must have shape {_LAYOUT[name]} = {shape} given Wxh.shape = "
                    f"{self.Wxh.shape} and Wyh.shape = {self.Wyh.shape}; got {got}. "
                    "Make all five arrays agree on D (inputs), H (hidden units) and V (outputs)."
                )
        if min(D, H, V) < 1:
            raise ShapeError(f"D, H and V must all be >= 1; got D={D}, H={H}, V={V}.")

    @property
    def D(self) -> int:
        """Input size."""
        return int(self.Wxh.shape[0])

    @property
    def H(self) -> int:
        """Hidden size."""
        return int(self.Wxh.shape[1])

    @property
    def V(self) -> int:
        """Output size (vocabulary size for cross-entropy)."""
        return int(self.Wyh.shape[1])

    def __repr__(self) -> str:
        return f"RNNParams(D={self.D}, H={self.H}, V={self.V})"

    def as_dict(self) -> dict[str, FloatArray]:
        """The five arrays by name, in `PARAM_NAMES` order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def replace(self, **arrays: Any) -> RNNParams:
        """A copy with some arrays replaced, e.g. ``params.replace(Whh=2 * params.Whh)``."""
        unknown = set(arrays) - set(PARAM_NAMES)
        if unknown:
            raise TypeError(
                f"replace() takes only {', '.join(PARAM_NAMES)}; got {', '.join(sorted(unknown))}."
            )
        return RNNParams(**{**self.as_dict(), **arrays})

    def same_as(self, other: RNNParams) -> bool:
        """True if every array of `other` equals this one's exactly (same shapes, same values)."""
        return all(
            a.shape == b.shape and np.array_equal(a, b)
            for a, b in zip(self.as_dict().values(), other.as_dict().values(), strict=True)
        )
