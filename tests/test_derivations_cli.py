"""The command line, run as a user would: a fresh process, exit codes, stdout and stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "derivations", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_derive_json_has_six_terms() -> None:
    out = run("derive", "--param", "Wxh", "--steps", "3", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [(t["loss"], t["step"]) for t in data["terms"]] == [
        (1, 1),
        (2, 1),
        (2, 2),
        (3, 1),
        (3, 2),
        (3, 3),
    ]
    assert all(t["latex"] for t in data["terms"])


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
def test_derive_text_formats(fmt: str) -> None:
    out = run(
        "derive", "--param", "h0", "--activation", "sigmoid", "--loss", "mse", "--format", fmt
    )
    assert out.returncode == 0, out.stderr
    assert r"h_{1} \odot (1 - h_{1})" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("derive", "--param", "Wzz"),
            "one of the vanilla cell's gradients, Wxh, Whh, bh, Wyh, by, X, h0; got 'Wzz'",
        ),
        (("derive", "--param", "Wxh", "--activation", "Tanh"), "choose from 'tanh', 'sigmoid'"),
        (("derive", "--param", "Wxh", "--steps", "50"), "too many to write out"),
        (("derive", "--param", "Wxh", "--steps", "0"), "must be an integer from 1 to 500; got 0"),
        (("jacobian", "--from", "1", "--to", "3"), "Swap them: --from 3 --to 1"),
        (("verify", "--steps", "40"), "must be from 1 to 12; got 40"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_and_say_what_to_do(args: tuple[str, ...], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_large_T_compact_form_works() -> None:
    out = run("derive", "--param", "Wxh", "--steps", "50", "--form", "compact")
    assert out.returncode == 0
    assert r"\sum_{i=1}^{50}" in out.stdout


def test_jacobian() -> None:
    out = run("jacobian", "--from", "3", "--to", "1")
    assert out.returncode == 0
    assert out.stdout.startswith(r"\frac{\mathrm{d} h_{3}}{\mathrm{d} h_{1}} = W_{hh}")


def test_verify_prints_table_and_progress() -> None:
    out = run("verify", "--steps", "2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASSED" in out.stdout
    assert "verify: [20/20] vanilla identity T=2 mse" in out.stderr


def test_console_script_is_installed() -> None:
    script_path = Path(sys.executable).parent / "unrolled"  # installed next to the venv's python
    script = subprocess.run([script_path, "--help"], capture_output=True, text=True, check=False)
    assert script.returncode == 0
    assert "derive" in script.stdout


def test_verify_states_what_the_site_checks() -> None:
    """The help and the error name the T the build gate really verifies (gen_checks.py)."""
    import importlib.util

    hooks = Path(__file__).resolve().parent.parent / "docs" / "hooks"
    sys.path.insert(0, str(hooks))
    try:
        spec = importlib.util.spec_from_file_location("gen_checks", hooks / "gen_checks.py")
        assert spec is not None and spec.loader is not None
        gen_checks = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gen_checks)
    finally:
        sys.path.remove(str(hooks))
    steps = gen_checks.VERIFY_STEPS
    said = f"the site's build checks T = {steps.start} to {steps.stop - 1}"
    help_text = " ".join(run("verify", "--help").stdout.split())
    assert said in help_text
    error = run("verify", "--steps", "99")
    assert error.returncode == 2
    assert said in error.stderr and "Traceback" not in error.stderr
    assert "what the site uses" not in help_text + error.stderr
