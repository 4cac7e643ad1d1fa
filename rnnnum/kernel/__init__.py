"""The cells' kernels: one protocol (`protocol.Kernel`: a step forward, a step back, the
parameter gradients, the step Jacobians), one implementation per cell (`vanilla` with the
residual form as an option, `lstm`, `gru`) and one registry keyed by parameter type
(`registry.kernel_for`), the only place that tells the cells apart.
"""

from rnnnum.kernel.protocol import Kernel, Signals, StepSignals
from rnnnum.kernel.registry import KERNELS, kernel_for

__all__ = ["KERNELS", "Kernel", "Signals", "StepSignals", "kernel_for"]
