"""Benchmarks for `make bench`: each measured figure is printed next to its target."""
