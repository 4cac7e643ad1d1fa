"""The one registry: each kind of parameters and its kernel, the only dispatch on a cell's type.

Every generic stage (`rnnnum.forward`, `rnnnum.bptt`, `rnnnum.components`, the Jacobians,
truncation, the gradient checks) asks `kernel_for` and from then on speaks to the kernel
alone; a new cell is a parameter type, a kernel and one line here.
"""

from __future__ import annotations

from typing import Any

from rnnnum._checks import describe
from rnnnum.errors import DTypeError
from rnnnum.gated_params import GRUParams, LSTMParams
from rnnnum.kernel.gru import GRU
from rnnnum.kernel.lstm import LSTM
from rnnnum.kernel.protocol import Kernel
from rnnnum.kernel.vanilla import VANILLA
from rnnnum.params import RNNParams

__all__ = ["KERNELS", "kernel_for"]

#: Parameter type -> its cell's kernel.
KERNELS: dict[type, Kernel] = {RNNParams: VANILLA, LSTMParams: LSTM, GRUParams: GRU}


def kernel_for(params: Any) -> Kernel:
    """The kernel of `params`' cell; anything else raises `DTypeError`."""
    kernel = KERNELS.get(type(params))
    if kernel is None:
        raise DTypeError(
            f"params must be an RNNParams, LSTMParams or GRUParams; got {describe(params)}. "
            "Build one with rnnnum.init_params(...), rnnnum.init_lstm(...) or rnnnum.init_gru(...)."
        )
    return kernel
