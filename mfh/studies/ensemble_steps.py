"""The steps that both synthetic studies (`mfh.studies.gauss`, `mfh.studies.modify`) run on their
ensembles, one implementation each; a study picks which of its arrays feed them.

    train_teachers   linear teachers on x_a, one per setting x run
    train_baselines  no-KD linear students on x_b
    distill          KD linear students on x_b from their teachers' logits
    salience         Algorithm 1 on the input channels of x_a (joint nets, permutation salience)

Each trains all its models as one ensemble; `train_and_save` is the skeleton of every training
step (train -> evaluate -> checkpoint -> accuracy table). Paired design: every teacher of a run
starts from the same weights, and every student of a run (no-KD, or KD from any teacher) starts
from the same weights (`init_students`).
"""

from __future__ import annotations

import logging
import os
from typing import NamedTuple

import numpy as np
import torch

from mfh.algorithm1.inputs import input_salience, train_joint_ensemble
from mfh.algorithm1.selection import minmax
from mfh.kd import KDConfig
from mfh.models.linear import LinearEnsemble
from mfh.seeding import torch_seed
from mfh.studies.ensemble import (
    EnsembleData,
    init_ensemble,
    load_ensemble,
    save_ensemble,
    write_acc,
    write_salience,
)
from mfh.train.fullbatch import accuracy, train_full_batch

log = logging.getLogger(__name__)

LOG_EVERY_FRACTION = 10  # log the loss ten times per training


class Outputs(NamedTuple):
    """The files a training step writes: the ensemble's checkpoint (.pt), its accuracy table."""

    ckpt: str | os.PathLike
    acc: str | os.PathLike


def train_teachers(
    study: str, seed: int, on_a: EnsembleData, teacher_cfg: dict, out: Outputs
) -> torch.Tensor:
    """Linear teachers on `on_a`, one per setting x run. Checkpoint role "teacher"; returns test
    accuracy (M,)."""
    model = init_ensemble(
        study, seed, "teacher_init", on_a.settings, on_a.runs, on_a.width, classes=on_a.classes
    )
    config, name = {"teacher": teacher_cfg, "seed": seed}, f"{study} teachers"
    return train_and_save(model, on_a, teacher_cfg, out, role="teacher", config=config, name=name)


def train_baselines(
    study: str, seed: int, on_b: EnsembleData, student_cfg: dict, out: Outputs
) -> torch.Tensor:
    """No-KD linear students on `on_b`. Checkpoint role "nokd"; returns test accuracy (M,)."""
    model = init_students(study, seed, on_b)
    config, name = {"student": student_cfg, "seed": seed}, f"{study} no-KD students"
    return train_and_save(model, on_b, student_cfg, out, role="nokd", config=config, name=name)


def distill(
    study: str,
    seed: int,
    on_b: EnsembleData,
    logits: torch.Tensor,  # (M, C, N_train): each student's teacher on its training inputs
    student_cfg: dict,
    kd_cfg: dict,
    out: Outputs,
    name: str,
    *,
    role: str = "kd",
    **record,
) -> torch.Tensor:
    """KD linear students on `on_b`, distilled from their teachers' `logits` with the `distill`
    params `kd_cfg` (`mfh.kd.KDConfig`); `name` labels the log. The checkpoint (`role`) records
    the params, then `record` (what else sets these students apart, e.g. their teacher); returns
    test accuracy (M,)."""
    student = init_students(study, seed, on_b)
    config = {"student": student_cfg, "distill": kd_cfg, "seed": seed, **record}
    kd = {"teacher_logits": logits, "kd": KDConfig(**kd_cfg)}
    return train_and_save(
        student, on_b, student_cfg, out, role=role, config=config, name=name, **kd
    )


def salience(
    study: str,
    seed: int,
    x_a: torch.Tensor,  # (M, d_a, N)
    x_b: torch.Tensor,  # (M, d_b, N)
    y: torch.Tensor,  # (M, N)
    salience_cfg: dict,
    truth: tuple[np.ndarray, np.ndarray],
    out_csv,
    out_joint: tuple[str | os.PathLike, str | os.PathLike],
    classes: int = 2,
) -> torch.Tensor:
    """Algorithm 1 on the training data of every setting x run, with the params `salience_cfg`
    (epochs, lr, momentum, repeats): joint nets f_a on x_a and f_b on x_b (saved to `out_joint`,
    roles "joint_a", "joint_b"), then the salience of x_a's channels. Writes salience.csv with
    `truth` = (shared, decisive), bool (S, d_a), the generator's roles of x_a's channels;
    returns the min-max normalised salience (M, d_a)."""
    shared, decisive = truth
    S, (M, width, _) = len(shared), x_a.shape
    f_a = init_ensemble(study, seed, "joint_a_init", S, M // S, width, classes=classes)
    f_b = init_ensemble(study, seed, "joint_b_init", S, M // S, x_b.shape[1], classes=classes)
    rng = torch.Generator().manual_seed(torch_seed(seed, study, "salience"))
    epochs, lr, momentum = (salience_cfg[key] for key in ("epochs", "lr", "momentum"))
    train_joint_ensemble(
        f_a,
        f_b,
        x_a,
        x_b,
        y,
        epochs=epochs,
        lr=lr,
        momentum=momentum,
        name=f"{study} joint nets",
        log_every=log_every(epochs),
    )
    config = {"salience": salience_cfg, "seed": seed}
    for path, role, net in zip(out_joint, ("joint_a", "joint_b"), (f_a, f_b)):
        save_ensemble(path, role, net, S, M // S, config)
    raw = input_salience(f_a, f_b, x_a, x_b, repeats=salience_cfg["repeats"], generator=rng)
    norm = minmax(raw)  # (M, d_a)
    write_salience(out_csv, norm, raw, shared, decisive)
    log.info("%s: salience of %d channels for %d models", study, width, M)
    return norm


def init_students(study: str, seed: int, on_b: EnsembleData) -> LinearEnsemble:
    """The students on `on_b`: the no-KD student of a run and its KD students, of any teacher,
    start from the same weights (seed role "student_init")."""
    settings, runs, width = on_b.settings or 1, on_b.runs, on_b.width
    return init_ensemble(study, seed, "student_init", settings, runs, width, classes=on_b.classes)


def teacher_logits(path, role: str, x: torch.Tensor) -> torch.Tensor:
    """The logits (M, C, N) on x (M, d, N) of the teacher ensemble in checkpoint `path` (`role`)."""
    teacher = load_ensemble(path, role)
    with torch.no_grad():
        return teacher(x)


def train_and_save(
    model: LinearEnsemble,
    data: EnsembleData,
    cfg: dict,
    out: Outputs,
    *,
    role: str,
    config: dict,
    name: str,
    **kd,
) -> torch.Tensor:
    """Train `model` (M models) full batch on `data.train` with `cfg` (epochs, lr), evaluate it
    on `data.test`, save its checkpoint (`role`, `config`) and its accuracy table; return test
    accuracy (M,).

    `data.settings` None: checkpoint layout 1 x R, accuracy table by run. `kd`: `teacher_logits`
    and `kd` of `mfh.train.fullbatch.train_full_batch`, for a KD student. `name` labels the log.
    """
    epochs = cfg["epochs"]
    x, y = data.train
    train_full_batch(
        model, x, y, epochs=epochs, lr=cfg["lr"], name=name, log_every=log_every(epochs), **kd
    )
    acc = accuracy(model, *data.test)
    layout = data.settings or 1
    save_ensemble(out.ckpt, role, model, layout, model.n_models // layout, config, acc)
    write_acc(out.acc, acc, data.settings)
    log.info("%s: mean test accuracy %.2f%%", name, acc.mean().item())
    return acc


def log_every(epochs: int) -> int:
    return max(1, epochs // LOG_EVERY_FRACTION)
