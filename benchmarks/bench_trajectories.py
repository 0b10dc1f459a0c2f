"""K = 64 trajectories on pathological_loss, one learning rate each (log-spaced 0.01 to 3): one batched
train_curves run against 64 single train_curve runs, for GD and Adam; and whether the paths agree.

usage: python benchmarks/bench_trajectories.py [--quick]
"""

import argparse
import statistics

import numpy as np
from _timing import interleaved_times, machine, median_ratio, verdict

from optim_helpers import GD, Adam, train_curve, train_curves

K, START = 64, (-4.0, 5.0)
LRS = np.geomspace(0.01, 3.0, K)


def contenders(optim, steps, paths):
    """64 single runs, and one batched run; each stores its paths, shape (K, steps + 1, 3), in ``paths``."""

    def single():
        paths["single"] = np.stack([train_curve(optim, {"lr": lr}, w_init=START, num_steps=steps) for lr in LRS])

    def batched():
        paths["batched"] = train_curves(optim, {}, w_inits=START, lrs=LRS, num_steps=steps)

    return {"single": single, "batched": batched}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 steps instead of 300, one repeat")
    args = parser.parse_args()
    steps, repeats = (100, 1) if args.quick else (300, 3)
    print(f"{machine()}")
    print(f"K={K} trajectories of {steps} steps; time per trajectory, medians of {repeats} interleaved repeats")
    print(f"{'optimizer':>9} {'single':>10} {'batched':>10} {'ratio':>6} {'identical':>10} {'max |diff|':>11}")
    ratios = []
    for optim in (GD, Adam):
        paths = {}
        times = interleaved_times(contenders(optim, steps, paths), repeats=repeats)
        t = {k: statistics.median(v) for k, v in times.items()}
        ratios.append(median_ratio(times, "single", "batched"))
        same = sum(np.array_equal(a, b, equal_nan=True) for a, b in zip(paths["single"], paths["batched"]))
        diff = np.nanmax(np.abs(paths["single"] - paths["batched"]))
        print(f"{optim.__name__:>9} {t['single'] / K * 1e3:>7.2f} ms {t['batched'] / K * 1e3:>7.3f} ms"
              f" {ratios[-1]:>5.0f}x {same:>6}/{K} {diff:>11.2g}")
    print(verdict(f">= 30x less time per trajectory (measured {min(ratios):.0f}x at worst)", min(ratios) >= 30))


if __name__ == "__main__":
    main()
