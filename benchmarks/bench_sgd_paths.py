"""SGD on linear_regression_data (N = 1000): K = 16 learning rates (log-spaced 0.01 to 0.9) in one sgd_paths
run against 16 sgd_path runs on the same minibatches, time per trajectory and whether the paths are identical;
and mse_loss_surface on the chapter's window, N x N grid, against the mean squared error per grid point in a loop.

usage: python benchmarks/bench_sgd_paths.py [--quick]
"""

import argparse
import statistics

import numpy as np
import torch
from _timing import interleaved_times, machine, median_ratio, verdict

from optim_helpers import linear_regression_data, mse_loss_surface, sgd_path, sgd_paths

K, START = 16, (-4.0, -4.0)
LRS = np.geomspace(0.01, 0.9, K)  # below 2 / lambda_max = 1 for features (1, x), x uniform in [-1, 1]
WINDOW = dict(x_min=-5.0, x_max=3.0, y_min=-5.0, y_max=7.0)  # chapter 06's window around w* = (-1, 3)
BATCH = 50  # vectorized grid calls per timed sample: one call is too short to time alone


def path_contenders(X, y, batch_size, steps, paths):
    """K single runs, and one batched run; each stores its paths, shape (K, steps + 1, 3), in ``paths``."""

    def single():
        paths["single"] = np.stack([sgd_path(X, y, START, lr, batch_size, num_steps=steps, seed=0) for lr in LRS])

    def batched():
        paths["batched"] = sgd_paths(X, y, START, LRS, batch_size, num_steps=steps, seed=0)

    return {"single": single, "batched": batched}


def grid(N):
    """The N x N grid of weights (w0, w1) over WINDOW, as numpy arrays (rows: w1, columns: w0)."""
    return np.meshgrid(np.linspace(WINDOW["x_min"], WINDOW["x_max"], N),
                       np.linspace(WINDOW["y_min"], WINDOW["y_max"], N))


def loop_surface(X, y, W0, W1):
    """The mean squared error at each grid point, one pass over the data per point."""
    Z = np.zeros_like(W0)
    for i in range(W0.shape[0]):
        for j in range(W0.shape[1]):
            w = torch.tensor([W0[i, j], W1[i, j]], dtype=X.dtype)
            Z[i, j] = ((X @ w - y) ** 2).mean()
    return Z


def grid_contenders(X, y, N, surfaces):
    """The per-point loop, and mse_loss_surface built from the data and evaluated on the grid (BATCH times)."""
    W0, W1 = grid(N)

    def loop():
        surfaces["loop"] = loop_surface(X, y, W0, W1)

    def vectorized():
        for _ in range(BATCH):
            surfaces["vectorized"] = mse_loss_surface(X, y)(torch.as_tensor(W0), torch.as_tensor(W1)).numpy()

    return {"loop": loop, "vectorized": vectorized}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 steps instead of 300, fewer repeats")
    args = parser.parse_args()
    steps, repeats = (100, 1) if args.quick else (300, 3)
    X, y = linear_regression_data(n=1000, seed=0)  # float64
    print(machine())
    print(f"K={K} SGD paths of {steps} steps from {START}, float64; time per trajectory, medians of {repeats}"
          " interleaved repeats")
    print(f"{'B':>5} {'single':>10} {'batched':>10} {'ratio':>6} {'identical':>10} {'max |diff|':>11}")
    ratios = []
    for batch_size in (1, 32, len(y)):
        paths = {}
        times = interleaved_times(path_contenders(X, y, batch_size, steps, paths), repeats=repeats)
        t = {k: statistics.median(v) for k, v in times.items()}
        ratios.append(median_ratio(times, "single", "batched"))
        same = sum(np.array_equal(a, b, equal_nan=True) for a, b in zip(paths["single"], paths["batched"]))
        diff = np.nanmax(np.abs(paths["single"] - paths["batched"]))
        print(f"{batch_size:>5} {t['single'] / K * 1e3:>7.2f} ms {t['batched'] / K * 1e3:>7.3f} ms"
              f" {ratios[-1]:>5.1f}x {same:>6}/{K} {diff:>11.2g}")

    print("mse_loss_surface (six moments of the data, then the quadratic on the grid) against a loop over the")
    print("grid points, each a pass over the 1000 examples; speed-up: median of the per-round ratios")
    print(f"{'N':>4} {'repeats':>8} {'per-point loop':>15} {'vectorized':>11} {'speed-up':>9} {'max |diff|':>11}"
          f" {'relative':>9}")
    grid_ratio = {}
    for N, grid_repeats in [(50, 5 if args.quick else 15), (200, 1 if args.quick else 3)]:
        surfaces = {}
        times = interleaved_times(grid_contenders(X, y, N, surfaces), repeats=grid_repeats)
        loop, vectorized = (statistics.median(times[k]) for k in ("loop", "vectorized"))
        grid_ratio[N] = median_ratio(times, "loop", "vectorized") * BATCH
        diff = np.abs(surfaces["loop"] - surfaces["vectorized"]).max()
        print(f"{N:>4} {grid_repeats:>8} {loop * 1e3:>12.1f} ms {vectorized / BATCH * 1e3:>8.3f} ms"
              f" {grid_ratio[N]:>8.0f}x {diff:>11.2g} {diff / np.abs(surfaces['loop']).max():>9.2g}")
    print(verdict(f">= 10x less time per trajectory (measured {min(ratios):.1f}x at worst)", min(ratios) >= 10))
    print(verdict(f">= 300x on the 200 x 200 grid (measured {grid_ratio[200]:.0f}x)", grid_ratio[200] >= 300))


if __name__ == "__main__":
    main()
