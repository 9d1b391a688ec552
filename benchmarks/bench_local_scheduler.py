"""How much CPU does Snakemake's own scheduler take from the jobs of a local run, with its default
job-start rate limiter and without it (`mfh.pipeline.local_scheduler`, called from `onstart` in
workflow/Snakefile)?

A small workflow in a temporary folder: --jobs jobs that sleep --seconds each (no CPU of their
own), each with --inputs input files like our rules' code inputs, run by `snakemake --cores 2`
twice, once as Snakemake leaves it and once with the `onstart` hook. For each run: wall time, the
Snakemake process' CPU seconds (user + system, `resource.getrusage` of the children: the sleeping
jobs add ~0) and the largest thread count seen in it (sampled every 0.2 s; each of the rate
limiter's timer chains is a thread). Ratios > 1: the hook saves.

Run:  .venv/bin/python benchmarks/bench_local_scheduler.py [--jobs 24 --seconds 5 --inputs 100]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNAKEFILE = """\
INPUTS = expand("in/{{k}}.txt", k=range({inputs}))
{hook}
rule all:
    input: expand("out/{{i}}.txt", i=range({jobs}))
rule sleeper:
    input: INPUTS
    output: "out/{{i}}.txt"
    shell: "sleep {seconds}; echo {{wildcards.i}} > {{output}}"
"""
HOOK = """
from mfh.pipeline.local_scheduler import drop_rate_limiter
onstart:
    drop_rate_limiter(workflow)
"""


def run(folder: Path, hook: bool, args) -> tuple[float, float, int]:
    """(wall seconds, Snakemake CPU seconds, most threads) of one run from scratch."""
    text = SNAKEFILE.format(hook=HOOK if hook else "", **vars(args))
    (folder / "Snakefile").write_text(text)
    subprocess.run(["rm", "-rf", str(folder / "out"), str(folder / ".snakemake")], check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    snakemake = Path(sys.executable).with_name("snakemake")
    proc = subprocess.Popen(
        [str(snakemake), "--cores", "2"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    threads = 0
    while proc.poll() is None:
        threads = max(threads, _threads(proc.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"snakemake failed in {folder} (exit {proc.returncode})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, threads


def _threads(pid: int) -> int:
    """The thread count of a live process (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--inputs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "in").mkdir()
        for k in range(args.inputs):
            (folder / "in" / f"{k}.txt").write_text(f"{k}\n")
        os.environ["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        print(
            f"{args.jobs} jobs of sleep {args.seconds} s, {args.inputs} inputs each,",
            "snakemake --cores 2",
        )
        plain = run(folder, False, args)
        hooked = run(folder, True, args)
    for name, (wall, cpu, threads) in (("default", plain), ("no rate limiter", hooked)):
        print(f"   {name:16s} wall {wall:6.1f} s, Snakemake CPU {cpu:5.2f} s, {threads} threads")
    print(f"   CPU default / without the limiter = {plain[1] / hooked[1]:.2f}x")


if __name__ == "__main__":
    main()
