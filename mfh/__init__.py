"""mfh: a reproducible pipeline for crossmodal knowledge distillation and the Modality Focusing
Hypothesis (Xue et al., ICLR 2023).

Subpackages: `mfh.data` (dataset generators), `mfh.train` (the ensemble trainer), `mfh.kd`
(distillation losses), `mfh.report` (tables and figures), `mfh.cli` (the entry points that the
Snakemake rules run: `python -m mfh --help`).
"""

__version__ = "0.1.0"
