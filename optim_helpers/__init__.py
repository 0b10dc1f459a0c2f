"""optim_helpers: the code behind the optimization book.

Optimizers (``GD``, ``RMSProp``, ``Adam``, ``AdamW``) are ``torch.optim.Optimizer`` subclasses;
surfaces are broadcasting functions ``f(w0, w1)``; ``train_curve`` and ``train_curves`` record
trajectories; the ``plot_*`` functions draw them; explorers add sliders. Real models: the digits
data (``load_digits_tensors``, ``load_digits_splits``, ``digits_loaders``), small MLPs and their training loop (``mlp``,
``BatchedMLP``, ``train``, ``evaluate``), and probes of their landscape (Hessian-vector products, power
iteration, filter-normalized 2-D slices, minimum-energy paths).
"""

from .batching import (
    DelayedDataset,
    accumulate_gradients,
    accumulation_groups,
    linear_scaling_lr,
    minibatch_gradient_variance,
    per_example_gradients,
    predicted_gradient_variance,
    train_accumulated,
)
from .data import digits_loaders, linear_regression_data, load_digits_splits, load_digits_tensors
from .device import pick_device
from .distributed import data_parallel_train, default_backend, free_port, global_batches, large_batch_train
from .ensembles import ensemble_evaluate, ensemble_probabilities, train_snapshots
from .hessian import (
    filter_normalized_direction,
    flatten,
    full_hessian,
    functional_loss,
    hessian_vector_product,
    loss_slice_2d,
    minimum_energy_path,
    power_iteration,
    slice_curvature,
    top_hessian_eigenvalue,
    unflatten,
)
from .lr_finder import (
    RangeTestResult,
    lr_range_test,
    lr_sweep,
    plot_lr_range_test,
    smooth_losses,
    suggest_lr,
    surface_range_test,
)
from .after_adam import NAdam, RAdam
from .optimizers import GD, Adam, AdamW, OptimizerBase, RMSProp
from .plotting import path_label, plot_contourf, plot_gd_steps, plot_path, plot_surface, surface_grid
from .schedules import (
    cosine_lr,
    cosine_warm_restarts_lr,
    exponential_lr,
    linear_lr,
    multistep_lr,
    one_cycle_lr,
    reduce_on_plateau,
    sequential_lr,
    step_lr,
    torch_lrs,
    warmup_cosine_lr,
)
from .sgd import least_squares, minibatch_gradients, minibatch_indices, mse_loss_surface, sgd_path, sgd_paths
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
from .training import MLP, BatchedMLP, accuracy, cross_entropy, evaluate, mlp, train
from .trajectories import train_curve, train_curves
from .widgets import Explorer, trajectory_explorer

__all__ = [
    "OptimizerBase",
    "GD",
    "RMSProp",
    "Adam",
    "AdamW",
    "NAdam",
    "RAdam",
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
    "pick_device",
    "load_digits_splits",
    "load_digits_tensors",
    "digits_loaders",
    "linear_regression_data",
    "least_squares",
    "mse_loss_surface",
    "minibatch_gradients",
    "minibatch_indices",
    "sgd_path",
    "sgd_paths",
    "MLP",
    "mlp",
    "BatchedMLP",
    "cross_entropy",
    "accuracy",
    "train",
    "evaluate",
    "functional_loss",
    "flatten",
    "unflatten",
    "hessian_vector_product",
    "full_hessian",
    "power_iteration",
    "top_hessian_eigenvalue",
    "filter_normalized_direction",
    "loss_slice_2d",
    "slice_curvature",
    "minimum_energy_path",
    "per_example_gradients",
    "minibatch_gradient_variance",
    "predicted_gradient_variance",
    "accumulation_groups",
    "accumulate_gradients",
    "train_accumulated",
    "linear_scaling_lr",
    "DelayedDataset",
    "free_port",
    "default_backend",
    "global_batches",
    "data_parallel_train",
    "large_batch_train",
    "RangeTestResult",
    "lr_sweep",
    "smooth_losses",
    "suggest_lr",
    "lr_range_test",
    "surface_range_test",
    "plot_lr_range_test",
    "step_lr",
    "multistep_lr",
    "exponential_lr",
    "linear_lr",
    "cosine_lr",
    "cosine_warm_restarts_lr",
    "warmup_cosine_lr",
    "one_cycle_lr",
    "sequential_lr",
    "reduce_on_plateau",
    "torch_lrs",
    "train_snapshots",
    "ensemble_probabilities",
    "ensemble_evaluate",
]
