"""Timing helpers shared by the benchmarks: wall-clock milliseconds of a callable, measured so
that a shared, noisy machine disturbs the comparison as little as possible."""

import statistics
import time
from typing import Callable, Sequence


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """The median wall time of `fn()` over `repeats` calls, after one warm-up call, in ms."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def interleaved_min_ms(fns: Sequence[Callable[[], object]], repeats: int) -> list[float]:
    """The fastest of `repeats` calls of each of `fns`, called in turn (f0, f1, ..., f0, f1, ...)
    so that a load on the machine hits them alike, in ms; one warm-up call each."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return [min(t) * 1000.0 for t in times]
