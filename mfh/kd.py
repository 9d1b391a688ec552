"""Knowledge-distillation losses, computed per model of an ensemble.

    loss = w_gt * CE(s, y) + w_kd * [T^2 if t_squared] * KL(softmax(t / T) || softmax(s / T))

Defaults are the reference behaviour of the MFH paper's code (PROTOCOL §1): T = 1, weights
[1, 1] on synthetic data, no T^2 factor, and the KL term reduced like `nn.KLDivLoss()`'s default
`reduction="mean"`, which divides the summed KL by N * C (so it weighs 1/C of `batchmean`).
`batchmean` (divide by N, the mathematically proper KL) and `sum` are available.

All functions take logits of shape (..., C, N) — classes before samples, any leading ensemble
dims, the layout of `mfh.models` — and return one loss per model, shape (...), so a trainer can
sum them without coupling the models.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

KL_REDUCTIONS = ("mean", "batchmean", "sum")


@dataclass(frozen=True)
class KDConfig:
    """Weights and form of the distillation loss; mirrors params.yaml `<study>.distill`."""

    temperature: float = 1.0
    w_gt: float = 1.0
    w_kd: float = 1.0
    kl_reduction: str = "mean"
    t_squared: bool = False

    def __post_init__(self):
        if self.kl_reduction not in KL_REDUCTIONS:
            raise ValueError(
                f"kl_reduction={self.kl_reduction!r}; allowed: {', '.join(KL_REDUCTIONS)}"
            )
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean CE over samples: logits (..., C, N), y (..., N) -> (...)."""
    log_p = torch.log_softmax(logits, dim=-2)
    return -log_p.gather(-2, y.unsqueeze(-2)).squeeze(-2).mean(dim=-1)


@dataclass(frozen=True)
class SoftTargets:
    """The teacher's softened distribution, computed once before training (it is constant)."""

    probs: torch.Tensor  # (..., C, N) softmax(teacher_logits / T) over classes
    neg_entropy: torch.Tensor  # (...,) sum over classes and samples of p * log p

    @classmethod
    def from_logits(cls, teacher_logits: torch.Tensor, temperature: float) -> "SoftTargets":
        probs = torch.softmax(teacher_logits.detach() / temperature, dim=-2)
        return cls(probs, torch.xlogy(probs, probs).sum(dim=(-2, -1)))  # 0 * log 0 = 0


def kl_divergence(
    student_logits: torch.Tensor,
    targets: SoftTargets,
    temperature: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """KL(softmax(t / T) || softmax(s / T)) per model: (..., C, N) -> (...).

    Equals `nn.KLDivLoss(reduction)(log_softmax(s / T), softmax(t / T))` applied to each model.
    """
    log_q = torch.log_softmax(student_logits / temperature, dim=-2)  # (..., C, N)
    total = targets.neg_entropy - (targets.probs * log_q).sum(dim=(-2, -1))  # (...,)
    c, n = log_q.shape[-2:]
    if reduction == "mean":
        return total / (n * c)
    if reduction == "batchmean":
        return total / n
    if reduction == "sum":
        return total
    raise ValueError(f"reduction={reduction!r}; allowed: {', '.join(KL_REDUCTIONS)}")


def distillation_loss(
    student_logits: torch.Tensor,
    targets: SoftTargets,
    y: torch.Tensor,
    cfg: KDConfig,
) -> torch.Tensor:
    """The student's loss per model: (..., C, N), targets of (..., C, N), (..., N) -> (...)."""
    kl = kl_divergence(student_logits, targets, cfg.temperature, cfg.kl_reduction)
    if cfg.t_squared:
        kl = kl * cfg.temperature**2
    return cfg.w_gt * cross_entropy(student_logits, y) + cfg.w_kd * kl


def logit_gradient(
    logits: torch.Tensor,
    y: torch.Tensor,
    targets: SoftTargets | None = None,
    cfg: KDConfig | None = None,
) -> torch.Tensor:
    """Closed-form d(loss)/d(logits) per model, (..., C, N) -> (..., C, N).

    With `cfg` None the loss is `cross_entropy`; otherwise `distillation_loss`:
        d CE / dz  = (softmax(z) - onehot(y)) / N
        d KL / dz  = (softmax(z / T) - p_teacher) / T * (reduction scale) * (T^2 if t_squared)
    Lets a linear ensemble train without autograd (2x faster per step here, see
    `mfh.train.fullbatch`); tests check it against autograd.
    """
    c, n = logits.shape[-2:]
    grad = torch.softmax(logits, dim=-2)
    grad.scatter_add_(-2, y.unsqueeze(-2), torch.full_like(y, -1, dtype=grad.dtype).unsqueeze(-2))
    if cfg is None:
        return grad.div_(n)
    grad.mul_(cfg.w_gt / n)
    scale = {"mean": 1.0 / (n * c), "batchmean": 1.0 / n, "sum": 1.0}[cfg.kl_reduction]
    if cfg.t_squared:
        scale *= cfg.temperature**2
    soft = torch.softmax(logits / cfg.temperature, dim=-2) - targets.probs
    return grad.add_(soft, alpha=cfg.w_kd * scale / cfg.temperature)
