"""Remove channels of a hidden layer: the modified teacher of crossmodal KD (PROTOCOL §4, §5).

`remove_channels` returns a copy of the model in which the named layer's output (B, H) has the
removed channels replaced by a constant: the channel's mean over the training inputs (the
reference code's "freeze") or zero. The copy's layer becomes `nn.Sequential(layer, ChannelFill)`,
so it keeps its name (Algorithm 1 and hooks still find it) and the fill values travel in its
state_dict as buffers. The original model is left untouched. KD then distils from
`mfh.train.minibatch.predict_logits(modified, train.inputs)`.
"""

from __future__ import annotations

import copy
from typing import Any, Optional, Sequence

import torch
from torch import nn

from mfh.train.minibatch import EVAL_BATCH_SIZE, gather

FILLS = ("mean", "zero")


class ChannelFill(nn.Module):
    """h (B, H) -> h with channels where `removed` is True set to `values` (H,)."""

    def __init__(self, removed: torch.Tensor, values: torch.Tensor):
        super().__init__()
        self.register_buffer("removed", removed.clone())
        self.register_buffer("values", values.clone())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.where(self.removed, self.values, h)


def remove_channels(
    model: nn.Module,
    layer: str,
    mask: torch.Tensor,  # (H,) bool, True = removed
    fill: str,
    train_inputs: Optional[Sequence[Any]] = None,
    batch_size: int = EVAL_BATCH_SIZE,
) -> nn.Module:
    """A copy of `model` whose `layer` output has the `mask` channels replaced by `fill`:
    "mean" (each channel's mean over `train_inputs`, one indexable per model input) or "zero"
    (`train_inputs` not needed)."""
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
    if mask.dtype != torch.bool or mask.dim() != 1:
        raise ValueError(f"mask must be a (H,) bool tensor, got {tuple(mask.shape)} {mask.dtype}")
    if fill == "mean":
        if train_inputs is None:
            raise ValueError('fill="mean" needs train_inputs')
        values = channel_means(model, layer, train_inputs, batch_size)  # (H,)
        if values.shape != mask.shape:
            raise ValueError(f"mask has {mask.numel()} channels, layer {layer!r} {values.numel()}")
    else:
        values = torch.zeros(mask.shape)
    device = next(model.parameters()).device
    modified = copy.deepcopy(model)
    parent_name, _, child_name = layer.rpartition(".")
    parent = modified.get_submodule(parent_name)
    filler = ChannelFill(mask.to(device), values.to(device))
    setattr(parent, child_name, nn.Sequential(getattr(parent, child_name), filler))
    return modified


@torch.no_grad()
def channel_means(
    model: nn.Module, layer: str, inputs: Sequence[Any], batch_size: int = EVAL_BATCH_SIZE
) -> torch.Tensor:
    """Mean (H,) of the `layer` output (B, H) over all samples of `inputs`, in eval mode."""
    inputs = tuple(inputs)
    device = next(model.parameters()).device
    sums: list[torch.Tensor] = []  # one (H,) sum per batch
    hook = model.get_submodule(layer).register_forward_hook(
        lambda mod, inp, out: sums.append(out.sum(dim=0))
    )
    was_training = model.training
    model.eval()
    try:
        n = len(inputs[0])
        for rows in torch.arange(n).split(batch_size):
            model(*gather(inputs, rows, device))
    finally:
        hook.remove()
        model.train(was_training)
    if not sums or sums[0].dim() != 1:
        raise ValueError(f"layer {layer!r} must output (B, H)")
    return (torch.stack(sums).sum(dim=0) / n).cpu()
