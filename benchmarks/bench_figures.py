"""The source text's trajectory figures, drawn and saved as PNG: through the package against a
baseline that does what the text's code does (per-point grid loops on every call, paths drawn one
segment at a time plus a scatter, a new contour plot stacked per call, a per-parameter Python optimizer).

usage: python benchmarks/bench_figures.py [--quick]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _timing import verdict  # noqa: E402

from optim_helpers import (  # noqa: E402
    GD,
    Adam,
    RMSProp,
    pathological_loss,
    plot_gd_steps,
    plot_surface,
    train_curve,
)
from optim_helpers.plotting import _surface_grid  # noqa: E402

# Each figure: a list of (optimizer name, params, start), 300 steps, as in the source text.
START = (-4.0, 5.0)
FIGURES = {
    "gd_three_rates": [("GD", {"lr": 3.0}, START), ("GD", {"lr": 1.0}, START), ("GD", {"lr": 0.1}, START)],
    "plateaus": [("GD", {"lr": 0.1}, (-4.0, 6.0)), ("GD", {"lr": 0.1}, (-4.0, -6.0))],
    "momentum": [("GD", {"lr": 3.0}, START), ("GD", {"lr": 3.0, "momentum": 0.9}, START)],
    "rmsprop": [("GD", {"lr": 0.6}, START), ("RMSProp", {"lr": 0.6, "beta": 0.9}, START)],
    **{
        f"four_optimizers_{lr}": [("GD", {"lr": lr}, START), ("GD", {"lr": lr, "momentum": 0.9}, START),
                                  ("Adam", {"lr": lr}, START), ("RMSProp", {"lr": lr, "beta": 0.9}, START)]
        for lr in (0.3, 2.5)
    },
}
COLORS = ["red", "black", "blue", "gray"]


# --- baseline: the text's way, written out ---------------------------------------------------------
class TextGD:
    def __init__(self, params, lr, momentum=0.0, beta=None, beta1=0.9, beta2=0.999, kind="GD", eps=1e-8):
        self.params, self.lr, self.kind, self.eps = params, lr, kind, eps
        self.beta = momentum if kind == "GD" else (beta if beta is not None else 0.9)
        self.beta1, self.beta2 = beta1, beta2
        self.m = {p: torch.zeros_like(p.data) for p in params}
        self.v = {p: torch.zeros_like(p.data) for p in params}
        self.t = {p: 0 for p in params}

    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.detach_()
                p.grad.zero_()

    @torch.no_grad()
    def step(self):
        for p in self.params:
            g = p.grad
            if self.kind == "GD":
                self.m[p] = self.beta * self.m[p] + (1 - self.beta) * g
                p += -self.lr * self.m[p]
            elif self.kind == "RMSProp":
                self.v[p] = self.beta * self.v[p] + (1 - self.beta) * g**2
                p += -self.lr * g / (torch.sqrt(self.v[p]) + self.eps)
            else:
                self.t[p] += 1
                self.m[p] = self.beta1 * self.m[p] + (1 - self.beta1) * g
                self.v[p] = self.beta2 * self.v[p] + (1 - self.beta2) * g**2
                m_hat = self.m[p] / (1 - self.beta1 ** self.t[p])
                v_hat = self.v[p] / (1 - self.beta2 ** self.t[p])
                p += -self.lr * m_hat / (torch.sqrt(v_hat) + self.eps)


def text_train_curve(kind, params, w_init, num_steps=300):
    w = torch.nn.Parameter(torch.tensor(w_init).float())
    optim = TextGD([w], kind=kind, **params)
    with torch.no_grad():
        points = [torch.tensor([w[0], w[1], pathological_loss(w[0], w[1])])]
    for _ in range(num_steps):
        optim.zero_grad()
        loss = pathological_loss(w[0], w[1])
        loss.backward()
        optim.step()
        with torch.no_grad():
            points.append(torch.cat([w.data, loss.unsqueeze(0)]))
    return torch.stack(points).numpy()


def text_grid(f, lo, hi, ylo, yhi, N=50):
    X, Y = np.meshgrid(np.linspace(lo, hi, N), np.linspace(ylo, yhi, N))
    Z = np.zeros_like(X)
    for i in range(N):
        for j in range(N):
            Z[i, j] = f(torch.tensor(X[i, j]), torch.tensor(Y[i, j]))
    return X, Y, Z


def text_figure(runs, path):
    fig, ax = plt.subplots(1, 2, figsize=(11, 5))
    for (kind, params, start), color in zip(runs, COLORS):
        hist = text_train_curve(kind, params, start)
        X, Y, Z = text_grid(pathological_loss, -10, 10, -10, 10)
        for t in range(1, len(hist)):
            ax[0].plot([hist[t - 1][0], hist[t][0]], [hist[t - 1][1], hist[t][1]], color=color)
        ax[0].contourf(X, Y, Z, levels=20, cmap="viridis")
        ax[0].scatter(hist[:, 0], hist[:, 1], marker="o", s=5, color=color, zorder=2)
        ax[1].plot(hist[:, 2], color=color)
    ax[0].set_xlim(-5, 5)
    ax[0].set_ylim(-7, 7)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def text_surface(path):
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot(111, projection="3d")
    X, Y, Z = text_grid(pathological_loss, -5, 5, -100, 10)
    ax.plot_surface(X, Y, Z, cmap="viridis")
    fig.savefig(path, dpi=80)
    plt.close(fig)


# --- the package ----------------------------------------------------------------------------------
OPTIMIZERS = {"GD": GD, "RMSProp": RMSProp, "Adam": Adam}


def package_figure(runs, path):
    fig, ax = plt.subplots(1, 2, figsize=(11, 5))
    for (kind, params, start), color in zip(runs, COLORS):
        plot_gd_steps(ax, OPTIMIZERS[kind], params, w_init=start, num_steps=300, color=color)
    ax[0].set_xlim(-5, 5)
    ax[0].set_ylim(-7, 7)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def package_surface(path):
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot(111, projection="3d")
    plot_surface(ax, pathological_loss, x_min=-5, x_max=5, y_min=-100, y_max=10)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def runs_only(run, names):
    """Seconds spent computing the figures' trajectories alone (the same autograd work either way)."""
    start = time.perf_counter()
    for name in names:
        for kind, params, w_init in FIGURES[name]:
            run(kind, params, w_init)
    return time.perf_counter() - start


def draw_all(surface, figure, folder, names):
    start = time.perf_counter()
    surface(folder / "surface.png")
    for name in names:
        figure(FIGURES[name], folder / f"{name}.png")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two figures instead of all")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the whole set (median)")
    args = parser.parse_args()
    names = list(FIGURES)[:2] if args.quick else list(FIGURES)
    with tempfile.TemporaryDirectory() as tmp:
        ours_dir, text_dir = Path(tmp, "ours"), Path(tmp, "text")
        ours_dir.mkdir()
        text_dir.mkdir()
        warm = names[:1]  # one untimed figure each first: imports, fonts and caches warm up alike
        draw_all(package_surface, package_figure, ours_dir, warm)
        draw_all(text_surface, text_figure, text_dir, warm)

        def ours_once():
            _surface_grid.cache_clear()  # each timed run includes the (one) evaluation of each grid
            return draw_all(package_surface, package_figure, ours_dir, names)

        ours = statistics.median(ours_once() for _ in range(args.repeats))
        text = statistics.median(draw_all(text_surface, text_figure, text_dir, names) for _ in range(args.repeats))
        n_png = len(list(ours_dir.glob("*.png"))), len(list(text_dir.glob("*.png")))
    text_runs = runs_only(text_train_curve, names)
    ours_runs = runs_only(lambda kind, params, w_init: train_curve(OPTIMIZERS[kind], params, w_init, num_steps=300),
                          names)
    print(f"{n_png[0]} figures (3-D surface + {len(names)} trajectory figures) saved as PNG by each way")
    print(f"{'':12} {'total':>8} {'optimizer runs':>15} {'the rest (grids, drawing, saving)':>34}")
    for label, total, runs in [("text's way", text, text_runs), ("package", ours, ours_runs)]:
        print(f"{label:12} {total:7.2f}s {runs:14.2f}s {total - runs:33.2f}s")
    rest = (text - text_runs) / (ours - ours_runs)
    print(f"{'speed-up':12} {text / ours:7.1f}x {text_runs / ours_runs:14.1f}x {rest:33.1f}x")
    print(verdict(">= 5x faster in total", text / ours >= 5))


if __name__ == "__main__":
    main()
