"""Measures that foretell whether crossmodal KD helps: MI estimates, logit comparisons, scores."""
