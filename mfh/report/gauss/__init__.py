"""Tables and figures of gauss_gamma and gauss_alpha (paper Fig. 2/3)."""
