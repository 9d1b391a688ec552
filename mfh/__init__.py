"""mfh: a reproducible pipeline for crossmodal knowledge distillation and the Modality Focusing
Hypothesis (Xue et al., ICLR 2023).

Subpackages: `mfh.data` (dataset generators), `mfh.train` (the ensemble trainer), `mfh.kd`
(distillation losses), `mfh.report` (tables and figures), `mfh.steps` (one function per Snakemake
rule, named as the rule) and `mfh.cli` (`python -m mfh <rule>`, which runs it; `--help` lists them).
"""

__version__ = "0.1.0"
