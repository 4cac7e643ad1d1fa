r"""Synthetic tasks whose answer depends on an input a known number of steps back.

`RecallTask`: the first input is one of K *symbols*; then come L *distractors*
drawn from a separate alphabet of M; after the last distractor the network must
name the first symbol. The sequence has T = L + 1 steps and the only loss reads
$h_T$, so every bit of the answer has to travel L steps through the recurrence,
and its gradient has to travel L steps back. Guessing is right with probability 1/K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnnum._checks import FloatArray, IntArray, positive_int
from rnnnum.errors import DTypeError

__all__ = ["RecallTask"]


@dataclass(frozen=True)
class RecallTask:
    """Recall the first of L + 1 one-hot inputs, after L distractors.

    Args:
        lag: L, the number of distractors between the symbol and the answer (>= 1).
        symbols: K, how many symbols can be asked for (>= 2); chance accuracy is 1/K.
        distractors: M, the size of the distractor alphabet (>= 1).

    Inputs are one-hot over D = K + M features: symbols first, then distractors.
    """

    lag: int
    symbols: int = 4
    distractors: int = 4

    def __post_init__(self) -> None:
        positive_int(self.lag, "lag")
        positive_int(self.symbols, "symbols", minimum=2)
        positive_int(self.distractors, "distractors")

    @property
    def D(self) -> int:
        """Input features, K + M."""
        return self.symbols + self.distractors

    @property
    def T(self) -> int:
        """Sequence length, L + 1."""
        return self.lag + 1

    @property
    def chance(self) -> float:
        """Accuracy of guessing, 1/K."""
        return 1.0 / self.symbols

    def sample(self, n: int, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
        """`n` sequences: inputs (n, L+1, K+M) one-hot, and the answers (n,) in 0..K-1."""
        n = positive_int(n, "n")
        if not isinstance(rng, np.random.Generator):
            raise DTypeError(
                f"rng must be a numpy.random.Generator; got {type(rng).__name__}. "
                "Create one with numpy.random.default_rng(seed)."
            )
        answers = rng.integers(0, self.symbols, size=n)
        codes = np.empty((n, self.T), dtype=np.int64)
        codes[:, 0] = answers
        codes[:, 1:] = self.symbols + rng.integers(0, self.distractors, size=(n, self.lag))
        X = np.zeros((n, self.T, self.D))
        np.put_along_axis(X, codes[..., None], 1.0, axis=-1)
        return X, answers
