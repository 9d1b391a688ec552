"""Algorithm 1 of the MFH paper: how much modality-general decisive information each channel of a
representation of modality `a` carries (PROTOCOL §4).

1. `train_joint`: jointly train a net `f_a` on modality a and a net `f_b` on modality b with
       L = CE(f_a(x_a), y) + CE(f_b(x_b), y) + MSE(f_a(x_a), f_b(x_b))      (MSE between logits)
   so that f_a's logits are pulled towards what modality b can also predict.
2. `channel_salience`: for each channel k of a representation of a — the input x_a itself
   (synthetic data) or the output of a named hidden layer of f_a (real data, e.g. the
   penultimate layer) — permute channel k across samples, leave the other channels untouched,
   run the rest of f_a and measure MSE(f_a(permuted), f_b(x_b)). Averaged over `repeats`
   random permutations and over all batches, this is the raw salience of channel k: destroying
   a channel that both modalities see moves f_a away from f_b more than destroying one that only
   a sees. Large = more modality-general. (If the logits are linear in channel k, with weights
   w_a on it in f_a and w_b on the same latent in f_b, permuting it raises the MSE by
   2 * sum_c w_a[c] * w_b[c] * Var(x_k) / C: a channel only a sees, w_b = 0, adds nothing,
   however much f_a relies on it.)
3. `minmax`: normalise to [0, 1] per model; then select channels with `top_k` (keep the k most
   general), `drop_ratio` (remove a ratio of the least or most general) or `by_threshold`.
   `precision_at_k` scores a selection against known shared channels (synthetic data).

Layout (the ensemble convention of mfh): M independent models in one module; x is (M, d, N),
a hidden representation (M, H, N), logits (M, C, N), labels (M, N) — models first,
channels/classes second, samples last. Salience is (M, K), K the number of channels.
Extra middle dims (x of shape (M, d, ..., N)) are allowed: channel k is then x[:, k, ...].

Efficiency of step 2: the R repeats of one channel run in a single forward pass. The samples are
tiled R times along the last axis, (M, d, R*n), and block r (columns r*n ... r*n+n-1) holds
channel k permuted by the r-th permutation; the MSE is then computed per block. Repeats are
split into chunks when the tiled tensors would exceed `max_bytes` (about 200 MB by default).
The permutations are drawn all at once before chunking, so the result does not depend on the
chunk size. A hidden layer is permuted by a forward hook on that submodule, which
is removed in a `finally`; f_a then runs on the untiled batch and the hook tiles the layer's
output, so the layers before it run once per channel, not R times (with a fallback to the tiled
input for nets whose later layers also read earlier activations, see `_LayerPermutedForward`).

Training uses SGD with momentum written out by hand (the arithmetic of
`torch.optim.SGD(momentum=m)`, dampening 0, no Nesterov, no weight decay): constructing a
`torch.optim` optimizer imports torch._dynamo, about 1.6 s per process here.
"""

from __future__ import annotations

import logging
import math
from typing import Optional

import torch
from torch import nn

from mfh.kd import cross_entropy

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200 * 2**20  # memory budget for one chunk of tiled repeats


# --------------------------------------------------------------------------------------------
# Step 1: joint training
# --------------------------------------------------------------------------------------------


def joint_loss(logits_a: torch.Tensor, logits_b: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-model loss CE(a, y) + CE(b, y) + MSE(a, b): (M, C, N), (M, C, N), (M, N) -> (M,).

    The MSE is the mean over classes and samples, like `nn.MSELoss()` applied to each model.
    """
    mse = (logits_a - logits_b).square().flatten(1).mean(dim=-1)  # (M,)
    return cross_entropy(logits_a, y) + cross_entropy(logits_b, y) + mse


def train_joint(
    f_a: nn.Module,
    f_b: nn.Module,
    x_a: torch.Tensor,  # (M, d_a, N)
    x_b: torch.Tensor,  # (M, d_b, N)
    y: torch.Tensor,  # (M, N) int64
    *,
    epochs: int,
    lr: float = 0.01,
    momentum: float = 0.9,
    name: str = "joint",
    log_every: int = 0,
) -> torch.Tensor:
    """Train f_a and f_b together in place (Algorithm 1, step 1); return the final loss (M,).

    Full batch, `epochs` steps of SGD with momentum on the *sum* of the per-model `joint_loss`es,
    so each model of the ensemble trains exactly as it would alone. Both nets receive the MSE
    gradient. Momentum as in `torch.optim.SGD`: buf = grad on the first step, then
    buf = momentum * buf + grad; p -= lr * buf (momentum 0: p -= lr * grad).
    """
    _check_pair(x_a, x_b)
    if y.shape != (x_a.shape[0], x_a.shape[-1]):
        raise ValueError(
            f"y must be (M, N) = {(x_a.shape[0], x_a.shape[-1])}, got {tuple(y.shape)}"
        )
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    f_a.train()
    f_b.train()
    params = _unique_trainable(f_a, f_b)
    bufs: list[Optional[torch.Tensor]] = [None] * len(params)
    for epoch in range(1, epochs + 1):
        loss = joint_loss(f_a(x_a), f_b(x_b), y).sum()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for i, (p, g) in enumerate(zip(params, grads)):
                if momentum:
                    bufs[i] = g if bufs[i] is None else bufs[i].mul_(momentum).add_(g)
                    g = bufs[i]
                p.add_(g, alpha=-lr)
        if log_every and (epoch % log_every == 0 or epoch == epochs):
            with torch.no_grad():
                mean = joint_loss(f_a(x_a), f_b(x_b), y).mean().item()
            n_models = x_a.shape[0]
            log.info(
                "%s: epoch %d/%d  mean loss %.4f over %d models",
                name,
                epoch,
                epochs,
                mean,
                n_models,
            )
    with torch.no_grad():
        return joint_loss(f_a(x_a), f_b(x_b), y)


def _unique_trainable(*modules: nn.Module) -> list[nn.Parameter]:
    """Parameters that require grad, each once even if the modules share it."""
    seen, params = set(), []
    for module in modules:
        for p in module.parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return params


# --------------------------------------------------------------------------------------------
# Step 2: permutation salience
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def channel_salience(
    f_a: nn.Module,
    f_b: nn.Module,
    x_a: torch.Tensor,  # (M, d_a, N)
    x_b: torch.Tensor,  # (M, d_b, N)
    *,
    repeats: int,
    generator: torch.Generator,
    layer: Optional[str] = None,
    batch_size: Optional[int] = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    common_permutations: bool = True,
) -> torch.Tensor:
    """Raw salience (M, K) of each channel of a representation of modality a (Algorithm 1, step 2).

    The representation is the input x_a (`layer=None`, K = d_a) or the output of the submodule
    `f_a.get_submodule(layer)` (K = its channel count, dim 1 of its output). For each channel k
    and each of `repeats` repeats, one independent random permutation of the samples per model
    is applied to channel k only; the salience is the per-model MSE(f_a(permuted), f_b(x_b))
    (mean over classes and samples) averaged over the repeats.

    `batch_size`: split the N samples into consecutive batches (the last may be smaller),
    permute within each batch, and average the batches weighted by their size — every batch
    counts. None = one batch of all N samples (equal to batch_size >= N, same draws).

    `common_permutations` (default True): within a batch, every channel uses the same R
    permutations (common random numbers: one draw per batch instead of one per channel). Each
    channel's estimate is the same Monte-Carlo average either way; sharing the draws makes the
    comparison between channels less noisy and saves the sort that dominated the cost (measured
    for M=50 linear models, d=50, n=200, R=100, one thread: 1.7 s shared, 4.3 s fresh). False
    draws fresh permutations for every channel, like the reference code.

    Random draws come only from `generator`, batch by batch (and channel by channel when
    `common_permutations` is False), so the same generator state gives the same salience,
    whatever `max_bytes`. Both nets run in eval mode (their modes are restored afterwards).
    """
    _check_pair(x_a, x_b)
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    n = x_a.shape[-1]
    if batch_size is None:
        batch_size = n
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
    module = None if layer is None else _get_layer(f_a, layer)
    modes = (f_a.training, f_b.training)
    f_a.eval()
    f_b.eval()
    try:
        total = None
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            target = f_b(x_b[..., start:stop])  # (M, C, n_b): computed once per batch
            s = _batch_salience(
                f_a,
                module,
                x_a[..., start:stop],
                target,
                repeats,
                generator,
                max_bytes,
                common_permutations,
            )  # (M, K)
            total = s * (stop - start) if total is None else total.add_(s, alpha=stop - start)
        return total / n
    finally:
        f_a.train(modes[0])
        f_b.train(modes[1])


def _batch_salience(
    f_a: nn.Module,
    module: Optional[nn.Module],
    x: torch.Tensor,  # (M, d, n)
    target: torch.Tensor,  # (M, C, n)
    repeats: int,
    generator: torch.Generator,
    max_bytes: int,
    common_permutations: bool,
) -> torch.Tensor:
    """Salience (M, K) on one batch, averaged over the repeats."""
    m, n = x.shape[0], x.shape[-1]
    rep = x if module is None else _probe_layer(f_a, module, x)  # (M, K, ..., n)
    k_channels = rep.shape[1]
    # Per repeat: the tiled input, the logits and their difference with the target, and for a
    # hidden layer its output, its permuted copy and the layer feeding it (an estimate).
    per_repeat = x.numel() + 3 * target.numel() + (0 if module is None else 3 * rep.numel())
    chunks = _chunk_sizes(repeats, max(1, max_bytes // (per_repeat * x.element_size())))
    forward = _InputPermutedForward(f_a, x) if module is None else _LayerPermutedForward(f_a, x)
    handle = None if module is None else module.register_forward_hook(forward.hook)
    try:
        salience = torch.zeros(m, k_channels, dtype=target.dtype, device=target.device)
        draw = lambda: _chunk_indices(m, repeats, n, chunks, generator, x.device)  # noqa: E731
        common = draw() if common_permutations else None
        for k in range(k_channels):
            for rc, idx in zip(chunks, common or draw()):  # idx: (M, R_c * n)
                out = forward(k, idx, rc)  # (M, C, R_c * n)
                salience[:, k] += _block_mse(out, target, rc).sum(dim=-1)
        return salience / repeats
    finally:
        if handle is not None:
            handle.remove()


class _InputPermutedForward:
    """f_a on x tiled R_c times, channel k of the input permuted in block r by idx."""

    def __init__(self, f_a: nn.Module, x: torch.Tensor):
        self.f_a, self.x = f_a, x
        self.tiled: dict[int, torch.Tensor] = {}  # R_c -> (M, d, R_c * n), reused across channels

    def __call__(self, k: int, idx: torch.Tensor, reps: int) -> torch.Tensor:
        if reps not in self.tiled:
            self.tiled[reps] = _tile(self.x, reps)
        xt = self.tiled[reps]
        saved = xt[:, k].clone()
        permute_channel_(xt, k, idx)
        try:
            return self.f_a(xt)
        finally:
            xt[:, k] = saved


class _LayerPermutedForward:
    """f_a with channel k of a hidden layer's output permuted, through a forward hook.

    Fast path: f_a runs on the *untiled* batch x (M, d, n), so the layers before the hooked one
    run once per channel instead of R_c times, and the hook returns the layer's output tiled
    R_c times with channel k permuted, (M, K, R_c * n); the layers after it then see R_c * n
    samples. This needs those layers to use only the hooked layer's output (a feed-forward head).
    If f_a fails on the mixed sizes (e.g. a skip connection around the layer), every later call
    runs f_a on the tiled input instead, where the hook only permutes.
    """

    def __init__(self, f_a: nn.Module, x: torch.Tensor):
        self.f_a, self.x = f_a, x
        self.tiled_input = False
        self.tiled: dict[int, torch.Tensor] = {}
        self.k: Optional[int] = None  # None: the hook leaves the output alone
        self.idx: Optional[torch.Tensor] = None
        self.reps = 1

    def __call__(self, k: int, idx: torch.Tensor, reps: int) -> torch.Tensor:
        self.k, self.idx, self.reps = k, idx, reps
        try:
            if not self.tiled_input:
                try:
                    out = self.f_a(self.x)
                    if out.shape[-1] == idx.shape[-1]:
                        return out
                except RuntimeError as err:
                    log.debug("salience: untiled forward failed (%s); tiling the input", err)
                self.tiled_input = True
            if reps not in self.tiled:
                self.tiled[reps] = _tile(self.x, reps)
            return self.f_a(self.tiled[reps])
        finally:
            self.k = self.idx = None

    def hook(self, module: nn.Module, inputs, output):
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"salience needs a layer with one tensor output, got {type(output)}")
        if self.k is None:
            return None
        if output.shape[-1] == self.idx.shape[-1]:  # tiled input: already R_c * n samples
            out = output.clone()  # never write into a tensor the module may alias (Identity)
        else:
            out = _tile(output, self.reps)  # (M, K, ..., R_c * n), a new tensor
        return permute_channel_(out, self.k, self.idx)


def permute_channel_(t: torch.Tensor, k: int, idx: torch.Tensor) -> torch.Tensor:
    """In place: t[:, k, ..., j] <- t[:, k, ..., idx[:, j]]. t (M, K, ..., L), idx (M, L)."""
    col = t[:, k]  # (M, ..., L)
    shape = (idx.shape[0],) + (1,) * (col.dim() - 2) + (idx.shape[-1],)
    t[:, k] = col.gather(-1, idx.view(shape).expand_as(col))
    return t


def _chunk_indices(
    m: int, r: int, n: int, chunks: list[int], generator: torch.Generator, device
) -> list[torch.Tensor]:
    """Draw R permutations per model, split by chunk into (M, R_c * n) tiled-axis indices."""
    perm = _permutations(m, r, n, generator, device)  # (M, R, n)
    return [_block_index(p) for p in perm.split(chunks, dim=1)]


def _permutations(m: int, r: int, n: int, generator: torch.Generator, device) -> torch.Tensor:
    """(M, R, n) int64: an independent uniform permutation of range(n) per model and repeat."""
    keys = torch.rand(m, r, n, generator=generator, device=generator.device)
    return keys.argsort(dim=-1).to(device)


def _block_index(perm: torch.Tensor) -> torch.Tensor:
    """(M, R, n) within-block permutations -> (M, R*n) indices into the tiled axis."""
    r, n = perm.shape[1:]
    offsets = torch.arange(r, device=perm.device).mul_(n).view(1, r, 1)
    return (perm + offsets).flatten(1)


def _tile(x: torch.Tensor, r: int) -> torch.Tensor:
    """(M, d, ..., n) -> (M, d, ..., r*n): block j of the last axis is a copy of x."""
    return x.repeat(*([1] * (x.dim() - 1)), r)


def _block_mse(out: torch.Tensor, target: torch.Tensor, r: int) -> torch.Tensor:
    """Per model and block MSE: out (M, C, r*n), target (M, C, n) -> (M, r)."""
    diff = out.unflatten(-1, (r, target.shape[-1])) - target.unsqueeze(-2)  # (M, C, r, n)
    return diff.square_().movedim(-2, 1).flatten(2).mean(dim=-1)


def _chunk_sizes(repeats: int, max_chunk: int) -> list[int]:
    """Split `repeats` into the fewest chunks of at most `max_chunk`, sizes as equal as possible."""
    n_chunks = math.ceil(repeats / max_chunk)
    base, extra = divmod(repeats, n_chunks)
    return [base + 1] * extra + [base] * (n_chunks - extra)


def _get_layer(f_a: nn.Module, layer: str) -> nn.Module:
    try:
        return f_a.get_submodule(layer)
    except AttributeError as err:
        names = [name for name, _ in f_a.named_modules() if name]
        raise ValueError(f"f_a has no submodule {layer!r}; submodules: {names}") from err


def _probe_layer(f_a: nn.Module, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The hooked module's output on x (unpermuted), to learn K and its size."""
    captured = []
    handle = module.register_forward_hook(lambda mod, inp, out: captured.append(out))
    try:
        f_a(x)
    finally:
        handle.remove()
    if not captured:
        raise ValueError("the chosen layer is not called in f_a's forward")
    out = captured[0]
    if not isinstance(out, torch.Tensor) or out.dim() < 3 or out.shape[-1] != x.shape[-1]:
        raise ValueError("the chosen layer's output must be a tensor (M, K, ..., N), samples last")
    return out


def _check_pair(x_a: torch.Tensor, x_b: torch.Tensor) -> None:
    if x_a.dim() < 3 or x_b.dim() < 3:
        raise ValueError(
            f"x_a and x_b must be (M, d, N); got {tuple(x_a.shape)} and {tuple(x_b.shape)}"
        )
    if x_a.shape[0] != x_b.shape[0] or x_a.shape[-1] != x_b.shape[-1]:
        raise ValueError(
            "x_a and x_b need the same number of models (dim 0) and samples (last dim); got "
            f"{tuple(x_a.shape)} and {tuple(x_b.shape)}"
        )


# --------------------------------------------------------------------------------------------
# Step 3: normalisation and selection
# --------------------------------------------------------------------------------------------


def algorithm1(
    f_a: nn.Module,
    f_b: nn.Module,
    x_a: torch.Tensor,
    x_b: torch.Tensor,
    y: torch.Tensor,
    cfg: dict,
    generator: torch.Generator,
    name: str = "joint",
    log_every: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both steps on the input channels of x_a with params `cfg` (epochs, lr, momentum, repeats):
    joint training, then salience. Returns (raw, min-max normalised), each (M, d_a)."""
    train_joint(
        f_a,
        f_b,
        x_a,
        x_b,
        y,
        epochs=cfg["epochs"],
        lr=cfg["lr"],
        momentum=cfg["momentum"],
        name=name,
        log_every=log_every,
    )
    raw = channel_salience(f_a, f_b, x_a, x_b, repeats=cfg["repeats"], generator=generator)
    return raw, minmax(raw)


def minmax(s: torch.Tensor) -> torch.Tensor:
    """Min-max normalise each model's salience to [0, 1] along the last dim: (..., K) -> (..., K).

    A constant vector maps to zeros (no division by zero).
    """
    lo = s.amin(dim=-1, keepdim=True)
    span = s.amax(dim=-1, keepdim=True) - lo
    return (s - lo) / torch.where(span > 0, span, torch.ones_like(span))


def rank_channels(s: torch.Tensor) -> torch.Tensor:
    """(M, K) -> (M, K) channel indices, most modality-general first; ties: lower index first."""
    return torch.sort(s, dim=-1, descending=True, stable=True).indices


def top_k(s: torch.Tensor, k: int) -> torch.Tensor:
    """The k most salient channels per model, (M, K) -> (M, k) int64 sorted ascending."""
    n_channels = s.shape[-1]
    if not 1 <= k <= n_channels:
        raise ValueError(f"k must be in [1, {n_channels}] (the number of channels), got {k}")
    return rank_channels(s)[..., :k].sort(dim=-1).values


def n_dropped(ratio: float, n_channels: int) -> int:
    """How many channels a ratio removes: round(ratio * K), halves rounded up."""
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    return min(n_channels, math.floor(ratio * n_channels + 0.5))


def drop_ratio(s: torch.Tensor, ratio: float, drop: str = "least") -> torch.Tensor:
    """Remove `n_dropped(ratio, K)` channels per model; return the kept ones, (M, K') ascending.

    drop="least": remove the least modality-general channels (keep the most general: the
    "modality-general KD" mode); drop="most": remove the most general ("modality-specific KD").
    Ratio 0 keeps all K channels, ratio 1 keeps none (an (M, 0) tensor).
    """
    if drop not in ("least", "most"):
        raise ValueError(f"drop must be 'least' or 'most', got {drop!r}")
    n_channels = s.shape[-1]
    n_drop = n_dropped(ratio, n_channels)
    order = rank_channels(s)  # most general first
    kept = order[..., : n_channels - n_drop] if drop == "least" else order[..., n_drop:]
    return kept.sort(dim=-1).values


def by_threshold(s: torch.Tensor, t: float) -> torch.Tensor:
    """Channels whose (normalised) salience is >= t: (M, K) -> (M, K) bool. t in [0, 1]."""
    if not 0.0 <= t <= 1.0:
        raise ValueError(
            f"threshold t applies to min-max normalised salience: need 0 <= t <= 1, got {t}"
        )
    return s >= t


def precision_at_k(selected: torch.Tensor, truly_shared: torch.Tensor) -> torch.Tensor:
    """Share of the selected channels that are truly shared, per model.

    selected: (M, k) int64 channel indices; truly_shared: (M, K) or (K,) bool. Returns (M,).
    """
    if selected.dim() != 2 or selected.shape[-1] == 0:
        raise ValueError(f"selected must be (M, k) with k >= 1, got {tuple(selected.shape)}")
    if truly_shared.dtype != torch.bool:
        raise ValueError(f"truly_shared must be a bool mask, got {truly_shared.dtype}")
    if truly_shared.dim() == 1:
        truly_shared = truly_shared.expand(selected.shape[0], -1)
    if truly_shared.dim() != 2 or truly_shared.shape[0] != selected.shape[0]:
        raise ValueError(
            f"truly_shared must be (K,) or (M, K) with M = {selected.shape[0]}, "
            f"got {tuple(truly_shared.shape)}"
        )
    n_channels = truly_shared.shape[-1]
    if selected.min() < 0 or selected.max() >= n_channels:
        raise ValueError(f"selected indices must lie in [0, {n_channels})")
    return truly_shared.gather(-1, selected).double().mean(dim=-1)
