"""Shared fixtures: one seeded random generator per test, and the Hypothesis profiles.

Every test that draws random numbers takes the `rng` fixture. Its seed is derived
from the test's id (stable across runs and machines) and printed, so a failure
report shows the seed needed to reproduce it.
"""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest
from hypothesis import settings

#: Base seed of the suite; each test gets BASE_SEED + crc32(test id).
BASE_SEED = 20261121

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, max_examples=200)
settings.register_profile("dev", deadline=None, print_blob=True, max_examples=200)
settings.register_profile("soak", deadline=None, print_blob=True, max_examples=5000)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """The seed of this test, printed so that it appears in a failure report."""
    value = BASE_SEED + zlib.crc32(request.node.nodeid.encode())
    print(f"rng seed for {request.node.nodeid}: {value}")
    return value


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    """A numpy Generator seeded by `seed`."""
    return np.random.default_rng(seed)
