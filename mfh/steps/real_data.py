"""The data steps of the real-data studies (the `real_studies` of params.yaml), one function per
Snakemake rule and named as the rule: `download` verifies (or fetches) the raw files,
`real_prepare` builds the prepared arrays. The training steps are in `mfh.steps.real`.
"""

from __future__ import annotations

import json
import logging
from argparse import Namespace

from mfh.pipeline.sections import Sections
from mfh.steps.common import Option, options

log = logging.getLogger("mfh")


@options(Option("out-json", "output raw.json: what was verified, against which manifests"))
def download(args: Namespace, params: Sections) -> None:
    """Verify (with `paths.download`: fetch) the raw files; for a study of data kind npz, record
    the sha256 of its file.

    The manifests folder is `paths.manifests` (null or absent: the packaged pins); the record
    raw.json holds the manifests' sha256 and, when `paths.manifests` is set, that folder
    (`manifests_dir`), which real_prepare then verifies against too."""
    from mfh.data import raw
    from mfh.data.download import download as fetch
    from mfh.io import write_text_atomic

    data = params.get(f"{args.study}.data", {})  # only an npz study's rule passes it
    if data.get("kind") == "npz":  # a user's own file: nothing to fetch, record what it is
        from mfh.data.npz_dataset import read_arrays, sha256_file

        arrays = read_arrays(data["path"])
        record = {"dataset": args.study, "files": 1, "npz": sha256_file(data["path"])}
        write_text_atomic(args.out_json, json.dumps(record, indent=2, sort_keys=True) + "\n")
        log.info("%s: %s holds %s", args.study, data["path"], ", ".join(arrays))
        return
    paths = params["paths"]
    manifests = paths.get("manifests")
    if paths["download"]:
        files = fetch(args.study, paths["raw"], manifests=manifests)
    else:
        files = raw.verify(paths["raw"], args.study, manifests)
    record = {
        "dataset": args.study,
        "files": len(files),
        "manifests": raw.manifest_digests(args.study, manifests),
    }
    if manifests is not None:
        record["manifests_dir"] = str(manifests)
    write_text_atomic(args.out_json, json.dumps(record, indent=2, sort_keys=True) + "\n")
    where = "packaged" if manifests is None else str(manifests)
    log.info(
        "%s: %d raw files verified under %s (manifests: %s)",
        args.study,
        len(files),
        paths["raw"],
        where,
    )


@options(
    Option("raw-json", "the download step's raw.json (names the manifests used)"),
    Option("out-data", "output prepared dataset (.npz)"),
)
def real_prepare(args: Namespace, params: Sections) -> None:
    """Build the prepared dataset from `paths.raw`.

    The raw files are verified against the manifests folder that the download step recorded in
    `--raw-json` (none recorded: the packaged pins)."""
    from pathlib import Path

    from mfh.data.prepare import prepare
    from mfh.numerics import enforce_openblas

    enforce_openblas()  # the preparation's float64 algebra (e.g. AV-MNIST's PCA) is numpy's
    manifests = json.loads(Path(args.raw_json).read_text(encoding="utf-8")).get("manifests_dir")
    study_data, raw_dir = params[f"{args.study}.data"], params["paths.raw"]
    prepare(args.study, raw_dir, args.out_data, study_data, params["seed"], manifests=manifests)
