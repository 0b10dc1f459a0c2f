"""One Adam.step() on an MLP of about one million parameters: optim_helpers.Adam against
torch.optim.Adam(foreach=False), and the source text's dict-based, out-of-place version against it.

Each contender is timed in interleaved pairs with its own torch.optim.Adam, so the text's version,
which allocates and frees large temporaries, does not slow down the steps timed after it.

usage: python benchmarks/bench_adam_step.py [--quick]
"""

import argparse
import statistics

import torch
from _baseline import TextAdam
from _timing import interleaved_times, machine, median_ratio, verdict

from optim_helpers import Adam

CONTENDERS = {"optim_helpers.Adam": Adam, "source text's version": TextAdam}


def mlp_with_gradients():
    """784-1024-200 MLP (1,008,840 parameters), the same weights every call, gradients filled once."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 200))
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 30 if args.quick else 200
    n_params = sum(p.numel() for p in mlp_with_gradients().parameters())
    print(machine())
    print(f"Adam.step() on an MLP with {n_params:,} parameters; medians of {repeats} interleaved pairs,")
    print("each contender against its own torch.optim.Adam(foreach=False); ratio: median of per-pair ratios")
    print(f"{'':23} {'ms':>7} {'torch ms':>9} {'ratio':>7} {'max |w - w_torch|':>18}")
    ratio = {}
    for name, optim in CONTENDERS.items():
        ours, ref = mlp_with_gradients(), mlp_with_gradients()
        opt = optim(ours.parameters(), lr=1e-3)
        ref_opt = torch.optim.Adam(ref.parameters(), lr=1e-3, foreach=False)
        times = interleaved_times({"ours": opt.step, "torch": ref_opt.step}, repeats=repeats, warmup=3)
        t = {k: statistics.median(v) for k, v in times.items()}
        diff = max((a - b).abs().max().item() for a, b in zip(ours.parameters(), ref.parameters()))
        ratio[name] = median_ratio(times, "ours", "torch")
        print(f"{name:23} {t['ours'] * 1e3:>7.2f} {t['torch'] * 1e3:>9.2f} {ratio[name]:>6.2f}x {diff:>18.2g}")
    r = ratio["optim_helpers.Adam"]
    print(verdict(f"ours <= 1.2x torch.optim.Adam(foreach=False) (measured {r:.2f}x)", r <= 1.2))


if __name__ == "__main__":
    main()
