"""The tuned memory-horizon protocol's settings: its networks, tasks, lags, seeds, budget.

The first stage of `rnnnum.horizon_tuned` (whose docstring describes the protocol):
what is run, and `Record`, what one run gives. `settings` is the protocol as the
results file records it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from rnnnum.cells import Cell
from rnnnum.gated_cells import GRUCell, LSTMCell
from rnnnum.horizon import VARIANTS
from rnnnum.tasks import RecallTask, SelectiveRecallTask
from rnnnum.training import Task, TrainConfig

__all__ = [
    "BOUNDARY_FACTOR",
    "BOUNDARY_SEEDS",
    "CONFIG",
    "LAGS",
    "LEARNING",
    "L_MAX",
    "MATCHED",
    "NETWORKS",
    "PILOT_LAGS",
    "PILOT_SEED",
    "PILOT_SETTINGS",
    "PILOT_STEPS",
    "SEEDS",
    "SOLVED",
    "TASKS",
    "TEST_SIZE",
    "Job",
    "Network",
    "Record",
    "settings",
]

#: The lags, shortest first; 400 is the end of the grid (see the module's note on cost).
LAGS = (10, 30, 100, 200, 400)
#: T_max of the chrono starts: the longest lag the grid asks for.
L_MAX = LAGS[-1]
#: Reported seeds per task: five on the latch, three on the costlier selective task.
SEEDS = {"latch": (0, 1, 2, 3, 4), "selective": (0, 1, 2)}
#: A lag is solved when test accuracy reaches this (chance is 1/4).
SOLVED = 0.9
#: Training for every network: batches of 32, at most 4000 steps (128,000 sequences),
#: gradient clipped at norm 1, early stop at 0.99 on 1000 validation sequences.
CONFIG = TrainConfig(steps=4000, eval_every=100, stop_accuracy=0.99)
#: Test sequences per run, drawn apart from the validation set.
TEST_SIZE = 1000
#: The boundary lag is rerun with this many times the budget.
BOUNDARY_FACTOR = 2
#: Seeds of the boundary reruns (the first of each task's seeds): one, for cost: a rerun
#: at twice the budget of a lag that fails takes the whole budget, up to 10 CPU minutes.
BOUNDARY_SEEDS = 1
#: The pilot: two lags, one seed that is never reported, a log grid of rates per optimiser.
#: At L = 30 most settings solve the latch by the first evaluation and cannot be told
#: apart; at L = 100 some networks learn nothing with any setting, and their accuracies
#: differ only by noise. `choose` reads L = 100 first and falls back on L = 30.
PILOT_LAGS = (30, 100)
#: Validation accuracy above this is learning, not noise: chance (1/4) plus three binomial
#: standard errors at chance over 1000 sequences (0.014 each), rounded up.
LEARNING = 0.3
PILOT_SEED = 100
PILOT_STEPS = 2000
RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
PILOT_SETTINGS = tuple((opt, rate) for opt in ("sgd", "adam") for rate in RATES)

#: The two tasks, by the lag: 4 symbols; the latch has 4 distractors, selective recall
#: a window of 10 steps for the flag.
TASKS: dict[str, Callable[[int], Task]] = {
    "latch": lambda lag: RecallTask(lag, 4, 4),
    "selective": lambda lag: SelectiveRecallTask(lag, 4, 10),
}


@dataclass(frozen=True)
class Network:
    """A network to train: a label for the page, its cell, its hidden size, its start."""

    label: str
    cell: Callable[[], Cell[Any]]
    start: str
    hidden: int = 32


_VANILLA_STARTS = {
    "normal-tanh": "W ~ N(0, 0.01²): the classic small start",
    "xavier-tanh": "Xavier (Glorot) uniform",
    "orthogonal-tanh": "random orthogonal W_hh",
    "irnn-relu": "identity W_hh, zero bias (Le et al. 2015)",
    "residual-tanh": "small N(0, 0.01²) weights and the identity path",
}
NETWORKS: dict[str, Network] = {
    **{k: Network(v.label, v.cell, _VANILLA_STARTS[k]) for k, v in VARIANTS.items()},
    "lstm-f1": Network(
        "LSTM, forget-gate bias 1",
        lambda: LSTMCell("orthogonal", 1.0),
        "orthogonal blocks, b_f = 1 (Gers et al. 2000)",
    ),
    "lstm-chrono": Network(
        "LSTM, chrono start",
        lambda: LSTMCell("orthogonal", chrono=L_MAX),
        f"orthogonal blocks, b_f ~ log U(1, {L_MAX - 1}), b_i = -b_f (Tallec and Ollivier 2018)",
    ),
    "gru": Network(
        "GRU, zero biases",
        lambda: GRUCell("orthogonal", "after"),
        "orthogonal blocks, zero biases (PyTorch's default placement)",
    ),
    "gru-chrono": Network(
        "GRU, chrono start",
        lambda: GRUCell("orthogonal", "after", chrono=L_MAX),
        f"orthogonal blocks, b_z ~ log U(1, {L_MAX - 1}) (Tallec and Ollivier 2018)",
    ),
}
#: The parameter-matched check: about 4,600 parameters each (H = 32 for the LSTM is
#: the grid's own). Each takes the start and setting of its family's network named here.
MATCHED: dict[str, tuple[str, int]] = {
    "vanilla-64": ("irnn-relu", 64),
    "gru-37": ("gru-chrono", 37),
}


@dataclass(frozen=True)
class Record:
    """One training run of the protocol.

    ``kind`` is ``pilot``, ``grid``, ``boundary`` or ``matched``. ``accuracy`` is test
    accuracy (validation accuracy for the pilot, which has no test set); ``to_solved``
    the sequences seen when validation accuracy first reached `SOLVED` (None: never).
    """

    kind: str
    task: str
    network: str
    lag: int
    seed: int
    optimiser: str
    learning_rate: float
    budget: int
    accuracy: float
    validation: float
    steps: int
    to_solved: int | None
    readout_fit: float | None
    readout_only: float | None
    diverged: bool
    seconds: float

    @property
    def key(self) -> str:
        return (
            f"{self.kind}|{self.task}|{self.network}|{self.lag}|{self.seed}|"
            f"{self.optimiser}|{self.learning_rate}|{self.budget}"
        )


Job = tuple[str, str, str, int, int, str, float, int]  # the fields of Record.key


def settings() -> dict[str, Any]:
    """The protocol as recorded in the results file."""
    return {
        "protocol": "tuned",
        "tasks": {
            "latch": asdict(RecallTask(1, 4, 4)) | {"lag": None},
            "selective": asdict(SelectiveRecallTask(1, 4, 10)) | {"lag": None},
        },
        "networks": {
            k: {"label": n.label, "start": n.start, "hidden": n.hidden} for k, n in NETWORKS.items()
        },
        "matched": {k: {"like": b, "hidden": h} for k, (b, h) in MATCHED.items()},
        "train": asdict(CONFIG),
        "test_size": TEST_SIZE,
        "lags": list(LAGS),
        "l_max": L_MAX,
        "seeds": {k: list(v) for k, v in SEEDS.items()},
        "solved": SOLVED,
        "pilot": {
            "lags": list(PILOT_LAGS),
            "seed": PILOT_SEED,
            "steps": PILOT_STEPS,
            "settings": [list(s) for s in PILOT_SETTINGS],
        },
        "boundary": {"factor": BOUNDARY_FACTOR, "seeds": BOUNDARY_SEEDS},
    }
