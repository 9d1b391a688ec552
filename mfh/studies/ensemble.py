"""The ensembles of the synthetic studies (`mfh.studies.gauss`, `mfh.studies.modify`): the
ensemble layout of stored arrays (`as_features`, `as_labels`, and `EnsembleData`, what one step
trains and tests on), seeded ensembles, ensemble checkpoints, their accuracy and salience tables.
The steps that train them are in `mfh.studies.ensemble_steps`.

Tensors and models are made here, on the device that `mfh.device.configure` selected for the
step (cpu unless params.yaml says otherwise); what is written to disk comes back to the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from mfh.checkpoint import load_checkpoint, save_checkpoint
from mfh.device import current as current_device
from mfh.models.linear import LinearEnsemble
from mfh.seeding import torch_seed
from mfh.tables import ACC_BY_RUN, ACC_BY_SETTING, SALIENCE

N_CLASSES = 2  # the classes of every study but those of generator `venn` with `classes`


def write_acc(path, acc: torch.Tensor, settings: int | None) -> None:
    """acc: (S * R,) with settings=S (table ACC_BY_SETTING), or (R,) with settings=None
    (ACC_BY_RUN)."""
    values = acc.tolist()
    if settings is None:
        ACC_BY_RUN.write(path, enumerate(values))
    else:
        runs = len(values) // settings
        ACC_BY_SETTING.write(path, [(*divmod(i, runs), a) for i, a in enumerate(values)])


def as_features(x: np.ndarray, settings: int = 1) -> torch.Tensor:
    """Stored inputs -> the ensemble layout (M, d, N).

    x is (S, R, N, d), or (R, N, d) shared by all settings (then repeated `settings` times).
    """
    if x.ndim == 3:
        x = np.broadcast_to(x, (settings, *x.shape))
    x = x.reshape(-1, *x.shape[2:])  # (S * R, N, d)
    # np.array copies: a writable, C-ordered array even where x is a broadcast (read-only) view
    return torch.from_numpy(np.array(x.transpose(0, 2, 1), order="C")).to(current_device())


def as_labels(y: np.ndarray, settings: int = 1) -> torch.Tensor:
    """(R, N) -> (S * R, N): the run's labels for every setting; (S, R, N) -> (S * R, N)."""
    if y.ndim == 3:
        y = y.reshape(-1, y.shape[-1])
    else:
        y = np.broadcast_to(y, (settings, *y.shape)).reshape(-1, y.shape[-1])
    return torch.from_numpy(np.array(y, order="C")).to(current_device())


@dataclass(frozen=True)
class EnsembleData:
    """What one training step of an ensemble trains and tests on, in the ensemble layout: M = S * R
    models for `settings` S, or M = R models for settings None (one model per run, shared by
    every setting)."""

    settings: int | None
    train: tuple[torch.Tensor, torch.Tensor]  # x (M, d, N_train), y (M, N_train)
    test: tuple[torch.Tensor, torch.Tensor]  # x (M, d, N_test), y (M, N_test)
    classes: int = N_CLASSES

    @classmethod
    def from_arrays(
        cls, settings: int | None, x_train, y_train, x_test, y_test, classes: int = N_CLASSES
    ) -> EnsembleData:
        """From stored arrays: x (S, R, N, d) or (R, N, d), y (S, R, N) or (R, N); an array
        without the settings axis serves every setting (`as_features`, `as_labels`)."""
        S = settings or 1
        train = as_features(x_train, S), as_labels(y_train, S)
        return cls(settings, train, (as_features(x_test, S), as_labels(y_test, S)), classes)

    @property
    def runs(self) -> int:
        return self.train[0].shape[0] // (self.settings or 1)

    @property
    def width(self) -> int:
        """d, the channels of x."""
        return self.train[0].shape[1]

    def masked(self, keep: torch.Tensor) -> EnsembleData:
        """The same data, x times `keep` (M, d, 1): 1 for the channels a model keeps, else 0."""
        (x_train, y_train), (x_test, y_test) = self.train, self.test
        train, test = (x_train * keep, y_train), (x_test * keep, y_test)
        return EnsembleData(self.settings, train, test, self.classes)


def init_ensemble(
    study: str,
    seed: int,
    role: str,
    settings: int,
    runs: int,
    width: int,
    fan_in: Optional[Sequence[int]] = None,
    classes: int = N_CLASSES,
) -> LinearEnsemble:
    """S x R linear models with `classes` outputs; model (s, r) is seeded by (seed, study, role,
    r) only, so every setting of a run starts from the same weights (paired design). `fan_in`:
    see LinearEnsemble."""
    seeds = [torch_seed(seed, study, role, r) for _ in range(settings) for r in range(runs)]
    return LinearEnsemble(seeds, width, classes, fan_in=fan_in).to(current_device())


def save_ensemble(
    path, role: str, model: LinearEnsemble, settings: int, runs: int, config: dict, acc=None
) -> None:
    """Checkpoint of an ensemble of S x R models; `acc` (M,): their test accuracy, if any."""
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
        metrics={} if acc is None else {"test_acc": acc.tolist()},
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
