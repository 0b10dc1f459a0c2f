"""K trajectories in one batched loop (train_curves) against K single train_curve runs.

usage: python benchmarks/bench_trajectories.py [--quick]
"""

import argparse

import numpy as np
from _timing import interleaved_medians, verdict

from optim_helpers import GD, Adam, train_curve, train_curves

K, STEPS, START = 64, 300, (-4.0, 5.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    lrs = np.geomspace(0.01, 3.0, K)
    print(f"K={K} trajectories of {STEPS} steps on pathological_loss (median of {repeats})")
    print(f"{'optimizer':>10} {'single, per traj.':>18} {'batched, per traj.':>19} {'ratio':>7} {'max |diff|':>11}")
    worst = np.inf
    for optim in (GD, Adam):
        def singles(optim=optim):
            return np.stack([train_curve(optim, {"lr": lr}, w_init=START, num_steps=STEPS) for lr in lrs])

        def batched(optim=optim):
            return train_curves(optim, {}, w_inits=START, lrs=lrs, num_steps=STEPS)

        diff = np.nanmax(np.abs(singles() - batched()))
        t = interleaved_medians({"single": singles, "batched": batched}, repeats=repeats)
        ratio = t["single"] / t["batched"]
        worst = min(worst, ratio)
        print(f"{optim.__name__:>10} {t['single'] / K * 1e3:>15.2f} ms {t['batched'] / K * 1e3:>16.3f} ms"
              f" {ratio:>6.0f}x {diff:>11.2g}")
    print(verdict(">= 30x less time per trajectory", worst >= 30))


if __name__ == "__main__":
    main()
