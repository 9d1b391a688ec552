"""DVC round trip: push to a local remote, wipe outputs and cache, pull -> byte-identical; a
fresh `git clone` + `dvc pull` + `snakemake --touch` leaves Snakemake and DVC nothing to do."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from test_dvc import _assert_in_sync

from conftest import copy_of, run

CACHED = ("models", "data/prepared")  # DVC-cached outputs (results/ CSVs and PNGs are in git)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in CACHED
        for p in sorted((root / folder).rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_push_wipe_pull_and_fresh_clone(finished_run, tmp_path):
    wf = copy_of(finished_run, tmp_path / "wf")  # a plain Snakemake run, then `dvc commit -f`
    run(["dvc", "remote", "add", "-d", "local", str(tmp_path / "remote")], wf)
    run(["dvc", "push"], wf)
    before = _digests(wf)
    assert any(name.endswith(".pt") for name in before) and any(
        name.endswith(".npz") for name in before
    )

    for folder in (*CACHED, ".dvc/cache"):
        shutil.rmtree(wf / folder)
    run(["dvc", "pull"], wf)
    assert _digests(wf) == before
    _assert_in_sync(wf)

    run(["git", "add", "-A"], wf)
    run(["git", "commit", "-qm", "results"], wf)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(wf), str(clone)], tmp_path)
    run(["dvc", "pull"], clone)
    assert _digests(clone) == before
    run(["snakemake", "--touch", "--cores", "1"], clone)  # hand-over after a pull
    _assert_in_sync(clone)
