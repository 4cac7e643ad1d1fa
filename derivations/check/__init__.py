"""Checks of a derivation: exact proofs by SymPy and numbers against `rnnnum`.

`proof` (a proof's record, forward-mode derivatives) and `table` (a check's record and
the verification table) -> `proofs` (the expanded sum equals the derivative, exactly),
`loop_proofs` and `loop_sum` (the loop equals the sum), `verify` (every gradient against
`rnnnum`'s independent NumPy twin and finite differences).
"""
