"""The book's house style: one look for every figure.

- :func:`apply` sets matplotlib's defaults: 96 dpi, so that a point in a figure is a point on the page;
  PNG at twice that resolution in notebooks, sharp on high-density screens; type of at least 9 pt.
- :data:`COLORS` gives every optimizer one colour, from the Okabe-Ito palette, which readers with a
  colour-vision deficiency can tell apart, all of them visible on :data:`SURFACE_CMAP`.
- :data:`SURFACE_CMAP` fills loss contours from white (low) to light grey (high), so that the coloured paths
  stand out; :func:`add_colorbar` states the scale, :func:`mark_start` and :func:`mark_minimum` put the
  same two markers on every surface.
"""

import io

import matplotlib as mpl
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.figure import Figure

__all__ = [
    "DPI", "WIDTH", "COLORS", "LINESTYLES", "REFERENCE", "SURFACE_CMAP", "RC",
    "apply", "png", "color", "line_style", "shades", "add_colorbar", "mark_start", "mark_minimum",
]

DPI = 96  # CSS pixels per inch: at this resolution a figure shown at its own size has 9 pt type at 9 pt
WIDTH = 7.0  # inches: the book's text column is about 690 px wide; no figure is wider, so none is scaled down

# One colour per optimizer, in every chapter and explorer. The first six, from Okabe & Ito's palette
# ("Color Universal Design", 2008), are drawn solid; the optimizers after Adam, from Tol's palettes, dashed; the
# curvature methods, also Tol's, dash-dotted.
# Readers with any of the three colour-vision deficiencies can tell the colours of each group apart.
COLORS = {
    "GD": "#0072B2",  # blue: plain gradient descent
    "GD + momentum": "#009E73",  # bluish green
    "RMSProp": "#CC79A7",  # reddish purple
    "Adam": "#D55E00",  # vermilion
    "AdamW": "#E69F00",  # orange
    "SGD": "#56B4E9",  # sky blue
    "NAdam": "#882255",  # wine
    "RAdam": "#332288",  # indigo
    "Adafactor": "#999933",  # olive
    "Lion": "#117733",  # green
    "Muon": "#000000",  # black
    "Schedule-free": "#88CCEE",  # cyan
    "Newton": "#CC6677",  # rose
    "Saddle-free Newton": "#661100",  # brown
    "Gauss-Newton": "#004488",  # dark blue
    "L-BFGS": "#33BBEE",  # cyan blue
}
LINESTYLES = {name: "-" if i < 6 else "--" if i < 12 else "-." for i, name in enumerate(COLORS)}
REFERENCE = "0.35"  # reference lines (y = 1, a bound, a level set): dark grey, drawn behind the data

# White at the lowest loss to light grey at the highest: every colour of COLORS reads on it.
SURFACE_CMAP = LinearSegmentedColormap.from_list(
    "optim_surface", mpl.colormaps["Greys"](np.linspace(0.0, 0.35, 256))
)

START = dict(marker="o", markersize=8, markerfacecolor="white", markeredgecolor="black", markeredgewidth=1.5,
             linestyle="none", zorder=6)
MINIMUM = dict(marker="*", markersize=14, markerfacecolor="black", markeredgecolor="white", markeredgewidth=1.0,
               linestyle="none", zorder=6)

RC = {
    "figure.dpi": DPI,
    "savefig.dpi": 2 * DPI,
    "figure.figsize": (WIDTH, 3.0),
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "figure.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.linestyle": ":",
    "grid.alpha": 0.8,
    "lines.linewidth": 1.5,
    "image.cmap": "viridis",
    "axes.prop_cycle": mpl.cycler(color=list(COLORS.values())[:6] + ["#000000"]),
}


def apply():
    """Set the house style for every later figure; in IPython, also show inline figures with :func:`png`."""
    mpl.rcParams.update(RC)
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: the rcParams are all there is to set
        return
    shell = get_ipython()
    if shell is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")  # PNG only (no SVG or PDF alongside), then ours for it
        shell.display_formatter.formatters["image/png"].for_type(Figure, png)


def png(fig, scale=2, colors=256):
    """``(PNG bytes, {"width": w, "height": h})``: ``fig`` drawn at ``scale`` times its size, to be shown at w x h.

    Drawn at twice the pixels it is shown at, a figure stays sharp on high-density screens; reduced to a palette
    of ``colors`` colours, its file is about 2.5 times smaller with no visible change. ``None`` for a figure with
    nothing drawn (as IPython's own formatter does).
    """
    from PIL import Image

    if not fig.axes and not fig.lines:
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=scale * fig.dpi, bbox_inches="tight", facecolor=fig.get_facecolor(),
                edgecolor=fig.get_edgecolor())
    image = Image.open(buffer).convert("RGB")
    width, height = image.size
    out = io.BytesIO()
    image.quantize(colors, method=Image.Quantize.MEDIANCUT).save(out, format="png", optimize=True)
    return out.getvalue(), {"width": width // scale, "height": height // scale}


def color(name):
    """The colour of optimizer ``name`` (a key of :data:`COLORS`)."""
    if name not in COLORS:
        raise ValueError(f"No colour for optimizer {name!r}: choose one of {sorted(COLORS)}")
    return COLORS[name]


def line_style(name):
    """``{"color": ..., "linestyle": ...}`` of optimizer ``name``, to pass to ``ax.plot(..., **line_style(name))``."""
    return {"color": color(name), "linestyle": LINESTYLES[name]}


def shades(name, n):
    """``n`` shades of optimizer ``name``'s colour, light to dark: one run per learning rate, say.

    Shade :math:`k` mixes the colour with white (first half) or black (second half),
    from 45 % white to 45 % black.
    """
    if not (isinstance(n, int) and not isinstance(n, bool) and n >= 1):
        raise ValueError(f"Invalid number of shades: {n!r} (must be an int >= 1)")
    base = np.array(to_rgb(color(name)))
    mix = np.linspace(-0.45, 0.45, n) if n > 1 else np.zeros(1)
    return [tuple(np.where(m < 0, base + (1 - base) * -m, base * (1 - m))) for m in mix]


def add_colorbar(ax, mappable, label="loss", **kw):
    """A colorbar for the contours ``mappable`` beside ``ax``, labelled ``label``; return it."""
    return ax.figure.colorbar(mappable, ax=ax, label=label, **kw)


def mark_start(ax, w, label=None, **kw):
    """The start marker (white disc, black rim) at ``w = (w_0, w_1)``; return the ``Line2D``.

    Give ``label`` (e.g. ``"start"``) to list it in a legend.
    """
    (line,) = ax.plot([w[0]], [w[1]], label=label, gid="start", **{**START, **kw})
    return line


def mark_minimum(ax, w, label=None, **kw):
    """The minimum marker (black star, white rim) at ``w = (w_0, w_1)``; return the ``Line2D``.

    Give ``label`` (e.g. ``"minimum"``) to list it in a legend.
    """
    (line,) = ax.plot([w[0]], [w[1]], label=label, gid="minimum", **{**MINIMUM, **kw})
    return line
