"""Dataset generators and builders: the synthetic modality-Venn family (`mfh.data.synthetic`)."""
