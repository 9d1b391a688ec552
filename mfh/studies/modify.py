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

import numpy as np
import torch

from mfh.algorithm1.selection import top_k
from mfh.data.modify import ModifyData
from mfh.device import current as current_device
from mfh.seeding import numpy_rng
from mfh.studies import ensemble_steps
from mfh.studies.ensemble import EnsembleData, as_features, as_labels, init_ensemble
from mfh.studies.ensemble_steps import Outputs, teacher_logits, train_and_save
from mfh.tables import KEPT, SALIENCE

SELECTIONS = ("random", "gt", "alg1")  # how a modified teacher's kept channels are chosen


def _shape(data: ModifyData) -> tuple[int, int, int]:
    S, R, _, width = data.arrays["x_a_a"].shape
    return S, R, width


def train_teachers(study, seed, data_path, teacher_cfg, out_ckpt, out_acc) -> torch.Tensor:
    """Regular teachers on x_a of sample A, one per setting x run."""
    on_a = _on(ModifyData.load(data_path), "x_a", sample="a")
    out = Outputs(out_ckpt, out_acc)
    return ensemble_steps.train_teachers(study, seed, on_a, teacher_cfg, out)


def a_channel_truth(data: ModifyData) -> tuple[np.ndarray, np.ndarray]:
    """The generator's truth about x_a's channels: (shared, decisive), bool (S, width). x_b's
    decisive channels are x_a's shared ones, in the same places."""
    channels = np.arange(data.arrays["x_a_a"].shape[-1])
    shared = np.stack([channels < xs2 for _, xs2 in data.grid])
    decisive = np.stack([channels < xs1 + xs2 for xs1, xs2 in data.grid])
    return shared, decisive


def salience(study, seed, data_path, salience_cfg, out_csv, out_joint) -> torch.Tensor:
    """Algorithm 1 on sample A; writes one row per setting x run x channel of x_a, and the joint
    nets to `out_joint` = (f_a's checkpoint, f_b's)."""
    data = ModifyData.load(data_path)
    a = data.arrays
    x_a, x_b, y = as_features(a["x_a_a"]), as_features(a["x_b_a"]), as_labels(a["y_a"])
    truth = a_channel_truth(data)
    return ensemble_steps.salience(
        study, seed, x_a, x_b, y, salience_cfg, truth, out_csv, out_joint
    )


def train_baselines(study, seed, data_path, student_cfg, out_ckpt, out_acc) -> torch.Tensor:
    """No-KD students on x_b of sample B."""
    on_b = _on(ModifyData.load(data_path), "x_b", sample="b")
    out = Outputs(out_ckpt, out_acc)
    return ensemble_steps.train_baselines(study, seed, on_b, student_cfg, out)


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
    teacher_in, student_in = ("x_b_b", "x_a_b") if legacy_swap_bug else ("x_a_b", "x_b_b")
    logits = teacher_logits(teacher_ckpt, "teacher", as_features(a[teacher_in]))  # (S * R, C, n)
    on_b = EnsembleData.from_arrays(
        len(data.grid), a[student_in], a["y_b"], a["x_b_test"], a["y_test"]
    )
    out, name = Outputs(out_ckpt, out_acc), f"{study} regular KD students"
    return ensemble_steps.distill(
        study, seed, on_b, logits, student_cfg, kd_cfg, out, name, legacy_swap_bug=legacy_swap_bug
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
    study, seed, data_path, selection, salience_csv, teacher_cfg, out_kept, out_ckpt, out_acc
) -> torch.Tensor:
    """Teachers restricted to the kept channels of x_a, trained on sample B."""
    data = ModifyData.load(data_path)
    S, R, width = _shape(data)
    mask = kept_channels(selection, study, seed, data.grid, R, width, salience_csv)  # (S, R, width)
    fan_in = mask.sum(axis=-1).reshape(-1).tolist()
    model = init_ensemble(study, seed, "mod_teacher_init", S, R, width, fan_in=fan_in)
    _write_kept(out_kept, mask, data.grid)
    on_kept = _on(data, "x_a", sample="b").masked(_keep(mask))
    config = {"teacher": teacher_cfg, "seed": seed, "mode": selection}
    return train_and_save(
        model,
        on_kept,
        teacher_cfg,
        Outputs(out_ckpt, out_acc),
        role="mod_teacher",
        config=config,
        name=f"{study} {selection} teachers",
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
    data_path,
    selection,
    teacher_ckpt,
    kept_csv,
    student_cfg,
    kd_cfg,
    out_ckpt,
    out_acc,
) -> torch.Tensor:
    """KD students on x_b of sample B from the modified teachers of one selection."""
    data = ModifyData.load(data_path)
    S, R, width = _shape(data)
    keep = _keep(read_kept(kept_csv, S, R, width))
    x_kept = as_features(data.arrays["x_a_b"]) * keep  # what the teacher trained on
    logits = teacher_logits(teacher_ckpt, "mod_teacher", x_kept)  # (S * R, C, n_train)
    on_b = _on(data, "x_b", sample="b")
    out, name = Outputs(out_ckpt, out_acc), f"{study} {selection} KD students"
    return ensemble_steps.distill(
        study, seed, on_b, logits, student_cfg, kd_cfg, out, name, role="mod_kd", mode=selection
    )


def _on(data: ModifyData, x: str, sample: str) -> EnsembleData:
    """x ("x_a" or "x_b") and the labels of `sample` ("a" or "b") for training, of the test sample
    for testing."""
    a = data.arrays
    return EnsembleData.from_arrays(
        len(data.grid), a[f"{x}_{sample}"], a[f"y_{sample}"], a[f"{x}_test"], a["y_test"]
    )


def _keep(mask: np.ndarray) -> torch.Tensor:
    """The kept channels, bool (S, R, width) -> 0/1 (S * R, width, 1) on the device."""
    S, R, width = mask.shape
    return torch.from_numpy(mask.reshape(S * R, width, 1).astype(np.float32)).to(current_device())
