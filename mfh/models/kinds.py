"""The encoder kinds a real-data study may name in `models`, and the per-sample shape each one
takes (torch-free, so that params.yaml's checks can refuse a misfit before any job runs).
`mfh.models.build.ENCODERS` builds them; a test keeps the two lists and the schema's enum equal.
"""

from __future__ import annotations

from typing import Sequence

SAMPLE_SHAPES = {  # kind -> (number of per-sample dimensions, what they are)
    "image_cnn": (3, "(channels, height, width), e.g. images (1, 28, 28)"),
    "audio_cnn": (3, "(channels, height, width), e.g. spectrograms (1, 112, 112)"),
    "mlp": (1, "(features,), e.g. a feature vector (76,)"),
    "series_cnn": (2, "(channels, time), e.g. a 3-axis sensor (3, 100)"),
}


def shape_problem(kind: str, sample_shape: Sequence[int]) -> str | None:
    """Why encoder `kind` cannot take samples of `sample_shape`, or None when it can."""
    if kind not in SAMPLE_SHAPES:
        return f"unknown model kind {kind!r}; known: {', '.join(SAMPLE_SHAPES)}"
    dims, what = SAMPLE_SHAPES[kind]
    if len(sample_shape) != dims:
        fitting = [k for k, (d, _) in SAMPLE_SHAPES.items() if d == len(sample_shape)]
        hint = f" (kinds for this shape: {', '.join(fitting)})" if fitting else ""
        return f"model {kind} takes samples {what}; these are {tuple(sample_shape)}{hint}"
    return None
