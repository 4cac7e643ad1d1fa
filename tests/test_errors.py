"""Every bad input raises a specific exception that names the rule, the value and a fix."""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum

from problems import make_problem


@pytest.fixture
def problem(rng):
    return make_problem(rng, N=2, T=3, D=3, H=4, V=4)


def _forward(problem, **changes):
    args = {"X": problem.X, "targets": problem.targets, **problem.kwargs, **changes}
    return rnnnum.forward(problem.params, args.pop("X"), args.pop("targets"), **args)


# (changes to the forward call, exception, words the message must contain)
FORWARD_CASES = {
    "X without batch axis": (lambda p: {"X": p.X[0]}, rnnnum.ShapeError, ["3 axes", "X[None]"]),
    "X wrong feature size": (
        lambda p: {"X": np.ones((2, 3, 5))}, rnnnum.ShapeError, ["D = 3", "(2, 3, 5)"],
    ),
    "T = 0": (lambda p: {"X": np.ones((2, 0, 3))}, rnnnum.ShapeError, ["T = 0", "T >= 1"]),
    "N = 0": (lambda p: {"X": np.ones((0, 3, 3))}, rnnnum.ShapeError, ["N >= 1"]),
    "X complex": (lambda p: {"X": p.X + 1j}, rnnnum.DTypeError, ["complex128", "real part"]),
    "X bool": (lambda p: {"X": p.X > 0}, rnnnum.DTypeError, ["dtype bool", "astype"]),
    "X strings": (lambda p: {"X": p.X.astype(str)}, rnnnum.DTypeError, ["real numbers"]),
    "X ragged": (lambda p: {"X": [[[1.0]], [[1.0, 2.0]]]}, rnnnum.DTypeError, ["numpy.ndarray"]),
    "X NaN": (lambda p: {"X": np.where(p.X > 9, 0, p.X) * [1, np.nan, 1]}, rnnnum.NonFiniteError,
              ["finite", "nan", "index"]),
    "X inf": (lambda p: {"X": np.full((2, 3, 3), np.inf)}, rnnnum.NonFiniteError, ["inf", "18"]),
    "targets float": (
        lambda p: {"targets": p.targets.astype(float)}, rnnnum.DTypeError, ["astype(numpy.int64)"],
    ),
    "targets one-hot": (
        lambda p: {"targets": np.eye(4)[p.targets]}, rnnnum.ShapeError, ["argmax(-1)", "mse"],
    ),
    "targets too large": (
        lambda p: {"targets": np.full((2, 3), 4)}, rnnnum.TargetRangeError, ["0..3", "got 4"],
    ),
    "targets negative": (
        lambda p: {"targets": np.full((2, 3), -1)}, rnnnum.TargetRangeError, ["got -1", "at 0"],
    ),
    "targets wrong length": (
        lambda p: {"targets": p.targets[:, :2]}, rnnnum.ShapeError, ["(N, T) = (2, 3)", "(2, 2)"],
    ),
    "mse targets wrong shape": (
        lambda p: {"loss": "mse", "targets": np.zeros((2, 3, 5))}, rnnnum.ShapeError,
        ["(N, T, V) = (2, 3, 4)"],
    ),
    "mse targets NaN": (
        lambda p: {"loss": "mse", "targets": np.full((2, 3, 4), np.nan)}, rnnnum.NonFiniteError,
        ["targets must be finite"],
    ),
    "h0 without batch": (lambda p: {"h0": np.zeros(4)}, rnnnum.ShapeError, ["(N, H)", "tile"]),
    "h0 wrong size": (lambda p: {"h0": np.zeros((2, 5))}, rnnnum.ShapeError, ["(2, 4)", "tile"]),
    "h0 NaN": (lambda p: {"h0": np.full((2, 4), np.nan)}, rnnnum.NonFiniteError, ["h0"]),
    "unknown activation": (
        lambda p: {"activation": "softplus"}, rnnnum.UnknownChoiceError,
        ["'tanh'", "'leaky_relu'", "'softplus'"],
    ),
    "unknown loss": (
        lambda p: {"loss": "hinge"}, rnnnum.UnknownChoiceError, ["'cross_entropy'", "'mse'"],
    ),
    "unknown on_overflow": (
        lambda p: {"on_overflow": "ignore"}, rnnnum.UnknownChoiceError, ["'raise'", "'warn'"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(FORWARD_CASES))
def test_forward_rejects(problem, case):
    changes, error, words = FORWARD_CASES[case]
    with pytest.raises(error) as info:
        _forward(problem, **changes(problem))
    message = str(info.value)
    assert isinstance(info.value, rnnnum.RNNNumError)
    for word in [*words, "got"]:
        assert word in message, f"{word!r} not in: {message}"


PARAM_CASES = {
    "Whh not square": ({"Whh": np.zeros((4, 5))}, rnnnum.ShapeError, ["(H, H) = (4, 4)"]),
    "bh wrong length": ({"bh": np.zeros(3)}, rnnnum.ShapeError, ["(H,) = (4,)"]),
    "by 2-D": ({"by": np.zeros((4, 1))}, rnnnum.ShapeError, ["1 axes"]),
    "Wxh NaN": ({"Wxh": np.full((3, 4), np.nan)}, rnnnum.NonFiniteError, ["Wxh must be finite"]),
    "Wyh complex": ({"Wyh": np.zeros((4, 4), complex)}, rnnnum.DTypeError, ["complex"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(PARAM_CASES))
def test_params_reject(problem, case):
    changes, error, words = PARAM_CASES[case]
    with pytest.raises(error) as info:
        problem.params.replace(**changes)
    for word in [*words, "got"]:
        assert word in str(info.value)


def test_params_must_be_rnnparams(problem):
    with pytest.raises(rnnnum.DTypeError, match="RNNParams"):
        rnnnum.forward(problem.params.as_dict(), problem.X, problem.targets)
    with pytest.raises(TypeError, match="replace\\(\\) takes only"):
        problem.params.replace(Wzz=np.zeros(1))


def test_bptt_rejects_a_cache_from_other_parameters(problem):
    cache = problem.forward()
    other = problem.params.replace(Whh=2 * problem.params.Whh)
    with pytest.raises(rnnnum.MismatchedCacheError, match=r"these differ: Whh.*forward"):
        rnnnum.bptt(other, cache)
    with pytest.raises(rnnnum.DTypeError, match="ForwardCache"):
        rnnnum.bptt(problem.params, {"h": cache.h})


def test_components_reject_unknown_names(problem):
    cache = problem.forward()
    with pytest.raises(rnnnum.UnknownChoiceError, match=r"'Wxh'.*'h0'.*got 'W'"):
        rnnnum.components(problem.params, cache, "W")
    with pytest.raises(rnnnum.UnknownChoiceError, match="'recursive', 'jacobian'"):
        rnnnum.component_norms(problem.params, cache, "Wxh", method="fast")


@pytest.mark.parametrize(
    ("window", "error"),
    [(0, rnnnum.OutOfRangeError), (-2, rnnnum.OutOfRangeError), (1.5, rnnnum.DTypeError),
     (True, rnnnum.DTypeError), ("3", rnnnum.DTypeError)],
)  # fmt: skip
def test_truncation_window_must_be_a_positive_integer(problem, window, error):
    with pytest.raises(error, match="window must be an integer >= 1; got"):
        rnnnum.truncated_bptt(problem.params, problem.forward(), window)


@pytest.mark.parametrize("threshold", [0.0, -1.0, np.nan, np.inf])
def test_clipping_threshold_must_be_positive_and_finite(threshold):
    for clip in (rnnnum.clip_by_norm, rnnnum.clip_by_value):
        with pytest.raises(rnnnum.OutOfRangeError, match="threshold must be a finite number > 0"):
            clip(np.ones(3), threshold)


def test_clipping_rejects_other_types():
    with pytest.raises(rnnnum.DTypeError, match="Gradients or a float numpy array"):
        rnnnum.clip_by_norm([1.0, 2.0], 1.0)


def test_initialisers_reject_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(rnnnum.DTypeError, match="default_rng"):
        rnnnum.init_xavier(3, 4, 4, 0)
    with pytest.raises(rnnnum.OutOfRangeError, match="H must be an integer >= 1; got 0"):
        rnnnum.init_xavier(3, 0, 4, rng)
    with pytest.raises(rnnnum.OutOfRangeError, match="sigma_max must be a finite number > 0"):
        rnnnum.init_spectral(3, 4, 4, rng, sigma_max=-1.0)
    with pytest.raises(rnnnum.UnknownChoiceError, match="'normal', 'xavier', 'orthogonal'"):
        rnnnum.init_params("he", 3, 4, 4, rng)
    with pytest.raises(rnnnum.UnknownChoiceError, match="'uniform', 'normal'"):
        rnnnum.init_xavier(3, 4, 4, rng, distribution="laplace")
