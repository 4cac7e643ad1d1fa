"""Golden files: what readers of the vanilla RNN see today, kept to diff a refactor against.

`outputs()` produces, from the code as it is now,

- ``pages/<name>.md``: the generated page of every gradient (the site's generator job
  ``pages``, its ``{{ checks.* }}`` placeholders unfilled);
- ``fragments.json``: every formula fragment of the hand-written pages (the numeric
  fragments of the vanishing and column-convention pages are left out: they are
  float64 results of `rnnnum`, whose last digits may move with an optimisation that
  changes no formula);
- ``figures/<name>.svg``: the graph figures (matplotlib output, byte-stable);
- ``cli/<command>.txt``: the `unrolled` command line's output for each gradient and
  format, the Jacobian, the compact form for long T, and the help texts.

``python tests/golden.py --write`` rewrites ``tests/golden/`` (only when a change to
what readers see is deliberate; name it in the commit). `tests/test_golden.py`
compares byte for byte.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
HOOKS = ROOT / "docs" / "hooks"
#: Fragment names whose values are computed by rnnnum, not printed by derivations.
NUMERIC_PREFIXES = ("vanish.", "table.vanish.", "gd.", "column.error")

GRADIENTS = ("Wxh", "Whh", "Wyh", "bh", "by", "X", "h0")
CLI_RUNS: dict[str, list[str]] = {
    **{
        f"derive-{name}-{fmt}": ["derive", "--param", name, "--format", fmt]
        for name in GRADIENTS
        for fmt in ("latex", "markdown", "json")
    },
    "derive-h0-sigmoid-mse-markdown": [
        "derive", "--param", "h0", "--activation", "sigmoid", "--loss", "mse",
        "--format", "markdown",
    ],
    "derive-Whh-relu-T4-latex": [
        "derive", "--param", "Whh", "--activation", "relu", "--steps", "4",
    ],
    "derive-Whh-T50-compact": ["derive", "--param", "Whh", "--steps", "50", "--form", "compact"],
    "jacobian-3-1": ["jacobian", "--from", "3", "--to", "1"],
    "jacobian-9-2-compact": ["jacobian", "--from", "9", "--to", "2", "--form", "compact"],
    "help": ["--help"],
    "help-derive": ["derive", "--help"],
    "help-jacobian": ["jacobian", "--help"],
    "help-verify": ["verify", "--help"],
}  # fmt: skip


def _generator_output() -> dict[str, dict[str, str]]:
    """The site's ``pages``, ``activations`` and ``figures`` jobs, run as the build runs them."""
    run = subprocess.run(
        [sys.executable, str(HOOKS / "generate.py"), "pages", "activations", "figures"],
        cwd=HOOKS, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(run.stdout)


def _cli(argv: list[str]) -> str:
    from derivations.cli import main

    out = io.StringIO()
    # --help exits (status 0) after printing
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(argv)
    return out.getvalue()


def outputs() -> dict[str, str]:
    """Every golden file's expected text, by its path under ``tests/golden``."""
    generated = _generator_output()
    files: dict[str, str] = {}
    for uri, text in generated["pages"].items():
        files[f"pages/{Path(uri).name}"] = text
    formula_fragments = {
        name: value
        for name, value in sorted(generated["fragments"].items())
        if not name.startswith(NUMERIC_PREFIXES)
    }
    files["fragments.json"] = json.dumps(formula_fragments, indent=1, sort_keys=True) + "\n"
    for uri, text in generated.get("files", {}).items():
        if uri.endswith(".svg"):
            files[f"figures/{Path(uri).name}"] = text
    for name, argv in CLI_RUNS.items():
        files[f"cli/{name}.txt"] = _cli(argv)
    return files


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python tests/golden.py --write  (rewrites tests/golden/)", file=sys.stderr)
        return 2
    files = outputs()
    for path, text in files.items():
        target = GOLDEN / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} golden files under {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
