"""The source text's trajectory figures, drawn and saved as PNG: through the package (plot_surface,
plot_gd_steps) against a baseline that does what the text's code does (see _baseline.py).

Both ways run the same figure code below with their own plotting functions and optimizers: the 3-D
surface, then 2-panel figures (11 x 5 in) of 300-step paths over a contour plot of [-10, 10]^2, N = 50.

usage: python benchmarks/bench_figures.py [--quick]
"""

import argparse
import statistics
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from _baseline import (  # noqa: E402
    TEXT_FIGURES, TEXT_STEPS, TextAdam, TextGD, TextRMSProp, text_plot_gd_steps, text_plot_surface, text_train_curve,
)
from _timing import machine, median_ratio, seconds, verdict  # noqa: E402

from optim_helpers import GD, Adam, RMSProp, pathological_loss, plot_gd_steps, plot_surface, train_curve  # noqa: E402
from optim_helpers.plotting import _surface_grid  # noqa: E402

DPI, STEPS, FIGURES = 100, TEXT_STEPS, TEXT_FIGURES
LABELS = {"lr": r"$\eta$", "momentum": r"$\beta$", "beta": r"$\beta$", "beta1": r"$\beta_1$", "beta2": r"$\beta_2$"}
COLORS = ["red", "gray", "blue", "black"]
PACKAGE = dict(plot_surface=plot_surface, plot_gd_steps=plot_gd_steps, GD=GD, RMSProp=RMSProp, Adam=Adam)
TEXT = dict(plot_surface=text_plot_surface, plot_gd_steps=text_plot_gd_steps, GD=TextGD, RMSProp=TextRMSProp,
            Adam=TextAdam)


def draw_figures(way, folder, names):
    """The 3-D surface and the named trajectory figures, each saved as PNG, with ``way``'s functions."""
    fig = plt.figure(figsize=(5, 5))
    way["plot_surface"](fig.add_subplot(111, projection="3d"), pathological_loss, title="loss surface",
                        x_min=-5, x_max=5, y_min=-100, y_max=10)
    fig.savefig(folder / "surface.png", dpi=DPI)
    plt.close(fig)
    for name in names:
        fig, ax = plt.subplots(1, 2, figsize=(11, 5))
        for (optim, params, start), color in zip(FIGURES[name], COLORS):
            way["plot_gd_steps"](ax, way[optim], params, label_map=LABELS, w_init=start, num_steps=STEPS, color=color)
        ax[0].set_xlim(-5, 5)
        ax[0].set_ylim(-7, 7)
        ax[0].legend()
        ax[1].legend()
        fig.savefig(folder / f"{name}.png", dpi=DPI)
        plt.close(fig)


def package_run(folder, names):
    _surface_grid.cache_clear()  # so the timed run includes one evaluation of each grid
    draw_figures(PACKAGE, folder, names)


def trajectories_only(way, names):
    """The figures' optimizer runs alone: the autograd work both ways share."""
    run = train_curve if way is PACKAGE else text_train_curve
    for name in names:
        for optim, params, start in FIGURES[name]:
            run(way[optim], params, w_init=start, num_steps=STEPS)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the surface and two figures, one repeat")
    args = parser.parse_args()
    names, repeats = (list(FIGURES)[:2], 1) if args.quick else (list(FIGURES), 3)
    times = {key: [] for key in ("text", "package", "text runs", "package runs")}
    with tempfile.TemporaryDirectory() as tmp:
        text_dir, package_dir = Path(tmp, "text"), Path(tmp, "package")
        text_dir.mkdir()
        package_dir.mkdir()
        draw_figures(TEXT, text_dir, names[:1])  # untimed warm-up of both: imports, fonts, caches
        package_run(package_dir, names[:1])
        for r in range(repeats):  # interleaved, the order alternating
            for way in (("text", "package") if r % 2 == 0 else ("package", "text")):
                if way == "text":
                    times["text"].append(seconds(lambda: draw_figures(TEXT, text_dir, names)))
                    times["text runs"].append(seconds(lambda: trajectories_only(TEXT, names)))
                else:
                    times["package"].append(seconds(lambda: package_run(package_dir, names)))
                    times["package runs"].append(seconds(lambda: trajectories_only(PACKAGE, names)))
        pngs = [len(list(d.glob("*.png"))) for d in (text_dir, package_dir)]
    t = {key: statistics.median(v) for key, v in times.items()}
    n_paths = sum(len(FIGURES[name]) for name in names)
    print(machine())
    print(f"3-D surface + {len(names)} figures ({n_paths} paths of {STEPS} steps) saved as PNG at {DPI} dpi "
          f"({pngs[0]} files by the text's way, {pngs[1]} by the package)")
    print(f"medians of {repeats} interleaved rounds; speed-up: median of per-round ratios; rest = total - trajectories")
    print(f"{'':11} {'total':>8} {'trajectories':>13} {'the rest':>9}")
    for way in ("text", "package"):
        total, runs = t[way], t[f"{way} runs"]
        print(f"{way:11} {total:>7.2f}s {runs:>12.2f}s {total - runs:>8.2f}s")
    for way in ("text", "package"):
        times[f"{way} rest"] = [total - runs for total, runs in zip(times[way], times[f"{way} runs"])]
    ratio, runs, rest = (median_ratio(times, f"text{k}", f"package{k}") for k in ("", " runs", " rest"))
    print(f"{'speed-up':11} {ratio:>7.1f}x {runs:>12.1f}x {rest:>8.1f}x")
    print(verdict(f">= 5x faster in total (measured {ratio:.1f}x)", ratio >= 5))


if __name__ == "__main__":
    main()
