"""Grid evaluation of pathological_loss: surface_grid (one vectorized call, cached) against the source
text's per-point Python loop, at N = 50 and N = 200 on the text's default window [-5, 5]^2.

usage: python benchmarks/bench_grid.py [--quick]
"""

import argparse
import statistics

import numpy as np
from _baseline import text_grid
from _timing import interleaved_times, machine, median_ratio, verdict

from optim_helpers import pathological_loss, surface_grid
from optim_helpers.plotting import _surface_grid

BATCH = 50  # package calls per timed sample: one call is too short to time alone


def contenders(N):
    """The three ways to get the N x N grid; the package's run BATCH times per call."""

    def loop():
        text_grid(pathological_loss, N=N)

    def fresh():
        for _ in range(BATCH):
            _surface_grid.cache_clear()
            surface_grid(pathological_loss, N=N)

    def cached():
        for _ in range(BATCH):
            surface_grid(pathological_loss, N=N)

    return {"loop": loop, "fresh": fresh, "cached": cached}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    print(f"{machine()}")
    print("medians of interleaved repeats; speed-up: median of the per-round ratios")
    print(f"{'N':>4} {'repeats':>8} {'per-point loop':>15} {'vectorized':>11} {'cached':>9} {'speed-up':>9}"
          f" {'max |diff|':>11}")
    ratio = {}
    for N, repeats in [(50, 5 if args.quick else 15), (200, 1 if args.quick else 3)]:
        _surface_grid.cache_clear()
        diff = np.abs(surface_grid(pathological_loss, N=N)[2] - text_grid(pathological_loss, N=N)[2]).max()
        times = interleaved_times(contenders(N), repeats=repeats)
        loop, fresh, cached = (statistics.median(times[k]) for k in ("loop", "fresh", "cached"))
        ratio[N] = median_ratio(times, "loop", "fresh") * BATCH
        print(f"{N:>4} {repeats:>8} {loop * 1e3:>12.1f} ms {fresh / BATCH * 1e3:>8.3f} ms"
              f" {cached / BATCH * 1e6:>6.2f} us {ratio[N]:>8.0f}x {diff:>11.2g}")
    print(verdict(f">= 300x at N=50 (measured {ratio[50]:.0f}x)", ratio[50] >= 300))


if __name__ == "__main__":
    main()
