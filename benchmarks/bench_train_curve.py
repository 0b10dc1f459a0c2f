"""One trajectory step of ``train_curve`` against the source text's own loop, on the text's figures.

The 17 paths of 300 steps that the text's seven figures draw (GD at three rates, the two plateau runs,
momentum, RMSProp, the four optimizers at two rates), each run once by ``train_curve`` with the package's
optimizers (settings validated at every step, torch.optim's step hooks, the path recorded) and once by
the text's loop (``_baseline.text_train_curve`` with its dict-based optimizers). Interleaved rounds, the
order alternating; the ratio is the median of the per-round ratios.

usage: python benchmarks/bench_train_curve.py [--quick]
"""

import argparse
import statistics

import numpy as np
from _baseline import TEXT_FIGURES, TEXT_STEPS, TextAdam, TextGD, TextRMSProp, text_train_curve
from _timing import interleaved_times, machine, median_ratio, verdict

from optim_helpers import GD, Adam, RMSProp, train_curve

PATHS = [path for paths in TEXT_FIGURES.values() for path in paths]
PACKAGE = {"GD": GD, "RMSProp": RMSProp, "Adam": Adam}
TEXT = {"GD": TextGD, "RMSProp": TextRMSProp, "Adam": TextAdam}


def package_paths():
    return [train_curve(PACKAGE[name], params, w_init=start, num_steps=TEXT_STEPS) for name, params, start in PATHS]


def text_paths():
    return [text_train_curve(TEXT[name], params, w_init=start, num_steps=TEXT_STEPS) for name, params, start in PATHS]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 11")
    args = parser.parse_args()
    repeats = 3 if args.quick else 11
    ours, theirs = package_paths(), text_paths()
    # The same paths up to the text's float32 rounding of its out-of-place updates (RMSProp without eps differs
    # more once its steps grow), so compare where they lie, not their last bits.
    same_positions = sum(np.allclose(a[:, :2], b[:, :2], rtol=1e-3, atol=1e-3) for a, b in zip(ours, theirs))
    times = interleaved_times({"text": text_paths, "package": package_paths}, repeats=repeats, warmup=1)
    steps = len(PATHS) * TEXT_STEPS
    ratio = median_ratio(times, "package", "text")
    print(machine())
    print(f"{len(PATHS)} paths of {TEXT_STEPS} steps ({steps} steps), medians of {repeats} interleaved rounds")
    for way in ("text", "package"):
        median = statistics.median(times[way])
        print(f"{way:8} {median:6.3f} s  {1e6 * median / steps:6.1f} us per step")
    print(f"paths that agree with the text's (positions within 1e-3): {same_positions} of {len(PATHS)}")
    print(f"package / text, per step: {ratio:.2f}x")
    print(verdict(f"a train_curve step costs <= 1.0x the text's loop (measured {ratio:.2f}x)", ratio <= 1.0))


if __name__ == "__main__":
    main()
