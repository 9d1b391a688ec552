"""Command line: `python -m mfh <step> ...`, the entry points that the Snakemake rules run.

The subcommand is the name of the Snakemake rule that runs it (`rule train_teachers` runs
`python -m mfh train_teachers`). Each step reads its parameters from `--params`, the section files
of the params.yaml sections its rule depends on (`.params/<dotted key>.json`, see
`mfh.cli_common`), the same keys DVC tracks for its stage.
Every step writes its own log file (`--log`) as well as to stderr, and creates its output folders.
Heavy libraries (torch, pandas, seaborn) are imported inside the step that needs them, so that
`--help` and the light steps start fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from mfh.cli_common import compute_on, sections
from mfh.cli_real import add_real_steps
from mfh.errors import CheckpointError, DataError, DeviceError

log = logging.getLogger("mfh")
ENV_HELP = "output JSON: torch version, device, threads and CPU kernels that computed the metrics"


def _setup_logging(path: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def cmd_prepare(a: argparse.Namespace) -> None:
    from mfh.studies.gauss_prepare import prepare

    p = sections(a.params)
    prepare(a.study, p["seed"], p["data"], a.out_data, a.out_settings)


def cmd_teacher(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import gauss

    p = sections(a.params)
    gauss.train_teachers(a.study, p["seed"], a.data, p["teacher"], a.out_ckpt, a.out_acc)


def cmd_baseline(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import gauss

    p = sections(a.params)
    gauss.train_baselines(a.study, p["seed"], a.data, p["student"], a.out_ckpt, a.out_acc)


def cmd_distill(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import gauss

    p = sections(a.params)
    gauss.distill(
        a.study, p["seed"], a.data, a.teacher, p["student"], p["distill"], a.out_ckpt, a.out_acc
    )


def cmd_salience(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import gauss

    p = sections(a.params)
    gauss.salience(a.study, p["seed"], p["generator"], a.data, p["salience"], a.out_csv)


def cmd_collect(a: argparse.Namespace) -> None:
    from mfh.report.tables import collect

    from mfh.report.metrics import synthetic_metrics, write_metrics

    runs, summary = collect(a.settings, a.teacher, a.nokd, a.kd, a.out_runs, a.out_summary)
    write_metrics(synthetic_metrics(summary), a.out_metrics)
    log.info("%s: %d runs over %d settings", a.study, len(runs), len(summary))
    for row in summary.itertuples():
        log.info(
            "  gamma %.3f alpha %.3f | teacher %.2f  no-KD %.2f  KD %.2f  gain %+.2f [%+.2f, %+.2f]",
            row.gamma,
            row.alpha,
            row.teacher_acc,
            row.nokd_acc,
            row.kd_acc,
            row.delta_mean,
            row.delta_ci_low,
            row.delta_ci_high,
        )


SWEPT_QUANTITY = {"vary_gamma": "gamma", "vary_alpha": "alpha"}


def cmd_plot(a: argparse.Namespace) -> None:
    from mfh.report.figures import plot_from_csv

    generator = sections(a.params)["generator"]
    plot_from_csv(a.runs, SWEPT_QUANTITY[generator], a.out_png, title=a.study)


# --- gauss_modify (paper Table 2) --------------------------------------------------------------


def cmd_modify_prepare(a: argparse.Namespace) -> None:
    from mfh.studies.modify_prepare import prepare

    p = sections(a.params)
    prepare(a.study, p["seed"], p["data"], a.out_data, a.out_settings)


def cmd_modify_teacher(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import modify

    p = sections(a.params)
    modify.train_teachers(a.study, p["seed"], a.data, p["teacher"], a.out_ckpt, a.out_acc)


def cmd_modify_salience(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import modify

    p = sections(a.params)
    modify.salience(a.study, p["seed"], a.data, p["salience"], a.out_csv)


def cmd_modify_baseline(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import modify

    p = sections(a.params)
    modify.train_baselines(a.study, p["seed"], a.data, p["student"], a.out_ckpt, a.out_acc)


def cmd_modify_distill_regular(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import modify

    p = sections(a.params)
    modify.distill_regular(
        a.study,
        p["seed"],
        a.data,
        a.teacher,
        p["student"],
        p["distill"],
        p["legacy_swap_bug"],
        a.out_ckpt,
        a.out_acc,
    )


def cmd_modify_retrain(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import modify

    p = sections(a.params)
    modify.retrain_teachers(
        a.study,
        p["seed"],
        a.mode,
        a.data,
        a.salience,
        p["teacher"],
        a.out_ckpt,
        a.out_acc,
        a.out_kept,
    )


def cmd_modify_distill(a: argparse.Namespace) -> None:
    compute_on(a)
    from mfh.studies import modify

    p = sections(a.params)
    modify.distill_modified(
        a.study,
        p["seed"],
        a.mode,
        a.data,
        a.teacher,
        a.kept,
        p["student"],
        p["distill"],
        a.out_ckpt,
        a.out_acc,
    )


def cmd_modify_collect(a: argparse.Namespace) -> None:
    from mfh.report.modify_tables import collect_modify

    from mfh.report.metrics import modify_metrics, write_metrics

    selections = sections(a.params)["selections"]
    _, summary = collect_modify(a.results, selections, a.out_runs, a.out_summary)
    write_metrics(modify_metrics(summary), a.out_metrics)


def cmd_modify_plot(a: argparse.Namespace) -> None:
    from mfh.report.modify_figures import plot_modify, plot_salience

    plot_modify(a.runs, a.out_png)
    plot_salience(a.salience, a.settings, a.out_salience_png)


def cmd_venn(a: argparse.Namespace) -> None:
    from mfh.venn import estimate_venn, plot_venn, write_venn

    venn = estimate_venn(a.salience, a.settings, threshold=sections(a.params)["venn"]["threshold"])
    write_venn(venn, a.out_csv)
    plot_venn(venn, a.out_png)
    for row in venn.itertuples():
        log.info(
            "  setting %d: gamma true %.3f, estimated %.3f per run, %.3f pooled over runs",
            row.setting,
            row.gamma_true,
            row.gamma_est,
            row.gamma_pooled,
        )


def _add_modify_steps(step) -> None:
    """The gauss_modify steps: `step(name, func, help)` adds a subcommand with the common options."""
    p = step("modify_prepare", cmd_modify_prepare, "draw the samples of gauss_modify")
    p.add_argument("--out-data", required=True)
    p.add_argument("--out-settings", required=True)

    def trainer(name: str, func, what: str, *inputs: str, outputs=("ckpt", "acc")):
        p = step(name, func, what)
        p.add_argument("--data", required=True, help="the study's .npz from modify-prepare")
        for option in inputs:
            p.add_argument(f"--{option}", required=True)
        for output in outputs:
            p.add_argument(f"--out-{output}", required=True)
        p.add_argument("--out-env", required=True, help=ENV_HELP)
        p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
        return p

    trainer("modify_teachers", cmd_modify_teacher, "train the regular teachers (sample A)")
    trainer("modify_salience", cmd_modify_salience, "Algorithm 1 on sample A", outputs=("csv",))
    trainer("modify_baselines", cmd_modify_baseline, "train the no-KD students (sample B)")
    trainer(
        "modify_distill_regular",
        cmd_modify_distill_regular,
        "KD students from the regular teachers",
        "teacher",
    )
    trainer(
        "modify_retrain",
        cmd_modify_retrain,
        "retrain teachers on the kept channels",
        "mode",
        "salience",
        outputs=("ckpt", "acc", "kept"),
    )
    trainer(
        "modify_distill",
        cmd_modify_distill,
        "KD students from the modified teachers",
        "mode",
        "teacher",
        "kept",
    )

    p = step("modify_collect", cmd_modify_collect, "join gauss_modify's accuracies into tables")
    p.add_argument("--results", required=True, help="results/gauss_modify")
    p.add_argument("--out-runs", required=True)
    p.add_argument("--out-summary", required=True)
    p.add_argument("--out-metrics", required=True, help="headline numbers (JSON, DVC metrics)")

    p = step("modify_plot", cmd_modify_plot, "draw gauss_modify's table and salience figures")
    for option in ("runs", "salience", "settings", "out-png", "out-salience-png"):
        p.add_argument(f"--{option}", required=True)

    for name in ("venn", "modify_venn"):
        p = step(name, cmd_venn, "estimate the Venn diagram (gamma) from Algorithm 1's salience")
        for option in ("salience", "settings", "out-csv", "out-png"):
            p.add_argument(f"--{option}", required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mfh", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True, metavar="STEP")

    def step(name: str, func, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument("--study", required=True, help="study name (a section of params.yaml)")
        p.add_argument(
            "--params", nargs="*", default=[], help="the params section files this step uses"
        )
        p.add_argument("--log", help="log file (also logs to stderr)")
        return p

    p = step("prepare_data", cmd_prepare, "draw a synthetic study's data")
    p.add_argument("--out-data", required=True, help="output .npz of all settings x runs")
    p.add_argument("--out-settings", required=True, help="output CSV of the settings' Venn shares")

    for name, func, what in [
        ("train_teachers", cmd_teacher, "train the teachers on modality a"),
        ("train_baselines", cmd_baseline, "train the no-KD students on modality b"),
        ("distill", cmd_distill, "train the KD students on modality b from the teachers"),
    ]:
        p = step(name, func, what)
        p.add_argument("--data", required=True, help="the study's .npz from `prepare`")
        if name == "distill":
            p.add_argument("--teacher", required=True, help="teacher checkpoint")
        p.add_argument("--out-ckpt", required=True, help="output checkpoint (.pt)")
        p.add_argument("--out-acc", required=True, help="output CSV of test accuracies")
        p.add_argument("--out-env", required=True, help=ENV_HELP)
        p.add_argument("--threads", type=int, default=1, help="torch CPU threads")

    p = step("salience", cmd_salience, "Algorithm 1 on a study's teacher modality (x_a)")
    p.add_argument("--data", required=True, help="the study's .npz from `prepare`")
    p.add_argument("--out-csv", required=True, help="output salience.csv")
    p.add_argument("--out-env", required=True, help=ENV_HELP)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")

    p = step("collect", cmd_collect, "join accuracies into runs.csv and summary.csv")
    for name in ("settings", "teacher", "nokd", "kd"):
        p.add_argument(f"--{name}", required=True, help=f"{name}.csv")
    p.add_argument("--out-runs", required=True)
    p.add_argument("--out-summary", required=True)
    p.add_argument("--out-metrics", required=True, help="headline numbers (JSON, DVC metrics)")

    p = step("plot", cmd_plot, "draw the study's figure from runs.csv")
    p.add_argument("--runs", required=True, help="runs.csv from `collect`")
    p.add_argument("--out-png", required=True)

    _add_modify_steps(step)
    add_real_steps(step)
    return parser


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    return build_parser()._subparsers._group_actions[0].choices


def steps() -> list[str]:
    """Every step's name (= the Snakemake rule that runs it), sorted."""
    return sorted(_subcommands())


def handler(step: str):
    """The function that `python -m mfh <step>` runs (the step is a Snakemake rule's name)."""
    subcommands = _subcommands()
    if step not in subcommands:
        raise KeyError(f"no step {step!r}; steps: {', '.join(sorted(subcommands))}")
    return subcommands[step].get_default("func")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.log)
    start = time.perf_counter()
    log.info("mfh %s --study %s", args.step, args.study)
    try:
        args.func(args)
        if getattr(args, "out_env", None):  # how the metrics were computed, next to them
            from mfh.device import write_environment

            write_environment(args.out_env)
    except (CheckpointError, DataError, DeviceError, FileNotFoundError) as error:
        # a bad or missing input: say which and what to do, without a traceback from torch
        log.error("mfh %s failed: %s", args.step, error)
        return 1
    log.info("mfh %s done in %.1f s", args.step, time.perf_counter() - start)
    _trace_imports(args.step)
    return 0


def _trace_imports(step: str) -> None:
    """With MFH_TRACE_IMPORTS=<folder>, list the mfh modules this step loaded there: how
    tests/test_code_deps.py checks the computed code dependencies against a real run."""
    folder = os.environ.get("MFH_TRACE_IMPORTS")
    if folder:
        loaded = sorted(name for name in sys.modules if name.split(".")[0] == "mfh")
        path = Path(folder) / f"{step}-{os.getpid()}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(loaded) + "\n")
