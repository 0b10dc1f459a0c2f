"""Bad input is a ValueError naming the value wherever it enters, and edge cases behave as torch's do."""

import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from optim_helpers import (
    GD,
    cosine_lr,
    exponential_lr,
    least_squares,
    multistep_lr,
    pick_device,
    step_lr,
    surface_grid,
    surface_range_test,
    torch_lrs,
    train_curve,
    train_curves,
    trajectory_explorer,
)
from optim_helpers.surfaces import pathological_loss


@pytest.mark.parametrize("start", [(1.0, 2.0, 3.0), [[1.0, 2.0], [3.0, 4.0]], (1.0,), (math.nan, 0.0), "ab", ((1, 2), 3)],
                         ids=str)
def test_a_start_that_is_not_two_finite_numbers_is_rejected(start):
    with pytest.raises(ValueError, match="Invalid w_init"):
        train_curve(GD, {"lr": 0.1}, w_init=start, num_steps=3)
    with pytest.raises(ValueError, match="Invalid w_init"):
        surface_range_test(GD, {}, w_init=start, num_steps=20)


def test_train_curves_rejects_empty_and_non_finite_input():
    with pytest.raises(ValueError, match="Invalid lrs"):
        train_curves(GD, {"lr": 0.1}, lrs=[])
    with pytest.raises(ValueError, match="Invalid w_inits"):
        train_curves(GD, {"lr": 0.1}, w_inits=np.zeros((0, 2)))
    with pytest.raises(ValueError, match="Invalid w_inits"):
        train_curves(GD, {"lr": 0.1}, w_inits=[[0.0, math.inf]])


def test_a_per_row_rate_of_the_wrong_shape_is_rejected_by_the_constructor():
    w = torch.zeros(3, 2, requires_grad=True)
    with pytest.raises(ValueError, match=r"Invalid learning rate shape \(2, 1\)"):
        GD([w], lr=torch.full((2, 1), 0.1))
    GD([w], lr=torch.full((3, 1), 0.1))  # one rate per row broadcasts


@pytest.mark.parametrize("schedule, kw", [(step_lr, dict(step_size=1)), (multistep_lr, dict(milestones=list(range(1, 2000)))),
                                          (exponential_lr, {})])
def test_growing_schedules_reach_inf_as_torch_does(schedule, kw):
    assert schedule(2000, 1.0, gamma=2.0, **kw) == math.inf
    assert schedule(10, 1.0, gamma=2.0, **kw) == 2.0**10


def test_a_0d_tensor_rate_is_a_rate_in_the_schedules():
    assert step_lr(150, torch.tensor(0.5), step_size=100, gamma=0.5) == 0.25


def test_cosine_floor_above_the_rate_is_rejected_as_in_warmup_cosine():
    with pytest.raises(ValueError, match="Invalid eta_min: 0.2"):
        cosine_lr(0, 0.1, T_max=10, eta_min=0.2)
    assert torch_lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01), 3, lr=0.1)[3] == \
        pytest.approx(cosine_lr(3, 0.1, T_max=10, eta_min=0.01), rel=1e-12)


def test_least_squares_rejects_non_finite_data():
    X = torch.tensor([[1.0, 0.0], [1.0, math.nan]])
    with pytest.raises(ValueError, match="must be finite"):
        least_squares(X, torch.zeros(2))


def test_explorer_rejects_a_slider_no_optimizer_takes():
    with pytest.raises(ValueError, match=r"Invalid slider\(s\) \['momentun'\]"):
        trajectory_explorer([(GD, {})], {"lr": [0.1], "momentun": [0.5]}, num_steps=2)


@pytest.mark.parametrize("N", [2.7, True, "50"], ids=str)
def test_grid_size_must_be_an_int(N):
    with pytest.raises(ValueError, match="Invalid grid size N"):
        surface_grid(pathological_loss, N=N)


def test_pick_device_checks_that_the_device_exists():
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match="no MPS device"):
            pick_device("mps")
    with pytest.raises(ValueError, match="must be 'cpu', 'cuda' or 'mps'"):
        pick_device("meta")
    assert pick_device("cpu") == torch.device("cpu")
