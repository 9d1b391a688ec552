"""Step 2 of Algorithm 1, the part both front-ends share: permutations and the mean over batches.

For each channel k of a representation of modality a, permute channel k across the samples of a
batch, leave the other channels untouched, run the rest of f_a and measure the MSE between its
logits and f_b(x_b) (mean over classes and samples). Averaged over `repeats` permutations and
over all batches, weighted by batch size (the reference code keeps only its last batch; PROTOCOL
§4 says not to), this is the raw salience of channel k. If the logits are linear in channel k,
with weights w_a on it in f_a and w_b on the same latent in f_b, permuting it raises the MSE by
2 * sum_c w_a[c] * w_b[c] * Var(x_k) / C: a channel only a sees (w_b = 0) adds nothing, however
much f_a relies on it.

`salience_over_batches` runs this loop over consecutive batches, with both nets in eval mode (their
modes are restored afterwards). Per batch it draws R permutations per model from the caller's
generator, and every channel uses the same R (common random numbers: one draw per batch instead
of one per channel; each channel's estimate is the same Monte-Carlo average, the comparison
between channels is less noisy, and the sort that dominated the cost runs once: measured for
M=50 linear models, d=50, n=200, R=100, one thread: 1.7 s shared, 4.3 s drawn per channel).
The same generator state therefore gives the same salience.

The front-end supplies the salience of one batch for the given permutations. The two kernels
differ because the representations do: an input channel feeds all of f_a, so
`mfh.algorithm1.inputs` tiles the R repeats along an ensemble's sample axis and runs f_a once per
channel; a penultimate channel feeds only the head, so `mfh.algorithm1.penultimate` runs the
layers before it once per batch and stacks the permuted copies of all channels along a leading
axis that the batch-first head broadcasts over.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import nn

# (batch: a slice of the sample axis, perms (M, R, B)) -> the batch's salience (..., K)
BatchSalience = Callable[[slice, torch.Tensor], torch.Tensor]


@torch.no_grad()
def salience_over_batches(
    f_a: nn.Module,
    f_b: nn.Module,
    batch_salience: BatchSalience,
    *,
    n_samples: int,
    n_models: int,
    repeats: int,
    batch_size: int,
    generator: torch.Generator,
    device,
) -> torch.Tensor:
    """The size-weighted mean over consecutive batches of `batch_salience(batch, perms)`.

    perms (n_models, repeats, B) holds one independent permutation of the batch's B samples per
    model and repeat, on `device`; the batches are slice(0, batch_size), ... (the last may be
    smaller).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    with _eval_mode(f_a, f_b):
        total = None
        for start in range(0, n_samples, batch_size):
            batch = slice(start, min(start + batch_size, n_samples))
            size = batch.stop - batch.start
            perms = draw_permutations(n_models, repeats, size, generator, device)
            s = batch_salience(batch, perms) * size
            total = s if total is None else total.add_(s)
        return total / n_samples


def draw_permutations(
    n_models: int, repeats: int, n: int, generator: torch.Generator, device
) -> torch.Tensor:
    """(M, R, n) int64: an independent uniform permutation of range(n) per model and repeat."""
    keys = torch.rand(n_models, repeats, n, generator=generator, device=generator.device)
    return keys.argsort(dim=-1).to(device)


@contextmanager
def _eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Put `modules` in eval mode; restore each one's mode on exit."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes):
            m.train(mode)
