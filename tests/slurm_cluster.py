"""A throw-away single-node Slurm cluster for tests: munged, slurmctld and slurmd run as children of
the test process with every file (key, sockets, state, spool, logs, pid files) in one folder.

Nothing outside that folder is touched: no systemd, no /etc/slurm, no /run/munge. Slurm commands
find the cluster through SLURM_CONF (see `SlurmCluster.env`). Daemons run in the foreground
(munged -F, slurmctld -D, slurmd -D) so the test owns their pids; `stop()` ends exactly those pids
(SIGTERM, then SIGKILL) and they also receive SIGTERM if the test process dies (PR_SET_PDEATHSIG).

Also here: installing Debian's slurm-wlm + munge when missing, and installing the Snakemake executor
plugin into a separate folder used through PYTHONPATH, never into the project's environment (an
installed plugin probes `scontrol` at every Snakemake start).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
APT_PACKAGES = ["slurm-wlm", "munge"]
# The plugin version this test is known to work with (Snakemake 9.27, interface 9.4). The slurm
# extra in pyproject.toml lets pip choose; the test pins so CI is reproducible.
PLUGIN_REQUIREMENTS = [
    "snakemake-executor-plugin-slurm==2.8.0",
    "snakemake-executor-plugin-slurm-jobstep==0.6.1",
]


class ClusterError(RuntimeError):
    pass


# --------------------------------------------------------------------------- installation


def slurm_installed() -> bool:
    return all(
        shutil.which(tool, path="/usr/sbin:/usr/bin:" + os.environ.get("PATH", ""))
        for tool in ("munged", "slurmctld", "slurmd", "sbatch", "squeue")
    )


def apt_install_slurm() -> float:
    """Install slurm-wlm and munge with apt-get; returns the seconds it took.

    Services are not started by the packages where /usr/sbin/policy-rc.d forbids it (containers);
    the test never uses the system munged or /etc/slurm anyway.
    """
    if shutil.which("apt-get") is None:
        raise ClusterError("slurmctld is missing and there is no apt-get to install slurm-wlm")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Keep the packages from starting the system's munged/slurmctld/slurmd (a container without
    # systemd runs their init scripts otherwise): policy-rc.d exit 101 = "not allowed", as in
    # Docker images. Only added when absent, and removed again.
    policy = Path("/usr/sbin/policy-rc.d")
    added_policy = not policy.exists()
    if added_policy:
        policy.write_text("#!/bin/sh\n# temporary, from mfh tests/slurm_cluster.py\nexit 101\n")
        policy.chmod(0o755)
    start = time.monotonic()
    try:
        for cmd in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES],
        ):
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise ClusterError(
                    f"{' '.join(cmd)} failed ({proc.returncode}); the Slurm test needs the Debian "
                    f"packages {', '.join(APT_PACKAGES)}:\n{proc.stdout[-2000:]}\n"
                    f"{proc.stderr[-2000:]}"
                )
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)
    if not slurm_installed():
        raise ClusterError(f"apt-get installed {APT_PACKAGES} but slurmctld/munged are missing")
    return time.monotonic() - start


def _unsatisfied(requirements: list[str], target: Path) -> list[str]:
    """Requirements (from the plugins' metadata) that neither `target` nor this Python satisfies."""
    from importlib import metadata

    from packaging.requirements import Requirement

    missing = []
    for text in requirements:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        dists = list(metadata.distributions(path=[str(target)], name=req.name))
        if not dists:
            try:
                dists = [metadata.distribution(req.name)]
            except metadata.PackageNotFoundError:
                dists = []
        if not dists or not req.specifier.contains(dists[0].version, prereleases=True):
            missing.append(text)
    return missing


def install_plugin(target: Path) -> dict[str, str]:
    """Install the Slurm executor plugin (and the jobstep plugin it runs on the nodes) into
    `target`, not into this environment. Dependencies the environment already satisfies (Snakemake's
    interfaces, numpy, pandas, ...) are not installed again, so nothing shadows the project's
    packages on PYTHONPATH. Returns {distribution: version}. A completed folder is reused.
    """
    from importlib import metadata

    done = target / ".complete"
    if not done.is_file():
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        pip = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(target),
        ]
        todo = list(PLUGIN_REQUIREMENTS)
        for _ in range(5):  # the plugins, then whatever of their requirements is missing
            proc = subprocess.run(pip + todo, capture_output=True, text=True)
            if proc.returncode != 0:
                raise ClusterError(f"pip install {' '.join(todo)} failed:\n{proc.stderr[-3000:]}")
            requires = [
                r for d in metadata.distributions(path=[str(target)]) for r in (d.requires or [])
            ]
            todo = _unsatisfied(requires, target)
            if not todo:
                break
        else:
            raise ClusterError(f"could not satisfy the plugin's requirements: {todo}")
        done.write_text("\n".join(PLUGIN_REQUIREMENTS) + "\n")
    versions = {d.metadata["Name"]: d.version for d in metadata.distributions(path=[str(target)])}
    requires = [r for d in metadata.distributions(path=[str(target)]) for r in (d.requires or [])]
    if bad := _unsatisfied(requires, target):
        raise ClusterError(
            f"the Slurm plugin in {target} needs {bad}, which this environment does not satisfy "
            f"(snakemake {metadata.version('snakemake')}); delete the folder or change the pin"
        )
    return versions


# --------------------------------------------------------------------------- the cluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _mem_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 2048


class SlurmCluster:
    """One node (this machine, as its short hostname at 127.0.0.1), one partition `debug`."""

    def __init__(self, root: Path, partition: str = "debug", min_job_age: int = 1800):
        self.root = Path(root)
        self.partition = partition
        self.min_job_age = min_job_age
        self.host = socket.gethostname().split(".")[0]
        self.cpus = os.cpu_count() or 1
        # Bookkeeping only (TaskPlugin=task/none enforces no limit): at least 8 GB so that two of
        # the profile's 4 GB training jobs fit side by side even on a small CI machine;
        # SlurmdParameters=config_overrides keeps slurmd from draining a node with less.
        self.mem_mb = max(8192, int(_mem_mb() * 0.8))
        self.procs: dict[str, subprocess.Popen] = {}
        self.conf = self.root / "slurm.conf"
        self.munge_socket = self.root / "munge" / "munge.socket.2"

    # ---- environment for every Slurm client (sbatch, squeue, srun, the plugin)
    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default: os.environ) plus what Slurm clients need to find this cluster.

        SLURM_CONF names the config. Inside a job the jobstep plugin drops every SLURM_* variable
        but a few before its nested `srun` (plugin-slurm-jobstep 0.6), so srun would look for
        /etc/slurm/slurm.conf; a wrapper first on PATH sets SLURM_CONF for srun again. Real
        clusters keep slurm.conf at the default path (or run configless) and need no wrapper.
        """
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.conf)
        env["PATH"] = os.pathsep.join([str(self.root / "bin"), env.get("PATH", "")])
        return env

    def _env(self) -> dict[str, str]:
        env = self.client_env()
        env["PATH"] = os.pathsep.join(["/usr/sbin", "/usr/bin", env["PATH"]])
        return env

    def log(self, daemon: str) -> Path:
        return self.root / "log" / f"{daemon}.log"

    def write_config(self) -> None:
        for sub in ("munge", "state", "spool", "log", "run", "bin"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        srun = shutil.which("srun", path="/usr/bin:/usr/local/bin:" + os.environ.get("PATH", ""))
        wrapper = self.root / "bin" / "srun"
        wrapper.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {srun} "$@"\n')
        wrapper.chmod(0o755)
        os.chmod(self.root / "munge", 0o700)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        r = self.root
        self.conf.write_text(
            "\n".join(
                [
                    "# Generated by tests/slurm_cluster.py: a throw-away single-node cluster.",
                    "ClusterName=mfhtest",
                    f"SlurmctldHost={self.host}(127.0.0.1)",
                    f"SlurmctldPort={_free_port()}",
                    f"SlurmdPort={_free_port()}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={self.munge_socket}",
                    f"StateSaveLocation={r}/state",
                    f"SlurmdSpoolDir={r}/spool",
                    f"SlurmctldPidFile={r}/run/slurmctld.pid",
                    f"SlurmdPidFile={r}/run/slurmd.pid",
                    f"SlurmctldLogFile={self.log('slurmctld')}",
                    f"SlurmdLogFile={self.log('slurmd')}",
                    "SlurmctldDebug=info",
                    "SlurmdDebug=info",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "JobCompType=jobcomp/none",
                    "MpiDefault=none",
                    "SchedulerType=sched/backfill",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core_Memory",
                    "SlurmdParameters=config_overrides",
                    "ReturnToService=2",
                    # Finished jobs stay visible to squeue this long: the plugin's status check
                    # uses squeue (no slurmdbd, so no sacct) and needs MinJobAge >= 120 s.
                    f"MinJobAge={self.min_job_age}",
                    "SchedulerParameters=sched_interval=2",
                    f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} "
                    f"RealMemory={self.mem_mb} State=UNKNOWN",
                    f"PartitionName={self.partition} Nodes=ALL Default=YES MaxTime=INFINITE "
                    "State=UP",
                    "",
                ]
            )
        )

    def _spawn(self, name: str, cmd: list[str]) -> None:
        out = open(self.root / "log" / f"{name}.stdout", "ab")
        self.procs[name] = subprocess.Popen(
            cmd,
            env=self._env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            cwd=self.root,
        )
        out.close()
        (self.root / "run" / f"{name}.popen.pid").write_text(f"{self.procs[name].pid}\n")

    def _wait(self, what: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise ClusterError(
                        f"{name} exited ({proc.returncode}) while waiting for "
                        f"{what}:\n{self.tail()}"
                    )
            if ready():
                return
            time.sleep(0.3)
        raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}:\n{self.tail()}")

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            list(cmd), env=self._env(), capture_output=True, text=True, timeout=60
        )
        if check and proc.returncode != 0:
            raise ClusterError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def node_state(self) -> str:
        proc = self.run("sinfo", "--noheader", "-n", self.host, "-o", "%t", check=False)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    def start(self, timeout: float = 60) -> None:
        self.write_config()
        m = self.root / "munge"
        self._spawn(
            "munged",
            [
                "munged",
                "-F",
                "--force",
                f"--key-file={m}/munge.key",
                f"--socket={self.munge_socket}",
                f"--pid-file={self.root}/run/munged.pid",
                f"--log-file={self.log('munged')}",
                f"--seed-file={m}/munged.seed",
                "--num-threads=4",
            ],
        )
        self._wait("the munge socket", self.munge_socket.exists, 20)
        self._spawn("slurmctld", ["slurmctld", "-D", "-c", "-f", str(self.conf)])
        self._wait(
            "slurmctld", lambda: self.run("scontrol", "ping", check=False).returncode == 0, timeout
        )
        self._spawn("slurmd", ["slurmd", "-D", "-N", self.host, "-f", str(self.conf)])
        self._wait(f"node {self.host} idle", lambda: self.node_state() == "idle", timeout)

    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld still knows (finished ones for MinJobAge seconds)."""
        out = self.run("squeue", "--states=all", "--noheader", "-o", "%i|%j|%T|%k|%N|%l|%m").stdout
        keys = ("id", "name", "state", "comment", "node", "time_limit", "min_memory")
        return [dict(zip(keys, line.split("|"))) for line in out.splitlines() if line.strip()]

    def stop(self) -> None:
        """Cancel remaining jobs, then end the daemons this object started, by pid."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            try:
                ids = [
                    j["id"]
                    for j in self.jobs()
                    if j["state"] in ("PENDING", "RUNNING", "CONFIGURING")
                ]
                if ids:
                    self.run("scancel", *ids, check=False)
                    deadline = time.monotonic() + 20
                    while time.monotonic() < deadline and any(
                        j["state"] in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING")
                        for j in self.jobs()
                    ):
                        time.sleep(0.5)
            except (ClusterError, subprocess.TimeoutExpired):
                pass
        for name in reversed(DAEMONS):  # slurmd, slurmctld, then munged
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def tail(self, lines: int = 15) -> str:
        parts = []
        for path in sorted((self.root / "log").glob("*")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts)

    def __enter__(self) -> "SlurmCluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
