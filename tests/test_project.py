"""The project's own commands: the site builds strictly and the benchmarks run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_site_builds_strictly(built_site):
    # the fixture runs `mkdocs build --strict`, which fails on any warning
    for page in (
        "index.html",
        "expanded-sum/Wxh/index.html",
        "notebooks/heat-map/index.html",
        "notebooks/your-own-cell/index.html",
        "reference/derivations/index.html",
        "checks/index.html",
    ):
        assert (built_site / page).is_file(), page


def test_the_serve_benchmark_edits_a_module_that_exists():
    """The smoke run below measures a built site and skips the serve rebuilds, so the
    module those rebuilds edit is checked here: a move of it must move the benchmark."""
    from benchmarks.docs_bench import EDITED

    assert EDITED.is_file(), EDITED
    assert EDITED.is_relative_to(ROOT / "derivations"), EDITED


def test_benchmarks_run_and_print_targets(built_site):
    """Every suite at tiny sizes; the site's pages measured on the session's site (its
    cold build is what `built_site` ran)."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--site", str(built_site)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "target <= 8x" in result.stdout
    assert "forward+bptt" in result.stdout
    assert "x bound   target <= 1.5x" in result.stdout  # the kernels against their products
    assert "unroll + loop + lambdify every gradient" in result.stdout
    assert "navigation -> all math drawn, slowest of the 5 pages with the most math" in (
        result.stdout
    )
    assert "open the largest folded term" in result.stdout


def test_readme_python_examples_run():
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert blocks, "the README shows how to call rnnnum"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
