"""The synthetic Gaussian studies (`gauss_gamma`, `gauss_alpha`), one function per rule.

    prepare         (in `mfh.studies.gauss_prepare`, free of torch) -> dataset.npz, settings.csv
    train_teachers  a linear teacher on x_a per setting x run      -> teacher.pt, teacher.csv
    train_baselines a linear no-KD student on x_b per run          -> nokd.pt, nokd.csv
    distill         a linear KD student on x_b per setting x run   -> kd.pt, kd.csv

Each training step trains all its models as one ensemble (`mfh.train.fullbatch`). Paired design:
the no-KD student depends on the run only, and every KD student of a run starts from the same
initial weights as that run's no-KD student; every teacher of a run starts from the same weights.
Accuracy CSVs hold test accuracy in percent, "%.4f", one row per model.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from mfh.checkpoint import load_checkpoint, save_checkpoint
from mfh.data.synthetic import StudyData
from mfh.io import write_text_atomic
from mfh.kd import KDConfig
from mfh.models.linear import LinearEnsemble
from mfh.seeding import torch_seed
from mfh.train.fullbatch import accuracy, train_full_batch

log = logging.getLogger(__name__)

N_CLASSES = 2
LOG_EVERY_FRACTION = 10  # log the loss ten times per training


def _write_acc(path, acc: torch.Tensor, settings: int | None) -> None:
    """acc: (S * R,) with settings=S, or (R,) with settings=None."""
    values = acc.tolist()
    if settings is None:
        rows = ["run,acc"] + [f"{r},{a:.4f}" for r, a in enumerate(values)]
    else:
        runs = len(values) // settings
        rows = ["setting,run,acc"] + [
            f"{i // runs},{i % runs},{a:.4f}" for i, a in enumerate(values)
        ]
    write_text_atomic(path, "\n".join(rows) + "\n")


def _log_every(epochs: int) -> int:
    return max(1, epochs // LOG_EVERY_FRACTION)


def as_features(x: np.ndarray, settings: int = 1) -> torch.Tensor:
    """Stored inputs -> the ensemble layout (M, d, N).

    x is (S, R, N, d), or (R, N, d) shared by all settings (then repeated `settings` times).
    """
    if x.ndim == 3:
        x = np.broadcast_to(x, (settings, *x.shape))
    x = x.reshape(-1, *x.shape[2:])  # (S * R, N, d)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))


def as_labels(y: np.ndarray, settings: int = 1) -> torch.Tensor:
    """(R, N) -> (S * R, N): the run's labels for every setting."""
    return torch.from_numpy(np.array(np.broadcast_to(y, (settings, *y.shape)))).flatten(0, 1)


def init_ensemble(
    study: str, seed: int, role: str, settings: int, runs: int, width: int
) -> LinearEnsemble:
    """S x R linear models; model (s, r) is seeded by (seed, study, role, r) only, so every
    setting of a run starts from the same weights (paired design)."""
    seeds = [torch_seed(seed, study, role, r) for _ in range(settings) for r in range(runs)]
    return LinearEnsemble(seeds, width, N_CLASSES)


def train_teachers(
    study: str, seed: int, data_path, teacher_cfg: dict, out_ckpt, out_acc
) -> torch.Tensor:
    """Train one linear teacher on x_a per setting x run; return test accuracy (S * R,)."""
    data = StudyData.load(data_path)
    S, R = data.xa_train.shape[:2]
    model = init_ensemble(study, seed, "teacher_init", S, R, data.xa_train.shape[-1])
    y_train = as_labels(data.y_train, S)
    train_full_batch(
        model,
        as_features(data.xa_train),
        y_train,
        epochs=teacher_cfg["epochs"],
        lr=teacher_cfg["lr"],
        name=f"{study} teachers",
        log_every=_log_every(teacher_cfg["epochs"]),
    )
    acc = accuracy(model, as_features(data.xa_test), as_labels(data.y_test, S))
    _save(out_ckpt, "teacher", model, S, R, {"teacher": teacher_cfg, "seed": seed}, acc)
    _write_acc(out_acc, acc, settings=S)
    log.info("%s teachers: mean test accuracy %.2f%%", study, acc.mean().item())
    return acc


def train_baselines(
    study: str, seed: int, data_path, student_cfg: dict, out_ckpt, out_acc
) -> torch.Tensor:
    """Train one no-KD student on x_b per run (it is shared by all settings); return acc (R,)."""
    data = StudyData.load(data_path)
    R = data.xb_train.shape[0]
    model = init_ensemble(study, seed, "student_init", 1, R, data.xb_train.shape[-1])
    train_full_batch(
        model,
        as_features(data.xb_train),
        as_labels(data.y_train),
        epochs=student_cfg["epochs"],
        lr=student_cfg["lr"],
        name=f"{study} no-KD students",
        log_every=_log_every(student_cfg["epochs"]),
    )
    acc = accuracy(model, as_features(data.xb_test), as_labels(data.y_test))
    _save(out_ckpt, "nokd", model, 1, R, {"student": student_cfg, "seed": seed}, acc)
    _write_acc(out_acc, acc, settings=None)
    log.info("%s no-KD students: mean test accuracy %.2f%%", study, acc.mean().item())
    return acc


def distill(
    study: str,
    seed: int,
    data_path,
    teacher_ckpt,
    student_cfg: dict,
    kd_cfg: dict,
    out_ckpt,
    out_acc,
) -> torch.Tensor:
    """Train one KD student on x_b per setting x run from that setting's teacher; acc (S * R,)."""
    data = StudyData.load(data_path)
    S, R = data.xa_train.shape[:2]
    teacher = _load_model(teacher_ckpt, "teacher")
    with torch.no_grad():
        teacher_logits = teacher(as_features(data.xa_train))  # (S * R, C, n_train)
    student = init_ensemble(study, seed, "student_init", S, R, data.xb_train.shape[-1])
    kd = KDConfig(**kd_cfg)
    train_full_batch(
        student,
        as_features(data.xb_train, S),
        as_labels(data.y_train, S),
        epochs=student_cfg["epochs"],
        lr=student_cfg["lr"],
        teacher_logits=teacher_logits,
        kd=kd,
        name=f"{study} KD students",
        log_every=_log_every(student_cfg["epochs"]),
    )
    acc = accuracy(student, as_features(data.xb_test, S), as_labels(data.y_test, S))
    config = {"student": student_cfg, "distill": kd_cfg, "seed": seed, "teacher": str(teacher_ckpt)}
    _save(out_ckpt, "kd", student, S, R, config, acc)
    _write_acc(out_acc, acc, settings=S)
    log.info("%s KD students: mean test accuracy %.2f%%", study, acc.mean().item())
    return acc


def _save(
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


def _load_model(path, role: str) -> LinearEnsemble:
    ckpt = load_checkpoint(Path(path), role)
    spec = ckpt["model"]
    model = LinearEnsemble([0] * spec["n_models"], spec["in_features"], spec["out_features"])
    model.load_state_dict(ckpt["state_dict"])
    model.requires_grad_(False)
    return model
