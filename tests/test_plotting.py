"""Plots: one vectorized, cached grid evaluation; contours once per Axes; one line per path."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.contour import ContourSet
from matplotlib.lines import Line2D

from optim_helpers import (
    GD,
    Adam,
    himmelblau,
    path_label,
    pathological_loss,
    plot_contourf,
    plot_gd_steps,
    plot_path,
    plot_surface,
    rosenbrock,
    surface_grid,
    train_curve,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def counted(f):
    """Wrap a surface so that every call is counted."""

    def wrapped(w0, w1):
        wrapped.calls += 1
        return f(w0, w1)

    wrapped.calls = 0
    return wrapped


def contour_sets(ax):
    return sum(isinstance(c, ContourSet) for c in ax.collections)


def test_grid_is_one_vectorized_call():
    f = counted(pathological_loss)
    X, Y, Z = surface_grid(f, -3, 3, -2, 5, 40)
    assert f.calls == 1
    assert X.shape == Y.shape == Z.shape == (40, 40)
    assert (X[0, 0], X[0, -1], Y[0, 0], Y[-1, 0]) == (-3, 3, -2, 5)
    for i, j in [(0, 0), (7, 31), (39, 0), (39, 39)]:
        expected = pathological_loss(torch.tensor(X[i, j]), torch.tensor(Y[i, j])).item()
        assert Z[i, j] == pytest.approx(expected, rel=1e-14)


def test_grid_is_cached_and_read_only():
    f = counted(rosenbrock)
    first = surface_grid(f, -2, 2, -1, 3, 30)
    again = surface_grid(f, -2.0, 2.0, -1.0, 3.0, 30)  # same window, ints or floats
    assert f.calls == 1
    assert all(a is b for a, b in zip(first, again))
    for a in first:
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[0, 0] = 1.0
    surface_grid(f, -2, 2, -1, 3, 31)
    surface_grid(f, -2, 2, -1, 4, 30)
    assert f.calls == 3  # a new size or window is a new grid


def test_non_broadcasting_surface_is_rejected():
    def reduces(w0, w1):
        return (w0 + w1).sum()

    with pytest.raises(ValueError, match="must broadcast"):
        surface_grid(reduces, -1, 1, -1, 1, 10)


def test_grid_needs_two_points():
    with pytest.raises(ValueError, match="grid size"):
        surface_grid(pathological_loss, -1, 1, -1, 1, 1)


def test_contours_drawn_once_and_one_line_per_path():
    f = counted(pathological_loss)
    fig, ax = plt.subplots()
    a = train_curve(GD, {"lr": 1.0}, w_init=[-4.0, 5.0], num_steps=50)
    b = train_curve(Adam, {"lr": 0.3}, w_init=[-4.0, 5.0], num_steps=30)
    assert plot_contourf(ax, f, a, "red", label="a", title="t") is ax
    assert ax.get_title() == "t" and ax.get_xlabel() == "$w_0$"
    plot_contourf(ax, f, b, "blue", label="b")
    assert contour_sets(ax) == 1 and f.calls == 1
    assert all(isinstance(line, Line2D) for line in ax.lines)
    assert [line.get_gid() for line in ax.lines] == ["start", None, None]  # one start marker for both
    paths = ax.lines[1:]
    for line, path in zip(paths, (a, b)):
        np.testing.assert_array_equal(line.get_xdata(), path[:, 0])
        np.testing.assert_array_equal(line.get_ydata(), path[:, 1])
    assert [line.get_label() for line in paths] == ["a", "b"]
    assert [line.get_color() for line in paths] == ["red", "blue"]


def test_plot_gd_steps_returns_train_curve_path_and_draws_one_line_per_axes():
    fig, ax = plt.subplots(1, 2)
    params = {"lr": 0.3, "momentum": 0.9}
    path = plot_gd_steps(ax, GD, params, label_map={"lr": "eta"}, w_init=[-4.0, 5.0], num_steps=40, color="red")
    np.testing.assert_array_equal(path, train_curve(GD, params, w_init=[-4.0, 5.0], num_steps=40))
    assert [line.get_gid() for line in ax[0].lines] == ["minimum", "start", None]
    assert len(ax[1].lines) == 1 and contour_sets(ax[0]) == 1
    label = path_label(GD, params, {"lr": "eta"})
    assert ax[0].lines[-1].get_label() == ax[1].lines[0].get_label() == label == "GD (eta=0.3, momentum=0.9)"
    assert ax[0].lines[-1].get_color() == ax[1].lines[0].get_color() == "red"
    np.testing.assert_array_equal(ax[0].lines[-1].get_xdata(), path[:, 0])
    np.testing.assert_array_equal(ax[1].lines[0].get_ydata(), path[:, 2])


def test_plot_gd_steps_twice_adds_paths_not_contours():
    fig, ax = plt.subplots(1, 2)
    for lr in (0.1, 1.0):
        plot_gd_steps(ax, GD, {"lr": lr}, num_steps=20)
    assert contour_sets(ax[0]) == 1
    paths = [line for line in ax[0].lines if line.get_gid() is None]
    assert len(paths) == len(ax[1].lines) == 2
    assert [line.get_label() for line in ax[1].lines] == ["GD (lr=0.1)", "GD (lr=1.0)"]
    # each loss curve has its path's color
    assert [line.get_color() for line in paths] == [line.get_color() for line in ax[1].lines]


def test_contour_plot_has_one_colorbar_and_marks_minima_in_the_window_and_the_start():
    path = train_curve(GD, {"lr": 1.0}, w_init=[-4.0, 5.0], num_steps=5)
    fig, ax = plt.subplots()
    plot_contourf(ax, himmelblau, path, "red")
    plot_contourf(ax, himmelblau, path, "blue")
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "loss"  # one colorbar, labelled
    minima = [tuple(line.get_xydata()[0]) for line in ax.lines if line.get_gid() == "minimum"]
    assert minima == [w for w in himmelblau.minima if max(abs(w[0]), abs(w[1])) <= 5] and len(minima) == 4
    starts = [line.get_xydata()[0] for line in ax.lines if line.get_gid() == "start"]
    assert len(starts) == 1 and tuple(starts[0]) == (-4.0, 5.0)
    fig, ax = plt.subplots()
    plot_contourf(ax, himmelblau, path, "red", x_min=0, y_min=0, colorbar=False)
    assert len(fig.axes) == 1
    assert [tuple(line.get_xydata()[0]) for line in ax.lines if line.get_gid() == "minimum"] == [(3.0, 2.0)]
    fig, ax = plt.subplots()
    plot_contourf(ax, himmelblau, path, "red", markers=False)
    assert [line.get_gid() for line in ax.lines] == [None]


def test_plot_surface_on_3d_axes():
    f = counted(pathological_loss)
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    assert plot_surface(ax, f, title="t", x_min=-5, x_max=5, y_min=-100, y_max=10, N=25) is ax
    assert f.calls == 1 and len(ax.collections) == 1 and ax.get_title() == "t"


def test_plot_path_leaves_out_non_finite_points():
    fig, ax = plt.subplots()
    w_hist = np.array([[0.0, 0.0, 1.0], [np.inf, 1.0, 2.0], [1.0, np.nan, 3.0], [1.0, 1.0, np.inf]])
    line = plot_path(ax, w_hist, color="k")
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    np.testing.assert_array_equal(np.isnan(x), [False, True, True, False])
    np.testing.assert_array_equal(np.isnan(y), [False, True, True, False])
    assert (x[[0, 3]] == [0.0, 1.0]).all() and len(ax.lines) == 1
    assert np.isinf(w_hist[1, 0])  # the caller's array is left alone


def test_diverging_path_keeps_finite_axis_limits():
    path = train_curve(GD, {"lr": 10.0}, w_init=(-2.0, 2.0), loss_fn=rosenbrock, num_steps=100)
    assert not np.isfinite(path).all()
    fig, ax = plt.subplots()
    plot_path(ax, path)
    assert np.isfinite(ax.get_xlim()).all() and np.isfinite(ax.get_ylim()).all()


def test_path_label():
    assert path_label(GD, {}) == "GD"
    assert path_label(GD, {"lr": 0.1, "momentum": 0.9}, {"momentum": "b"}) == "GD (lr=0.1, b=0.9)"


def test_second_path_keeps_the_title_and_labels_can_be_given():
    fig, ax = plt.subplots(1, 2)
    plot_contourf(ax[0], pathological_loss, np.zeros((2, 3)), "red", title="paths")
    plot_contourf(ax[0], pathological_loss, np.ones((2, 3)), "blue")
    assert ax[0].get_title() == "paths"
    plot_gd_steps(ax, GD, {"lr": 0.1}, num_steps=3, label="mine")
    assert ax[1].lines[-1].get_label() == "mine"
