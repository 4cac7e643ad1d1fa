r"""Parameters of the gated cells (LSTM, GRU): stacked gate blocks, gate views, PyTorch layouts.

Row-vector convention, batch first, as everywhere in `rnnnum`. Each stacked matrix
holds one H-wide column block per gate, in a fixed order:

- LSTM, gates ``i, f, o, g``: ``Wx`` (D, 4H), ``Wh`` (H, 4H), ``b`` (4H,);
- GRU, gates ``r, z, n``: ``Wx`` (D, 3H), ``Wh`` (H, 3H), ``bx`` (3H,), ``bh`` (3H,);

plus the vanilla read-out ``Wyh`` (H, V), ``by`` (V,). Per-gate views such as
``params.Wxf`` (D, H) or ``params.bhn`` (H,) are read-only slices of the stacked arrays.

PyTorch stores the transposes, in its own gate order: ``nn.LSTM.weight_ih_l0`` is
(4H, D) with blocks ``i, f, g, o`` and two biases that only ever appear as their sum;
``nn.GRU.weight_ih_l0`` is (3H, D) with blocks ``r, z, n`` and two biases that stay
separate (``b_hn`` sits inside the reset product). `LSTMParams.from_torch` and
`GRUParams.from_torch` read that layout from plain arrays; ``to_torch`` writes it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, overload

import numpy as np

from rnnnum._checks import FloatArray, describe, real_array
from rnnnum.errors import ShapeError, UnknownChoiceError

__all__ = [
    "GRU_GATES",
    "LSTM_GATES",
    "RESETS",
    "TORCH_LSTM_GATES",
    "GRUParams",
    "LSTMParams",
]

#: The LSTM's gate blocks in the order of the stacked arrays.
LSTM_GATES = ("i", "f", "o", "g")
#: PyTorch's order of the same blocks in ``weight_ih_l0``, ``weight_hh_l0`` and the biases.
TORCH_LSTM_GATES = ("i", "f", "g", "o")
#: The GRU's gate blocks, in the order of the stacked arrays (PyTorch's order too).
GRU_GATES = ("r", "z", "n")
#: Where the GRU applies its reset gate: ``after`` the product h W_hn (PyTorch, cuDNN,
#: Keras' default) or ``before`` it, on h (Cho et al. 2014).
RESETS = ("after", "before")

#: Our block for each of PyTorch's LSTM blocks: ours = torch[_TORCH_TO_OURS].
_TORCH_TO_OURS = [TORCH_LSTM_GATES.index(g) for g in LSTM_GATES]
_OURS_TO_TORCH = [LSTM_GATES.index(g) for g in TORCH_LSTM_GATES]


class _GateView:
    """A read-only view of one gate's block of a stacked array, e.g. ``Wxf = Wx[:, H:2H]``."""

    def __init__(self, stacked: str, gate: int) -> None:
        self.stacked, self.gate = stacked, gate

    @overload
    def __get__(self, obj: None, owner: type) -> _GateView: ...
    @overload
    def __get__(self, obj: object, owner: type) -> FloatArray: ...
    def __get__(self, obj: object, owner: type) -> FloatArray | _GateView:
        if obj is None:
            return self
        H = int(getattr(obj, "H"))  # noqa: B009 (a property of the owner)
        arr: FloatArray = getattr(obj, self.stacked)
        return arr[..., self.gate * H : (self.gate + 1) * H]  # a view of a read-only array


def _blocks(arr: FloatArray, order: list[int], H: int, axis: int) -> FloatArray:
    """`arr` with its H-wide blocks along `axis` taken in `order`."""
    idx = np.concatenate([np.arange(k * H, (k + 1) * H) for k in order])
    return np.take(arr, idx, axis=axis)


class _Gated:
    """What both gated parameter sets share: validation, sizes, copies, comparison."""

    #: The stacked layouts by field name, written with the number of gates G.
    param_names: ClassVar[tuple[str, ...]]
    gradient_names: ClassVar[tuple[str, ...]]
    gates: ClassVar[tuple[str, ...]]
    cell: ClassVar[str]
    _torch_order: ClassVar[str]

    Wx: FloatArray
    Wh: FloatArray
    Wyh: FloatArray
    by: FloatArray

    def _validate(self) -> None:
        G = len(self.gates)
        order = ", ".join(self.gates)
        for name in self.param_names:
            ndim = 1 if name.startswith("b") else 2
            arr = real_array(getattr(self, name), name, ndim=ndim, layout=self._layout(name))
            arr = arr.copy()
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        H = self.Wh.shape[0]
        if H < 1 or self.Wh.shape[1] != G * H:
            raise ShapeError(
                f"{self.cell} Wh must have shape (H, {G}H), the {G} gate blocks side by side in "
                f"the order {order}; got Wh.shape = {self.Wh.shape}. PyTorch's weight_hh_l0 is "
                f"the transpose ({G}H, H) in the order {self._torch_order}: use "
                f"{type(self).__name__}.from_torch(...)."
            )
        D, V = self.Wx.shape[0], self.Wyh.shape[1]
        expected = {"Wx": (D, G * H), "Wyh": (H, V), "by": (V,)}
        expected.update({n: (G * H,) for n in self.param_names if n.startswith("b") and n != "by"})
        for name, shape in expected.items():
            got = getattr(self, name).shape
            if got != shape:
                raise ShapeError(
                    f"{self.cell} {name} must have shape {self._layout(name)} = {shape} given "
                    f"Wh.shape = {self.Wh.shape} (H = {H}), with the gate blocks in the order "
                    f"{order}; got {got}. PyTorch stores the transposes in the order "
                    f"{self._torch_order}: use {type(self).__name__}.from_torch(...)."
                )
        if min(D, V) < 1:
            raise ShapeError(f"D and V must be >= 1; got D={D}, V={V}.")

    def _layout(self, name: str) -> str:
        G = len(self.gates)
        return {"Wx": f"(D, {G}H)", "Wh": f"(H, {G}H)", "Wyh": "(H, V)", "by": "(V,)"}.get(
            name, f"({G}H,)"
        )

    @property
    def D(self) -> int:
        """Input size."""
        return int(self.Wx.shape[0])

    @property
    def H(self) -> int:
        """Hidden size (the width of one gate block)."""
        return int(self.Wh.shape[0])

    @property
    def V(self) -> int:
        """Output size."""
        return int(self.Wyh.shape[1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(D={self.D}, H={self.H}, V={self.V}{self._extra()})"

    def _extra(self) -> str:
        return ""

    def as_dict(self) -> dict[str, FloatArray]:
        """The arrays by name, in ``param_names`` order."""
        return {name: getattr(self, name) for name in self.param_names}

    def same_as(self, other: object) -> bool:
        """True if `other` is the same kind of parameters with exactly equal arrays."""
        return (
            type(other) is type(self)
            and isinstance(other, _Gated)
            and self._extra() == other._extra()
            and all(
                a.shape == b.shape and np.array_equal(a, b)
                for a, b in zip(self.as_dict().values(), other.as_dict().values(), strict=True)
            )
        )

    def _replace_kwargs(self, arrays: dict[str, Any], extra: tuple[str, ...]) -> dict[str, Any]:
        unknown = set(arrays) - set(self.param_names) - set(extra)
        if unknown:
            raise TypeError(
                f"replace() takes only {', '.join((*self.param_names, *extra))}; got "
                f"{', '.join(sorted(unknown))}."
            )
        return arrays


@dataclass(frozen=True, eq=False, repr=False)
class LSTMParams(_Gated):
    r"""Weights and biases of an LSTM with the vanilla read-out; arrays stored as float64 copies.

    $$a_t = x_t W_x + h_{t-1} W_h + b = [a^i_t, a^f_t, a^o_t, a^g_t],\quad
    i, f, o = \sigma(a^{i,f,o}_t),\ g = \tanh(a^g_t),$$
    $$c_t = f \odot c_{t-1} + i \odot g,\qquad h_t = o \odot \tanh(c_t),\qquad
    y_t = h_t W_{yh} + b_y .$$

    Args:
        Wx: input weights (D, 4H), gate blocks in the order i, f, o, g.
        Wh: recurrent weights (H, 4H), same order.
        b: bias (4H,), same order (PyTorch's two biases, summed).
        Wyh: read-out (H, V).  by: read-out bias (V,).

    Per-gate read-only views: ``Wxi, Whi, bi, Wxf, Whf, bf, Wxo, Who, bo, Wxg, Whg, bg``.

    Raises:
        ShapeError: a stacked array whose width is not 4H (the message names the layout
            and the gate order), or sizes that disagree on D, H and V.
        DTypeError, NonFiniteError: non-real or non-finite entries.
    """

    param_names: ClassVar[tuple[str, ...]] = ("Wx", "Wh", "b", "Wyh", "by")
    gradient_names: ClassVar[tuple[str, ...]] = (*param_names, "X", "h0", "c0")
    gates: ClassVar[tuple[str, ...]] = LSTM_GATES
    cell: ClassVar[str] = "LSTM"
    _torch_order: ClassVar[str] = ", ".join(TORCH_LSTM_GATES)

    Wx: FloatArray = field(repr=False)
    Wh: FloatArray = field(repr=False)
    b: FloatArray = field(repr=False)
    Wyh: FloatArray = field(repr=False)
    by: FloatArray = field(repr=False)

    Wxi, Whi, bi = _GateView("Wx", 0), _GateView("Wh", 0), _GateView("b", 0)
    Wxf, Whf, bf = _GateView("Wx", 1), _GateView("Wh", 1), _GateView("b", 1)
    Wxo, Who, bo = _GateView("Wx", 2), _GateView("Wh", 2), _GateView("b", 2)
    Wxg, Whg, bg = _GateView("Wx", 3), _GateView("Wh", 3), _GateView("b", 3)

    def __post_init__(self) -> None:
        self._validate()

    def replace(self, **arrays: Any) -> LSTMParams:
        """A copy with some arrays replaced, e.g. ``params.replace(b=params.b + 1)``."""
        return LSTMParams(**{**self.as_dict(), **self._replace_kwargs(arrays, ())})

    @classmethod
    def from_torch(
        cls, weight_ih: Any, weight_hh: Any, bias_ih: Any, bias_hh: Any, Wyh: Any, by: Any
    ) -> LSTMParams:
        """Read ``nn.LSTM``'s arrays: weight_ih (4H, D), weight_hh (4H, H), biases (4H,).

        PyTorch's blocks are in the order i, f, g, o and the two biases enter only as
        their sum, so ``b = bias_ih + bias_hh`` (reordered). `Wyh` (H, V) and `by` (V,)
        are in this package's layout (an ``nn.Linear`` read-out has weight ``Wyh.T``).
        """
        w_ih, w_hh, b_ih, b_hh = _torch_arrays(
            "LSTM", TORCH_LSTM_GATES, weight_ih, weight_hh, bias_ih, bias_hh
        )
        H = w_hh.shape[1]
        return cls(
            Wx=_blocks(w_ih.T, _TORCH_TO_OURS, H, axis=1),
            Wh=_blocks(w_hh.T, _TORCH_TO_OURS, H, axis=1),
            b=_blocks(b_ih + b_hh, _TORCH_TO_OURS, H, axis=0),
            Wyh=Wyh,
            by=by,
        )

    def to_torch(self) -> dict[str, FloatArray]:
        """The arrays in ``nn.LSTM``'s layout, keyed as `from_torch`'s arguments.

        The whole bias goes to ``bias_ih`` and ``bias_hh`` is zero: only their sum is
        defined by the model, and this split makes ``from_torch(**p.to_torch())`` return
        ``p`` exactly (b + 0 = b in floating point).
        """
        H = self.H
        return {
            "weight_ih": _blocks(self.Wx, _OURS_TO_TORCH, H, axis=1).T.copy(),
            "weight_hh": _blocks(self.Wh, _OURS_TO_TORCH, H, axis=1).T.copy(),
            "bias_ih": _blocks(self.b, _OURS_TO_TORCH, H, axis=0),
            "bias_hh": np.zeros(4 * H),
            "Wyh": self.Wyh.copy(),
            "by": self.by.copy(),
        }


@dataclass(frozen=True, eq=False, repr=False)
class GRUParams(_Gated):
    r"""Weights and biases of a GRU with the vanilla read-out; arrays stored as float64 copies.

    $$r_t = \sigma(x_t W_{xr} + b_{xr} + h_{t-1} W_{hr} + b_{hr}),\quad
    z_t = \sigma(x_t W_{xz} + b_{xz} + h_{t-1} W_{hz} + b_{hz}),$$
    $$n_t = \tanh\big(x_t W_{xn} + b_{xn} + r_t \odot (h_{t-1} W_{hn} + b_{hn})\big)
    \quad\text{(reset="after")},$$
    $$n_t = \tanh\big(x_t W_{xn} + b_{xn} + (r_t \odot h_{t-1}) W_{hn} + b_{hn}\big)
    \quad\text{(reset="before")},$$
    $$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.$$

    ``z`` is the gate that *keeps* the old state (z = 1 copies h_{t-1}), as in PyTorch
    and Cho et al. (2014); some texts swap z and 1 - z. ``reset="after"`` is PyTorch's,
    cuDNN's and Keras' default (``reset_after=True``), and the only placement whose
    ``b_hn`` is not redundant with ``b_xn``; ``reset="before"`` is the original of
    Cho et al. (2014). Both are kept so the difference can be measured.

    Args:
        Wx: input weights (D, 3H), gate blocks in the order r, z, n.
        Wh: recurrent weights (H, 3H), same order.
        bx: input-side bias (3H,).  bh: hidden-side bias (3H,).
        Wyh: read-out (H, V).  by: read-out bias (V,).
        reset: ``"after"`` (default) or ``"before"``.

    Per-gate read-only views: ``Wxr, Whr, bxr, bhr, Wxz, Whz, bxz, bhz, Wxn, Whn, bxn, bhn``.
    """

    param_names: ClassVar[tuple[str, ...]] = ("Wx", "Wh", "bx", "bh", "Wyh", "by")
    gradient_names: ClassVar[tuple[str, ...]] = (*param_names, "X", "h0")
    gates: ClassVar[tuple[str, ...]] = GRU_GATES
    cell: ClassVar[str] = "GRU"
    _torch_order: ClassVar[str] = ", ".join(GRU_GATES)

    Wx: FloatArray = field(repr=False)
    Wh: FloatArray = field(repr=False)
    bx: FloatArray = field(repr=False)
    bh: FloatArray = field(repr=False)
    Wyh: FloatArray = field(repr=False)
    by: FloatArray = field(repr=False)
    reset: str = "after"

    Wxr, Whr, bxr, bhr = (_GateView(n, 0) for n in ("Wx", "Wh", "bx", "bh"))
    Wxz, Whz, bxz, bhz = (_GateView(n, 1) for n in ("Wx", "Wh", "bx", "bh"))
    Wxn, Whn, bxn, bhn = (_GateView(n, 2) for n in ("Wx", "Wh", "bx", "bh"))

    def __post_init__(self) -> None:
        if not isinstance(self.reset, str) or self.reset not in RESETS:
            raise UnknownChoiceError(
                f"reset must be 'after' (PyTorch, cuDNN: n = tanh(x W_xn + b_xn + r * (h W_hn "
                f"+ b_hn))) or 'before' (Cho et al. 2014: n = tanh(x W_xn + b_xn + (r * h) W_hn "
                f"+ b_hn)); got {describe(self.reset)}."
            )
        self._validate()

    def _extra(self) -> str:
        return f", reset={self.reset!r}"

    def replace(self, **arrays: Any) -> GRUParams:
        """A copy with some arrays (or ``reset``) replaced."""
        kwargs = self._replace_kwargs(arrays, ("reset",))
        return GRUParams(**{**self.as_dict(), "reset": self.reset, **kwargs})

    @classmethod
    def from_torch(
        cls,
        weight_ih: Any,
        weight_hh: Any,
        bias_ih: Any,
        bias_hh: Any,
        Wyh: Any,
        by: Any,
        reset: str = "after",
    ) -> GRUParams:
        """Read ``nn.GRU``'s arrays: weight_ih (3H, D), weight_hh (3H, H), biases (3H,), in r, z, n.

        PyTorch places the reset gate after the product (``reset="after"``); its two
        biases stay separate. `Wyh` (H, V) and `by` (V,) are in this package's layout.
        """
        w_ih, w_hh, b_ih, b_hh = _torch_arrays(
            "GRU", GRU_GATES, weight_ih, weight_hh, bias_ih, bias_hh
        )
        return cls(Wx=w_ih.T, Wh=w_hh.T, bx=b_ih, bh=b_hh, Wyh=Wyh, by=by, reset=reset)

    def to_torch(self) -> dict[str, Any]:
        """The arrays in ``nn.GRU``'s layout, keyed as `from_torch`'s arguments (with ``reset``)."""
        return {
            "weight_ih": self.Wx.T.copy(),
            "weight_hh": self.Wh.T.copy(),
            "bias_ih": self.bx.copy(),
            "bias_hh": self.bh.copy(),
            "Wyh": self.Wyh.copy(),
            "by": self.by.copy(),
            "reset": self.reset,
        }


def _torch_arrays(
    cell: str, order: tuple[str, ...], w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Check PyTorch's stacked layout: weight_ih (GH, D), weight_hh (GH, H), biases (GH,)."""
    G, gates = len(order), ", ".join(order)
    w_ih = real_array(w_ih, "weight_ih", ndim=2, layout=f"({G}H, D)")
    w_hh = real_array(w_hh, "weight_hh", ndim=2, layout=f"({G}H, H)")
    b_ih = real_array(b_ih, "bias_ih", ndim=1, layout=f"({G}H,)")
    b_hh = real_array(b_hh, "bias_hh", ndim=1, layout=f"({G}H,)")
    H = w_hh.shape[1]
    for name, arr, want in (
        ("weight_hh", w_hh, (G * H, H)),
        ("weight_ih", w_ih, (G * H, w_ih.shape[1])),
        ("bias_ih", b_ih, (G * H,)),
        ("bias_hh", b_hh, (G * H,)),
    ):
        if arr.shape != want:
            raise ShapeError(
                f"PyTorch's {cell} {name} must have shape {want} (H = {H} from weight_hh's "
                f"columns; {G} gate blocks stacked along the first axis in PyTorch's order "
                f"{gates}); got {arr.shape}. Pass the arrays of a single-layer, "
                "unidirectional nn." + cell + " (weight_ih_l0, weight_hh_l0, bias_ih_l0, "
                "bias_hh_l0)."
            )
    return w_ih, w_hh, b_ih, b_hh
