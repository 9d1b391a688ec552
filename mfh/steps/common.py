"""What the step modules share: how a step declares its command-line options, and where a
training step computes.

A step's options are declared above it, `@options(Option("data", "..."), ...)`; `mfh.cli` builds
each subcommand from them, beside the three options every step has (--study, --params, --log).
An option is required unless it has a default. A step that trains lists `*TRAINING` (--out-env,
--threads) and starts with `compute_on(params["device"], args.threads)`.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger("mfh")


@dataclass(frozen=True)
class Option:
    """One command-line option of a step, `--<name>`: required unless it has a default."""

    name: str
    help: str | None = None
    type: Callable[[str], Any] = str
    choices: tuple | None = None
    default: Any = None

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            f"--{self.name}",
            help=self.help,
            type=self.type,
            choices=self.choices,
            default=self.default,
            required=self.default is None,
        )


def options(*declared: Option):
    """Declare the command-line options of the step function below (`step.options`)."""

    def declare(step):
        step.options = declared
        return step

    return declare


ENV_HELP = "output JSON: torch version, device, threads and CPU kernels that computed the metrics"
TRAINING = (
    Option("out-env", ENV_HELP),  # mfh.cli writes it once the step succeeds
    Option("threads", "torch CPU threads", type=int, default=1),
)


def compute_on(device: str, threads: int) -> None:
    """For a step that trains: the CPU kernels (mfh.numerics), the device (params `device`) and
    the CPU thread count. The CPU model is logged here, not in the committed env.json."""
    from mfh.device import configure
    from mfh.numerics import cpu_model, enforce

    kernels = enforce()
    computing_on = configure(device, threads)
    log.info(
        "computing on %s with %d CPU thread(s), %s CPU kernels, on %s",
        computing_on,
        threads,
        kernels,
        cpu_model(),
    )
