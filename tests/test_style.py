"""The house style: colours readers with colour-vision deficiencies can tell apart, legible type, markers."""

import io
import itertools

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from optim_helpers import style

# Machado, Oliveira & Fernandes (2009): full-severity protanopia, deuteranopia and tritanopia on linear RGB.
VISION = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
WHITE = np.array([0.95047, 1.0, 1.08883])


def lab_seen(color, vision):
    """CIELAB coordinates of ``color`` as a reader with ``vision`` sees it."""
    c = np.asarray(to_rgb(color))
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = SRGB_TO_XYZ @ np.clip(VISION[vision] @ linear, 0, 1) / WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a, b, vision):
    return float(np.linalg.norm(lab_seen(a, vision) - lab_seen(b, vision)))


@pytest.mark.parametrize("vision", list(VISION))
def test_colours_drawn_alike_are_distinguishable_under_colour_vision_deficiency(vision):
    for linestyle in set(style.LINESTYLES.values()):
        group = [style.COLORS[n] for n, s in style.LINESTYLES.items() if s == linestyle]
        closest = min(delta_e(a, b, vision) for a, b in itertools.combinations(group, 2))
        assert closest > 15, f"two {linestyle!r} colours are {closest:.1f} apart (CIELAB) for {vision}"


@pytest.mark.parametrize("vision", list(VISION))
def test_every_colour_stands_out_on_the_contours(vision):
    surface = [style.SURFACE_CMAP(x) for x in np.linspace(0, 1, 11)]
    for name, c in style.COLORS.items():
        closest = min(delta_e(c, s, vision) for s in surface)
        assert closest > 15, f"{name} is {closest:.1f} from the contour colours for {vision}"


def test_surface_runs_from_white_at_low_loss_to_grey():
    lightness = [lab_seen(style.SURFACE_CMAP(x), "normal")[0] for x in np.linspace(0, 1, 11)]
    assert lightness[0] > 99 and 70 < lightness[-1] < 85 and np.all(np.diff(lightness) < 0)


def test_colour_lookup_and_bad_names():
    assert style.color("Adam") == style.COLORS["Adam"] != style.color("AdamW")
    assert style.line_style("Lion") == {"color": style.COLORS["Lion"], "linestyle": "--"}
    assert style.line_style("GD")["linestyle"] == "-"
    with pytest.raises(ValueError, match="'adam'"):
        style.color("adam")


def test_shades_run_light_to_dark_around_the_colour():
    shades = style.shades("RMSProp", 5)
    lightness = [lab_seen(s, "normal")[0] for s in shades]
    assert len(shades) == 5 and np.all(np.diff(lightness) < -5)
    np.testing.assert_allclose(shades[2], to_rgb(style.color("RMSProp")))
    np.testing.assert_allclose(style.shades("GD", 1)[0], to_rgb(style.color("GD")))
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="number of shades"):
            style.shades("GD", bad)


def test_apply_sets_sharp_output_and_legible_type():
    with matplotlib.rc_context():
        style.apply()
        rc = matplotlib.rcParams
        assert rc["figure.dpi"] == 96 and rc["savefig.dpi"] == 192
        sizes = [matplotlib.font_manager.font_scalings.get(rc[k], 1) * rc["font.size"] if isinstance(rc[k], str)
                 else rc[k] for k in ("xtick.labelsize", "ytick.labelsize", "legend.fontsize", "axes.labelsize",
                                      "axes.titlesize")]
        assert min(sizes) >= 9
        assert rc["figure.figsize"][0] <= style.WIDTH


def test_markers_are_tagged_and_drawn_above_paths():
    fig, ax = plt.subplots()
    start, minimum = style.mark_start(ax, (1.0, 2.0)), style.mark_minimum(ax, (0.0, 0.0), label="minimum")
    assert (start.get_gid(), minimum.get_gid()) == ("start", "minimum")
    assert tuple(start.get_xydata()[0]) == (1.0, 2.0) and start.get_label().startswith("_")
    assert minimum.get_label() == "minimum" and min(start.zorder, minimum.zorder) > 2
    plt.close(fig)


def test_png_is_twice_the_shown_size_in_a_palette():
    from PIL import Image

    with matplotlib.rc_context(style.RC):
        fig, ax = plt.subplots(figsize=(5, 2))
        ax.plot([0, 1], [0, 1], color=style.color("Adam"))
        data, shown = style.png(fig)
        image = Image.open(io.BytesIO(data))
        assert image.mode == "P" and image.format == "PNG"
        assert abs(image.size[0] - 2 * shown["width"]) <= 1 and abs(image.size[1] - 2 * shown["height"]) <= 1
        assert 400 < shown["width"] <= 5 * 96 + 20  # tight bounding box (0.1 in of padding), at 96 dpi
        rgb = np.asarray(image.convert("RGB"), dtype=float)
        adam = np.array(to_rgb(style.color("Adam"))) * 255
        assert np.abs(rgb - adam).sum(axis=2).min() < 12  # the line keeps its colour through the palette
        plt.close(fig)
        assert style.png(plt.figure()) is None
