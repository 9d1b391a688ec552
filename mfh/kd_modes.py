"""The three KD modes of the real-data MFH study (PROTOCOL §5), defined once for the workflow
(wildcards, expected files), the steps and the tables. Free of heavy imports: Snakemake reads it
while it parses the workflow.

A KD mode says which of the teacher's penultimate channels are removed before distilling, by
Algorithm 1's salience (large = more modality-general):
    0 random             a random share of the channels
    1 modality-general   the least modality-general ones (the teacher keeps the general ones)
    2 modality-specific  the most modality-general ones (the teacher keeps the specific ones)
"""

KD_MODES = {0: "random", 1: "modality-general", 2: "modality-specific"}
