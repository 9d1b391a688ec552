"""The synthetic Gaussian studies (`gauss_gamma`, `gauss_alpha`), one function per rule.

    prepare         (in `mfh.studies.gauss_prepare`, free of torch) -> dataset.npz, settings.csv
    train_teachers  a linear teacher on x_a per setting x run      -> teacher.pt, teacher.csv
    train_baselines a linear no-KD student on x_b per run          -> nokd.pt, nokd.csv
    distill         a linear KD student on x_b per setting x run   -> kd.pt, kd.csv
    salience        Algorithm 1 per setting x run (for the Venn analysis) -> salience.csv

Each training step trains all its models as one ensemble (`mfh.studies.ensemble.train_and_save`).
Paired design: the no-KD student depends on the run only, and every KD student of a run starts
from the same initial weights as that run's no-KD student; every teacher of a run starts from the
same weights.
Accuracy CSVs hold test accuracy in percent, "%.4f", one row per model.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from mfh.algorithm1.inputs import algorithm1_on_inputs
from mfh.data.synthetic import StudyData, a_channel_roles
from mfh.kd import KDConfig
from mfh.seeding import torch_seed
from mfh.studies.ensemble import (
    as_features,
    as_labels,
    init_ensemble,
    load_ensemble,
    log_every,
    train_and_save,
    write_salience,
)

log = logging.getLogger(__name__)


def train_teachers(
    study: str, seed: int, data_path, teacher_cfg: dict, out_ckpt, out_acc
) -> torch.Tensor:
    """Train one linear teacher on x_a per setting x run; return test accuracy (S * R,)."""
    data = StudyData.load(data_path)
    S, R = data.xa_train.shape[:2]
    model = init_ensemble(study, seed, "teacher_init", S, R, data.xa_train.shape[-1])
    return train_and_save(
        model,
        (as_features(data.xa_train), as_labels(data.y_train, S)),
        (as_features(data.xa_test), as_labels(data.y_test, S)),
        teacher_cfg,
        name=f"{study} teachers",
        role="teacher",
        settings=S,
        config={"teacher": teacher_cfg, "seed": seed},
        out_ckpt=out_ckpt,
        out_acc=out_acc,
    )


def train_baselines(
    study: str, seed: int, data_path, student_cfg: dict, out_ckpt, out_acc
) -> torch.Tensor:
    """Train one no-KD student on x_b per run (it is shared by all settings); return acc (R,)."""
    data = StudyData.load(data_path)
    R = data.xb_train.shape[0]
    model = init_ensemble(study, seed, "student_init", 1, R, data.xb_train.shape[-1])
    return train_and_save(
        model,
        (as_features(data.xb_train), as_labels(data.y_train)),
        (as_features(data.xb_test), as_labels(data.y_test)),
        student_cfg,
        name=f"{study} no-KD students",
        role="nokd",
        settings=None,
        config={"student": student_cfg, "seed": seed},
        out_ckpt=out_ckpt,
        out_acc=out_acc,
    )


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
    teacher = load_ensemble(teacher_ckpt, "teacher")
    with torch.no_grad():
        teacher_logits = teacher(as_features(data.xa_train))  # (S * R, C, n_train)
    student = init_ensemble(study, seed, "student_init", S, R, data.xb_train.shape[-1])
    config = {"student": student_cfg, "distill": kd_cfg, "seed": seed, "teacher": str(teacher_ckpt)}
    return train_and_save(
        student,
        (as_features(data.xb_train, S), as_labels(data.y_train, S)),
        (as_features(data.xb_test, S), as_labels(data.y_test, S)),
        student_cfg,
        name=f"{study} KD students",
        role="kd",
        settings=S,
        config=config,
        out_ckpt=out_ckpt,
        out_acc=out_acc,
        teacher_logits=teacher_logits,
        kd=KDConfig(**kd_cfg),
    )


def salience(
    study: str, seed: int, generator: str, data_path, salience_cfg: dict, out_csv
) -> torch.Tensor:
    """Algorithm 1 on the training data of every setting x run: salience of x_a's channels."""
    data = StudyData.load(data_path)
    S, R = data.xa_train.shape[:2]
    width = data.xa_train.shape[-1]
    f_a = init_ensemble(study, seed, "joint_a_init", S, R, width)
    f_b = init_ensemble(study, seed, "joint_b_init", S, R, data.xb_train.shape[-1])
    x_a, x_b = as_features(data.xa_train), as_features(data.xb_train, S)
    rng = torch.Generator().manual_seed(torch_seed(seed, study, "salience"))
    raw, norm = algorithm1_on_inputs(
        f_a,
        f_b,
        x_a,
        x_b,
        as_labels(data.y_train, S),
        salience_cfg,
        rng,
        name=f"{study} joint nets",
        log_every=log_every(salience_cfg["epochs"]),
    )  # (S * R, width) each
    roles = [a_channel_roles(generator, int(v), width) for v in data.grid]
    shared = np.stack([r[0] for r in roles])  # (S, width)
    decisive = np.stack([r[1] for r in roles])
    write_salience(out_csv, norm, raw, shared, decisive)
    log.info("%s: salience of %d channels for %d models", study, width, S * R)
    return norm
