"""What every command-line step shares: its params sections and where it computes.

A step's `--params` are section files written by the workflow (`.params/<dotted key>.json`, see
`mfh.pipeline.sections`), one per params.yaml section the rule depends on — the same keys DVC
tracks for its stage. `sections()` reads them into {last part of the key: value}, e.g.
`.params/gauss_gamma.teacher.json` arrives as `teacher`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("mfh")


def sections(paths: list[str]) -> dict:
    """Section files -> {last part of the dotted key: value}."""
    out = {}
    for path in paths:
        name = Path(path).name
        if not name.endswith(".json"):
            raise SystemExit(f"--params: {path} is not a .params/<key>.json section file")
        try:
            value = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"--params: cannot read {path}: {exc}") from exc
        out[name[: -len(".json")].rsplit(".", 1)[-1]] = value
    return out


def compute_on(args) -> None:
    """For a step that trains: the CPU kernels (mfh.numerics), the device (params `device`) and
    the CPU thread count. The CPU model is logged here, not in the committed env.json."""
    from mfh.device import configure
    from mfh.numerics import cpu_model, enforce

    kernels = enforce()
    device = configure(sections(args.params)["device"], args.threads)
    log.info(
        "computing on %s with %d CPU thread(s), %s CPU kernels, on %s",
        device,
        args.threads,
        kernels,
        cpu_model(),
    )
