"""Tables and figures of gauss_modify (paper Table 2)."""
