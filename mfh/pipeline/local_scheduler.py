"""Keep Snakemake's own scheduler from competing with the jobs for the CPU on a local run.

Snakemake 9 rate-limits job starts by default (`--max-jobs-per-timespan 100/1s`). With a rate
limiter, every pass of its scheduling loop ends by starting a `threading.Timer` that wakes the
loop again one timespan later — and every wake-up is such a pass, so each event that wakes the loop
(a job finishing) starts one more endless 1 s chain of timers. After n finished jobs the loop
selects jobs n times a second, each time re-reading the input sizes of every waiting job (our rules
list the step's code files as inputs). Measured on `snakemake real --cores 2` (2026-12-04, 83 jobs):
73 threads in the Snakemake process and 22 % of one core after 23 minutes, 6 min 12 s of CPU over
27 min, taken from the two training jobs (`benchmarks/bench_local_scheduler.py` measures it on a
small workflow of sleeping jobs).

A local run has nothing to rate-limit: a job starts when cores free up, and a finishing job wakes
the loop anyway. So `onstart` (workflow/Snakefile) calls `drop_rate_limiter(workflow)`, which
removes the limiter of a local run; a cluster run (the Slurm profile) keeps its own, where it
spaces out `sbatch` calls. Snakemake has no option that turns the limiter off (the option's
parser wants `<count>/<timespan>`, and a long timespan keeps the process alive at exit until its
last timer fires), so this sets the attribute the scheduler reads on each pass.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def drop_rate_limiter(workflow) -> bool:
    """Remove the job-start rate limiter of a local Snakemake run (see the module); returns
    whether one was removed. `workflow` is the Snakefile's `workflow` object, called from
    `onstart` (its scheduler exists by then)."""
    scheduler = getattr(workflow, "scheduler", None)
    if scheduler is None or not workflow.local_exec:
        return False
    if getattr(scheduler, "job_rate_limiter", None) is None:
        return False
    scheduler.job_rate_limiter = None
    log.debug(
        "local run: Snakemake's job-start rate limiter removed (mfh.pipeline.local_scheduler)"
    )
    return True
