"""The real-data studies' KD modes (PROTOCOL §5, `mfh.kd_modes`): remove a ratio r of the
teacher's penultimate channels, then distil a student from the modified teacher.

    distill_modes     one step (rule real_modes): for every ratio and seed, remove the channels
                      that `removed_channels` picks for the mode — 0 random, 1/2 the least/most
                      modality-general by Algorithm 1, 3/4 the least/most teacher-important (the
                      control) — replaced by params `modes.fill` (`mfh.channel_removal`), and
                      distil a student; one row per (ratio, seed).
    removed_channels  which channels a mode removes.
    read_rankings     a ranking column of the salience table `mfh.studies.real_algorithm1` wrote.

Students are paired with the rest of the real study (`mfh.studies.real`): the student of seed s
starts from the no-KD baseline's weights and batch order of seed s. The teacher's features are
computed once per seed (`penultimate_features`); only its head runs per student batch.

Health: a diverged loss stops the step (`mfh.train.minibatch`), but a mode's student at chance
does not: a teacher with most channels replaced can still be right on most samples while its
probabilities are so flat that pure KD from it teaches nothing (measured: AV-MNIST image -> audio,
mode 0 at r = 0.75, a student at 14.4 % with a KD loss of 0.009). That is the mode's outcome, not
a broken run; the regular-KD students (`mfh.studies.real.distill`) are checked.
"""

from __future__ import annotations

import logging

import torch

from mfh.algorithm1.selection import drop_ratio, n_dropped
from mfh.channel_removal import ModifiedTeacher, penultimate_features
from mfh.device import current as current_device
from mfh.kd_modes import KD_MODES, RANKINGS, mode_ratios
from mfh.seeding import numpy_rng
from mfh.studies.real import (
    fit,
    kd_config,
    load_data,
    load_teachers,
    student_model,
)
from mfh.studies.real_io import save_models, split
from mfh.tables import REAL_MODES_ACC, REAL_SALIENCE

log = logging.getLogger(__name__)


def read_rankings(path, seeds: int, column: str) -> torch.Tensor:
    """salience_<pair>.csv (table REAL_SALIENCE) -> (seeds, H): `column` ("salience" or
    "importance", normalised) of every seed and channel."""
    table = [(r["seed"], r["channel"], r[column]) for r in REAL_SALIENCE.read_rows(path)]
    channels = 1 + max(k for _, k, _ in table)
    out = torch.full((seeds, channels), float("nan"), dtype=torch.float64)
    for s, k, v in table:
        if s < seeds:
            out[s, k] = v
    if torch.isnan(out).any():
        raise ValueError(f"{path}: {column} missing for some seed or channel (of {seeds} seeds)")
    return out


def removed_channels(
    mode: int, ranking: torch.Tensor, ratio: float, rng_args: tuple
) -> torch.Tensor:
    """(H,) bool, True = removed: `n_dropped(ratio, H)` channels chosen by `mode` (KD_MODES).

    ranking: (H,) the scores of the mode's ranking (`RANKINGS`; ignored by mode 0);
    rng_args: (seed, dataset, role, *indices) of mode 0's random draw.
    """
    width = ranking.shape[-1]
    removed = torch.zeros(width, dtype=torch.bool)
    if mode == 0:
        removed[numpy_rng(*rng_args).choice(width, n_dropped(ratio, width), replace=False)] = True
        return removed
    kept = drop_ratio(ranking[None], ratio, drop=RANKINGS[mode][1])[0]
    removed[:] = True
    removed[kept] = False
    return removed


def distill_modes(
    dataset: str,
    seed: int,
    cfg: dict,
    data_path,
    teacher_ckpt,
    teacher_role: str,
    salience_csv,
    a: str,
    b: str,
    mode: int,
    out_ckpt,
    out_csv,
):
    """For every ratio and seed: remove the teacher's channels chosen by `mode`, then distil a
    student on b from the modified teacher; one row per (ratio, seed)."""
    data = load_data(data_path, [a, b])
    teachers = load_teachers(teacher_ckpt, teacher_role, cfg)
    column = RANKINGS[mode][0] if mode in RANKINGS else "salience"  # mode 0: only its width
    rankings = read_rankings(salience_csv, len(teachers), column)  # (seeds, H)
    fill, batch_size = cfg["modes"]["fill"], cfg["train"]["batch_size"]
    train_a, test_a = split(data, [a], "train"), split(data, [a], "test")
    features = [  # per seed: the teacher's (N_train, H) and (N_test, H) features
        tuple(penultimate_features(t, x.inputs, device=current_device()) for x in (train_a, test_a))
        for t in teachers
    ]
    rows, students = [], []
    for i, ratio in enumerate(mode_ratios(cfg["modes"])[mode]):
        for s, (teacher, (h_train, h_test)) in enumerate(zip(teachers, features)):
            rng_args = (seed, dataset, f"random_{a}-{b}", i, s)
            removed = removed_channels(mode, rankings[s], ratio, rng_args)
            modified = ModifiedTeacher(teacher, removed.to(current_device()), fill, h_train)
            teacher_acc = modified.accuracy(h_test, test_a.y, batch_size)
            student = student_model(cfg, data, dataset, seed, b, s)
            kd = {"teacher": modified.logits_of_rows(h_train), "kd": kd_config(cfg)}
            name = f"mode {mode} r={ratio} KD {a} -> {b}"
            result = fit(student, data, [b], cfg, dataset, seed, s, name, **kd)
            epoch, val_acc, test_acc = result.best_epoch, result.val_acc, result.test_acc
            rows.append((ratio, s, int(removed.sum()), teacher_acc, epoch, val_acc, test_acc))
            students.append(student)
    metrics = {"rows": [REAL_MODES_ACC.format_row(row) for row in rows]}
    save_models(out_ckpt, "kd_mode", students, cfg, metrics)
    REAL_MODES_ACC.write(out_csv, rows)
    log.info(
        "%s mode %d (%s) %s -> %s: %d students", dataset, mode, KD_MODES[mode], a, b, len(rows)
    )
