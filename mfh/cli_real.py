"""Command-line steps of the real-data studies (`python -m mfh <rule> ...`, e.g. `real_modes`),
added to the parser of `mfh.cli`. The dataset (avmnist, mfeat) is passed as `--study`; `--params`
holds the dataset's params section files (e.g. "avmnist.train" arrives as `train`).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging

from mfh.cli_common import compute_on, sections

log = logging.getLogger("mfh")


def _pairs(p: dict) -> list[tuple[str, str, str]]:
    """params `pairs` -> [(name, teacher modality, student modality), ...]."""
    return [(name, x["teacher"], x["student"]) for name, x in p["pairs"].items()]


def _pair(a, p) -> tuple[str, str]:
    """The (teacher, student) modalities of the pair `--pair` (its params arrive by name)."""
    return p[a.pair]["teacher"], p[a.pair]["student"]


def cmd_download(a, p) -> None:
    """Verify (with `paths.download`: fetch) the raw files against the manifests folder
    `paths.manifests` (null or absent: the packaged pins) and write the record raw.json: the
    manifests' sha256 and, when `paths.manifests` is set, that folder (`manifests_dir`), which
    real-prepare then verifies against too. With the packaged pins raw.json is as before."""
    from mfh.data import raw
    from mfh.data.download import download
    from mfh.io import write_text_atomic

    paths = p["paths"]
    manifests = paths.get("manifests")
    if paths["download"]:
        files = download(a.study, paths["raw"], manifests=manifests)
    else:
        files = raw.verify(paths["raw"], a.study, manifests)
    record = {
        "dataset": a.study,
        "files": len(files),
        "manifests": raw.manifest_digests(a.study, manifests),
    }
    if manifests is not None:
        record["manifests_dir"] = str(manifests)
    write_text_atomic(a.out_json, json.dumps(record, indent=2, sort_keys=True) + "\n")
    where = "packaged" if manifests is None else str(manifests)
    log.info(
        "%s: %d raw files verified under %s (manifests: %s)",
        a.study,
        len(files),
        paths["raw"],
        where,
    )


def cmd_prepare(a, p) -> None:
    """Build the prepared dataset from `paths.raw`, verified against the manifests folder that
    the download step recorded in `--raw-json` (none recorded: the packaged pins)."""
    from pathlib import Path

    from mfh.data import avmnist, mfeat

    manifests = json.loads(Path(a.raw_json).read_text(encoding="utf-8")).get("manifests_dir")
    builder = {"avmnist": avmnist, "mfeat": mfeat}[a.study]
    # "paths.raw" arrives as raw
    builder.prepare(p["raw"], a.out_data, p["data"], p["seed"], manifests=manifests)


def cmd_unimodal(a, p) -> None:
    compute_on(a)
    from mfh.studies import real

    real.train_unimodal(a.study, p["seed"], p, a.data, a.modality, a.out_ckpt, a.out_acc)


def cmd_fusion(a, p) -> None:
    compute_on(a)
    from mfh.studies import real

    real.train_fusion(a.study, p["seed"], p, a.data, _pair(a, p), a.out_ckpt, a.out_acc)


def cmd_distill(a, p) -> None:
    compute_on(a)
    from mfh.studies import real

    t, s = _pair(a, p)
    teacher_modalities = [t] if a.teacher_kind == "unimodal" else [t, s]
    role = "unimodal" if a.teacher_kind == "unimodal" else "fusion"
    real.distill(
        a.study, p["seed"], p, a.data, a.teacher, role, teacher_modalities, s, a.out_ckpt, a.out_acc
    )


def cmd_salience(a, p) -> None:
    compute_on(a)
    from mfh.studies import real

    t, s = _pair(a, p)
    real.salience(a.study, p["seed"], p, a.data, a.teacher, t, s, a.out_csv)


def cmd_modes(a, p) -> None:
    compute_on(a)
    from mfh.studies import real_modes

    t, s = _pair(a, p)
    real_modes.distill_modes(
        a.study, p["seed"], p, a.data, a.teacher, a.salience, t, s, a.mode, a.out_ckpt, a.out_acc
    )


def cmd_collect(a, p) -> None:
    from mfh.report.metrics import real_metrics, write_metrics
    from mfh.report.real.tables import collect_real

    tables = collect_real(a.results, _pairs(p), [0, 1, 2], p["modes"]["ratios"], p["seeds"])
    summaries = tables["failure_case_summary"], tables["mfh_modes_summary"]
    write_metrics(real_metrics(*summaries, _pairs(p)), a.out_metrics)
    for row in tables["failure_case_summary"].itertuples():
        log.info(
            "  %s -> %s, teacher %-10s: teacher %6.2f  student %6.2f ± %.2f",
            row.teacher_modality,
            row.student_modality,
            row.teacher,
            row.teacher_mean,
            row.student_mean,
            row.student_std,
        )
    for row in tables["mfh_modes_summary"].itertuples():
        log.info(
            "  %s -> %s, mode %d (%s) r=%.2f: teacher %6.2f  student %6.2f ± %.2f",
            row.teacher_modality,
            row.student_modality,
            row.mode,
            row.mode_name,
            row.ratio,
            row.teacher_mean,
            row.student_mean,
            row.student_std,
        )


def cmd_plot(a, p) -> None:
    from mfh.report.real.figures import plot_real

    plot_real(a.results, _pairs(p), a.study, a.out_modes_png, a.out_salience_png, a.out_failure_png)


def add_real_steps(step) -> None:
    """Add the real-data subcommands. `step(name, func, help)` makes a subcommand with the
    common options; each handler gets the parsed arguments and its params sections."""

    def with_sections(func):
        @functools.wraps(func)
        def run(a: argparse.Namespace) -> None:
            func(a, sections(a.params))

        return run

    def add(name: str, func, what: str, options: dict, outputs: tuple, trains: bool):
        p = step(name, with_sections(func), what)
        for option, kwargs in options.items():
            p.add_argument(f"--{option}", required=True, **kwargs)
        for output in outputs:
            p.add_argument(f"--out-{output}", required=True)
        if trains:
            p.add_argument("--out-env", required=True, help="output JSON: torch, device, threads")
            p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
        return p

    data = {"data": {"help": "the prepared dataset (.npz)"}}
    pair = {"pair": {"help": "a pair's name under <dataset>.pairs in params.yaml"}}
    teacher = {"teacher": {"help": "teacher checkpoint"}}
    add("download", cmd_download, "verify (and fetch) the raw files", {}, ("json",), False)
    raw_json = {"raw-json": {"help": "the download step's raw.json (names the manifests used)"}}
    add("real_prepare", cmd_prepare, "build the prepared dataset", raw_json, ("data",), False)
    add(
        "real_unimodal",
        cmd_unimodal,
        "train classifiers on one modality",
        {**data, "modality": {}},
        ("ckpt", "acc"),
        True,
    )
    add(
        "real_fusion",
        cmd_fusion,
        "train the multimodal teachers",
        {**data, **pair},
        ("ckpt", "acc"),
        True,
    )
    add(
        "real_distill",
        cmd_distill,
        "train KD students from a teacher",
        {**data, **pair, **teacher, "teacher-kind": {"choices": ["unimodal", "multimodal"]}},
        ("ckpt", "acc"),
        True,
    )
    add(
        "real_salience",
        cmd_salience,
        "Algorithm 1 on the teacher's penultimate layer",
        {**data, **pair, **teacher},
        ("csv",),
        True,
    )
    add(
        "real_modes",
        cmd_modes,
        "KD from teachers with channels removed (modes 0/1/2)",
        {**data, **pair, **teacher, "salience": {}, "mode": {"type": int, "choices": [0, 1, 2]}},
        ("ckpt", "acc"),
        True,
    )
    add(
        "real_collect",
        cmd_collect,
        "join the accuracies into tables",
        {"results": {}},
        ("metrics",),
        False,
    )
    add(
        "real_plot",
        cmd_plot,
        "draw the dataset's figures",
        {"results": {}},
        ("modes-png", "salience-png", "failure-png"),
        False,
    )
