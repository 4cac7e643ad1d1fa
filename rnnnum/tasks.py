r"""Synthetic tasks whose answer depends on an input a known number of steps back.

`RecallTask`: the first input is one of K *symbols*; then come L *distractors*
drawn from a separate alphabet of M; after the last distractor the network must
name the first symbol. The sequence has T = L + 1 steps and the only loss reads
$h_T$, so every bit of the answer has to travel L steps through the recurrence,
and its gradient has to travel L steps back. Guessing is right with probability 1/K.
The symbol to keep always comes first and nothing after it looks like a symbol, so
a network whose state holds its first input long enough solves it: a *latch*.

`SelectiveRecallTask`: a symbol from the one alphabet of K at every step, and a
marker channel that flags one of the first W steps, at random; at the end the network
must name the flagged symbol, which lies at least L steps back. Every later symbol
looks like the one to keep, so the network must decide what to write into its state
and then keep it from being overwritten: the selective writing that gates are for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnnum._checks import FloatArray, IntArray, positive_int
from rnnnum.errors import DTypeError

__all__ = ["RecallTask", "SelectiveRecallTask"]


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
        n = _sample_size(n, rng)
        answers = rng.integers(0, self.symbols, size=n)
        codes = np.empty((n, self.T), dtype=np.int64)
        codes[:, 0] = answers
        codes[:, 1:] = self.symbols + rng.integers(0, self.distractors, size=(n, self.lag))
        X = np.zeros((n, self.T, self.D))
        np.put_along_axis(X, codes[..., None], 1.0, axis=-1)
        return X, answers


def _sample_size(n: int, rng: np.random.Generator) -> int:
    n = positive_int(n, "n")
    if not isinstance(rng, np.random.Generator):
        raise DTypeError(
            f"rng must be a numpy.random.Generator; got {type(rng).__name__}. "
            "Create one with numpy.random.default_rng(seed)."
        )
    return n


@dataclass(frozen=True)
class SelectiveRecallTask:
    """Name the symbol flagged among the first W steps, at least L steps before the end.

    Args:
        lag: L, the fewest steps between the flagged symbol and the answer (>= 1).
        symbols: K, the one alphabet (>= 2); chance accuracy is 1/K.
        window: W, the steps where the flag may stand (>= 1).

    The sequence has T = W + L steps; the flag stands at step p, uniform in 1..W, so the
    answer lies T - p, between L and W + L - 1, steps back. Inputs have D = K + 1
    features: the symbol one-hot, then the marker (1 at step p, 0 elsewhere).
    """

    lag: int
    symbols: int = 4
    window: int = 10

    def __post_init__(self) -> None:
        positive_int(self.lag, "lag")
        positive_int(self.symbols, "symbols", minimum=2)
        positive_int(self.window, "window")

    @property
    def D(self) -> int:
        """Input features, K + 1."""
        return self.symbols + 1

    @property
    def T(self) -> int:
        """Sequence length, W + L."""
        return self.window + self.lag

    @property
    def chance(self) -> float:
        """Accuracy of guessing, 1/K."""
        return 1.0 / self.symbols

    def sample(self, n: int, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
        """`n` sequences: inputs (n, W+L, K+1), and the answers (n,) in 0..K-1."""
        n = _sample_size(n, rng)
        codes = rng.integers(0, self.symbols, size=(n, self.T))
        flagged = rng.integers(0, self.window, size=n)
        X = np.zeros((n, self.T, self.D))
        np.put_along_axis(X, codes[..., None], 1.0, axis=-1)
        X[np.arange(n), flagged, self.symbols] = 1.0
        return X, codes[np.arange(n), flagged]
