"""Latency of one slider move in the chapter-01 explorer, in a live kernel.

Ours: recompute the trajectory and update the existing figure's line data, then draw the Agg
canvas (the contours come from a cached picture; only the changed lines are painted).
Naive (what interactive peers do): evaluate the contour grid point by point, make a new figure
with a new contour plot, draw the path one segment at a time, draw the canvas.
Both at the same grid size, run length and slider values, in the same run.

usage: python benchmarks/bench_explorer_latency.py [--quick]
"""

import argparse
import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _timing import median_seconds, verdict  # noqa: E402

from optim_helpers import GD, pathological_loss, train_curve, trajectory_explorer  # noqa: E402

LRS = [0.1, 0.3, 1.0, 3.0]
STARTS = [(-4.0, 5.0), (-4.0, -6.0), (3.0, 6.0)]
WINDOW = (-5, 5, -7, 7)
N = 100
STEPS = 150  # as in the chapter-01 explorer


def naive_update(lr, start):
    x, y = np.linspace(WINDOW[0], WINDOW[1], N), np.linspace(WINDOW[2], WINDOW[3], N)
    X, Y = np.meshgrid(x, y)
    Z = np.zeros_like(X)
    for i in range(N):
        for j in range(N):
            Z[i, j] = pathological_loss(torch.tensor(X[i, j]), torch.tensor(Y[i, j]))
    path = train_curve(GD, {"lr": lr}, w_init=start, num_steps=STEPS)
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax.contourf(X, Y, Z, levels=20, cmap="viridis")
    for t in range(1, len(path)):
        ax.plot(path[t - 1 : t + 1, 0], path[t - 1 : t + 1, 1], color="red")
    ax_loss.plot(path[:, 2], color="red")
    fig.canvas.draw()
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    explorer = trajectory_explorer([(GD, {})], {"lr": LRS, "start": STARTS}, num_steps=STEPS, window=WINDOW, N=N)
    moves = itertools.cycle(itertools.product(LRS, STARTS))

    def ours():
        lr, start = next(moves)
        explorer.draw(lr=lr, start=start)

    def ours_with_png():  # what the live widget shows: the same redraw, encoded for the image widget
        lr, start = next(moves)
        explorer.render(lr=lr, start=start)

    ours_s = median_seconds(ours, repeats=repeats * 4)
    png_s = median_seconds(ours_with_png, repeats=repeats * 4)
    naive_s = median_seconds(lambda: naive_update(*next(moves)), repeats=repeats)
    print(f"one slider move of the chapter-01 explorer: grid {N}x{N}, {STEPS} steps (medians)")
    print(f"  ours  (trajectory + line data + Agg draw): {ours_s * 1e3:8.1f} ms")
    print(f"  ours, plus PNG encoding for the widget   : {png_s * 1e3:8.1f} ms")
    print(f"  naive (grid loop + new figure + draw)    : {naive_s * 1e3:8.1f} ms")
    print(f"  speed-up: {naive_s / ours_s:.0f}x")
    print(verdict("<= 50 ms per update", ours_s <= 0.05))
    print(verdict(">= 10x faster than the naive update", naive_s / ours_s >= 10))


if __name__ == "__main__":
    main()
