"""Tables and figures of the studies, one subpackage per study family: `gauss` (gauss_gamma and
gauss_alpha), `modify` (gauss_modify), `real` (the real-data studies); `venn` draws the Venn
analysis of `mfh.venn`, `metrics` writes each study's metrics.json. What they share: `stats` (the
Student-t interval) and `plotting` (style, resolution, reproducible PNGs). The tables themselves
are defined in `mfh.tables` and written and read with `mfh.table_io`."""
