"""Shared fixtures: one seeded random generator per test, and the Hypothesis profiles.

Every test that draws random numbers takes the `rng` fixture. Its seed is derived
from the test's id (stable across runs and machines) and printed, so a failure
report shows the seed needed to reproduce it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

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


ROOT = Path(__file__).resolve().parent.parent


def build_site(
    site_dir: Path, root: Path = ROOT, *, fresh: bool = False
) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of the checkout at `root` into `site_dir`.

    With `fresh`, every generator process runs, reusing nothing from ``.cache/generated``.
    """
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if fresh:
        env["UNROLLED_FRESH"] = "1"
    return subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(site_dir)],
        cwd=root, capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole site, built once per test session with `mkdocs build --strict`."""
    site_dir = tmp_path_factory.mktemp("site") / "site"
    result = build_site(site_dir)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-5000:]}"
    return site_dir


#: Test modules that build the site in this checkout, read its build caches (.cache) or
#: serve it: under pytest-xdist they all run on one worker, in file order, so that two
#: builds never write the same cache at once and the session's built site is built once.
SITE_MODULES = frozenset(
    {
        "test_job_server",
        "test_notation_rule",
        "test_project",
        "test_site",
        "test_site_browser",
        "test_site_gated",
        "test_site_lab",
        "test_site_order",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put every test of `SITE_MODULES`, and any test that uses `built_site`, in the
    ``site`` group of ``--dist loadgroup``; the other tests spread over the workers."""
    for item in items:
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        if module in SITE_MODULES or "built_site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("site"))


@pytest.fixture(params=["compiled", "numpy"])
def steps(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the gated cells' steps compiled (`rnnnum._fused`) or in NumPy, for tests that
    hold both paths to the same independent reference. The compiled case is skipped where
    the module was not built; CI requires it (tests/test_compiled.py)."""
    from rnnnum._compiled import built, numpy_steps

    if request.param == "numpy":
        with numpy_steps():
            yield request.param
        return
    if not built():
        pytest.skip("rnnnum._fused was not built here (CI requires it: tests/test_compiled.py)")
    yield request.param
