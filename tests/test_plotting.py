"""Plots: one vectorized, cached grid evaluation; one line per path; contours drawn once per Axes."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.contour import ContourSet

from optim_helpers import (
    GD,
    path_label,
    pathological_loss,
    plot_contourf,
    plot_gd_steps,
    plot_path,
    plot_surface,
    surface_grid,
    train_curve,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def counted(f):
    def wrapped(w0, w1):
        wrapped.calls += 1
        return f(w0, w1)

    wrapped.calls = 0
    return wrapped


def test_grid_is_one_call_and_cached():
    f = counted(pathological_loss)
    X, Y, Z = surface_grid(f, -3, 3, -2, 5, 40)
    assert f.calls == 1 and X.shape == Y.shape == Z.shape == (40, 40)
    again = surface_grid(f, -3, 3, -2, 5, 40)
    assert f.calls == 1 and again[2] is Z
    assert not Z.flags.writeable
    for i, j in [(0, 0), (7, 31), (39, 39)]:
        expected = pathological_loss(torch.tensor(X[i, j]), torch.tensor(Y[i, j])).item()
        assert Z[i, j] == pytest.approx(expected, rel=1e-12)
    assert X[0, 0] == -3 and X[0, -1] == 3 and Y[0, 0] == -2 and Y[-1, 0] == 5
    surface_grid(f, -3, 3, -2, 5, 41)
    assert f.calls == 2  # a new window or size is a new grid


def test_non_broadcasting_surface_is_rejected():
    def scalar_only(w0, w1):
        return torch.tensor(float(w0.sum() + w1.sum()))

    with pytest.raises(ValueError, match="must broadcast"):
        surface_grid(scalar_only, -1, 1, -1, 1, 10)
    with pytest.raises(ValueError, match="grid size"):
        surface_grid(pathological_loss, -1, 1, -1, 1, 1)


def test_contours_once_and_one_line_per_path():
    fig, ax = plt.subplots()
    a = train_curve(GD, {"lr": 1.0}, w_init=[-4.0, 5.0], num_steps=50)
    b = train_curve(GD, {"lr": 0.1}, w_init=[-4.0, 5.0], num_steps=50)
    plot_contourf(ax, pathological_loss, a, "red", label="a")
    plot_contourf(ax, pathological_loss, b, "blue", label="b")
    assert sum(isinstance(c, ContourSet) for c in ax.collections) == 1
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), a[:, 0])
    assert [line.get_label() for line in ax.lines] == ["a", "b"]


def test_plot_gd_steps_returns_the_path_and_labels_both_axes():
    fig, ax = plt.subplots(1, 2)
    path = plot_gd_steps(ax, GD, {"lr": 0.3, "momentum": 0.9}, label_map={"lr": "eta"}, w_init=[-4.0, 5.0],
                         num_steps=40, color="red")
    np.testing.assert_array_equal(path, train_curve(GD, {"lr": 0.3, "momentum": 0.9}, w_init=[-4.0, 5.0],
                                                     num_steps=40))
    assert len(ax[0].lines) == 1 and len(ax[1].lines) == 1
    assert ax[0].lines[0].get_label() == ax[1].lines[0].get_label() == "GD (eta=0.3, momentum=0.9)"
    np.testing.assert_array_equal(ax[1].lines[0].get_ydata(), path[:, 2])


def test_plot_surface_on_3d_axes():
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    assert plot_surface(ax, pathological_loss, x_min=-5, x_max=5, y_min=-100, y_max=10, title="t") is ax
    assert len(ax.collections) == 1 and ax.get_title() == "t"


def test_plot_path_leaves_out_non_finite_points():
    fig, ax = plt.subplots()
    line = plot_path(ax, np.array([[0.0, 0.0, 1.0], [np.inf, 1.0, np.nan], [1.0, 1.0, 2.0]]), color="k")
    x = np.asarray(line.get_xdata())
    assert np.isnan(x[1]) and x[0] == 0.0 and x[2] == 1.0


def test_path_label():
    assert path_label(GD, {}) == "GD"
    assert path_label(GD, {"lr": 0.1, "momentum": 0.9}, {"momentum": "b"}) == "GD (lr=0.1, b=0.9)"
