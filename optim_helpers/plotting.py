"""Plots of loss surfaces and optimizer paths.

The grid under a surface is evaluated in one vectorized call and cached, so drawing several paths
on the same surface computes it once. Functions draw on the Axes they are given and return data or
the Axes; they never show or print. They draw in the house style of :mod:`optim_helpers.style`: grey
contours with a colorbar, the start and the surface's minima marked.
"""

import functools
import numbers

import numpy as np
import torch
from matplotlib.contour import ContourSet

from .style import SURFACE_CMAP, add_colorbar, mark_minimum, mark_start
from .surfaces import pathological_loss
from .trajectories import train_curve

__all__ = ["surface_grid", "plot_surface", "plot_contourf", "plot_path", "plot_gd_steps", "path_label"]


def surface_grid(f, x_min=-5, x_max=5, y_min=-5, y_max=5, N=50):
    """Evaluate ``f`` on an ``N x N`` grid in one call; cached per (f, window, N).

    Returns:
        Read-only arrays ``X, Y, Z`` of shape ``(N, N)``; ``Z[i, j] = f(X[i, j], Y[i, j])``.
    """
    if not (isinstance(N, numbers.Integral) and not isinstance(N, bool)):
        raise ValueError(f"Invalid grid size N: {N!r} (must be an int >= 2)")
    return _surface_grid(f, float(x_min), float(x_max), float(y_min), float(y_max), int(N))


@functools.lru_cache(maxsize=64)
def _surface_grid(f, x_min, x_max, y_min, y_max, N):
    if N < 2:
        raise ValueError(f"Invalid grid size N: {N} (must be >= 2)")
    x = torch.linspace(x_min, x_max, N, dtype=torch.float64)
    y = torch.linspace(y_min, y_max, N, dtype=torch.float64)
    Y, X = torch.meshgrid(y, x, indexing="ij")
    with torch.no_grad():
        Z = torch.as_tensor(f(X, Y))
    if Z.shape != X.shape:
        raise ValueError(
            f"Surface {getattr(f, '__name__', f)!r} returned shape {tuple(Z.shape)} on a grid of shape "
            f"{tuple(X.shape)}: it must broadcast over tensors of any shape"
        )
    arrays = tuple(a.numpy() for a in (X, Y, Z))
    for a in arrays:
        a.setflags(write=False)
    return arrays


def _label_axes(ax, title):
    ax.set_xlabel("$w_0$")
    ax.set_ylabel("$w_1$")
    if title:  # an empty title keeps the one already there
        ax.set_title(title)


def plot_surface(ax, f, title="", x_min=-5, x_max=5, y_min=-5, y_max=5, N=50, cmap=SURFACE_CMAP):
    """Draw ``f`` as a 3-D surface on a ``projection="3d"`` Axes; return the Axes."""
    X, Y, Z = surface_grid(f, x_min, x_max, y_min, y_max, N)
    ax.plot_surface(X, Y, Z, cmap=cmap, edgecolor="0.4", linewidth=0.1)
    _label_axes(ax, title)
    return ax


def plot_path(ax, w_hist, color=None, **kw):
    """Draw a path ``w_hist[:, :2]`` as one line with a dot per step; return the ``Line2D``.

    Non-finite points (a diverging run) are left out of the line. For a path that bounces across a
    valley, thinner and transparent lines (``linewidth=0.6, alpha=0.6, markersize=0``) show its extent.
    """
    xy = np.asarray(w_hist, dtype=float)[:, :2].copy()
    xy[~np.isfinite(xy).all(axis=1)] = np.nan
    kw.setdefault("marker", "o")
    kw.setdefault("markersize", 2.5)
    kw.setdefault("linewidth", 1.2)
    (line,) = ax.plot(xy[:, 0], xy[:, 1], color=color, **kw)
    return line


def plot_contourf(
    ax, f, w_hist, color, title="", x_min=-5, x_max=5, y_min=-5, y_max=5, N=50, levels=20, colorbar=True,
    markers=True, **kw,
):
    """Draw the filled contours of ``f`` (once per Axes) and the path ``w_hist`` on top; return the Axes.

    The first call on an Axes draws the contours in grey (white is low), a colorbar labelled "loss"
    (``colorbar=False`` leaves it out, for a figure that states its levels otherwise) and, with
    ``markers``, a star on each of ``f.minima`` inside the window. Every call adds its path and, with
    ``markers``, the start marker on its first point (once per point). ``kw`` goes to the path's line (``label``,
    ``zorder``, ``alpha``, ...).
    """
    if not any(isinstance(c, ContourSet) for c in ax.collections):
        X, Y, Z = surface_grid(f, x_min, x_max, y_min, y_max, N)
        contours = ax.contourf(X, Y, Z, levels=levels, cmap=SURFACE_CMAP, zorder=0)
        if colorbar:
            add_colorbar(ax, contours)
        if markers:
            for w in getattr(f, "minima", ()):
                if x_min <= w[0] <= x_max and y_min <= w[1] <= y_max:
                    mark_minimum(ax, w)
    start = np.asarray(w_hist, dtype=float)[0, :2]
    marked = [line.get_xydata()[0] for line in ax.lines if line.get_gid() == "start"]
    if markers and np.isfinite(start).all() and not any(np.array_equal(start, w) for w in marked):
        mark_start(ax, start)
    kw.setdefault("zorder", 2)
    plot_path(ax, w_hist, color=color, **kw)  # drawn last: ax.lines[-1] is the path
    _label_axes(ax, title)
    return ax


def path_label(optim, optim_params, label_map=None):
    """``"GD(η=0.1, β=0.9)"``-style legend label from an optimizer class and its parameters."""
    label_map = label_map or {}
    name = getattr(optim, "__name__", str(optim))
    if not optim_params:
        return name
    return name + " (" + ", ".join(f"{label_map.get(k, k)}={v}" for k, v in optim_params.items()) + ")"


def plot_gd_steps(
    ax,
    optim,
    optim_params,
    label_map=None,
    w_init=(-2.5, 2.5),
    num_steps=300,
    loss_fn=pathological_loss,
    window=(-10, 10, -10, 10),
    scheduler=None,
    **plot_kw,
):
    """Run :func:`train_curve` and draw the path on ``ax[0]`` (over the contours) and the loss on ``ax[1]``.

    Args:
        ax: two Axes, e.g. from ``plt.subplots(1, 2)``.
        optim, optim_params, w_init, num_steps, loss_fn, scheduler: passed to :func:`train_curve`.
        label_map: display names of parameters in the legend, e.g. ``{"lr": r"$\\eta$"}``.
        window: ``(x_min, x_max, y_min, y_max)`` of the contour grid.
        plot_kw: line properties, e.g. ``color="red"``; ``label`` replaces the generated legend label.

    Returns:
        The path, an array of shape ``(num_steps + 1, 3)``.
    """
    label = plot_kw.pop("label", None) or path_label(optim, optim_params, label_map)
    path = train_curve(optim, optim_params, w_init=w_init, loss_fn=loss_fn, num_steps=num_steps, scheduler=scheduler)
    x_min, x_max, y_min, y_max = window
    plot_contourf(
        ax[0], loss_fn, path, plot_kw.pop("color", None), x_min=x_min, x_max=x_max, y_min=y_min, y_max=y_max,
        label=label, **plot_kw,
    )
    ax[1].plot(path[:, 2], label=label, color=ax[0].lines[-1].get_color(), zorder=plot_kw.get("zorder", 1))
    ax[1].set_xlabel("steps")
    ax[1].set_ylabel("loss")
    ax[1].grid(True)
    return path
