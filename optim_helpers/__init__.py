"""optim_helpers: the code behind the optimization book.

Optimizers (``GD``, ``RMSProp``, ``Adam``, ``AdamW``) are ``torch.optim.Optimizer`` subclasses;
surfaces are broadcasting functions ``f(w0, w1)``; ``train_curve`` and ``train_curves`` record
trajectories; the ``plot_*`` functions draw them; explorers add sliders.
"""

from .optimizers import GD, Adam, AdamW, OptimizerBase, RMSProp
from .plotting import path_label, plot_contourf, plot_gd_steps, plot_path, plot_surface, surface_grid
from .surfaces import (
    bowl,
    cap,
    double_well,
    flat_saddle,
    himmelblau,
    ill_conditioned_quadratic,
    pathological_loss,
    rosenbrock,
    saddle,
)
from .trajectories import train_curve, train_curves
from .widgets import Explorer, trajectory_explorer

__all__ = [
    "OptimizerBase",
    "GD",
    "RMSProp",
    "Adam",
    "AdamW",
    "pathological_loss",
    "ill_conditioned_quadratic",
    "bowl",
    "cap",
    "saddle",
    "flat_saddle",
    "double_well",
    "rosenbrock",
    "himmelblau",
    "train_curve",
    "train_curves",
    "surface_grid",
    "plot_surface",
    "plot_contourf",
    "plot_path",
    "plot_gd_steps",
    "path_label",
    "Explorer",
    "trajectory_explorer",
]
