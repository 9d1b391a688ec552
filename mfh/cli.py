"""Command line: `python -m mfh <step> ...`, the entry points that the Snakemake rules run.

A step is the function named as the Snakemake rule that runs it (`rule train_teachers` runs
`python -m mfh train_teachers`, which calls `mfh.steps.synthetic.train_teachers`), so
`grep -n "def <rule>" mfh/` finds the code of a rule. `STEPS` lists them all; the subcommand of a
step takes the step's docstring as its help and the options declared above it (`@options`, see
`mfh.steps.common`), plus the options every step has:
    --study    the study (a section of params.yaml; a dataset for the real-data steps)
    --params   the section files of the params.yaml sections its rule depends on
               (`.params/<dotted key>.json`, `mfh.pipeline.sections`), the same keys DVC tracks
               for its stage; the step gets them by full dotted key, `params["gauss_gamma.teacher"]`
    --log      its own log file (it also logs to stderr)
Steps create their output folders. Heavy libraries (torch, pandas, seaborn) are imported inside
the step that needs them, so that `--help` and the light steps start fast.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import os
import sys
import time
from pathlib import Path

from mfh.errors import CheckpointError, DataError, DeviceError, HealthError, SectionError
from mfh.pipeline import sections
from mfh.steps import modify, predictors, real, real_data, real_diagnose, synthetic

log = logging.getLogger("mfh")

STEPS = {
    step.__name__: step
    for step in (
        synthetic.prepare_data,
        synthetic.train_teachers,
        synthetic.train_baselines,
        synthetic.distill,
        synthetic.salience,
        synthetic.collect,
        synthetic.plot,
        synthetic.probe,
        synthetic.venn,
        modify.modify_prepare,
        modify.modify_teachers,
        modify.modify_salience,
        modify.modify_baselines,
        modify.modify_distill_regular,
        modify.modify_retrain,
        modify.modify_distill,
        modify.modify_collect,
        modify.modify_plot,
        modify.modify_probe,
        modify.modify_venn,
        predictors.predictors,
        predictors.real_predictors,
        real_data.download,
        real_data.real_prepare,
        real.real_unimodal,
        real.real_fusion,
        real.real_distill,
        real.real_joint,
        real.real_salience,
        real.real_modes,
        real.real_collect,
        real.real_plot,
        real_diagnose.real_diagnose,
        real_diagnose.real_diagnosis,
    )
}


def steps() -> list[str]:
    """Every step's name (= the Snakemake rule that runs it), sorted."""
    return sorted(STEPS)


def handler(step: str):
    """The function that `python -m mfh <step>` runs (the step is a Snakemake rule's name)."""
    if step not in STEPS:
        raise KeyError(f"no step {step!r}; steps: {', '.join(steps())}")
    return STEPS[step]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mfh", description=__doc__.split("\n\n")[0])
    subcommands = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    for name, step in STEPS.items():
        summary = inspect.getdoc(step).split("\n")[0]
        subcommand = subcommands.add_parser(name, help=summary, description=summary)
        subcommand.add_argument(
            "--study", required=True, help="study name (a section of params.yaml)"
        )
        subcommand.add_argument(
            "--params", nargs="*", default=[], help="the params section files this step uses"
        )
        subcommand.add_argument("--log", help="log file (also logs to stderr)")
        for option in step.options:
            option.add_to(subcommand)
    return parser


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.log)
    start = time.perf_counter()
    log.info("mfh %s --study %s", args.step, args.study)
    try:
        STEPS[args.step](args, sections.read(args.params))
        if getattr(args, "out_env", None):  # how the metrics were computed, next to them
            from mfh.device import write_environment

            write_environment(args.out_env)
    except (
        CheckpointError,
        DataError,
        DeviceError,
        HealthError,
        SectionError,
        FileNotFoundError,
    ) as error:
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
