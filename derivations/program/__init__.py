"""A cell unrolled over T steps into one straight-line program of scalar symbols.

`symbols` (matrices of named symbols, assignments, back-substitution) -> `unroll`
(`unroll_cell`: every state, output and loss of T steps as assignments).
"""
