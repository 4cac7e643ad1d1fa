"""``python -m benchmarks [--quick]``: every benchmark of the project, one report."""

from __future__ import annotations

import argparse

from benchmarks import derivations_bench, docs_bench, lab_bench, rnnnum_bench

SUITES = {
    "rnnnum": rnnnum_bench,
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
    args = parser.parse_args()
    for name in args.only or SUITES:
        SUITES[name].main(quick=args.quick)


if __name__ == "__main__":
    main()
