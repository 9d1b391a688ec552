"""Seeding: every random draw in mfh comes from a generator derived from
(global seed, study, role, indices...), never from global RNG state.

So results do not depend on job order, on how many jobs run in parallel, or on which other
studies ran before. `role` names what the randomness is for ("data", "teacher_init", ...).
"""

from __future__ import annotations

import zlib

import numpy as np


def _words(seed: int, study: str, role: str, indices: tuple[int, ...]) -> list[int]:
    """The integer words that identify one stream: names enter through a stable CRC32."""
    return [int(seed), zlib.crc32(study.encode()), zlib.crc32(role.encode()), *map(int, indices)]


def numpy_rng(seed: int, study: str, role: str, *indices: int) -> np.random.Generator:
    """A NumPy generator (PCG64) for one (seed, study, role, indices) stream."""
    return np.random.default_rng(np.random.SeedSequence(_words(seed, study, role, indices)))


def torch_seed(seed: int, study: str, role: str, *indices: int) -> int:
    """A 63-bit integer seed for a `torch.Generator`, derived like `numpy_rng`."""
    state = np.random.SeedSequence(_words(seed, study, role, indices)).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))
