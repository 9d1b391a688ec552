"""Datasets: the synthetic modality-Venn family (`synthetic`, `modify`) and the real datasets
(raw files and their pins: `raw`; fetching them: `download`; the builders `avmnist`, with `wav`
and `spectrogram`, and `mfeat`; the prepared format they write: `real`)."""
