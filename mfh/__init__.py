"""mfh: a reproducible pipeline for crossmodal knowledge distillation and the Modality Focusing
Hypothesis (Xue et al., ICLR 2023).

Read top-down: `mfh.cli` (`python -m mfh <rule>`; `--help` lists the steps) runs a function of
`mfh.steps`, one per Snakemake rule and named as the rule, which calls a study function of
`mfh.studies`. Beneath them: `mfh.data` (generators, raw and prepared real data), `mfh.models`,
`mfh.train` (the full-batch ensemble trainer and the minibatch trainer, one optimizer),
`mfh.kd` (distillation losses), `mfh.algorithm1` (Algorithm 1 for every study), `mfh.venn` (the
Venn estimate), `mfh.tables` + `mfh.table_io` (every CSV table, written and read one way) and
`mfh.report` (tables and figures per study family).
"""

__version__ = "0.1.0"
