"""Tables and figures of the real-data studies (paper Table 1 and the KD modes)."""
