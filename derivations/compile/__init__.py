"""The unrolled program and its loop compiled to NumPy by SymPy's lambdify (`lambdify`)."""
