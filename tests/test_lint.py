"""The code stays clean: the workflow under `snakemake --lint` and `snakefmt --check`, the Python
(mfh/, tests/, benchmarks/) under `ruff check` and `black --check` (settings: pyproject.toml)."""

from __future__ import annotations

from conftest import REPO, run


def test_snakemake_lint_is_clean():
    proc = run(["snakemake", "--lint"], REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr


def test_snakefmt_check_is_clean():
    proc = run(["snakefmt", "--check", "Snakefile", "workflow"], REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_check_is_clean():
    proc = run(["ruff", "check", "mfh", "tests", "benchmarks"], REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_black_check_is_clean():
    proc = run(["black", "--check", "mfh", "tests", "benchmarks"], REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
