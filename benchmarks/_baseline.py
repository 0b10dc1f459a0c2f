"""The source text's code, rewritten as a baseline: what the benchmarks compare the package against.

Per-point grid loops on every call, dict state keyed by parameter with out-of-place updates, the
text's ``train_curve`` (loss logged one step late, as the text does), paths drawn one segment at a
time plus a scatter, and a new filled contour plot stacked on every call.
"""

import numpy as np
import torch

from optim_helpers import pathological_loss


def text_grid(f, x_min=-5, x_max=5, y_min=-5, y_max=5, N=50):
    """``X, Y, Z`` by calling ``f`` once per grid point on 0-d tensors."""
    X, Y = np.meshgrid(np.linspace(x_min, x_max, N), np.linspace(y_min, y_max, N))
    Z = np.zeros_like(X)
    for i in range(N):
        for j in range(N):
            Z[i, j] = f(torch.tensor(X[i, j]), torch.tensor(Y[i, j]))
    return X, Y, Z


class TextOptimizer:
    """The text's template: a list of parameters, one ``update_param`` call per parameter."""

    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.detach_()
                p.grad.zero_()

    @torch.no_grad()
    def step(self):
        for p in self.params:
            if p.grad is not None:
                self.update_param(p)


class TextGD(TextOptimizer):
    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, lr)
        self.beta = momentum
        self.m = {p: torch.zeros_like(p) for p in self.params}

    def update_param(self, p):
        self.m[p] = self.beta * self.m[p] + (1 - self.beta) * p.grad
        p += -self.lr * self.m[p]


class TextRMSProp(TextOptimizer):
    def __init__(self, params, lr, beta=0.9):
        super().__init__(params, lr)
        self.beta = beta
        self.v = {p: torch.zeros_like(p) for p in self.params}

    def update_param(self, p):
        self.v[p] = self.beta * self.v[p] + (1 - self.beta) * p.grad**2
        p += -self.lr * p.grad / torch.sqrt(self.v[p])


class TextAdam(TextOptimizer):
    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = {p: torch.zeros_like(p) for p in self.params}
        self.v = {p: torch.zeros_like(p) for p in self.params}
        self.t = {p: 0 for p in self.params}

    def update_param(self, p):
        self.t[p] += 1
        self.m[p] = self.beta1 * self.m[p] + (1 - self.beta1) * p.grad
        self.v[p] = self.beta2 * self.v[p] + (1 - self.beta2) * p.grad**2
        m_hat = self.m[p] / (1 - self.beta1 ** self.t[p])
        v_hat = self.v[p] / (1 - self.beta2 ** self.t[p])
        p += -self.lr * m_hat / (torch.sqrt(v_hat) + self.eps)


def text_train_curve(optim, optim_params, w_init=(5.0, 5.0), loss_fn=pathological_loss, num_steps=100):
    """The text's loop: zero_grad, backward, step, then log ``(w0, w1, loss)`` with the loss one step late."""
    w = torch.nn.Parameter(torch.tensor(w_init).float())
    optim = optim([w], **optim_params)
    with torch.no_grad():
        points = [torch.stack([w[0], w[1], loss_fn(w[0], w[1])])]
    for _ in range(num_steps):
        optim.zero_grad()
        loss = loss_fn(w[0], w[1])
        loss.backward()
        optim.step()
        with torch.no_grad():
            points.append(torch.cat([w.data, loss.unsqueeze(0)]))
    return torch.stack(points).numpy()


def text_plot_surface(ax, f, title="", x_min=-5, x_max=5, y_min=-5, y_max=5, N=50):
    X, Y, Z = text_grid(f, x_min, x_max, y_min, y_max, N)
    ax.plot_surface(X, Y, Z, cmap="viridis")
    ax.set_xlabel("$w_0$")
    ax.set_ylabel("$w_1$")
    ax.set_title(title)


def text_plot_contourf(ax, f, w_hist, color, title="", x_min=-5, x_max=5, y_min=-5, y_max=5, N=50, **kw):
    X, Y, Z = text_grid(f, x_min, x_max, y_min, y_max, N)
    for t in range(1, len(w_hist)):
        ax.plot([w_hist[t - 1][0], w_hist[t][0]], [w_hist[t - 1][1], w_hist[t][1]], color=color)
    ax.contourf(X, Y, Z, levels=20, cmap="viridis")
    ax.scatter(w_hist[:, 0], w_hist[:, 1], marker="o", s=5, color=color, **kw)
    ax.set_title(title)
    ax.set_xlabel("$w_0$")
    ax.set_ylabel("$w_1$")


def text_plot_gd_steps(ax, optim, optim_params, label_map=None, w_init=(-2.5, 2.5), num_steps=300, **plot_kw):
    label_map = label_map or {}
    name = optim.__name__.removeprefix("Text")
    label = name + " (" + ", ".join(f"{label_map.get(k, k)}={v}" for k, v in optim_params.items()) + ")"
    path = text_train_curve(optim, optim_params, w_init=w_init, num_steps=num_steps)
    text_plot_contourf(ax[0], pathological_loss, path, x_min=-10, x_max=10, y_min=-10, y_max=10,
                       label=label, zorder=2, **plot_kw)
    ax[1].plot(path[:, 2], label=label, color=plot_kw.get("color"))
    ax[1].set_xlabel("steps")
    ax[1].set_ylabel("loss")
    ax[1].grid(linestyle="dotted", alpha=0.8)
    return path


# The text's trajectory figures: each one's paths as (optimizer, parameters, start), in the text's order, all of
# TEXT_STEPS steps from TEXT_START unless a figure says otherwise.
TEXT_START, TEXT_STEPS = (-4.0, 5.0), 300


def _four_optimizers(lr):
    return [("GD", {"lr": lr}, TEXT_START), ("GD", {"lr": lr, "momentum": 0.9}, TEXT_START),
            ("Adam", {"lr": lr, "beta1": 0.9, "beta2": 0.999}, TEXT_START),
            ("RMSProp", {"lr": lr, "beta": 0.9}, TEXT_START)]


TEXT_FIGURES = {
    "gd_three_rates": [("GD", {"lr": lr}, TEXT_START) for lr in (3.0, 1.0, 0.1)],
    "plateaus": [("GD", {"lr": 0.1}, (-4.0, 6.0)), ("GD", {"lr": 0.1}, (-4.0, -6.0))],
    "momentum": [("GD", {"lr": 3.0}, TEXT_START), ("GD", {"lr": 3.0, "momentum": 0.9}, TEXT_START)],
    "rmsprop": [("GD", {"lr": 0.6}, TEXT_START), ("RMSProp", {"lr": 0.6, "beta": 0.9}, TEXT_START)],
    "four_optimizers_0.3": _four_optimizers(0.3),
    "four_optimizers_2.5": _four_optimizers(2.5),
}
