"""``python -m benchmarks [--quick]``: every benchmark of the project, one report."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import derivations_bench, docs_bench, kernel_bench, lab_bench, rnnnum_bench

SUITES = {
    "rnnnum": rnnnum_bench,
    "kernel": kernel_bench,
    "derivations": derivations_bench,
    "lab": lab_bench,
    "site": docs_bench,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, one repeat: checks the benchmarks run"
    )
    parser.add_argument(
        "--only", choices=tuple(SUITES), action="append",
        help="run only this suite (repeatable); default: all",
    )  # fmt: skip
    parser.add_argument(
        "--site", type=Path, metavar="DIR",
        help="the site suite measures the pages of this built site (no cold build, no serve)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.site is not None and not (args.site / "index.html").is_file():
        parser.error(f"--site must be a built site (a folder with index.html); got {args.site}")
    for name in args.only or SUITES:
        if name == "site":
            docs_bench.main(quick=args.quick, built=args.site)
        else:
            SUITES[name].main(quick=args.quick)


if __name__ == "__main__":
    main()
