"""rnnnum.tasks: the recall task's sequences and its checks of bad sizes."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum


def test_recall_task_puts_the_answer_first_and_only_distractors_after(rng):
    task = rnnnum.RecallTask(7, symbols=3, distractors=5)
    X, answers = task.sample(50, rng)
    assert X.shape == (50, 8, 8) and task.T == 8 and task.chance == pytest.approx(1 / 3)
    np.testing.assert_array_equal(X.sum(axis=2), 1.0)  # one-hot everywhere
    np.testing.assert_array_equal(X[:, 0].argmax(axis=1), answers)
    assert (X[:, 1:].argmax(axis=2) >= 3).all()  # distractors come after the symbols
    assert set(answers.tolist()) == {0, 1, 2}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lag": 0}, "lag must be an integer >= 1; got 0"),
        ({"lag": 3, "symbols": 1}, "symbols must be an integer >= 2; got 1"),
        ({"lag": 2.5}, "lag must be an integer >= 1; got float 2.5"),
    ],
)
def test_recall_task_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError if "float" not in message else TypeError, match=message):
        rnnnum.RecallTask(**kwargs)
