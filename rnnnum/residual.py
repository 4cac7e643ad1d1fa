r"""The residual-through-time cell: the vanilla step plus a skip from $h_{t-1}$ to $h_t$.

For $t = 1, \dots, T$ (row vectors, batch first; the read-out and the loss are the
vanilla RNN's):

$$a_t = x_t W_{xh} + h_{t-1} W_{hh} + b_h,\quad h_t = h_{t-1} + f(a_t),\quad
y_t = h_t W_{yh} + b_y,\quad L = \sum_{t=1}^{T} L_t(y_t).$$

Local derivatives (one equation each): $\partial h_t/\partial h_{t-1} = I$ (the
skip), $\partial h_t/\partial a_t = \mathrm{diag}(f'(a_t))$,
$\partial a_t/\partial h_{t-1} = W_{hh}$. The one-step Jacobian is total, the sum of
both paths from $h_{t-1}$ to $h_t$ (row convention, the matrix that multiplies a
row vector):

$$\frac{\mathrm{d} h_t}{\mathrm{d} h_{t-1}} = I + W_{hh}\,\mathrm{diag}(f'(a_t)).$$

So the reverse sweep carries the skip as well:
$\mathrm{d}L/\mathrm{d}h_{t-1} = \partial L_{t-1}/\partial y_{t-1}\, W_{yh}^\top
+ \mathrm{d}L/\mathrm{d}h_t + \mathrm{d}L/\mathrm{d}a_t\, W_{hh}^\top$ with
$\mathrm{d}L/\mathrm{d}a_t = \mathrm{d}L/\mathrm{d}h_t \odot f'(a_t)$; the
gradients of the parameters are then the vanilla sums over steps of $x_t^\top$,
$h_{t-1}^\top$ (or 1) times $\mathrm{d}L/\mathrm{d}a_t$.

The cell is an option of the vanilla kernel (`rnnnum.kernel.vanilla`), whose forward
loop and reverse sweep carry the skip as one flag; `rnnnum.forward` with
``residual=True`` records ``cache.residual``, which every later stage follows, and the
training cell ``rnnnum.VanillaCell(residual=True)`` runs the same loops. This module
checks the option.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnnum._checks import describe
from rnnnum.errors import CellMismatchError, DTypeError

__all__ = ["check_residual"]


def check_residual(residual: Any, params: Any) -> bool:
    """`residual` as a bool; only the vanilla cell (`rnnnum.RNNParams`) takes True."""
    if not isinstance(residual, bool | np.bool_):
        raise DTypeError(
            f"residual must be True or False; got {describe(residual)}. Pass residual=True "
            "for the residual cell h_t = h_{t-1} + f(a_t), residual=False for the vanilla one."
        )
    if residual and getattr(params, "cell", None) != "vanilla":
        raise CellMismatchError(
            "residual applies to the vanilla cell only (RNNParams: h_t = h_{t-1} + f(a_t)); "
            f"got residual=True with {type(params).__name__}, whose cell keeps its own state "
            "update. Drop the argument, or pass RNNParams."
        )
    return bool(residual)
