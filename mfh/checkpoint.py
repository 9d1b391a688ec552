"""Self-describing checkpoints: weights + the config that made them + their metrics.

A checkpoint is a dict saved with `torch.save` (atomically: temp file + rename):
    format      "mfh-checkpoint/1"
    role        "teacher" | "nokd" | "kd" ...
    model       what to rebuild, by kind: the synthetic studies' ensembles
                {"kind": "linear_ensemble", "in_features", "out_features", "n_models"}
                (`mfh.studies.ensemble`); the real studies' nets, one per seed,
                {"kind": "per_seed", "members": [model spec, ...]} (`mfh.studies.real_io`,
                specs of `mfh.models.build`)
    layout      how the models are arranged: {"settings": S, "runs": R} (ensembles) or
                {"seeds": n} (one net per seed)
    config      the params sections that produced it
    metrics     e.g. {"test_acc": [...] per model}
    state_dict  the weights (per seed: keys prefixed "<seed>.")
    torch       torch version that wrote it
`load_checkpoint` checks the format and role and says clearly what is wrong with a file that is
truncated, foreign or of another role, instead of failing deep inside torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from mfh.errors import CheckpointError
from mfh.io import atomic_path

__all__ = ["CheckpointError", "FORMAT", "load_checkpoint", "save_checkpoint"]

FORMAT = "mfh-checkpoint/1"


def save_checkpoint(
    path,
    *,
    role: str,
    model_spec: dict,
    layout: dict,
    config: dict,
    metrics: dict,
    state_dict: dict,
) -> None:
    payload = {
        "format": FORMAT,
        "role": role,
        "model": model_spec,
        "layout": layout,
        "config": config,
        "metrics": metrics,
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in state_dict.items()},
        "torch": str(torch.__version__),
    }
    # Saved through a file object: torch then names the records inside the zip "archive/...",
    # not after the (random) temporary file, so equal checkpoints are equal bytes.
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)


def load_checkpoint(path, role: str) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found (run the rule that makes it first)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, pickle garbage, ...
        raise CheckpointError(
            f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc}); "
            "it may be truncated: delete it and rerun the rule that makes it"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an mfh checkpoint (expected format {FORMAT})")
    if payload["role"] != role:
        raise CheckpointError(f"{path}: holds a {payload['role']!r} model, expected {role!r}")
    return payload
