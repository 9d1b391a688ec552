"""Preparing a real dataset (`rule real_prepare`): verify its raw files, build it, write it.

A study section with `data.kind: npz` is a user's own file (`mfh.data.npz_dataset`): checked and
built from `data.path`, its meta recording the file's sha256. For the packaged datasets, the raw
files are checked against the manifests folder `manifests` (None: the packaged pins,
`mfh.data.raw`), the dataset's builder makes its arrays and meta (`mfh.data.avmnist.from_raw`,
`mfh.data.mfeat.from_raw`, `mfh.data.basicmotions.from_raw`), and the .npz of `mfh.data.real` is
written atomically, its meta recording the digests of the manifests it was verified against
(`inputs`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mfh.data import avmnist, basicmotions, mfeat, npz_dataset, raw
from mfh.data.real import save_prepared

log = logging.getLogger(__name__)

DATASETS = ("avmnist", "mfeat", "basicmotions")


def prepare(
    dataset: str,
    raw_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    cfg: dict,
    seed: int,
    manifests: str | os.PathLike | None = None,
) -> None:
    """Verify the raw files of `dataset` under `raw_dir`, build it with the settings `cfg` and
    `seed`, and write it to `out_path`."""
    if cfg.get("kind") == "npz":
        log.info("%s: checking and building %s", dataset, cfg["path"])
        arrays, meta = npz_dataset.from_file(cfg, dataset, seed)
        save_prepared(out_path, arrays, meta)
        log.info("%s: wrote %s", dataset, out_path)
        return
    if dataset not in DATASETS:
        raise ValueError(f"no real dataset {dataset!r}; there are {', '.join(DATASETS)}")
    raw_dir = Path(raw_dir)
    log.info("%s: verifying raw files under %s", dataset, raw_dir)
    raw.verify(raw_dir, dataset, manifests)
    if dataset == "avmnist":
        arrays, meta = avmnist.from_raw(raw_dir, cfg, seed, manifests)
    elif dataset == "mfeat":
        arrays, meta = mfeat.from_raw(raw_dir, cfg, seed)
    else:
        arrays, meta = basicmotions.from_raw(raw_dir, cfg, seed)
    meta["inputs"] = raw.manifest_digests(dataset, manifests)
    save_prepared(out_path, arrays, meta)
    log.info("%s: wrote %s", dataset, out_path)
