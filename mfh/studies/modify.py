"""The "modify gamma" study (`gauss_modify`, PROTOCOL §3 Exp 3, paper Table 2), one function per
rule. Sample A trains the regular teacher and Algorithm 1; sample B trains everything else; the
test sample evaluates every model (see `mfh.data.modify`).

    train_teachers   regular linear teacher on x_a (all 50 channels), sample A
    salience         Algorithm 1 on sample A: joint nets, per-channel salience of x_a
    train_baselines  no-KD linear student on x_b, sample B
    distill_regular  KD student on x_b from the regular teacher, sample B
                     (`legacy_swap_bug`: like the published script, the teacher is fed x_b and
                     the student trains on x_a; it is still evaluated on x_b's test set)
    retrain_teachers for one selection (random | gt | alg1; the tables' `mode`): keep k = xs2
                     channels of x_a, retrain a linear teacher on them (sample B)
    distill_modified KD student on x_b from that modified teacher, sample B

Kept channels are a 0/1 mask on x_a: a linear model on masked inputs is exactly a model on the
kept channels (zero channels get zero gradient), initialised with fan_in = k like nn.Linear(k).
All students of a run (no-KD, regular KD, modified KD of every selection) start from the same
weights.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from mfh.algorithm1.inputs import algorithm1_on_inputs
from mfh.algorithm1.selection import top_k
from mfh.data.modify import ModifyData
from mfh.device import current as current_device
from mfh.kd import KDConfig
from mfh.seeding import numpy_rng, torch_seed
from mfh.studies.ensemble import (
    as_features,
    as_labels,
    init_ensemble,
    load_ensemble,
    log_every,
    train_and_save,
    write_salience,
)
from mfh.tables import KEPT, SALIENCE

log = logging.getLogger(__name__)

SELECTIONS = ("random", "gt", "alg1")  # how a modified teacher's kept channels are chosen


def _shape(data: ModifyData) -> tuple[int, int, int]:
    S, R, _, width = data.arrays["x_a_a"].shape
    return S, R, width


def train_teachers(study, seed, data_path, teacher_cfg, out_ckpt, out_acc) -> torch.Tensor:
    """Regular teachers on x_a of sample A, one per setting x run."""
    data = ModifyData.load(data_path)
    a = data.arrays
    S, R, width = _shape(data)
    model = init_ensemble(study, seed, "teacher_init", S, R, width)
    return train_and_save(
        model,
        (as_features(a["x_a_a"]), as_labels(a["y_a"])),
        (as_features(a["x_a_test"]), as_labels(a["y_test"])),
        teacher_cfg,
        name=f"{study} teachers",
        role="teacher",
        settings=S,
        config={"teacher": teacher_cfg, "seed": seed},
        out_ckpt=out_ckpt,
        out_acc=out_acc,
    )


def salience(study, seed, data_path, salience_cfg, out_csv) -> torch.Tensor:
    """Algorithm 1 on sample A; writes one row per setting x run x channel of x_a."""
    data = ModifyData.load(data_path)
    a = data.arrays
    S, R, width = _shape(data)
    f_a = init_ensemble(study, seed, "joint_a_init", S, R, width)
    f_b = init_ensemble(study, seed, "joint_b_init", S, R, a["x_b_a"].shape[-1])
    x_a, x_b, y = as_features(a["x_a_a"]), as_features(a["x_b_a"]), as_labels(a["y_a"])
    rng = torch.Generator().manual_seed(torch_seed(seed, study, "salience"))
    raw, norm = algorithm1_on_inputs(
        f_a,
        f_b,
        x_a,
        x_b,
        y,
        salience_cfg,
        rng,
        name=f"{study} joint nets",
        log_every=log_every(salience_cfg["epochs"]),
    )  # (S * R, width) each
    channels = np.arange(width)
    shared = np.stack([channels < xs2 for _, xs2 in data.grid])  # (S, width)
    decisive = np.stack([channels < xs1 + xs2 for xs1, xs2 in data.grid])
    write_salience(out_csv, norm, raw, shared, decisive)
    log.info("%s: salience of %d channels for %d models", study, width, S * R)
    return norm


def train_baselines(study, seed, data_path, student_cfg, out_ckpt, out_acc) -> torch.Tensor:
    """No-KD students on x_b of sample B."""
    data = ModifyData.load(data_path)
    a = data.arrays
    S, R, _ = _shape(data)
    model = init_ensemble(study, seed, "student_init", S, R, a["x_b_b"].shape[-1])
    return train_and_save(
        model,
        (as_features(a["x_b_b"]), as_labels(a["y_b"])),
        (as_features(a["x_b_test"]), as_labels(a["y_test"])),
        student_cfg,
        name=f"{study} no-KD students",
        role="nokd",
        settings=S,
        config={"student": student_cfg, "seed": seed},
        out_ckpt=out_ckpt,
        out_acc=out_acc,
    )


def distill_regular(
    study,
    seed,
    data_path,
    teacher_ckpt,
    student_cfg,
    kd_cfg,
    legacy_swap_bug: bool,
    out_ckpt,
    out_acc,
) -> torch.Tensor:
    """KD students on x_b of sample B from the regular teachers (see `legacy_swap_bug` above)."""
    data = ModifyData.load(data_path)
    a = data.arrays
    S, R, _ = _shape(data)
    teacher = load_ensemble(teacher_ckpt, "teacher")
    teacher_in, student_in = ("x_b_b", "x_a_b") if legacy_swap_bug else ("x_a_b", "x_b_b")
    with torch.no_grad():
        teacher_logits = teacher(as_features(a[teacher_in]))  # (S * R, C, n_train)
    student = init_ensemble(study, seed, "student_init", S, R, a[student_in].shape[-1])
    config = {
        "student": student_cfg,
        "distill": kd_cfg,
        "seed": seed,
        "legacy_swap_bug": legacy_swap_bug,
    }
    return train_and_save(
        student,
        (as_features(a[student_in]), as_labels(a["y_b"])),
        (as_features(a["x_b_test"]), as_labels(a["y_test"])),
        student_cfg,
        name=f"{study} regular KD students",
        role="kd",
        settings=S,
        config=config,
        out_ckpt=out_ckpt,
        out_acc=out_acc,
        teacher_logits=teacher_logits,
        kd=KDConfig(**kd_cfg),
    )


def kept_channels(
    selection: str,
    study: str,
    seed: int,
    grid: np.ndarray,
    runs: int,
    width: int,
    salience_csv=None,
) -> np.ndarray:
    """The channels each modified teacher keeps: bool (S, R, width), k = xs2 per setting.

    random: k channels uniformly without replacement; gt: channels 0 .. xs2-1 (the truly shared
    ones); alg1: the k most salient channels by Algorithm 1.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"unknown selection {selection!r}; allowed: {', '.join(SELECTIONS)}")
    S = len(grid)
    mask = np.zeros((S, runs, width), dtype=bool)
    salience = _read_salience(salience_csv, S, runs, width) if selection == "alg1" else None
    for s, (_, xs2) in enumerate(grid):
        for r in range(runs):
            if selection == "gt":
                keep = np.arange(xs2)
            elif selection == "random":
                keep = numpy_rng(seed, study, "random_channels", s, r).choice(
                    width, xs2, replace=False
                )
            else:
                keep = top_k(torch.from_numpy(salience[s, r][None]), int(xs2))[0].numpy()
            mask[s, r, keep] = True
    return mask


def _read_salience(path, settings: int, runs: int, width: int) -> np.ndarray:
    """The normalised salience of salience.csv (table SALIENCE): (S, R, width)."""
    values = np.full((settings, runs, width), np.nan)
    for row in SALIENCE.read_rows(path):
        values[row["setting"], row["run"], row["channel"]] = row["salience"]
    if np.isnan(values).any():
        raise ValueError(f"{path}: salience missing for some setting, run or channel")
    return values


def retrain_teachers(
    study, seed, selection, data_path, salience_csv, teacher_cfg, out_ckpt, out_acc, out_kept
) -> torch.Tensor:
    """Teachers restricted to the kept channels of x_a, trained on sample B."""
    data = ModifyData.load(data_path)
    a = data.arrays
    S, R, width = _shape(data)
    mask = kept_channels(selection, study, seed, data.grid, R, width, salience_csv)  # (S, R, width)
    fan_in = mask.sum(axis=-1).reshape(-1).tolist()
    model = init_ensemble(study, seed, "mod_teacher_init", S, R, width, fan_in=fan_in)
    keep = torch.from_numpy(mask.reshape(S * R, width, 1).astype(np.float32))  # (M, width, 1)
    keep = keep.to(current_device())
    _write_kept(out_kept, mask, data.grid)
    return train_and_save(
        model,
        (as_features(a["x_a_b"]) * keep, as_labels(a["y_b"])),
        (as_features(a["x_a_test"]) * keep, as_labels(a["y_test"])),
        teacher_cfg,
        name=f"{study} {selection} teachers",
        role="mod_teacher",
        settings=S,
        config={"teacher": teacher_cfg, "seed": seed, "mode": selection},
        out_ckpt=out_ckpt,
        out_acc=out_acc,
    )


def _write_kept(path, mask: np.ndarray, grid: np.ndarray) -> None:
    """Table KEPT, one row per setting x run: the kept channels and the share of them that are
    truly shared."""
    rows = []
    for s, (_, xs2) in enumerate(grid):
        for r in range(mask.shape[1]):
            kept = np.flatnonzero(mask[s, r])
            precision = float(np.mean(kept < xs2))
            rows.append((s, r, precision, " ".join(map(str, kept))))
    KEPT.write(path, rows)


def read_kept(path, settings: int, runs: int, width: int) -> np.ndarray:
    """The mask written by `retrain_teachers`: bool (S, R, width)."""
    mask = np.zeros((settings, runs, width), dtype=bool)
    for row in KEPT.read_rows(path):
        mask[row["setting"], row["run"], list(map(int, row["channels"].split()))] = True
    return mask


def distill_modified(
    study,
    seed,
    selection,
    data_path,
    teacher_ckpt,
    kept_csv,
    student_cfg,
    kd_cfg,
    out_ckpt,
    out_acc,
) -> torch.Tensor:
    """KD students on x_b of sample B from the modified teachers of one selection."""
    data = ModifyData.load(data_path)
    a = data.arrays
    S, R, width = _shape(data)
    keep = torch.from_numpy(read_kept(kept_csv, S, R, width).reshape(S * R, width, 1)).float()
    keep = keep.to(current_device())  # (M, width, 1)
    teacher = load_ensemble(teacher_ckpt, "mod_teacher")
    with torch.no_grad():
        teacher_logits = teacher(as_features(a["x_a_b"]) * keep)  # (S * R, C, n_train)
    student = init_ensemble(study, seed, "student_init", S, R, a["x_b_b"].shape[-1])
    return train_and_save(
        student,
        (as_features(a["x_b_b"]), as_labels(a["y_b"])),
        (as_features(a["x_b_test"]), as_labels(a["y_test"])),
        student_cfg,
        name=f"{study} {selection} KD students",
        role="mod_kd",
        settings=S,
        config={"student": student_cfg, "distill": kd_cfg, "seed": seed, "mode": selection},
        out_ckpt=out_ckpt,
        out_acc=out_acc,
        teacher_logits=teacher_logits,
        kd=KDConfig(**kd_cfg),
    )
