"""What the synthetic study steps (`mfh.studies.gauss`, `mfh.studies.modify`) share: the ensemble
layout of stored arrays, seeded ensembles, ensemble checkpoints, their accuracy and salience
tables, and `train_and_save`, the one skeleton of every ensemble training step
(train -> evaluate -> checkpoint -> accuracy table).

Tensors and models are made here, on the device that `mfh.device.configure` selected for the
step (cpu unless params.yaml says otherwise); what is written to disk comes back to the CPU.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from mfh.checkpoint import load_checkpoint, save_checkpoint
from mfh.device import current as current_device
from mfh.models.linear import LinearEnsemble
from mfh.seeding import torch_seed
from mfh.tables import ACC_BY_RUN, ACC_BY_SETTING, SALIENCE
from mfh.train.fullbatch import accuracy, train_full_batch

log = logging.getLogger(__name__)

N_CLASSES = 2
LOG_EVERY_FRACTION = 10  # log the loss ten times per training


def train_and_save(
    model: LinearEnsemble,
    train: tuple[torch.Tensor, torch.Tensor],  # x (M, d, N_train), y (M, N_train)
    test: tuple[torch.Tensor, torch.Tensor],  # x (M, d, N_test), y (M, N_test)
    cfg: dict,
    *,
    name: str,
    role: str,
    settings: int | None,
    config: dict,
    out_ckpt,
    out_acc,
    **kd,
) -> torch.Tensor:
    """Train `model` (M = S * R models) full batch with `cfg` (epochs, lr), evaluate it on `test`,
    save its checkpoint (`role`, `config`) and its accuracy table; return test accuracy (M,).

    `settings`: S, or None for an ensemble of one model per run shared by every setting (the
    no-KD students: checkpoint layout 1 x R, accuracy table by run). `kd`: `teacher_logits` and
    `kd` of `mfh.train.fullbatch.train_full_batch`, for a KD student. `name` labels the log.
    """
    epochs = cfg["epochs"]
    x, y = train
    train_full_batch(
        model, x, y, epochs=epochs, lr=cfg["lr"], name=name, log_every=log_every(epochs), **kd
    )
    acc = accuracy(model, *test)
    layout = settings or 1
    save_ensemble(out_ckpt, role, model, layout, model.n_models // layout, config, acc)
    write_acc(out_acc, acc, settings)
    log.info("%s: mean test accuracy %.2f%%", name, acc.mean().item())
    return acc


def write_acc(path, acc: torch.Tensor, settings: int | None) -> None:
    """acc: (S * R,) with settings=S (table ACC_BY_SETTING), or (R,) with settings=None
    (ACC_BY_RUN)."""
    values = acc.tolist()
    if settings is None:
        ACC_BY_RUN.write(path, enumerate(values))
    else:
        runs = len(values) // settings
        ACC_BY_SETTING.write(path, [(*divmod(i, runs), a) for i, a in enumerate(values)])


def log_every(epochs: int) -> int:
    return max(1, epochs // LOG_EVERY_FRACTION)


def as_features(x: np.ndarray, settings: int = 1) -> torch.Tensor:
    """Stored inputs -> the ensemble layout (M, d, N).

    x is (S, R, N, d), or (R, N, d) shared by all settings (then repeated `settings` times).
    """
    if x.ndim == 3:
        x = np.broadcast_to(x, (settings, *x.shape))
    x = x.reshape(-1, *x.shape[2:])  # (S * R, N, d)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1))).to(current_device())


def as_labels(y: np.ndarray, settings: int = 1) -> torch.Tensor:
    """(R, N) -> (S * R, N): the run's labels for every setting; (S, R, N) -> (S * R, N)."""
    if y.ndim == 3:
        y = y.reshape(-1, y.shape[-1])
    else:
        y = np.broadcast_to(y, (settings, *y.shape)).reshape(-1, y.shape[-1])
    return torch.from_numpy(np.ascontiguousarray(y)).to(current_device())


def init_ensemble(
    study: str,
    seed: int,
    role: str,
    settings: int,
    runs: int,
    width: int,
    fan_in: Optional[Sequence[int]] = None,
) -> LinearEnsemble:
    """S x R linear models; model (s, r) is seeded by (seed, study, role, r) only, so every
    setting of a run starts from the same weights (paired design). `fan_in`: see LinearEnsemble."""
    seeds = [torch_seed(seed, study, role, r) for _ in range(settings) for r in range(runs)]
    return LinearEnsemble(seeds, width, N_CLASSES, fan_in=fan_in).to(current_device())


def save_ensemble(
    path, role: str, model: LinearEnsemble, settings: int, runs: int, config: dict, acc
) -> None:
    out_features, in_features = model.weight.shape[1:]
    save_checkpoint(
        path,
        role=role,
        model_spec={
            "kind": "linear_ensemble",
            "in_features": in_features,
            "out_features": out_features,
            "n_models": model.n_models,
        },
        layout={"settings": settings, "runs": runs},
        config=config,
        metrics={"test_acc": acc.tolist()},
        state_dict=model.state_dict(),
    )


def load_ensemble(path, role: str) -> LinearEnsemble:
    ckpt = load_checkpoint(Path(path), role)
    spec = ckpt["model"]
    model = LinearEnsemble([0] * spec["n_models"], spec["in_features"], spec["out_features"])
    model.load_state_dict(ckpt["state_dict"])
    model.requires_grad_(False)
    return model.to(current_device())


def write_salience(path, norm, raw, shared: np.ndarray, decisive: np.ndarray) -> None:
    """salience.csv (table SALIENCE): one row per setting x run x channel of x_a.

    norm, raw: (S * R, K) normalised and raw salience; shared, decisive: bool (S, K), the truth
    of the generator (for figures and checks; estimators must not read it).
    """
    S, K = shared.shape
    R = norm.shape[0] // S
    norm, raw = norm.cpu().tolist(), raw.cpu().tolist()  # Python floats, as Tensor.item() gives
    rows = []
    for m in range(S * R):
        s, r = divmod(m, R)
        for k in range(K):
            rows.append((s, r, k, norm[m][k], raw[m][k], int(shared[s, k]), int(decisive[s, k])))
    SALIENCE.write(path, rows)
