"""The `prepare_data` step of the synthetic studies: draw every setting x run, write the arrays
and a table of each setting's Venn proportions. NumPy only: no torch import (it costs seconds).
"""

from __future__ import annotations

import logging

from mfh.data.synthetic import StudyData, build_study
from mfh.data.venn_generator import build_venn_study
from mfh.io import atomic_path
from mfh.tables import GAUSS_SETTINGS

log = logging.getLogger(__name__)


def prepare(study: str, seed: int, data_cfg: dict, out_data, out_settings) -> StudyData:
    """Draw the study's data and write it with a table of the settings' Venn proportions
    (generator `venn`: the setting's index is its `value`)."""
    if data_cfg["generator"] == "venn":
        data = build_venn_study(study, data_cfg, seed)
    else:
        data = _reference_study(study, seed, data_cfg)
    with atomic_path(out_data) as tmp:
        with open(tmp, "wb") as f:
            data.save(f)
    GAUSS_SETTINGS.write(
        out_settings,
        [
            (s, value, v.gamma, v.alpha, v.beta, v.d0, v.da, v.db)
            for s, (value, v) in enumerate(zip(data.grid, data.venn))
        ],
    )
    log.info(
        "%s: %d settings x %d runs, %d classes, x_a %s, x_b %s",
        study,
        len(data.grid),
        data_cfg["runs"],
        data.classes,
        data.xa_train.shape[-1:],
        data.xb_train.shape[-1:],
    )
    return data


def _reference_study(study: str, seed: int, data_cfg: dict) -> StudyData:
    """The data of a reference experiment (generator vary_gamma or vary_alpha)."""
    keys = ("generator", "grid", "runs", "n_train", "n_test")
    return build_study(study, *(data_cfg[key] for key in keys), seed)
