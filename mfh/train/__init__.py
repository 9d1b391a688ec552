"""The trainer shared by teachers, no-KD baselines and KD students (`mfh.train.fullbatch`)."""
