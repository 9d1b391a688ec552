"""An ensemble of independent one-hidden-layer MLPs, in the ensemble layout of `mfh.models`.

Model m computes `logits[m] = fc2[m](relu(fc1[m](x[m])))`. The layers are `LinearEnsemble`s, so
each has `nn.Linear`'s default initialisation, drawn per model from its own seed.

Layout: x is (M, d, N), the hidden representation (the output of the submodule `hidden`) is
(M, H, N) and logits are (M, C, N) — models first, features/units/classes second, samples last.
The submodule names are part of the API: Algorithm 1 (`mfh.salience`) reads the penultimate
representation through `model.get_submodule("hidden")`.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from mfh.models.linear import LinearEnsemble
from mfh.seeding import torch_seed


class MLPEnsemble(nn.Module):
    """M MLPs `in_features -> hidden (ReLU) -> out_features`.

    Submodules: `fc1` (d -> H), `hidden` (the ReLU: its output is the penultimate
    representation, (M, H, N)), `fc2` (H -> C). `seeds_fc1[m]` and `seeds_fc2[m]` initialise
    the two layers of model m; `from_seeds` derives both from one seed per model.
    """

    def __init__(
        self,
        seeds_fc1: Sequence[int],
        seeds_fc2: Sequence[int],
        in_features: int,
        hidden: int,
        out_features: int,
    ):
        super().__init__()
        if len(seeds_fc1) != len(seeds_fc2):
            raise ValueError(
                f"one seed per model and layer: got {len(seeds_fc1)} seeds for fc1 and "
                f"{len(seeds_fc2)} for fc2"
            )
        self.fc1 = LinearEnsemble(seeds_fc1, in_features, hidden)
        self.hidden = nn.ReLU()
        self.fc2 = LinearEnsemble(seeds_fc2, hidden, out_features)

    @classmethod
    def from_seeds(
        cls, seeds: Sequence[int], in_features: int, hidden: int, out_features: int
    ) -> "MLPEnsemble":
        """One seed per model; layer seeds are `mfh.seeding.torch_seed(seed, "mlp", "fc1"|"fc2")`.

        The two layers get distinct, stable streams, independent of the other models.
        """
        return cls(
            [torch_seed(s, "mlp", "fc1") for s in seeds],
            [torch_seed(s, "mlp", "fc2") for s in seeds],
            in_features,
            hidden,
            out_features,
        )

    @property
    def n_models(self) -> int:
        return self.fc1.n_models

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (M, d, N) -> logits (M, C, N)."""
        return self.fc2(self.hidden(self.fc1(x)))  # (M, H, N) in between
