"""The `modify_prepare` step of `gauss_modify`: draw samples A, B and test of every setting x run,
write them and a table of each setting's Venn proportions. NumPy only: no torch import."""

from __future__ import annotations

import logging

from mfh.data.modify import ModifyData, build_modify
from mfh.io import atomic_path
from mfh.tables import MODIFY_SETTINGS

log = logging.getLogger(__name__)


def prepare(study: str, seed: int, data_cfg: dict, out_data, out_settings) -> ModifyData:
    data = build_modify(
        study, data_cfg["grid"], data_cfg["runs"], data_cfg["n_train"], data_cfg["n_test"], seed
    )
    with atomic_path(out_data) as tmp:
        with open(tmp, "wb") as f:
            data.save(f)
    MODIFY_SETTINGS.write(
        out_settings,
        [
            (s, xs1, xs2, xs2, v.gamma, v.alpha, v.beta, v.d0, v.da, v.db)
            for s, ((xs1, xs2), v) in enumerate(zip(data.grid, data.venn))
        ],
    )
    log.info("%s: %d settings x %d runs", study, len(data.grid), data_cfg["runs"])
    return data
