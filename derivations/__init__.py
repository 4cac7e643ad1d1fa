"""Symbolic derivation of backpropagation through time (SymPy).

This package is built under the `derivations` issue; the foundation only
reserves its place in the distribution.
"""
