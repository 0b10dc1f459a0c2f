"""Latency of one slider move in the chapter-01 explorer, in a live kernel.

Ours: the paths of every (lr, start) pair come from one batched run when the explorer is built;
a move updates the existing figure's line data and draws the Agg canvas (the contours come from
a cached picture; only the changed lines are painted).
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
    moves = itertools.cycle(itertools.product(LRS, STARTS))

    def first_move():  # a new explorer: the batched run for every (lr, start) pair, then a redraw
        trajectory_explorer([(GD, {})], {"lr": LRS, "start": STARTS}, num_steps=STEPS, window=WINDOW, N=N)

    explorer = trajectory_explorer([(GD, {})], {"lr": LRS, "start": STARTS}, num_steps=STEPS, window=WINDOW, N=N)

    def move():  # any later move: the paths are kept, only a redraw
        explorer.draw(**dict(zip(("lr", "start"), next(moves))))

    def move_with_png():  # what the live widget shows: the same redraw, encoded for the image widget
        explorer.render(**dict(zip(("lr", "start"), next(moves))))

    first_s = median_seconds(first_move, repeats=repeats)
    move_s = median_seconds(move, repeats=repeats * 4)
    png_s = median_seconds(move_with_png, repeats=repeats * 4)
    naive_s = median_seconds(lambda: naive_update(*next(moves)), repeats=repeats)
    combos = len(LRS) * len(STARTS)
    print(f"one slider move of the chapter-01 explorer: grid {N}x{N}, {STEPS} steps, {combos} (lr, start) pairs")
    print(f"  ours, building it (one batched run for all pairs + first full draw) : {first_s * 1e3:7.1f} ms")
    print(f"  ours, a slider move (line data + Agg redraw of the changed lines)  : {move_s * 1e3:7.1f} ms")
    print(f"  ours, a slider move plus PNG encoding for the live image widget    : {png_s * 1e3:7.1f} ms")
    print(f"  naive, a slider move (grid loop + trajectory + new figure + draw)  : {naive_s * 1e3:7.1f} ms")
    worst = png_s
    print(f"  speed-up of a move, PNG included: {naive_s / worst:.0f}x")
    print(verdict("<= 50 ms per update", worst <= 0.05))
    print(verdict(">= 10x faster than the naive update", naive_s / worst >= 10))

if __name__ == "__main__":
    main()
