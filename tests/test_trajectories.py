"""train_curve against a hand-written loop; the batched form against single runs; divergence."""

import functools

import numpy as np
import pytest
import torch

from optim_helpers import (
    GD,
    Adam,
    AdamW,
    RMSProp,
    ill_conditioned_quadratic,
    pathological_loss,
    rosenbrock,
    train_curve,
    train_curves,
)


def hand_written(optim_cls, params, w_init, loss_fn, num_steps, scheduler=None):
    w = torch.nn.Parameter(torch.tensor(w_init))
    optimizer = optim_cls([w], **params)
    schedule = scheduler(optimizer) if scheduler else None
    rows = []
    for _ in range(num_steps):
        loss = loss_fn(w[0], w[1])
        rows.append([w[0].item(), w[1].item(), loss.item()])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if schedule:
            schedule.step()
    rows.append([w[0].item(), w[1].item(), loss_fn(w[0], w[1]).item()])
    return np.array(rows, dtype=np.float32)


@pytest.mark.parametrize("optim_cls, params", [(GD, {"lr": 1.0}), (GD, {"lr": 0.5, "momentum": 0.9}),
                                               (RMSProp, {"lr": 0.3}), (Adam, {"lr": 0.3})])
def test_equals_hand_written_loop(optim_cls, params):
    path = train_curve(optim_cls, params, w_init=[-4.0, 5.0], num_steps=80)
    np.testing.assert_array_equal(path, hand_written(optim_cls, params, [-4.0, 5.0], pathological_loss, 80))


def test_rows_hold_their_own_loss():
    path = train_curve(GD, {"lr": 0.5}, w_init=[-1.0, 2.0], num_steps=30)
    assert path.shape == (31, 3) and path.dtype == np.float32
    np.testing.assert_array_equal(path[0, :2], [-1.0, 2.0])
    recomputed = pathological_loss(torch.from_numpy(path[:, 0]), torch.from_numpy(path[:, 1])).numpy()
    np.testing.assert_allclose(path[:, 2], recomputed, rtol=1e-6)  # not the previous row's loss
    assert not np.allclose(path[1:, 2], recomputed[:-1], rtol=1e-6)


def test_scheduler_argument():
    step_lr = functools.partial(torch.optim.lr_scheduler.StepLR, step_size=10, gamma=0.5)
    path = train_curve(GD, {"lr": 1.0}, w_init=[-1.0, 2.0], num_steps=40, scheduler=step_lr)
    np.testing.assert_array_equal(path, hand_written(GD, {"lr": 1.0}, [-1.0, 2.0], pathological_loss, 40, step_lr))
    assert not np.array_equal(path, train_curve(GD, {"lr": 1.0}, w_init=[-1.0, 2.0], num_steps=40))


def test_reduce_on_plateau_gets_the_loss():
    plateau = functools.partial(torch.optim.lr_scheduler.ReduceLROnPlateau, patience=2, factor=0.5)
    path = train_curve(GD, {"lr": 3.0}, w_init=[-4.0, 5.0], num_steps=50, scheduler=plateau)
    assert np.isfinite(path).all()


def test_divergence_returns_non_finite_rows():
    path = train_curve(GD, {"lr": 0.5}, w_init=[-2.0, 2.0], loss_fn=rosenbrock, num_steps=40)
    assert np.isfinite(path[0]).all() and not np.isfinite(path[-1]).all()


def test_zero_steps_and_bad_steps():
    assert train_curve(GD, {"lr": 0.1}, w_init=[1.0, 1.0], num_steps=0).shape == (1, 3)
    for bad in (-1, 2.5):
        with pytest.raises(ValueError, match="num_steps"):
            train_curve(GD, {"lr": 0.1}, num_steps=bad)
        with pytest.raises(ValueError, match="num_steps"):
            train_curves(GD, {"lr": 0.1}, num_steps=bad)


@pytest.mark.parametrize("optim_cls, params, dtype", [
    (GD, {}, torch.float32), (GD, {"momentum": 0.9}, torch.float32), (RMSProp, {}, torch.float32),
    (Adam, {}, torch.float64), (AdamW, {"weight_decay": 0.1}, torch.float64),
])
def test_batched_learning_rates_equal_single_runs(optim_cls, params, dtype):
    lrs = [0.05, 0.3, 1.0, 3.0]
    batched = train_curves(optim_cls, params, w_inits=[-4.0, 5.0], lrs=lrs, num_steps=120, dtype=dtype)
    assert batched.shape == (4, 121, 3)
    for lr, path in zip(lrs, batched):
        single = train_curve(optim_cls, {**params, "lr": lr}, w_init=[-4.0, 5.0], num_steps=120, dtype=dtype)
        np.testing.assert_array_equal(path, single)


def test_batched_adam_in_float32_is_close():
    batched = train_curves(Adam, {}, w_inits=[-4.0, 5.0], lrs=[0.1, 0.3], num_steps=100)
    for lr, path in zip([0.1, 0.3], batched):
        np.testing.assert_allclose(path, train_curve(Adam, {"lr": lr}, w_init=[-4.0, 5.0], num_steps=100), atol=1e-4)


def test_batched_starts_equal_single_runs():
    starts = [[-4.0, 5.0], [-4.0, -6.0], [1.0, 1.0]]
    batched = train_curves(GD, {"lr": 0.5, "momentum": 0.8}, w_inits=starts, num_steps=60)
    for start, path in zip(starts, batched):
        np.testing.assert_array_equal(path, train_curve(GD, {"lr": 0.5, "momentum": 0.8}, w_init=start, num_steps=60))


def test_one_diverging_row_leaves_the_others_alone():
    batched = train_curves(GD, {}, w_inits=[4.0, 1.0], lrs=[0.05, 0.2], loss_fn=ill_conditioned_quadratic,
                           num_steps=300)
    assert np.isfinite(batched[0]).all() and not np.isfinite(batched[1, -1]).all()
    single = train_curve(GD, {"lr": 0.05}, w_init=[4.0, 1.0], loss_fn=ill_conditioned_quadratic, num_steps=300)
    np.testing.assert_array_equal(batched[0], single)


def test_batched_bad_input():
    with pytest.raises(ValueError, match="2 starts for 3 learning rates"):
        train_curves(GD, {}, w_inits=[[0.0, 0.0], [1.0, 1.0]], lrs=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="scheduler"):
        train_curves(GD, {}, w_inits=[0.0, 0.0], lrs=[0.1], scheduler=torch.optim.lr_scheduler.ConstantLR)
    with pytest.raises(ValueError, match="w_inits shape"):
        train_curves(GD, {"lr": 0.1}, w_inits=[[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        train_curves(GD, {}, w_inits=[0.0, 0.0], lrs=[0.1, -0.1])
