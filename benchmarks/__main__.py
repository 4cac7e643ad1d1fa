"""``python -m benchmarks [--quick]``: every benchmark of the project, one report."""

from __future__ import annotations

import argparse

from benchmarks import derivations_bench, rnnnum_bench


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, one repeat: checks the benchmarks run"
    )
    args = parser.parse_args()
    rnnnum_bench.main(quick=args.quick)
    derivations_bench.main(quick=args.quick)


if __name__ == "__main__":
    main()
