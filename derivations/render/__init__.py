"""What a reader sees: LaTeX, Markdown and JSON printed from the cell and its gradient.

`lines` (breaking long sums and products into lines) -> `sums` (the expanded sum, the
compact and block forms, JSON) and `loop` (the loop as code and element-wise) ->
`page` (a cell's derivation as one Markdown page); `formulas` prints the statements the
site makes about a cell in general form.
"""
