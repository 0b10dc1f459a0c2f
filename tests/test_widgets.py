"""Explorers: in-place redraws, the static player's frames and controls, the live widget."""

import base64
import json
import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.contour import ContourSet  # noqa: E402

from optim_helpers import GD, Adam, Lion, pathological_loss, train_curve  # noqa: E402
from optim_helpers.style import COLORS  # noqa: E402
from optim_helpers.widgets import Explorer, trajectory_explorer  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def counting(f):
    """Wrap a surface so that calls on a 2-D grid are counted."""

    def wrapped(w0, w1):
        if np.ndim(w0) == 2:
            wrapped.grid_calls += 1
        return f(w0, w1)

    wrapped.grid_calls = 0
    return wrapped


@pytest.fixture
def explorer():
    return trajectory_explorer([(GD, {}), (Adam, {})], {"lr": [0.1, 0.3, 1.0], "w1": [-6.0, 5.0]}, num_steps=40, N=40)


def test_paths_equal_train_curve(explorer):
    gd, adam = explorer.paths(lr=0.3, w1=-6.0)
    np.testing.assert_array_equal(gd, train_curve(GD, {"lr": 0.3}, w_init=(-4.0, -6.0), num_steps=40))
    np.testing.assert_array_equal(adam, train_curve(Adam, {"lr": 0.3}, w_init=(-4.0, -6.0), num_steps=40))


def test_update_changes_artists_in_place():
    loss = counting(pathological_loss)
    ex = trajectory_explorer([(GD, {})], {"lr": [0.1, 1.0, 3.0]}, loss_fn=loss, num_steps=30, N=30)
    ax_path, ax_loss = ex.fig.axes[:2]  # then the colorbar
    lines = list(ax_path.lines) + list(ax_loss.lines)
    for lr in (0.1, 3.0, 1.0):
        ex.update(lr=lr)
        ex.fig.canvas.draw()
        expected = train_curve(GD, {"lr": lr}, w_init=(-4.0, 5.0), loss_fn=loss, num_steps=30)
        np.testing.assert_array_equal(ax_path.lines[0].get_xdata(), expected[:, 0])
        np.testing.assert_array_equal(ax_loss.lines[0].get_ydata(), expected[:, 2])
        assert ex.fig._suptitle.get_text() == f"lr = {lr:g}"
    assert list(ax_path.lines) + list(ax_loss.lines) == lines, "update must reuse the figure's lines"
    assert sum(isinstance(c, ContourSet) for c in ax_path.collections) == 1
    assert loss.grid_calls == 1, "the contour grid must be computed once"


def _frames_of(html):
    return json.loads(re.search(r"var frames = (\{.*?\});", html).group(1))


def test_static_player_has_every_frame(explorer):
    html = explorer.to_html()
    frames = _frames_of(html)
    assert sorted(frames) == [f"{i},{j}" for i in range(3) for j in range(2)]
    pngs = [base64.b64decode(uri.removeprefix("data:image/png;base64,")) for uri in frames.values()]
    assert all(png.startswith(PNG_SIGNATURE) for png in pngs)
    assert len(set(pngs)) == len(pngs), "each combination of slider values gives its own picture"
    sliders = re.findall(r'<input type="range" name="(\w+)" min="0" max="(\d+)" step="1" value="(\d+)"', html)
    assert sliders == [("lr", "2", "1"), ("w1", "1", "1")]
    first = re.search(r'<img class="optim-explorer-frame" src="([^"]+)"', html).group(1)
    assert first == frames["1,1"], "the page opens on the initial values"
    assert "<script" in html and "http" not in html, "the player is self-contained"


def test_static_player_is_deterministic(explorer):
    assert explorer.to_html() == explorer.to_html()


def test_frame_labels_name_the_values(explorer):
    assert explorer.label(lr=0.3, w1=-6.0) == "lr = 0.3, w1 = -6"
    page = explorer.to_html()
    assert ('alt="Paths of GD and Adam on the loss contours (left), and their loss against steps (right): '
            'lr = 0.3, w1 = 5"') in page
    assert 'image.alt = "Paths of ' in page  # a moved slider keeps the description


def test_explorer_alt_text_describes_the_figure():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ex = Explorer(fig, lambda a: None, {"a": [1, 2]}, initial={"a": 2}, description="A line whose slope is a")
    assert 'alt="A line whose slope is a: a = 2"' in ex.to_html()
    plt.close(fig)


def test_general_explorer_and_live_widget():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    (line,) = ax.plot([], [])
    x = np.linspace(0, 1, 20)
    ex = Explorer(fig, lambda a: line.set_data(x, a * x), {"a": [1, 2, 3]}, initial={"a": 1})
    box = ex.widget()
    (slider, readout), image = box.children[0].children[0].children, box.children[1]
    before = image.value
    slider.value = 3
    assert bytes(image.value) != bytes(before) and bytes(image.value).startswith(PNG_SIGNATURE)
    assert readout.value == "3" and not slider.readout  # the whole value, beside the slider
    assert image.width == str(round(fig.get_figwidth() * 96))  # shown at 1x of a 2x rendering
    np.testing.assert_array_equal(line.get_ydata(), 3 * x)
    bundle = ex._repr_mimebundle_()
    assert {"text/html", "text/plain", "application/vnd.jupyter.widget-view+json"} <= set(bundle)
    plt.close(fig)


@pytest.mark.parametrize(
    "sliders, kw, match",
    [
        ({}, {}, "at least one slider"),
        ({"a": []}, {}, "'a' has no values"),
        ({"a": list(range(10)), "b": list(range(10))}, {}, "100 slider combinations"),
        ({"a": [1]}, {"initial": {"b": 1}}, "unknown sliders"),
    ],
)
def test_bad_explorers_raise(sliders, kw, match):
    import matplotlib.pyplot as plt

    fig = plt.figure()
    with pytest.raises(ValueError, match=match):
        Explorer(fig, lambda **v: None, sliders, **kw)
    plt.close(fig)


def test_live_readout_shows_the_whole_pair():
    ex = trajectory_explorer([(GD, {"lr": 0.5})], {"start": [(0.0001, 1.2), (0.0, 1.2)]}, num_steps=5, N=20,
                             initial={"start": (0.0001, 1.2)})
    _, readout = ex.widget().children[0].children[0].children
    assert readout.value == "(0.0001, 1.2)"


def test_static_player_hints_at_trust_until_its_script_runs():
    ex = trajectory_explorer([(GD, {"lr": 0.5})], {"lr": [0.1, 0.5]}, num_steps=5, N=20)
    page = ex.to_html()
    assert "trust the notebook or run the cell" in page
    assert 'querySelector(".optim-explorer-hint").hidden = true' in page.split("<script>")[1]


def test_start_slider_moves_the_start():
    ex = trajectory_explorer([(GD, {"lr": 0.5})], {"start": [(-4.0, 5.0), (2.0, -6.0)]}, num_steps=5, N=20)
    (path,) = ex.paths(start=(2.0, -6.0))
    np.testing.assert_array_equal(path, train_curve(GD, {"lr": 0.5}, w_init=(2.0, -6.0), num_steps=5))
    assert ex.label(start=(2.0, -6.0)) == "start = (2, -6)"


def test_fixed_parameters_win_over_sliders_and_labels_can_be_given():
    ex = trajectory_explorer([(GD, {"momentum": 0.0}, "plain"), (GD, {}, "with momentum")],
                             {"lr": [0.3], "momentum": [0.0, 0.9]}, num_steps=20, N=20)
    plain, heavy = ex.paths(lr=0.3, momentum=0.9)
    np.testing.assert_array_equal(plain, train_curve(GD, {"lr": 0.3}, w_init=(-4.0, 5.0), num_steps=20))
    np.testing.assert_array_equal(heavy, train_curve(GD, {"lr": 0.3, "momentum": 0.9}, w_init=(-4.0, 5.0),
                                                     num_steps=20))
    assert [line.get_label() for line in ex.fig.axes[1].lines] == ["plain", "with momentum"]
    # each in its house colour, the same on the contours and on the loss axes
    assert [line.get_color() for line in ex.fig.axes[1].lines] == [COLORS["GD"], COLORS["GD + momentum"]]
    assert [line.get_color() for line in ex.fig.axes[0].lines if line.get_gid() is None] == [
        COLORS["GD"], COLORS["GD + momentum"]]
    adam = trajectory_explorer([(GD, {}), (Adam, {"lr": 0.3})], {"lr": [0.1]}, num_steps=5, N=20)
    assert [line.get_color() for line in adam.fig.axes[1].lines] == [COLORS["GD"], COLORS["Adam"]]
    # the optimizers after Adam are dashed, on the contours and on the loss axes
    lion = trajectory_explorer([(Adam, {}), (Lion, {})], {"lr": [0.1]}, num_steps=5, N=20)
    for ax in lion.fig.axes[:2]:
        paths = [line for line in ax.lines if line.get_gid() is None]
        assert [(line.get_color(), line.get_linestyle()) for line in paths] == [
            (COLORS["Adam"], "-"), (COLORS["Lion"], "--")]


def test_loss_axis_tops_at_the_window_highest_loss_or_at_loss_max():
    from optim_helpers import surface_grid

    ex = trajectory_explorer([(GD, {})], {"lr": [0.1]}, num_steps=5, N=20)
    top = float(surface_grid(pathological_loss, -5, 5, -7, 7, 20)[2].max()) * 1.05
    assert ex.fig.axes[1].get_ylim() == pytest.approx((0.0, top))
    ex = trajectory_explorer([(GD, {})], {"lr": [0.1]}, num_steps=5, N=20, loss_max=1.5)
    assert ex.fig.axes[1].get_ylim() == (0.0, 1.5)
