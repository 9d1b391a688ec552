"""Helpers shared by the real-data steps: splits of a prepared dataset, per-seed checkpoints, and
the per-seed accuracy CSVs.

A real-data job trains one model per seed (a few seeds, sequentially); its checkpoint holds all
of them: `state_dict` keys are prefixed by the seed index ("0.fc.weight", "1.fc.weight", ...),
`model` is {"kind": "per_seed", "members": [model_spec of seed 0, ...]}.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from mfh.checkpoint import load_checkpoint, save_checkpoint
from mfh.data.real import RealData
from mfh.models.build import build_from_spec, model_spec
from mfh.tables import REAL_ACC
from mfh.train.minibatch import Split, TrainResult


def split(data: RealData, modalities: Sequence[str], name: str) -> Split:
    """The `name` split (train/val/test) with one input per modality, in the given order."""
    return Split(tuple(data.modalities[m][name] for m in modalities), data.labels[name])


def splits(data: RealData, modalities: Sequence[str]) -> tuple[Split, Split, Split]:
    return tuple(split(data, modalities, name) for name in ("train", "val", "test"))


def save_models(path, role: str, models: Sequence[nn.Module], config: dict, metrics: dict) -> None:
    """One checkpoint for the models of all seeds (see the module docstring)."""
    state = {
        f"{i}.{key}": value
        for i, model in enumerate(models)
        for key, value in model.state_dict().items()
    }
    save_checkpoint(
        path,
        role=role,
        model_spec={"kind": "per_seed", "members": [model_spec(m) for m in models]},
        layout={"seeds": len(models)},
        config=config,
        metrics=metrics,
        state_dict=state,
    )


def load_models(path, role: str, device="cpu") -> list[nn.Module]:
    """The per-seed models of a checkpoint written by `save_models`, in eval mode, frozen."""
    ckpt = load_checkpoint(path, role)
    models = []
    for i, spec in enumerate(ckpt["model"]["members"]):
        model = build_from_spec(spec)
        prefix = f"{i}."
        model.load_state_dict(
            {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
        )
        models.append(model.requires_grad_(False).eval().to(device))
    return models


def write_acc(path, results: Sequence[TrainResult]) -> None:
    """Table REAL_ACC: one row per seed."""
    REAL_ACC.write(path, [(s, r.best_epoch, r.val_acc, r.test_acc) for s, r in enumerate(results)])


def result_metrics(results: Sequence[TrainResult]) -> dict:
    """Per-seed metrics for a checkpoint."""
    return {
        "best_epoch": [r.best_epoch for r in results],
        "val_acc": [r.val_acc for r in results],
        "test_acc": [r.test_acc for r in results],
    }


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)
