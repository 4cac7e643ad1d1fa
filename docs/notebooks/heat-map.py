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
# # The heat map: every loss, every input
#
# For a long sequence, each loss i and each input step k ≤ i contribute one component
# to the gradient of the input weights. This notebook, executed at every build of the
# site, draws the norm of every one of them: a lower-triangular picture, with the
# loss on the vertical axis and the input step on the horizontal one.
#
# `rnnnum.component_norms` computes all the norms without forming the components,
# in time proportional to T² H².

# %%
import matplotlib.pyplot as plt
import numpy as np

import rnnnum

rng = np.random.default_rng(2013)
D, H, V, T = 4, 32, 4, 60
params = rnnnum.init_xavier(D, H, V, rng)
X = rng.standard_normal((1, T, D))
targets = rng.integers(0, V, size=(1, T))
cache = rnnnum.forward(params, X, targets, activation="tanh")
norms = rnnnum.component_norms(params, cache, "Wxh")  # (T, T): [loss i - 1, step k - 1]
print("norms:", norms.shape, " nonzero only for k <= i:", bool(np.all(np.triu(norms, 1) == 0)))

# %%
upper = np.triu(np.ones((T, T), dtype=bool), 1)  # k > i: no such component
image = np.ma.masked_array(np.log10(np.where(upper, 1.0, norms)), mask=upper)
fig, ax = plt.subplots(figsize=(6.4, 5.4), facecolor="white")
shown = ax.imshow(image, origin="upper", cmap="viridis", extent=(0.5, T + 0.5, T + 0.5, 0.5))
fig.colorbar(shown, ax=ax, label="log10 of the component norm")
ax.set_xlabel("input step k")
ax.set_ylabel("loss i")
ax.set_title(f"components of the gradient of W_xh, tanh, T = {T}")
plt.show()

# %% [markdown]
# The diagonal (k = i, no recurrent factor) is bright all the way down: every loss
# gets a healthy gradient from its own input. Moving left along a row, the colour
# falls off steadily, many orders of magnitude over the sequence. Read along a
# diagonal band, the picture is the same at every position: the decay depends on
# the distance i − k, not on where in the sequence the loss sits.

# %%
distance = np.arange(T)
median = np.array(
    [np.median([norms[i, i - d] / norms[i, i] for i in range(d, T)]) for d in distance]
)
for d in (0, 1, 5, 10, 20, 40):
    print(f"distance {d:2d}: median norm relative to the loss's own step {median[d]:.2e}")

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.4), facecolor="white")
ax.semilogy(distance, median, lw=2)
ax.set_xlabel("distance i − k")
ax.set_ylabel("median relative norm")
ax.set_title("the same picture, averaged along the diagonals")
plt.show()
