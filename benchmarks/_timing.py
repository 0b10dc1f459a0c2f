"""Shared timing for the benchmark scripts: medians of repeated runs (time.perf_counter) after a warm-up."""

import os
import statistics
import time

import torch


def seconds(fn):
    """Wall time of one call ``fn()``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_seconds(fn, repeats=5, warmup=1):
    """Median wall time of ``fn()`` over ``repeats`` runs, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    return statistics.median(seconds(fn) for _ in range(repeats))


def interleaved_times(fns, repeats=5, warmup=1):
    """Wall times of each function of the dict ``fns``, timed in turn: A B C, B C A, C A B, ...

    Returns ``{name: [seconds, one per round]}``. Interleaving spreads changes in machine load over
    every contender; rotating the order keeps one function's aftermath (freed memory, cold caches)
    from always landing on the same neighbour.
    """
    names = list(fns)
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(seconds(fns[name]))
    return times


def interleaved_medians(fns, repeats=5, warmup=1):
    """Median wall time of each function of the dict ``fns``, timed as in :func:`interleaved_times`."""
    return {name: statistics.median(t) for name, t in interleaved_times(fns, repeats, warmup).items()}


def median_ratio(times, slow, fast):
    """Median over rounds of ``times[slow][i] / times[fast][i]``: each ratio from two runs side by side."""
    return statistics.median(a / b for a, b in zip(times[slow], times[fast]))


def machine():
    """One line on the conditions: a busy machine makes every figure noisy, ratios less so."""
    return (f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f}")


def verdict(target, met):
    """The final line of a script: ``target: ... -> met`` or ``-> missed``."""
    return f"target: {target} -> {'met' if met else 'missed'}"
