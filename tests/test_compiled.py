"""rnnnum._fused, the compiled element-wise steps (LSTM, GRU, tanh RNN), against NumPy's.

Both compute the same operations in the same order (`rnnnum/csrc/module.c`'s header): the
reverse sweep from one forward tape must agree bit for bit, and the forward pass up to
tanh's own last units. The plain loops of tests/test_kernel.py hold both paths to the
equations; these tests hold the two paths to each other, shape by shape, including the
widths whose rows do not fill a vector register.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import rnnnum
from rnnnum import _compiled
from rnnnum._arith import as_step_tape, tape_copy
from rnnnum._compiled import built, numpy_steps
from rnnnum.activations import get_activation
from rnnnum.gru import gru_forward
from rnnnum.kernel import kernel_for
from rnnnum.kernel.vanilla import vanilla_states
from rnnnum.lstm import lstm_forward

from problems import make_gated_problem, make_problem

#: The forward paths differ by tanh alone: glibc's vector tanh in the compiled loops (its
#: scalar tanh in their remainders), NumPy's own in NumPy's, each within a few ulps. Over
#: these short sequences the states and gradients stay within a few hundred ulps; 1e-13
#: relative is the bound issue 22 sets for a faster kernel's outputs.
FORWARD_RTOL = 1e-13
#: Entries that are zero up to rounding: 1e-13 of the array's largest.
FORWARD_ATOL_SCALE = 1e-13

needs_build = pytest.mark.skipif(not built(), reason="rnnnum._fused was not built here")

#: (N, T, D, H, V): one step of one row; H = 5 and 17 leave remainders after each vector;
#: H = 64 fills them.
SHAPES = [(1, 1, 2, 3, 2), (3, 7, 4, 5, 6), (4, 9, 3, 17, 5), (5, 4, 6, 64, 3)]
#: The residual tanh cell's forward step is compiled, its sweep NumPy's (f' reads f(a_t),
#: not h_t).
CELLS = ["vanilla", "residual", "lstm", "gru-after", "gru-before"]


def test_the_compiled_steps_were_built_where_ci_requires_them():
    """CI sets UNROLLED_REQUIRE_FUSED=1: there a missing build fails, never skips quietly
    (the kernel benchmark's figures are the compiled steps')."""
    if os.environ.get("UNROLLED_REQUIRE_FUSED") != "1":
        pytest.skip("UNROLLED_REQUIRE_FUSED is not set (CI sets it)")
    assert built(), "rnnnum._fused was not built: is gcc on this machine? (pip install -e . -v)"


def _problem(cell: str, shape: tuple[int, ...], seed: int):  # type: ignore[no-untyped-def]
    """The suite's random problem of `cell` at `shape` (tests/problems.py): params, X,
    targets and the keyword arguments of rnnnum.forward (the residual option included)."""
    N, T, D, H, V = shape
    rng = np.random.default_rng(seed)
    if cell in ("vanilla", "residual"):
        problem = make_problem(rng, N=N, T=T, D=D, H=H, V=V)
        kwargs = {**problem.kwargs, "residual": cell == "residual"}
    else:
        problem = make_gated_problem(rng, cell, N=N, T=T, D=D, H=H, V=V)
        kwargs = problem.kwargs
    return problem.params, problem.X, problem.targets, kwargs


def _close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    atol = FORWARD_ATOL_SCALE * float(np.abs(want).max(initial=0.0))
    np.testing.assert_allclose(got, want, rtol=FORWARD_RTOL, atol=atol, err_msg=what)


def _arrays(cache) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Every array of a cache, its tape's included (the gated cells keep one)."""
    found = {k: v for k, v in vars(cache).items() if isinstance(v, np.ndarray)}
    tape = getattr(cache, "tape", None)
    if tape is not None:
        found |= {f"tape.{k}": v for k, v in vars(tape).items() if isinstance(v, np.ndarray)}
    return found


@needs_build
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("cell", CELLS)
def test_the_compiled_forward_pass_and_gradients_match_numpys(cell, shape, seed):
    params, X, targets, initial = _problem(cell, shape, seed)
    ours = rnnnum.forward(params, X, targets, **initial)
    with numpy_steps():
        theirs = rnnnum.forward(params, X, targets, **initial)
        their_grads = rnnnum.bptt(params, theirs).as_dict()
    their_arrays = _arrays(theirs)
    assert their_arrays.keys() == _arrays(ours).keys()
    for name, got in _arrays(ours).items():
        _close(got, their_arrays[name], name)
    _close(np.asarray(ours.loss), np.asarray(theirs.loss), "loss")
    for key, value in rnnnum.bptt(params, ours).as_dict().items():
        _close(value, their_grads[key], f"dL/d{key}")


def _assert_same_signals(got, want) -> None:  # type: ignore[no-untyped-def]
    """Two sweeps' `Signals` are equal arrays: dL/du, dL/dv, the initial states' gradients
    and the kept batch sums (NaN where NaN, inf where inf)."""
    np.testing.assert_array_equal(got.u, want.u, err_msg="dL/du")
    np.testing.assert_array_equal(got.v, want.v, err_msg="dL/dv")
    assert got.initial.keys() == want.initial.keys()
    for name, value in want.initial.items():
        np.testing.assert_array_equal(got.initial[name], value, err_msg=f"dL/d{name}")
    assert got.sums is not None and want.sums is not None
    for side, mine, theirs in zip("uv", got.sums, want.sums, strict=True):
        np.testing.assert_array_equal(mine, theirs, err_msg=f"the batch sums of dL/d{side}")


@needs_build
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("cell", CELLS)
def test_the_compiled_reverse_sweep_is_numpys_bit_for_bit(cell, shape, seed):
    """From one forward pass the kernel's two sweeps make the same roundings: equal arrays."""
    params, X, targets, initial = _problem(cell, shape, seed)
    cache = rnnnum.forward(params, X, targets, **initial)
    kernel = kernel_for(params)
    direct = as_step_tape(np.random.default_rng(seed + 1).standard_normal(cache.h.shape))
    ours = kernel.sweep(params, cache, tape_copy(direct), None)
    with numpy_steps():
        theirs = kernel.sweep(params, cache, tape_copy(direct), None)
    _assert_same_signals(ours, theirs)


def _run_forward(params, X, initial):  # type: ignore[no-untyped-def]
    """The cell's forward loop alone (no input checks): its tape, or (a, states)."""
    if isinstance(params, rnnnum.RNNParams):
        p, tanh = params, get_activation("tanh")
        a, states = vanilla_states(X, p.Wxh, p.Whh, p.bh, initial["h0"], tanh, initial["residual"])
        return {"a": a, "h": states}
    if isinstance(params, rnnnum.LSTMParams):
        tape = lstm_forward(params.Wx, params.Wh, params.b, X, initial["h0"], initial["c0"])
    else:
        p = params
        tape = gru_forward(p.Wx, p.Wh, p.bx, p.bh, X, initial["h0"], p.reset)
    return {"h": tape.h, "gates": tape.gates}


@needs_build
@pytest.mark.parametrize("cell", CELLS)
def test_the_forward_steps_carry_inf_and_nan_alike(cell):
    """No -ffast-math: inf and NaN travel through the compiled steps as through NumPy's,
    so the overflow reports (which look for them afterwards) see the same tape."""
    params, X, _, initial = _problem(cell, (3, 6, 3, 5, 3), 3)
    X[0, 1, 2], X[1, 3, 0], X[2, 4, 1] = np.nan, np.inf, -np.inf
    with np.errstate(invalid="ignore", over="ignore"):
        ours = _run_forward(params, X, initial)
        with numpy_steps():
            theirs = _run_forward(params, X, initial)
    for name, want in theirs.items():
        got = ours[name]
        assert np.isnan(want).any()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want), err_msg=name)
        finite = np.isfinite(want)
        _close(got[finite], want[finite], name)


@needs_build
@pytest.mark.parametrize("cell", CELLS)
def test_the_sweeps_carry_inf_and_nan_alike(cell):
    params, X, targets, initial = _problem(cell, (3, 6, 3, 5, 3), 1)
    cache = rnnnum.forward(params, X, targets, **initial)
    direct = as_step_tape(np.random.default_rng(2).standard_normal(cache.h.shape))
    direct[0, 4, 1], direct[1, 2, 3], direct[2, 5, 0] = np.inf, -np.inf, np.nan
    kernel = kernel_for(params)
    with np.errstate(invalid="ignore", over="ignore"):
        ours = kernel.sweep(params, cache, tape_copy(direct), None)
        with numpy_steps():
            theirs = kernel.sweep(params, cache, tape_copy(direct), None)
    assert not np.isfinite(ours.u).all()
    _assert_same_signals(ours, theirs)


@needs_build
def test_a_step_given_the_wrong_arrays_says_which_and_why():
    fused = _compiled.fused()
    assert fused is not None
    N, H = 2, 3
    a, hw, b = np.zeros((N, 4 * H)), np.zeros((N, 4 * H)), np.zeros(4 * H)
    c_prev, c, tc, h = (np.zeros((N, H)) for _ in range(4))
    with pytest.raises(TypeError, match="hw must be a C-contiguous float64 array"):
        fused.lstm_forward_step(a, np.zeros((N, 8 * H))[:, ::2], b, c_prev, c, tc, h, N, H)
    c.flags.writeable = False
    with pytest.raises(TypeError, match="c must be a C-contiguous, writable float64 array"):
        fused.lstm_forward_step(a, hw, b, c_prev, c, tc, h, N, H)
    c = np.zeros((N, H))
    with pytest.raises(ValueError, match="c_prev must hold 6 float64 values; got 40 bytes"):
        fused.lstm_forward_step(a, hw, b, np.zeros(5), c, tc, h, N, H)
    with pytest.raises(TypeError, match="a must be a float64 array; got buffer format 'f'"):
        fused.lstm_forward_step(a.astype(np.float32), hw, b, c_prev, c, tc, h, N, H)
    with pytest.raises(ValueError, match="N and H must be positive; got N=0, H=3"):
        fused.lstm_forward_step(a, hw, b, c_prev, c, tc, h, 0, H)
    with pytest.raises(TypeError, match="dc_prev must be a C-contiguous, writable"):
        fused.lstm_backward_step(
            c, c, None, a, tc, c_prev, a, None, None, N, H
        )  # dc_prev: not None
    with pytest.raises(ValueError, match="sums must hold 3 float64 values; got 48 bytes"):
        fused.tanh_backward_step(c, c_prev, h, np.zeros(6), N, H)


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint64)


@needs_build
@pytest.mark.parametrize(("N", "K"), [(1, 1), (1, 13), (3, 5), (4, 8), (7, 33), (64, 96)])
@pytest.mark.parametrize("offset", [0, 1, 3], ids=lambda k: f"offset{k}")
def test_stream_out_copies_every_bit_whatever_the_alignment(N, K, offset):
    """Large sweeps put each step's signals out to the tape through `stream_out`: a copy
    whatever the alignment of the tape's block (offset by 0 to 3 floats here: the head
    before an aligned store, the stores, the tail), bits and NaN payloads included."""
    fused = _compiled.fused()
    rng = np.random.default_rng(N * K + offset)
    src = rng.standard_normal((N, K)) * 10.0 ** rng.integers(-300, 300, size=(N, K))
    special = np.array([np.nan, -0.0, -np.inf, 5e-324])  # a NaN, a signed zero, a subnormal
    src.flat[: min(4, src.size)] = special[: min(4, src.size)]
    src.view(np.uint64).flat[-1] = 0x7FF0_0000_0000_0BAD  # a NaN with a payload
    tape = np.full(N * K + offset + 2, 7.0)
    dst = tape[offset : offset + N * K].reshape(N, K)
    fused.stream_out(dst, src, N, K)
    np.testing.assert_array_equal(_bits(dst), _bits(src))
    assert (tape[:offset] == 7.0).all() and (tape[offset + N * K :] == 7.0).all()


@needs_build
@pytest.mark.parametrize("cell", ["lstm", "gru-after", "gru-before"])
def test_a_sweep_gives_the_same_bits_whether_it_bypasses_the_cache_or_not(cell, monkeypatch):
    """Only sweeps over tapes larger than a quarter of the cache bypass it (`bypass_cache`),
    so the suite's small problems would never run that path: here it is forced on."""
    params, X, targets, initial = _problem(cell, (5, 9, 4, 17, 3), 4)
    cache = rnnnum.forward(params, X, targets, **initial)
    kernel = kernel_for(params)
    direct = as_step_tape(np.random.default_rng(5).standard_normal(cache.h.shape))
    through = kernel.sweep(params, cache, tape_copy(direct), None)
    for module in (rnnnum.gru, rnnnum.lstm):
        monkeypatch.setattr(module, "bypass_cache", lambda nbytes: True)
    around = kernel.sweep(params, cache, tape_copy(direct), None)
    _assert_same_signals(around, through)


@needs_build
def test_stream_out_given_the_wrong_arrays_says_which_and_why():
    fused = _compiled.fused()
    block = np.zeros(12)
    with pytest.raises(ValueError, match="dst and src must not overlap"):
        fused.stream_out(block[2:8], block[:6], 2, 3)
    with pytest.raises(ValueError, match="src must hold 6 float64 values; got 40 bytes"):
        fused.stream_out(np.zeros(6), np.ones(5), 2, 3)
    with pytest.raises(ValueError, match="N and K must be positive; got N=2, K=0"):
        fused.stream_out(np.zeros(0), np.ones(0), 2, 0)
    read_only = np.zeros(6)
    read_only.flags.writeable = False
    with pytest.raises(TypeError, match="dst must be a C-contiguous, writable float64 array"):
        fused.stream_out(read_only, np.ones(6), 2, 3)
    N, H = 2, 3
    du, rows, state = np.zeros((N, 3 * H)), np.zeros((N, H)), np.zeros((N, H))
    with pytest.raises(ValueError, match='su and sv must be None for reset="before"'):
        fused.gru_backward_step(
            rows, rows, rows, rows, du, rows, None, du, None, state, np.zeros(3 * H), None, N, H
        )
    gates, da = np.zeros((N, 4 * H)), np.zeros((N, 4 * H))
    with pytest.raises(ValueError, match="sums must hold 12 float64 values; got 104 bytes"):
        fused.lstm_backward_step(rows, rows, None, gates, rows, rows, da, state, np.zeros(13), N, H)


def test_the_sweeps_bypass_the_cache_only_for_tapes_larger_than_their_share(monkeypatch):
    cache = 100 * 2**20
    monkeypatch.setattr(_compiled, "_module", SimpleNamespace(CACHE_BYTES=cache))
    share = int(_compiled.BYPASS_SHARE * cache)
    assert not _compiled.bypass_cache(share) and _compiled.bypass_cache(share + 1)
    monkeypatch.setattr(_compiled, "_module", SimpleNamespace(CACHE_BYTES=0))  # not reported
    share = int(_compiled.BYPASS_SHARE * _compiled.UNKNOWN_CACHE_BYTES)
    assert not _compiled.bypass_cache(share) and _compiled.bypass_cache(share + 1)


def test_the_environment_switches_the_compiled_steps_off():
    """UNROLLED_NUMPY_STEPS=1 runs NumPy's steps (for a user who distrusts a build)."""
    code = "from rnnnum._compiled import fused; print(fused() is None)"
    env = {**os.environ, "UNROLLED_NUMPY_STEPS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"
