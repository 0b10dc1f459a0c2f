"""Grid evaluation of the pathological surface: one vectorized call against the per-point loop.

usage: python benchmarks/bench_grid.py [--quick]
"""

import argparse

import numpy as np
import torch
from _timing import median_seconds, verdict

from optim_helpers import pathological_loss, surface_grid
from optim_helpers.plotting import _surface_grid


def per_point_grid(f, N, lo=-5.0, hi=5.0):
    """What the source text does: a double Python loop, one tensor pair per grid point."""
    x = np.linspace(lo, hi, N)
    X, Y = np.meshgrid(x, x)
    Z = np.zeros_like(X)
    for i in range(N):
        for j in range(N):
            Z[i, j] = f(torch.tensor(X[i, j]), torch.tensor(Y[i, j]))
    return Z


def vectorized_grid(f, N):
    _surface_grid.cache_clear()
    return surface_grid(f, -5, 5, -5, 5, N)[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    print(f"{'N':>5} {'per-point loop':>16} {'vectorized':>12} {'cached':>10} {'speed-up':>10}")
    ratios = {}
    for N in (50, 200):
        np.testing.assert_allclose(vectorized_grid(pathological_loss, N), per_point_grid(pathological_loss, N))
        loop = median_seconds(lambda n=N: per_point_grid(pathological_loss, n), repeats=1 if N == 200 else repeats)
        vec = median_seconds(lambda n=N: vectorized_grid(pathological_loss, n), repeats=repeats * 20)
        cached = median_seconds(lambda n=N: surface_grid(pathological_loss, -5, 5, -5, 5, n), repeats=repeats * 20)
        ratios[N] = loop / vec
        print(f"{N:>5} {loop * 1e3:>13.1f} ms {vec * 1e3:>9.3f} ms {cached * 1e6:>7.1f} us {ratios[N]:>9.0f}x")
    print(verdict(">= 300x at N=50", ratios[50] >= 300))


if __name__ == "__main__":
    main()
