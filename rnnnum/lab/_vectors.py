"""Gradients as one vector, and the angle between two of them (shared by the lab modules)."""

from __future__ import annotations

import numpy as np

from rnnnum._checks import FloatArray
from rnnnum.bptt import Gradients
from rnnnum.params import PARAM_NAMES


def flat(grads: Gradients) -> FloatArray:
    """All five parameter gradients, concatenated in `PARAM_NAMES` order."""
    return np.concatenate([getattr(grads, n).ravel() for n in PARAM_NAMES])


def cosine(a: FloatArray, b: FloatArray) -> float:
    """cos of the angle between `a` and `b`."""
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
