"""The minibatch trainer of the real-data studies: teachers, no-KD and KD students, fusion nets.

`train_minibatch` trains a standard-layout model (inputs (B, ...) -> logits (B, C)) by minibatch
SGD with momentum (`mfh.train.sgd.MomentumSGD`, the arithmetic of `torch.optim.SGD`), with the
cross-entropy loss or, given a teacher, `mfh.kd.distillation_loss` against the teacher's logits of
each batch (`teacher(rows)`: a fixed table of logits, `TeacherLogits`, or a teacher whose logits
depend on the batch, `mfh.channel_removal.ModifiedTeacher`). Every epoch it reshuffles
the training set with the caller's generator, evaluates validation accuracy, and keeps the
weights of the best validation epoch (ties: the earliest), which the model holds at the end.
The reported test accuracy is the one of that epoch (PROTOCOL §5), measured once, on the best
weights, after the last epoch (the test set is evaluated no more than what is reported). With
`progress`, a tqdm bar shows the epoch's steps when stderr is a terminal (measured: 0.2 us per step
with the bar, 0.04 us without, against milliseconds of training per step; `import torch` already
imports tqdm, through torch.hub).

Data: a `Split` holds one "indexable" per model input — a tensor (N, ...) or any object with
`len(x)`, `x[rows]` (rows a LongTensor -> tensor (B, ...)) and `x.shape` — and labels (N,)
int64. Inputs stay where they are (CPU); only each batch is moved to `device`.

Throughput: per step, only the batch gathering, the forward/backward and a few foreach ops run;
the per-step losses stay on the device and are read once per epoch (one sync), so the loop runs
at the speed of a bare `torch.optim` loop (`benchmarks/bench_minibatch.py`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from mfh.errors import HealthError
from mfh.kd import KDConfig, SoftTargets, distillation_loss
from mfh.train.sgd import MomentumSGD

log = logging.getLogger(__name__)

# measured (one thread, 2000 samples): audio CNN 708 ms at 1024, 282 ms at 128; image CNN 271 vs
# 106 ms; the mfeat MLP 2.4 vs 3.2 ms. Large batches spill the CNNs' activations out of the cache.
EVAL_BATCH_SIZE = 128


@dataclass(frozen=True)
class Split:
    """One split: `inputs`, one indexable (N, ...) per model input, and labels `y` (N,) int64."""

    inputs: tuple[Any, ...]
    y: torch.Tensor

    def __post_init__(self):
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if not self.inputs:
            raise ValueError("a Split needs at least one input")
        if self.y.dim() != 1 or self.y.dtype != torch.int64:
            raise ValueError(f"y must be (N,) int64, got {tuple(self.y.shape)} {self.y.dtype}")
        lengths = [len(x) for x in self.inputs]
        if any(n != len(self.y) for n in lengths):
            raise ValueError(f"inputs of lengths {lengths} for {len(self.y)} labels")

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class TrainResult:
    """The best validation epoch (1-based) and its accuracies in percent (test_acc None without a
    test split); `history` has one dict per epoch (epoch, train_loss, val_acc, seconds);
    `best_state` is a copy of the weights of the best epoch."""

    best_epoch: int
    val_acc: float
    test_acc: Optional[float]
    history: list[dict] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)


class TeacherLogits:
    """The teacher of `train_minibatch` from fixed logits (N_train, C): rows (B,) -> (B, C)."""

    def __init__(self, logits: torch.Tensor):
        self.table = logits.cpu()

    def __len__(self) -> int:
        return len(self.table)

    def __call__(self, rows: torch.Tensor) -> torch.Tensor:
        return self.table.index_select(0, rows)


def gather(inputs: Sequence[Any], rows: torch.Tensor, device) -> list[torch.Tensor]:
    """One batch: each input's `rows` (B,), moved to `device` -> list of (B, ...) tensors."""
    return [
        (x.index_select(0, rows) if isinstance(x, torch.Tensor) else x[rows]).to(device)
        for x in inputs
    ]


def train_minibatch(
    model: nn.Module,
    train: Split,
    val: Split,
    test: Optional[Split] = None,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    seed_generator: torch.Generator,
    teacher: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,  # rows (B,) -> logits (B, C)
    kd: Optional[KDConfig] = None,
    name: str = "model",
    progress: bool = True,
    device="cpu",
    eval_batch_size: int = EVAL_BATCH_SIZE,
) -> TrainResult:
    """Train `model` in place; it ends holding the weights of the best validation epoch.
    A non-finite epoch loss (a diverged run) raises `HealthError`."""
    if (teacher is None) != (kd is None):
        raise ValueError("pass teacher and kd together, or neither")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"need epochs >= 1 and batch_size >= 1, got {epochs}, {batch_size}")
    device = torch.device(device)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = MomentumSGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    loss_fn = _loss_fn(kd, teacher, device)
    n = len(train)
    result = TrainResult(best_epoch=0, val_acc=-1.0, test_acc=None)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        batches = tqdm(
            torch.randperm(n, generator=seed_generator).split(batch_size),
            desc=f"{name} epoch {epoch}/{epochs}",
            leave=False,  # the bar is cleared before the epoch's log line
            disable=None if progress else True,  # None: a bar only on a terminal (stderr)
        )
        train_loss = _train_epoch(model, train, batches, loss_fn, opt, device)
        if not math.isfinite(train_loss):
            raise HealthError(
                f"{name}: the training loss diverged ({train_loss}) in epoch {epoch}; "
                f"lower the learning rate (lr {lr})"
            )
        val_acc = accuracy(model, val, eval_batch_size, device)
        result.history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_acc": val_acc,
                "seconds": time.perf_counter() - start,
            }
        )
        if val_acc > result.val_acc:
            result.best_epoch, result.val_acc = epoch, val_acc
            result.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        log.info(
            "%s epoch %d/%d loss %.3f val %.1f%% (best %.1f%% @%d)",
            name,
            epoch,
            epochs,
            train_loss,
            val_acc,
            result.val_acc,
            result.best_epoch,
        )
    model.load_state_dict(result.best_state)
    if test is not None:
        result.test_acc = accuracy(model, test, eval_batch_size, device)
    return result


def _loss_fn(kd: Optional[KDConfig], teacher, device):
    """The loss of one batch, (logits (B, C), rows (B,), y (B,)) -> scalar: CE, or KD from the
    teacher's logits of those rows."""
    if kd is None:
        return lambda logits, rows, y: F.cross_entropy(logits, y)

    def loss(logits: torch.Tensor, rows: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        t = teacher(rows).to(device).T[None]  # (1, C, B): kd's layout
        soft = SoftTargets.from_logits(t, kd.temperature)
        return distillation_loss(logits.T[None], soft, y[None], kd)[0]

    return loss


def _train_epoch(model, train: Split, batches, loss_fn, opt: MomentumSGD, device):
    """One pass over `batches` (row indices, each (B,)); returns the mean training loss."""
    model.train()
    losses, sizes = [], []  # one scalar per step, summed once at the end: no per-step sync
    for rows in batches:
        logits = model(*gather(train.inputs, rows, device))  # (B, C)
        loss = loss_fn(logits, rows, train.y.index_select(0, rows).to(device))
        opt.step(torch.autograd.grad(loss, opt.params))
        losses.append(loss.detach())
        sizes.append(len(rows))
    sizes = torch.tensor(sizes, dtype=losses[0].dtype)
    return torch.stack(losses).cpu().dot(sizes).item() / len(train)


@torch.no_grad()
def predict_logits(
    model: nn.Module, inputs: Sequence[Any], batch_size: int = EVAL_BATCH_SIZE, device="cpu"
) -> torch.Tensor:
    """Logits (N, C) on the CPU, in eval mode (the model's mode is restored afterwards)."""
    inputs = tuple(inputs)
    was_training = model.training
    model.eval()
    try:
        n = len(inputs[0])
        chunks = [
            model(*gather(inputs, rows, device)).cpu() for rows in torch.arange(n).split(batch_size)
        ]
        return torch.cat(chunks)
    finally:
        model.train(was_training)


def accuracy(
    model: nn.Module, split: Split, batch_size: int = EVAL_BATCH_SIZE, device="cpu"
) -> float:
    """Accuracy in percent on a split."""
    pred = predict_logits(model, split.inputs, batch_size, device).argmax(dim=1)
    return (pred == split.y).double().mean().item() * 100.0
