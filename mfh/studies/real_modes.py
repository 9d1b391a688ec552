"""The real-data studies' KD modes (PROTOCOL §5, `mfh.kd_modes`): remove a ratio r of the
unimodal teacher's penultimate channels, chosen by Algorithm 1's salience, then distil a student
from the modified teacher.

    distill_modes     one step (rule real_modes): for every ratio and seed, remove the channels
                      that `removed_channels` picks for the mode — 0 random, 1 the least
                      modality-general ("modality-general KD"), 2 the most general
                      ("modality-specific KD") — filled with the channel's training mean (or
                      zero, params `modes.fill`), and distil a student; one row per (ratio, seed).
    removed_channels  which channels a mode removes.
    read_salience     the salience table that `mfh.studies.real.salience` wrote.

Students are paired with the rest of the real study (`mfh.studies.real`): the student of seed s
starts from the no-KD baseline's weights and batch order of seed s.
"""

from __future__ import annotations

import logging

import torch

from mfh.algorithm1.penultimate import LAYER
from mfh.algorithm1.selection import drop_ratio, n_dropped
from mfh.channel_removal import remove_channels
from mfh.device import current as current_device
from mfh.kd_modes import KD_MODES
from mfh.seeding import numpy_rng
from mfh.studies.real import fit, kd_config, load_data, load_teachers, student_model
from mfh.studies.real_io import save_models, split
from mfh.tables import REAL_MODES_ACC, REAL_SALIENCE
from mfh.train.minibatch import accuracy, predict_logits

log = logging.getLogger(__name__)


def read_salience(path, seeds: int) -> torch.Tensor:
    """salience.csv (table REAL_SALIENCE) -> (seeds, H) normalised salience."""
    table = [(r["seed"], r["channel"], r["salience"]) for r in REAL_SALIENCE.read_rows(path)]
    channels = 1 + max(k for _, k, _ in table)
    out = torch.full((seeds, channels), float("nan"), dtype=torch.float64)
    for s, k, v in table:
        if s < seeds:
            out[s, k] = v
    if torch.isnan(out).any():
        raise ValueError(f"{path}: salience missing for some seed or channel (of {seeds} seeds)")
    return out


def removed_channels(
    mode: int, salience: torch.Tensor, ratio: float, rng_args: tuple
) -> torch.Tensor:
    """(H,) bool, True = removed: `n_dropped(ratio, H)` channels chosen by `mode` (see KD_MODES).

    salience: (H,) normalised salience of the teacher's channels (unused in mode 0);
    rng_args: (seed, dataset, role, *indices) of mode 0's random draw.
    """
    h = salience.shape[-1]
    removed = torch.zeros(h, dtype=torch.bool)
    if mode == 0:
        removed[numpy_rng(*rng_args).choice(h, n_dropped(ratio, h), replace=False)] = True
        return removed
    kept = drop_ratio(salience[None], ratio, drop="least" if mode == 1 else "most")[0]
    removed[:] = True
    removed[kept] = False
    return removed


def distill_modes(
    dataset: str,
    seed: int,
    cfg: dict,
    data_path,
    teacher_ckpt,
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
    teachers = load_teachers(teacher_ckpt, "unimodal", cfg)
    salience_all = read_salience(salience_csv, len(teachers))  # (seeds, H)
    modes_cfg = cfg["modes"]
    train_a, test_a = split(data, [a], "train"), split(data, [a], "test")
    rows, students = [], []
    for i, ratio in enumerate(modes_cfg["ratios"]):
        for s, teacher in enumerate(teachers):
            removed = removed_channels(
                mode, salience_all[s], ratio, (seed, dataset, f"random_{a}-{b}", i, s)
            )
            modified = remove_channels(
                teacher, LAYER, removed, modes_cfg["fill"], train_a.inputs
            ).to(current_device())
            teacher_acc = accuracy(modified, test_a, device=current_device())
            logits = predict_logits(modified, train_a.inputs, device=current_device())
            student = student_model(cfg, data, dataset, seed, b, s)
            kd = {"teacher_logits": logits, "kd": kd_config(cfg)}
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
