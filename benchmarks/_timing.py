"""Shared timing for the benchmark scripts: medians of repeated runs after a warm-up."""

import statistics
import time


def median_seconds(fn, repeats=5, warmup=1):
    """Median wall time of ``fn()`` over ``repeats`` runs, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(fns, repeats=5, warmup=1):
    """Median times of several functions measured in turn (A, B, A, B, ...), so drift hits them alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def verdict(name, met):
    return f"target: {name} -> {'met' if met else 'missed'}"
