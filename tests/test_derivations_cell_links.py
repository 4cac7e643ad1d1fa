"""The links of a path product (`derivations.cell_links`): each against an independent value."""
