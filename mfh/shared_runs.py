"""Which job of a real-data study trains each pair's multimodal teacher and Algorithm 1 joint nets.

A study declares pairs (name, teacher modality a, student modality b); the two directions of one
modality pair, a -> b and b -> a, train the same nets, so they share the job:

- the multimodal teacher on a + b (`real_fusion`): a fresh net on both modalities; the pair b -> a
  reads the fusion net of a -> b, feeding it its inputs in that net's order (a, b);
- Algorithm 1's joint nets (`real_joint`): the joint loss CE(f_a) + CE(f_b) + MSE(f_a, f_b) is
  symmetric in a and b, so with params `teacher: joint` (the reference: f_a and f_b both start
  fresh) the pair b -> a uses the joint nets of a -> b with the roles swapped: its f_a is the other
  pair's f_b and its f_b the other's f_a. With `teacher: unimodal` f_a starts as a copy of the
  unimodal teacher on a, which differs between the directions, so each pair trains its own.

The first declared pair of the two trains (its files keep its name: `fusion_<pair>.pt`,
`joint_<pair>_a.pt`); a pair declared twice under two names shares it too. Sharing saves a
reverse pair one joint and one fusion job, AV-MNIST's two longest (README "Performance"). No
torch here: the Snakefile imports it to build the DAG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

Pair = tuple[str, str, str]  # (name, teacher modality a, student modality b)


def declared_pairs(section: Mapping[str, Mapping[str, str]]) -> list[Pair]:
    """params `<dataset>.pairs` ({name: {teacher: a, student: b}}) -> [(name, a, b), ...]."""
    return [(name, pair["teacher"], pair["student"]) for name, pair in section.items()]


class Run(NamedTuple):
    """The job that trains a pair's nets: `pair`, the name of the pair that trains them, and
    `swapped`: whether that pair's a is this pair's b (the nets' roles swap)."""

    pair: str
    swapped: bool


def modalities(pairs: Sequence[Pair], name: str) -> tuple[str, str]:
    """(a, b) of pair `name`; KeyError naming the declared pairs if there is none."""
    for pair_name, a, b in pairs:
        if pair_name == name:
            return a, b
    raise KeyError(f"no pair {name!r} among {[pair_name for pair_name, _, _ in pairs]}")


def _run(pairs: Sequence[Pair], name: str, shared: bool) -> Run:
    """The first declared pair on the same two modalities as `name` (either direction), if
    `shared`, else `name` itself."""
    a, b = modalities(pairs, name)
    if shared:
        for other, other_a, other_b in pairs:
            if (other_a, other_b) == (a, b):
                return Run(other, False)
            if (other_a, other_b) == (b, a):
                return Run(other, True)
    return Run(name, False)


def fusion_run(pairs: Sequence[Pair], name: str) -> Run:
    """The job of the multimodal teacher of pair `name` (always shared by both directions)."""
    return _run(pairs, name, shared=True)


def joint_run(pairs: Sequence[Pair], teacher: str, name: str) -> Run:
    """The job of the joint nets of pair `name`; `teacher`: params `<dataset>.teacher`, "joint"
    (shared by both directions) or "unimodal" (each pair its own)."""
    return _run(pairs, name, shared=teacher == "joint")


def training_pairs(runs: Sequence[Run]) -> list[str]:
    """The pairs whose jobs train, in declaration order, each once: `[run.pair for run in runs]`
    without repeats."""
    return list(dict.fromkeys(run.pair for run in runs))


def fusion_inputs(pairs: Sequence[Pair], name: str) -> tuple[str, str]:
    """The modalities pair `name`'s multimodal teacher takes, in its input order."""
    a, b = modalities(pairs, name)
    return (b, a) if fusion_run(pairs, name).swapped else (a, b)
