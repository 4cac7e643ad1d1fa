"""The vanilla RNN's own pipeline, written before the cell engine and still behind its pages.

The vanilla RNN is also a cell (`derivations.core.cells`); this folder is the older,
vanilla-only derivation (`unroll` -> `terms` -> `gradients` -> `lambdified` -> `render`,
`proofs`, `verify`), which still writes the vanilla pages and `unrolled derive` without
``--cell``. Nothing outside it and the command line imports it (tests/test_layout.py).
"""
