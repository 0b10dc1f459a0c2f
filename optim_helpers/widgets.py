"""Explorers: sliders that redraw a figure, live in a kernel and precomputed for the static book.

An :class:`Explorer` holds one matplotlib figure and an ``update(**values)`` function that changes the
figure's artists in place (line data, titles) for one choice of slider values. It shows itself two ways
in one output:

- in a live kernel (Jupyter, JupyterLab, VS Code, Colab): ipywidgets sliders; each move calls
  ``update`` and re-renders the existing figure into an image widget (no new figure, no new grid);
- in the static HTML book: a self-contained player (plain HTML, CSS and a few lines of inline JavaScript,
  nothing fetched) whose range inputs switch between frames precomputed for every combination of
  slider values. Every frame is labelled with its values.

The book's configuration gives the static player priority over the widget view, so no kernel is needed.
"""

import base64
import hashlib
import html
import inspect
import io
import itertools
import json

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .plotting import path_label, plot_contourf, surface_grid
from .style import COLORS, DPI, LINESTYLES, START, WIDTH
from .surfaces import pathological_loss
from .trajectories import train_curves

__all__ = ["Explorer", "trajectory_explorer", "START_SLIDERS"]

# Slider names that set the start point or the run length rather than an optimizer argument.
START_SLIDERS = ("start", "w0", "w1", "num_steps")


def _fmt(value):
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return f"{value:g}" if isinstance(value, (int, float, np.floating, np.integer)) else str(value)


class Explorer:
    """A figure with sliders.

    Args:
        fig: the matplotlib figure to redraw (it is drawn on its own Agg canvas at ``dpi``).
        update: ``update(**values)`` changes the figure's artists for one choice of slider values.
        sliders: ``{name: [value, ...]}``: the values each slider offers (the static player needs a
            finite set; the live sliders offer the same ones).
        initial: optional ``{name: value}`` to start from (default: the middle of each list).
        animated: optional list of the artists ``update`` changes. Given, a redraw repaints only those
            over a cached picture of the rest (blitting) instead of drawing the whole figure.
        max_frames: refuse more combinations than this (each is one image in the page).
        dpi: resolution of the rendered frames: twice the house style's 96 dpi, as sharp as the static
            figures (the page shows each frame at the figure's size at 96 dpi).
        colors: the static frames are stored as PNG with a palette of this many colours (about
            3x smaller than full colour for contour plots); ``None`` keeps full colour.
        description: what the figure shows, for the frames' alt text ("<description>: lr = 0.3, ...").
    """

    def __init__(self, fig, update, sliders, initial=None, animated=None, max_frames=80, dpi=2 * DPI, colors=64,
                 description="The figure"):
        if not sliders:
            raise ValueError("An explorer needs at least one slider")
        self.sliders = {name: list(values) for name, values in sliders.items()}
        for name, values in self.sliders.items():
            if not values:
                raise ValueError(f"Slider {name!r} has no values")
        n_frames = int(np.prod([len(v) for v in self.sliders.values()]))
        if n_frames > max_frames:
            raise ValueError(f"{n_frames} slider combinations exceed max_frames={max_frames}")
        initial = initial or {}
        unknown = set(initial) - set(self.sliders)
        if unknown:
            raise ValueError(f"Initial values for unknown sliders: {sorted(unknown)}")
        self.initial = {n: initial.get(n, v[len(v) // 2]) for n, v in self.sliders.items()}
        self.fig, self._update, self.colors, self.description = fig, update, colors, description
        self.width = round(fig.get_figwidth() * DPI)  # CSS pixels the frames are shown at
        fig.set_dpi(dpi)
        FigureCanvasAgg(fig)  # a canvas of its own: drawing it never shows a figure in the notebook
        self._title = fig.suptitle("", fontsize="medium")
        self._animated = None if animated is None else [*animated, self._title]
        self._background = None

    def label(self, **values):
        """``"lr = 0.3, w0 = -4"``: the caption of one frame."""
        return ", ".join(f"{name} = {_fmt(values[name])}" for name in self.sliders)

    def update(self, **values):
        """Change the existing figure's artists for ``values`` (nothing is re-created)."""
        self._update(**values)
        self._title.set_text(self.label(**values))

    def draw(self, **values):
        """Update for ``values`` and draw the canvas: only the animated artists, once the rest is cached."""
        self.update(**values)
        canvas = self.fig.canvas
        if self._animated is None:
            canvas.draw()
            return
        if self._background is None:
            for artist in self._animated:
                artist.set_animated(True)
            canvas.draw()  # everything else, once
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self._animated:
            self.fig.draw_artist(artist)

    def image(self, **values):
        """The figure for ``values`` as a PIL image."""
        from PIL import Image

        self.draw(**values)
        return Image.frombuffer("RGBA", self.fig.canvas.get_width_height(), self.fig.canvas.buffer_rgba())

    def render(self, **values):
        """PNG bytes of the figure for ``values`` in full colour (the live form, where speed counts)."""
        buffer = io.BytesIO()
        self.image(**values).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _frame(self, **values):
        """PNG bytes for the static player, reduced to a palette of ``self.colors`` colours."""
        from PIL import Image

        image = self.image(**values).convert("RGB")
        if self.colors is not None:
            image = image.quantize(self.colors, method=Image.Quantize.MEDIANCUT)
        buffer = io.BytesIO()
        image.save(buffer, format="png", optimize=True)
        return buffer.getvalue()

    def frames(self):
        """``{(i, j, ...): PNG bytes}`` for every combination of slider value indices."""
        names = list(self.sliders)
        frames = {}
        for idx in itertools.product(*(range(len(self.sliders[n])) for n in names)):
            frames[idx] = self._frame(**{n: self.sliders[n][i] for n, i in zip(names, idx)})
        self.update(**self.initial)
        return frames

    def to_html(self):
        """The self-contained static player: range inputs switching precomputed PNG frames."""
        names = list(self.sliders)
        frames = {
            ",".join(map(str, idx)): "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            for idx, png in self.frames().items()
        }
        start = [self.sliders[n].index(self.initial[n]) for n in names]
        uid = "explorer-" + hashlib.sha1("".join(frames.values()).encode()).hexdigest()[:12]
        labels = {n: [_fmt(v) for v in self.sliders[n]] for n in names}
        controls = "".join(
            f'<label style="margin-right:1.5em">{html.escape(n)} '
            f'<input type="range" name="{html.escape(n)}" min="0" max="{len(self.sliders[n]) - 1}" '
            f'step="1" value="{i}" aria-label="{html.escape(n)}"> '
            f"<output>{html.escape(labels[n][i])}</output></label>"
            for n, i in zip(names, start)
        )
        first = frames[",".join(map(str, start))]
        alt = html.escape(f"{self.description}: {self.label(**self.initial)}")
        return f"""<div class="optim-explorer" id="{uid}">
<img class="optim-explorer-frame" src="{first}" alt="{alt}" width="{self.width}" style="max-width:100%;height:auto">
<div class="optim-explorer-controls">{controls}</div>
<p class="optim-explorer-hint">The sliders need this page's script: in Jupyter, trust the notebook or run the cell.</p>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  root.querySelector(".optim-explorer-hint").hidden = true;  // the script runs: the sliders work
  var frames = {json.dumps(frames)};
  var labels = {json.dumps(labels)};
  var image = root.querySelector("img");
  var inputs = Array.prototype.slice.call(root.querySelectorAll("input[type=range]"));
  function show() {{
    var parts = inputs.map(function (el) {{
      el.nextElementSibling.textContent = labels[el.name][el.value];
      return el.name + " = " + labels[el.name][el.value];
    }});
    image.src = frames[inputs.map(function (el) {{ return el.value; }}).join(",")];
    image.alt = {json.dumps(self.description)} + ": " + parts.join(", ");
  }}
  inputs.forEach(function (el) {{ el.addEventListener("input", show); }});
}})();
</script>
</div>"""

    def widget(self):
        """The live form: ipywidgets selection sliders, each with its whole value beside it, above an image of
        the figure (rendered at 2x, shown at the figure's size)."""
        import ipywidgets

        image = ipywidgets.Image(value=self.render(**self.initial), format="png", width=self.width)
        controls = {
            n: ipywidgets.SelectionSlider(options=[(_fmt(v), v) for v in values], value=self.initial[n],
                                          description=n, continuous_update=True, readout=False)
            for n, values in self.sliders.items()
        }
        readouts = {n: ipywidgets.Label(value=_fmt(self.initial[n])) for n in self.sliders}

        def on_change(_change):
            values = {n: c.value for n, c in controls.items()}
            for n, value in values.items():
                readouts[n].value = _fmt(value)
            image.value = self.render(**values)

        for control in controls.values():
            control.observe(on_change, names="value")
        rows = [ipywidgets.HBox([controls[n], readouts[n]]) for n in self.sliders]
        return ipywidgets.VBox([ipywidgets.HBox(rows, layout=ipywidgets.Layout(flex_flow="row wrap")), image])

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/html": self.to_html(), "text/plain": f"Explorer({self.label(**self.initial)})"}
        try:
            bundle.update(self.widget()._repr_mimebundle_())
        except ImportError:  # no ipywidgets: the static player still works
            pass
        return bundle


def _style_of(optim, fixed, label, sliders):
    """The house colour and line style of an explorer's optimizer: by its label, else by its class (GD with
    momentum apart); black and solid for an optimizer the house style does not know."""
    name = label if label in COLORS else optim.__name__
    momentum = fixed.get("momentum", 0.0) != 0.0 or ("momentum" in sliders and "momentum" not in fixed)
    if label not in COLORS and name == "GD" and momentum:
        name = "GD + momentum"
    return COLORS.get(name, "black"), LINESTYLES.get(name, "-")


def _optimizer_args(optim, values):
    accepted = inspect.signature(optim).parameters
    return {k: v for k, v in values.items() if k in accepted and k not in START_SLIDERS}


def trajectory_explorer(
    optimizers,
    sliders,
    loss_fn=pathological_loss,
    w_init=(-4.0, 5.0),
    num_steps=100,
    window=(-5, 5, -7, 7),
    N=100,
    initial=None,
    figsize=(WIDTH, 2.8),
    loss_max=None,
    **explorer_kw,
):
    """An explorer of optimizer paths: contours with paths (left) and loss against steps (right).

    Args:
        optimizers: ``[(optim_class, fixed_params), ...]`` or ``[(optim_class, fixed_params, label), ...]``
            compared side by side, e.g. ``[(GD, {"momentum": 0.0}, "GD"), (GD, {}, "GD + momentum")]``.
            Each is drawn in its optimizer's colour and line style of :data:`optim_helpers.style.COLORS`.
        sliders: ``{name: values}``. A name that is a constructor argument of an optimizer (``lr``,
            ``momentum``, ``beta``, ``beta1``, ...) is passed to it, unless that optimizer fixes it in
            ``fixed_params``; ``start`` (a pair) or ``w0``, ``w1`` move the start; ``num_steps`` sets
            the run length.
        loss_fn, w_init, num_steps: the surface, the default start and the default run length.
        window, N: the contour window ``(x_min, x_max, y_min, y_max)`` and grid size (computed once).
        loss_max: top of the loss axis (default: the highest loss in the window, plus 5 %).

    Returns:
        An :class:`Explorer`; ``explorer.paths(**values)`` gives the paths it draws.
    """
    optimizers = [(entry[0], entry[1], entry[2] if len(entry) > 2 else path_label(*entry[:2])) for entry in optimizers]
    known = set(START_SLIDERS).union(*(inspect.signature(optim).parameters for optim, _, _ in optimizers))
    unknown = sorted(set(sliders) - known)
    if unknown:
        raise ValueError(f"Invalid slider(s) {unknown}: not an argument of any optimizer here, nor one of "
                         f"{list(START_SLIDERS)}")
    fig = Figure(figsize=figsize, layout="constrained")  # outside pyplot: shown only through the explorer
    ax_path, ax_loss = fig.subplots(1, 2)
    x_min, x_max, y_min, y_max = window
    longest = max([num_steps] + list(sliders.get("num_steps", [])))
    empty = np.full((1, 3), np.nan)
    path_lines, loss_lines = [], []
    for optim, fixed, label in optimizers:
        color, linestyle = _style_of(optim, fixed, label, sliders)
        # thin and slightly transparent: a path that bounces across a valley shows its extent, not a block
        plot_contourf(ax_path, loss_fn, empty, color, x_min=x_min, x_max=x_max, y_min=y_min, y_max=y_max, N=N,
                      markersize=1.5, linewidth=0.8, alpha=0.8, linestyle=linestyle)
        path_lines.append(ax_path.lines[-1])
        (line,) = ax_loss.plot([], [], color=color, linestyle=linestyle, label=label, linewidth=1.0, alpha=0.9)
        loss_lines.append(line)
    (start_marker,) = ax_path.plot([], [], gid="start", **START)
    ax_path.set_xlim(x_min, x_max)
    ax_path.set_ylim(y_min, y_max)
    if loss_max is None:
        loss_max = float(np.nanmax(surface_grid(loss_fn, x_min, x_max, y_min, y_max, N)[2])) * 1.05
    ax_loss.set(xlim=(0, longest), ylim=(0.0, loss_max), xlabel="steps", ylabel="loss")
    ax_loss.grid(True)
    ax_loss.legend(loc="upper right")

    def start_of(values):
        w0, w1 = values.get("start", w_init)
        return values.get("w0", w0), values.get("w1", w1)

    # The paths for every combination of the lr and start sliders come from one batched run per
    # optimizer (K rows, paired starts and rates) and are kept: moving those sliders only redraws;
    # moving another slider (momentum, beta, ...) runs one new batch.
    batched = [name for name in ("lr", "start", "w0", "w1") if name in sliders]
    combos = list(itertools.product(*(sliders[name] for name in batched)))
    batches = {}

    def paths(**values):
        others = tuple(sorted((k, v) for k, v in values.items() if k not in batched))
        if others not in batches:
            settings = [{**values, **dict(zip(batched, combo))} for combo in combos]
            lrs = [v["lr"] for v in settings] if "lr" in batched else None
            batches[others] = [
                train_curves(optim, {**_optimizer_args(optim, dict(others)), **fixed},
                             w_inits=[start_of(v) for v in settings], lrs=lrs, loss_fn=loss_fn,
                             num_steps=int(values.get("num_steps", num_steps)))
                for optim, fixed, _ in optimizers
            ]
        row = combos.index(tuple(values[name] for name in batched))
        return [batch[row] for batch in batches[others]]

    def update(**values):
        for path, path_line, loss_line in zip(paths(**values), path_lines, loss_lines):
            path_line.set_data(path[:, 0], path[:, 1])
            loss_line.set_data(np.arange(len(path)), path[:, 2])
        start_marker.set_data(*([c] for c in start_of(values)))

    minima = [line for line in ax_path.lines if line.get_gid() == "minimum"]  # painted over the paths
    animated = [*path_lines, *loss_lines, *minima, start_marker]
    names = " and ".join(label for _, _, label in optimizers)
    explorer_kw.setdefault("description", f"Paths of {names} on the loss contours (left), and their loss "
                                          "against steps (right)")
    explorer = Explorer(fig, update, sliders, initial=initial, animated=animated, **explorer_kw)
    explorer.paths = paths
    explorer.update(**explorer.initial)
    return explorer
