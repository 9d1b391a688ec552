"""The Slurm profile on a real (single-node) Slurm cluster: the tiny configuration run through
`snakemake --workflow-profile workflow/profiles/slurm` goes through sbatch/slurmd job by job and
gives metrics byte-identical to a local `snakemake --cores 2` run.

The test brings the cluster up itself (tests/slurm_cluster.py): it installs Debian's slurm-wlm and
munge with apt-get when slurmctld is missing (needs root), installs the executor plugin into a
cache folder used through PYTHONPATH (never into the project's environment), starts munged,
slurmctld and slurmd from a temporary folder and stops them by pid afterwards, also on failure.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import make_workflow_copy, run, tool_env
from slurm_cluster import (
    PLUGIN_REQUIREMENTS,
    ClusterError,
    SlurmCluster,
    apt_install_slurm,
    install_plugin,
    slurm_installed,
)

# xdist_group: one worker runs the tests that apt-get install (dpkg takes one at a time)
pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.xdist_group("apt")]


@pytest.fixture(scope="module")
def slurm_binaries() -> float:
    """Slurm and munge on this machine; returns the seconds spent installing them (0 if present)."""
    if os.geteuid() != 0:
        pytest.skip("the Slurm test runs munged/slurmctld/slurmd (and apt-get) as root")
    if slurm_installed():
        return 0.0
    try:
        return apt_install_slurm()
    except ClusterError as error:
        pytest.fail(f"could not install Slurm for the cluster test: {error}", pytrace=False)


@pytest.fixture(scope="module")
def plugin_path(request, tmp_path_factory) -> Path:
    """The executor plugin in a folder of its own, cached across runs (.pytest_cache)."""
    key = "slurm-plugin-" + "-".join(r.split("==")[1] for r in PLUGIN_REQUIREMENTS)
    key += f"-py{sys.version_info.major}{sys.version_info.minor}"
    cache = getattr(request.config, "cache", None)
    target = Path(cache.mkdir(key)) if cache is not None else tmp_path_factory.mktemp(key)
    try:
        versions = install_plugin(target)
    except ClusterError as error:
        pytest.fail(f"could not install the Slurm executor plugin: {error}", pytrace=False)
    print(f"\nslurm plugin: {versions} in {target}")
    return target


@pytest.fixture
def cluster(slurm_binaries, tmp_path_factory):
    # A short root: slurmd's spool paths and the munge socket path must stay short.
    root = tmp_path_factory.mktemp("slurm")
    with SlurmCluster(root) as c:
        yield c
    print(f"slurm daemons stopped: {sorted(c.procs)}")


def _job_stats(output: str) -> collections.Counter:
    """Snakemake's 'Job stats' table (rule -> job count), without the local `all` target."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    counts = collections.Counter()
    for line in table.splitlines():
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if match and match[1] not in ("job", "all"):
            counts[match[1]] = int(match[2])
    return counts


def _rule(comment: str) -> str:
    """The rule in the plugin's job comment rule_<rule>[_wildcards_<values>]."""
    return re.match(r"rule_(\w+?)(_wildcards_.*)?$", comment)[1]


def _minutes(limit: str) -> int:
    """squeue's time limit ([D-]H:MM:SS or M:SS) in minutes."""
    days, _, clock = limit.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    hours, minutes = (parts[0], parts[1]) if len(parts) == 3 else (0, parts[0])
    return int(days or 0) * 1440 + hours * 60 + minutes


def _mem_mb(mem: str) -> int:
    """squeue's minimum memory (4000M, 2G) in MB."""
    return int(float(mem[:-1]) * {"M": 1, "G": 1024, "T": 1024**2}[mem[-1]])


def _metrics(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob("results/**/*.csv"))}


# One study of the tiny configuration, data to tables: five jobs (a Slurm job costs ~12 s here).
TARGET = "results/gauss_gamma/summary.csv"


def test_tiny_workflow_through_slurm_matches_local_run(
    finished_run, tiny_params, tmp_path, cluster, plugin_path, slurm_binaries
):
    # The local reference: the shared tiny run (conftest), whose studies are those of
    # tiny_params plus one of the user's own; the jobs TARGET needs, from a dry run.
    dry = run(["snakemake", TARGET, "-n", "--forceall"], finished_run)
    expected = _job_stats(dry.stderr + dry.stdout)
    assert sum(expected.values()) == 5, expected

    # The same configuration through the profile. Only the status polling is made faster than in
    # the profile (the tiny jobs take seconds); successful jobs keep their Slurm logs for the check.
    wf = make_workflow_copy(tmp_path / "slurm", tiny_params)
    env = cluster.client_env(tool_env())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_path), env.get("PYTHONPATH")]))
    cmd = [
        "snakemake",
        TARGET,  # first: several options swallow the words after them
        "--workflow-profile",
        str(wf / "workflow" / "profiles" / "slurm"),
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--slurm-keep-successful-logs",
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=wf, env=env, capture_output=True, text=True, timeout=900)
    slurm_s = time.monotonic() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{out[-6000:]}\n{cluster.tail()}"

    # Every job went through Slurm: one Slurm job per Snakemake job, named with this run's id,
    # completed on our node, with the plugin's comment rule_<rule>[_wildcards_<...>].
    run_id = re.search(r"SLURM run ID: (\S+)", out)[1]
    assert run_id.startswith("mfh_"), run_id  # slurm-jobname-prefix from the profile
    jobs = [j for j in cluster.jobs() if j["name"] == run_id]
    assert {j["state"] for j in jobs} == {"COMPLETED"}, jobs
    assert {j["node"] for j in jobs} == {cluster.host}
    by_rule = collections.Counter(_rule(j["comment"]) for j in jobs)
    assert by_rule == expected, (by_rule, expected)
    # ...each with the runtime and memory the profile gives its rule...
    profile = yaml.safe_load((wf / "workflow/profiles/slurm/config.yaml").read_text())
    for job in jobs:
        rule = _rule(job["comment"])
        wanted = {**profile["default-resources"], **profile["set-resources"].get(rule, {})}
        got = {"runtime": _minutes(job["time_limit"]), "mem_mb": _mem_mb(job["min_memory"])}
        assert got == {k: wanted[k] for k in got}, (rule, job)
    # ...started by slurmctld (the main scheduler logs "sched: Allocate JobId=N", the backfill
    # scheduler "sched/backfill: _start_job: Started JobId=N")...
    slurmctld_log = cluster.log("slurmctld").read_text()
    started = set(re.findall(r"(?:Allocate|Started) JobId=(\d+)", slurmctld_log))
    assert {j["id"] for j in jobs} <= started
    # ...and the plugin's Slurm log of each (kept with --slurm-keep-successful-logs).
    logs = wf / ".snakemake" / "slurm_logs"
    assert {p.name for p in logs.iterdir()} == {f"rule_{rule}" for rule in expected}
    assert len(list(logs.glob("**/*.log"))) == len(jobs)

    # Same metrics, byte for byte.
    reference, through_slurm = _metrics(finished_run), _metrics(wf)
    assert through_slurm and set(through_slurm) <= set(reference)
    differ = [name for name in through_slurm if reference[name] != through_slurm[name]]
    assert not differ, f"metrics differ between the local and the Slurm run: {differ}"

    # Snakemake agrees that the Slurm run is complete.
    dry = run(["snakemake", TARGET, "-n"], wf)
    assert "Nothing to be done" in dry.stdout + dry.stderr

    print(
        f"\ntiny configuration, {len(jobs)} jobs through Slurm ({cluster.cpus} CPUs, 1 node) "
        f"{slurm_s:.1f} s; "
        f"apt install {slurm_binaries:.1f} s"
    )
