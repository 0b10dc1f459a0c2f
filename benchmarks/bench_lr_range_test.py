"""The learning-rate range test on the digits MLP (64-64-10, batches of 64, rates 1e-5 to 10 in 100 steps, "exp"):
optim_helpers.lr_range_test against torch_lr_finder.LRFinder.range_test, time per sweep with the state restore.

Both sides get the same model, data, optimizer and sweep, on their own copies built from the same seeds. Ours runs
with torch-lr-finder's smoothing (beta = 0.95 started at the first loss, its smooth_f = 0.05), neither stops early
(diverge_th = inf: every sweep takes all 100 steps; the losses stay finite up to a rate of 10). A torch-lr-finder
sweep is LRFinder(...) (it copies the two state_dicts), range_test, reset(); ours restores inside the call.
torch-lr-finder's progress bar and closing message go to a buffer. Before the timing, one sweep on each side from
fresh copies, with the raw losses recorded, checks that both compute the same thing.

usage: python benchmarks/bench_lr_range_test.py [--quick]
"""

import argparse
import contextlib
import io
import math
import statistics

import numpy as np
import torch
import torch.nn.functional as F
from _timing import interleaved_times, machine, median_ratio, verdict
from torch_lr_finder import LRFinder

from optim_helpers import GD, Adam, digits_loaders, lr_range_test, mlp

START_LR, END_LR, STEPS = 1e-5, 10.0, 100


def setup(optim):
    """A fresh 64-64-10 MLP (seed 0), its optimizer and the seeded training loader of batches of 64."""
    model = mlp(64, 64, 10, seed=0)
    loader, _ = digits_loaders(64, seed=0)
    return model, optim(model.parameters(), lr=1e-3), loader


def ours(model, optimizer, loader):
    return lr_range_test(model, optimizer, loader, start_lr=START_LR, end_lr=END_LR, num_steps=STEPS, beta=0.95,
                         debias=False, diverge_th=math.inf)


def theirs(model, optimizer, loader, criterion):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        finder = LRFinder(model, optimizer, criterion)
        finder.range_test(loader, start_lr=START_LR, end_lr=END_LR, num_iter=STEPS, step_mode="exp", smooth_f=0.05,
                          diverge_th=math.inf)
        finder.reset()
    return finder.history


def contenders(optim):
    """A sweep on each side, each on its own copies (restored after every sweep; their loader is not)."""
    mine, other = setup(optim), setup(optim)
    criterion = torch.nn.CrossEntropyLoss()
    return {"ours": lambda: ours(*mine), "theirs": lambda: theirs(*other, criterion)}


def agreement(optim):
    """One sweep on each side from fresh copies: steps, raw losses identical, rates identical, and the largest
    relative difference of the smoothed losses (ours uses 1 - 0.95 for 0.05: rounding-level differences)."""
    result = ours(*setup(optim))
    raw = []

    def recording(outputs, y):
        loss = F.cross_entropy(outputs, y)
        raw.append(loss.item())
        return loss

    history = theirs(*setup(optim), recording)
    same = sum(a == b for a, b in zip(result.losses.tolist(), raw)) if len(raw) == len(result.losses) else 0
    lrs_same = np.array_equal(result.lrs, history["lr"])
    smoothed = np.array(history["loss"])
    return len(result.losses), len(raw), same, lrs_same, np.max(np.abs(result.smoothed - smoothed) / np.abs(smoothed))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 30
    print(machine())
    print(f"one sweep of {STEPS} steps, rates {START_LR:g} to {END_LR:g}, restore included; medians of {repeats}"
          " interleaved repeats;")
    print("ratio: median of the per-round ratios ours / torch-lr-finder")
    print(f"{'optimizer':>9} {'steps':>7} {'ours':>9} {'torch-lr-finder':>16} {'ratio':>6} {'raw losses identical':>21}"
          f" {'same rates':>11} {'smoothed, max rel. diff':>24}")
    ratios = []
    for optim in (GD, Adam):
        n_ours, n_theirs, same, lrs_same, smoothed_diff = agreement(optim)
        times = interleaved_times(contenders(optim), repeats=repeats)
        t = {k: statistics.median(v) for k, v in times.items()}
        ratios.append(median_ratio(times, "ours", "theirs"))
        print(f"{optim.__name__:>9} {n_ours:>3}/{n_theirs:<3} {t['ours'] * 1e3:>6.1f} ms {t['theirs'] * 1e3:>13.1f} ms"
              f" {ratios[-1]:>5.2f}x {same:>17}/{n_ours:<3} {str(lrs_same):>11} {smoothed_diff:>24.2g}")
    print(verdict(f"ours <= 1.2x torch-lr-finder's time per sweep (measured {max(ratios):.2f}x at worst)",
                  max(ratios) <= 1.2))


if __name__ == "__main__":
    main()
