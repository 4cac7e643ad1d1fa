# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A worked example for the LSTM: where the gradient of one gate's weights comes from
#
# This notebook is executed every time the site is built; every number below is
# computed by `rnnnum` while you read the code that computes it. Download it with the
# button at the top of the page and run it next to an installed copy of the project
# (`pip install -e .` in the repository).
#
# We take an LSTM over three steps and look at the loss of the last step. The
# weights of one gate, the forget gate's input weights `W_xf` (the `f` block of the
# stacked `Wx`, whose blocks are in the order i, f, o, g), are used at every step, so
# the gradient of that loss with respect to them is a sum of three components, one per
# input step k = 1, 2, 3.

# %%
import numpy as np

import rnnnum

rng = np.random.default_rng(2013)
D, H, V, T = 3, 8, 4, 3
# Glorot blocks, zero biases except the forget gate's, which starts at 1
params = rnnnum.init_lstm(D, H, V, rng, forget_bias=1.0)
X = rng.standard_normal((1, T, D))  # one sequence: (N, T, D)
targets = rng.integers(0, V, size=(1, T))  # a class index per step: (N, T)
cache = rnnnum.forward(params, X, targets, loss="cross_entropy")
print("losses L_1, L_2, L_3:", np.round(cache.losses, 4))
print("forget gates, mean over units, steps 1..3:", np.round(cache.f[0].mean(axis=1), 4))

f = params.gates.index("f")
W_xf = slice(f * H, (f + 1) * H)  # the columns of Wx that belong to the forget gate
assert np.array_equal(params.Wx[:, W_xf], params.Wxf)  # the same block as the named view

# %% [markdown]
# `rnnnum.components` returns every term of the stacked `Wx`: `terms[i-1, k-1]` is
# the part of the gradient of loss i that comes through the copy of `Wx` used at
# step k. Its forget-gate columns are the components for `W_xf`.

# %%
parts = rnnnum.components(params, cache, "Wx")
terms = parts.terms[..., W_xf]  # (loss i, step k, D, H)
print("terms:", terms.shape, "= (loss i, step k, D, H)")
for k in (3, 2, 1):
    print(f"component of L_3 from input x_{k}, distance {3 - k}:")
    print(np.array2string(terms[2, k - 1], precision=4, suppress_small=False))

# %% [markdown]
# ## Their sizes
#
# The component from step 1 is exactly zero. The forget gate of step 1 scales the
# cell state the network starts from, and that state is zero here, so a change of
# the forget gate's weights at step 1 changes nothing downstream. Of the other two,
# the component from the loss's own step is the larger one at these weights.

# %%
norms = np.linalg.norm(terms[2].reshape(T, -1), axis=1)  # Frobenius norms, k = 1, 2, 3
for k in (3, 2, 1):
    print(f"k = {k}  distance {3 - k}  norm {norms[k - 1]:.3e}")
assert np.all(cache.tape.c[:, 0] == 0.0), "the example starts from a zero cell state"
assert norms[0] == 0.0, "the forget gate of step 1 multiplies a zero cell state"
assert 0.0 < norms[1] < norms[2], "expected the own step's component to be the larger one"

# %% [markdown]
# ## The three components are the gradient of the last step's loss
#
# Added up, the components of the loss of step 3 are the derivative of that loss
# alone. We check that without any backward pass: nudge each entry of `W_xf` up and
# down, run the network forward again and difference the loss of step 3 (central
# differences, with the step and the tolerances that `rnnnum.gradcheck` uses).

# %%
of_L3 = terms[2].sum(axis=0)  # (D, H)
numeric = np.zeros((D, H))
for a in range(D):
    for b in range(H):
        L3 = []
        for sign in (1.0, -1.0):
            Wx = params.Wx.copy()
            Wx[a, f * H + b] += sign * rnnnum.FD_STEP
            L3.append(rnnnum.forward(params.replace(Wx=Wx), X, targets).losses[2])
        numeric[a, b] = (L3[0] - L3[1]) / (2 * rnnnum.FD_STEP)
print(f"largest difference, sum of L_3's components vs central differences: "
      f"{np.abs(of_L3 - numeric).max():.2e}")  # fmt: skip
np.testing.assert_allclose(of_L3, numeric, rtol=rnnnum.FD_RTOL, atol=rnnnum.FD_ATOL)

# %% [markdown]
# ## All the components add up to `bptt`
#
# The gradient of the total loss adds the components of all three losses, six terms
# in all, and `rnnnum.bptt` computes the same thing with the backward loop. The two
# agree to rounding error:

# %%
#: the six terms and the backward loop add the same float64 numbers in another order
SUM_RTOL, SUM_ATOL = 1e-12, 1e-15
grads = rnnnum.bptt(params, cache)
total = terms.sum(axis=(0, 1))  # all six (i, k) terms
print(
    "largest difference, sum of the six components vs bptt:",
    f"{np.abs(total - grads.Wx[:, W_xf]).max():.2e}",
)
np.testing.assert_allclose(total, grads.Wx[:, W_xf], rtol=SUM_RTOL, atol=SUM_ATOL)

# %% [markdown]
# Every loss's row of component norms, and the norm of the whole gradient of `W_xf`:

# %%
all_norms = np.linalg.norm(terms.reshape(T, T, -1), axis=-1)
for i in range(1, 4):
    row = "  ".join(f"{all_norms[i - 1, k - 1]:.3e}" for k in range(1, i + 1))
    print(f"loss {i}: component norms for k = 1..{i}: {row}")
print(f"norm of the whole gradient of W_xf: {np.linalg.norm(grads.Wx[:, W_xf]):.3e}")
