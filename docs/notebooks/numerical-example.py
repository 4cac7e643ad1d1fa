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
# # A worked example: where the gradient of one loss comes from
#
# This notebook is executed every time the site is built; every number below is
# computed by `rnnnum` while you read the code that computes it. Download it with the
# button at the top of the page and run it next to an installed copy of the project
# (`pip install -e .` in the repository).
#
# We take a tanh network over three steps and look at the loss of the last step.
# Its gradient with respect to the input weights `Wxh` is a sum of three components,
# one per input step k = 1, 2, 3 (the terms (3, k) of the
# [expanded sum](../expanded-sum/Wxh.md)).

# %%
import numpy as np

import rnnnum

rng = np.random.default_rng(2013)
D, H, V, T = 3, 8, 4, 3
# a recurrent matrix whose largest singular value is 0.8: every step can only shrink
params = rnnnum.init_spectral(D, H, V, rng, sigma_max=0.8)
X = rng.standard_normal((1, T, D))  # one sequence: (N, T, D)
targets = rng.integers(0, V, size=(1, T))  # a class index per step: (N, T)
cache = rnnnum.forward(params, X, targets, activation="tanh", loss="cross_entropy")
print("losses L_1, L_2, L_3:", np.round(cache.losses, 4))

# %% [markdown]
# `rnnnum.components` returns every term: `terms[i-1, k-1]` is the part of the
# gradient of loss i that comes through the copy of `Wxh` used at step k.

# %%
parts = rnnnum.components(params, cache, "Wxh")
print("terms:", parts.terms.shape, "= (loss i, step k, D, H)")
for k in (3, 2, 1):
    print(f"component from input x_{k}, distance {3 - k}:")
    print(np.array2string(parts.terms[2, k - 1], precision=4, suppress_small=False))

# %% [markdown]
# ## Their sizes shrink with the distance
#
# Each step back multiplies by one more recurrent Jacobian (the recurrent weights
# times the derivatives of tanh), so the components get smaller the further the
# input is from the loss.

# %%
norms = parts.norms()[2]  # Frobenius norms of the components of loss 3, k = 1, 2, 3
for k in (3, 2, 1):
    print(
        f"k = {k}  distance {3 - k}  norm {norms[k - 1]:.3e}  "
        f"relative to k = 3: {norms[k - 1] / norms[2]:.3e}"
    )
assert norms[0] < norms[1] < norms[2], "expected the components to shrink with distance"

# %% [markdown]
# ## The components add up to the gradient
#
# The gradient of the loss of step 3 alone is the sum of its three components. The
# gradient of the total loss adds the components of all three losses, six terms in all, and
# `rnnnum.bptt` computes the same thing with the backward loop. Both equalities hold
# to rounding error:

# %%
grads = rnnnum.bptt(params, cache)
total = parts.terms.sum(axis=(0, 1))  # all six (i, k) terms
print(
    "largest difference, sum of the six components vs bptt:",
    f"{np.abs(total - grads.Wxh).max():.2e}",
)
np.testing.assert_allclose(total, grads.Wxh, rtol=1e-12, atol=1e-14)

# %% [markdown]
# The component of the loss of step 3 from the first input is small, but the gradient as a whole is
# not: its norm is dominated by the near terms, those with k close to i.

# %%
all_norms = parts.norms()
for i in range(1, 4):
    row = "  ".join(f"{all_norms[i - 1, k - 1]:.3e}" for k in range(1, i + 1))
    print(f"loss {i}: component norms for k = 1..{i}: {row}")
print(f"norm of the whole gradient: {np.linalg.norm(grads.Wxh):.3e}")
