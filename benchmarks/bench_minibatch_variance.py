"""Per-example gradients of the digits MLP on the 1347 training images, and the predicted minibatch gradient
variance from them: per_example_gradients (torch.func.vmap) plus predicted_gradient_variance, against a loop of
1347 backward passes (one example each) plus the same closed form written out; and whether the results agree.

usage: python benchmarks/bench_minibatch_variance.py [--quick]
"""

import argparse
import statistics

import numpy as np
import torch
from _timing import interleaved_times, machine, median_ratio, seconds, verdict

from optim_helpers import (
    cross_entropy,
    load_digits_tensors,
    mlp,
    per_example_gradients,
    predicted_gradient_variance,
)

BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1347]  # chapter 07's, up to N
RTOL, ATOL = 1e-5, 1e-6  # float32 sums in another order: gradients reach about 8, rounding about 1e-7 of that


def loop_gradients(model, X, y):
    """One backward pass per example; row i is the flattened gradient of example i's loss."""
    rows = []
    for i in range(len(y)):
        model.zero_grad()
        cross_entropy(model(X[i:i + 1]), y[i:i + 1]).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    model.zero_grad()
    return torch.stack(rows)


def closed_form(G, batch_sizes):
    """sigma^2 / B * (N - B) / (N - 1), sigma^2 the mean squared distance of the rows of G to their mean."""
    n = len(G)
    sigma2 = ((G - G.mean(dim=0)) ** 2).sum(dim=1).mean().item()
    return np.array([sigma2 / b * (n - b) / (n - 1) for b in batch_sizes])


def contenders(model, X, y, results):
    def loop():
        G = loop_gradients(model, X, y)
        results["loop"] = G, closed_form(G, BATCH_SIZES)

    def vmap():
        G = per_example_gradients(model, X, y)
        results["vmap"] = G, predicted_gradient_variance(G, BATCH_SIZES)

    return {"loop": loop, "vmap": vmap}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 2 if args.quick else 9
    X, y, _, _ = load_digits_tensors()
    print(machine())
    cold = seconds(lambda: per_example_gradients(mlp(64, 32, 10, seed=0), X[:2], y[:2]))
    print(f"first torch.func call in this process: {cold:.2f} s (one-time set-up, left out of the figures below)")
    print(f"N={len(y)} examples, float32; medians of {repeats} interleaved repeats; speed-up: median of the"
          " per-round ratios")
    print(f"allclose: rtol {RTOL:g}, atol {ATOL:g}; gradients: max |diff| / max |g|; variances: max relative diff"
          " over B < N (both 0 at B = N)")
    print(f"{'model':>9} {'P':>6} {'loop':>9} {'vmap':>9} {'speed-up':>9} {'allclose':>9} {'gradients':>10}"
          f" {'variances':>10}")
    ratios = []
    for hidden in (32, 64):
        model = mlp(64, hidden, 10, seed=0)
        results = {}
        times = interleaved_times(contenders(model, X, y, results), repeats=repeats)
        t = {k: statistics.median(v) for k, v in times.items()}
        ratios.append(median_ratio(times, "loop", "vmap"))
        (G_loop, v_loop), (G_vmap, v_vmap) = results["loop"], results["vmap"]
        close = torch.allclose(G_vmap, G_loop, rtol=RTOL, atol=ATOL) and np.allclose(v_vmap, v_loop, rtol=RTOL)
        diff = (G_vmap - G_loop).abs().max().item() / G_loop.abs().max().item()
        rel = np.max(np.abs(v_vmap[:-1] - v_loop[:-1]) / v_loop[:-1])  # the last is 0 (B = N) on both sides
        print(f"{f'64-{hidden}-10':>9} {G_loop.shape[1]:>6} {t['loop'] * 1e3:>6.1f} ms {t['vmap'] * 1e3:>6.1f} ms"
              f" {ratios[-1]:>8.1f}x {str(close):>9} {diff:>10.2g} {rel:>10.2g}")
    print(verdict(f">= 5x faster than the loop (measured {min(ratios):.1f}x at worst)", min(ratios) >= 5))


if __name__ == "__main__":
    main()
