"""train_curve against a hand-written loop and closed forms; train_curves against single runs."""

import warnings
from functools import partial

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from optim_helpers import (
    GD,
    Adam,
    AdamW,
    RMSProp,
    bowl,
    ill_conditioned_quadratic,
    pathological_loss,
    rosenbrock,
    train_curve,
    train_curves,
)

START = (-4.0, 5.0)


def hand_written(optim, optim_params, w_init, loss_fn, num_steps, scheduler=None, dtype=torch.float32):
    """The loop train_curve stands for: record (w, loss(w)), then zero_grad, backward, step, schedule."""
    w = torch.nn.Parameter(torch.tensor(w_init, dtype=dtype))
    optimizer = optim([w], **optim_params)
    schedule = scheduler(optimizer) if scheduler else None
    rows = []
    for t in range(num_steps + 1):
        loss = loss_fn(w[0], w[1])
        rows.append([w[0].item(), w[1].item(), loss.item()])
        if t == num_steps:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if isinstance(schedule, lr_scheduler.ReduceLROnPlateau):
            schedule.step(loss.item())
        elif schedule:
            schedule.step()
    return np.array(rows, dtype=torch.empty(0, dtype=dtype).numpy().dtype)


OPTIMS = [
    (GD, {"lr": 1.0}),
    (GD, {"lr": 0.5, "momentum": 0.9}),
    (RMSProp, {"lr": 0.3}),
    (Adam, {"lr": 0.3}),
    (AdamW, {"lr": 0.3, "weight_decay": 0.1}),
    (torch.optim.SGD, {"lr": 0.5, "momentum": 0.5}),  # any torch.optim class works too
]


def optim_id(x):
    """Readable test ids: class names, settings, dtypes, tolerances."""
    if isinstance(x, dict):
        return ",".join(f"{k}={v}" for k, v in x.items()) or "defaults"
    if isinstance(x, torch.dtype):
        return str(x).removeprefix("torch.")
    return getattr(x, "__name__", None) or f"atol={x}"


# --- train_curve ---


@pytest.mark.parametrize("loss_fn, w_init", [(pathological_loss, START), (rosenbrock, (-1.0, 1.5))],
                         ids=["pathological", "rosenbrock"])
@pytest.mark.parametrize("optim, optim_params", OPTIMS, ids=optim_id)
def test_equals_hand_written_loop(optim, optim_params, loss_fn, w_init):
    params = dict(optim_params, lr=optim_params["lr"] / 100) if loss_fn is rosenbrock else optim_params
    path = train_curve(optim, params, w_init=w_init, loss_fn=loss_fn, num_steps=60)
    np.testing.assert_array_equal(path, hand_written(optim, params, w_init, loss_fn, 60))


def test_shape_start_and_dtype():
    path = train_curve(GD, {"lr": 0.5}, w_init=START, num_steps=30)
    assert path.shape == (31, 3) and path.dtype == np.float32
    assert tuple(path[0, :2]) == START
    assert path[0, 2] == pathological_loss(torch.tensor(START[0]), torch.tensor(START[1])).item()
    assert train_curve(GD, {"lr": 0.5}, w_init=START, num_steps=30, dtype=torch.float64).dtype == np.float64


def test_row_t_holds_the_loss_at_row_t():
    """A common version logs the loss one step late; here row t's loss is loss(w_t)."""
    path = train_curve(GD, {"lr": 0.5}, w_init=(-1.0, 2.0), num_steps=30)
    recomputed = np.array([pathological_loss(torch.tensor(a), torch.tensor(b)).item() for a, b in path[:, :2]])
    np.testing.assert_array_equal(path[:, 2], recomputed)
    assert not np.allclose(path[1:, 2], recomputed[:-1], rtol=1e-6)  # the late log would be this


def test_defaults_are_the_texts():
    """Defaults: GD on pathological_loss from (5, 5) for 100 steps."""
    np.testing.assert_array_equal(train_curve(GD, {"lr": 0.1}),
                                  hand_written(GD, {"lr": 0.1}, (5.0, 5.0), pathological_loss, 100))


@pytest.mark.parametrize("lr", [0.01, 0.03, 0.09])
def test_gd_on_quadratic_follows_closed_form(lr):
    """GD on (a w0^2 + b w1^2) / 2 contracts each coordinate by (1 - lr a), (1 - lr b) per step."""
    path = train_curve(GD, {"lr": lr}, w_init=(4.0, 1.0), loss_fn=ill_conditioned_quadratic, num_steps=50,
                       dtype=torch.float64)
    t = np.arange(51)
    np.testing.assert_allclose(path[:, 0], 4.0 * (1 - lr * 1.0) ** t, rtol=1e-12)
    np.testing.assert_allclose(path[:, 1], 1.0 * (1 - lr * 20.0) ** t, rtol=1e-12)


SCHEDULES = {
    "StepLR": partial(lr_scheduler.StepLR, step_size=10, gamma=0.5),
    "CosineAnnealingLR": partial(lr_scheduler.CosineAnnealingLR, T_max=40, eta_min=0.01),
    "OneCycleLR": partial(lr_scheduler.OneCycleLR, max_lr=2.0, total_steps=40, cycle_momentum=False),
    "MultiStepLR": partial(lr_scheduler.MultiStepLR, milestones=[5, 25], gamma=0.2),
}


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("optim, optim_params", [(GD, {"lr": 1.0}), (Adam, {"lr": 0.3})], ids=optim_id)
def test_scheduler_argument_equals_hand_written_loop(optim, optim_params, name):
    scheduler = SCHEDULES[name]
    path = train_curve(optim, optim_params, w_init=START, num_steps=40, scheduler=scheduler)
    np.testing.assert_array_equal(path, hand_written(optim, optim_params, START, pathological_loss, 40, scheduler))
    assert not np.array_equal(path, train_curve(optim, optim_params, w_init=START, num_steps=40))


PLATEAU = partial(lr_scheduler.ReduceLROnPlateau, patience=2, factor=0.5)


def test_reduce_lr_on_plateau_reduces_on_a_plateau():
    """GD with lr=1 on the bowl flips w -> -w forever; the plateau halves lr to 0.5, which jumps to 0."""
    flat = train_curve(GD, {"lr": 1.0}, w_init=(1.0, -2.0), loss_fn=bowl, num_steps=10)
    assert (flat[:, 2] == 5.0).all()
    path = train_curve(GD, {"lr": 1.0}, w_init=(1.0, -2.0), loss_fn=bowl, num_steps=10, scheduler=PLATEAU)
    np.testing.assert_array_equal(path, hand_written(GD, {"lr": 1.0}, (1.0, -2.0), bowl, 10, PLATEAU))
    assert path[-1, 2] == 0.0


def test_reduce_lr_on_plateau_is_given_the_loss():
    """A loss that keeps falling is no plateau: the lr, and so the path, stay as without a scheduler."""
    path = train_curve(GD, {"lr": 0.1}, w_init=(1.0, -2.0), loss_fn=bowl, num_steps=20, scheduler=PLATEAU)
    np.testing.assert_array_equal(path, train_curve(GD, {"lr": 0.1}, w_init=(1.0, -2.0), loss_fn=bowl, num_steps=20))
    np.testing.assert_array_equal(path, hand_written(GD, {"lr": 0.1}, (1.0, -2.0), bowl, 20, PLATEAU))


@pytest.mark.parametrize("loss_fn, w_init, lr", [(rosenbrock, (-2.0, 2.0), 10.0),
                                                 (ill_conditioned_quadratic, (4.0, 1.0), 0.15)],
                         ids=["rosenbrock", "ill_conditioned"])
def test_divergence_gives_non_finite_rows_and_never_raises(loss_fn, w_init, lr):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = train_curve(GD, {"lr": lr}, w_init=w_init, loss_fn=loss_fn, num_steps=300)
    assert path.shape == (301, 3)
    assert np.isfinite(path[0]).all() and not np.isfinite(path[-1]).all()


def test_stability_threshold_of_the_quadratic():
    """GD on the quadratic is stable for lr < 2/b (b = 20) and diverges above it."""
    below = train_curve(GD, {"lr": 0.099}, w_init=(4.0, 1.0), loss_fn=ill_conditioned_quadratic, num_steps=300)
    above = train_curve(GD, {"lr": 0.101}, w_init=(4.0, 1.0), loss_fn=ill_conditioned_quadratic, num_steps=300)
    assert below[-1, 2] < below[0, 2] and above[-1, 2] > above[0, 2]


def test_only_the_trajectory_receives_gradients():
    """A loss that also reaches another tensor requiring grad leaves that tensor's .grad alone."""
    scale = torch.tensor(2.0, requires_grad=True)
    path = train_curve(GD, {"lr": 0.1}, w_init=(1.0, 1.0), loss_fn=lambda w0, w1: scale * (w0**2 + w1**2),
                       num_steps=5)
    assert scale.grad is None
    np.testing.assert_allclose(path[-1, :2], [0.6**5, 0.6**5], rtol=1e-6)


def test_zero_steps_gives_the_start():
    path = train_curve(GD, {"lr": 0.1}, w_init=(1.0, 2.0), num_steps=0)
    np.testing.assert_array_equal(path, hand_written(GD, {"lr": 0.1}, (1.0, 2.0), pathological_loss, 0))
    assert path.shape == (1, 3)


@pytest.mark.parametrize("bad", [-1, 2.5, "10", None])
@pytest.mark.parametrize("func", [train_curve, train_curves])
def test_bad_num_steps(func, bad):
    with pytest.raises(ValueError, match="num_steps") as info:
        func(GD, {"lr": 0.1}, num_steps=bad)
    assert str(bad) in str(info.value)


# --- train_curves: K trajectories at once ---

LRS = [0.05, 0.3, 1.0, 3.0, 0.1234567]  # the last one is not exact in float32
STARTS = [[-4.0, 5.0], [-4.0, -6.0], [1.0, 1.0], [20.0, 3.0], [0.5, -0.2]]
BATCHED = [
    (GD, {}, torch.float32, 0.0),
    (GD, {"momentum": 0.9}, torch.float32, 0.0),
    (RMSProp, {}, torch.float32, 0.0),
    (RMSProp, {"beta": 0.5, "eps": 1e-3}, torch.float32, 0.0),
    (Adam, {}, torch.float64, 0.0),
    (AdamW, {"weight_decay": 0.1}, torch.float64, 0.0),
    (Adam, {"beta1": 0.8}, torch.float32, 0.0),
    (AdamW, {"weight_decay": 0.1}, torch.float32, 0.0),
]


@pytest.mark.parametrize("optim, optim_params, dtype, atol", BATCHED, ids=optim_id)
def test_batched_learning_rates_equal_single_runs(optim, optim_params, dtype, atol):
    batched = train_curves(optim, optim_params, w_inits=START, lrs=LRS, num_steps=120, dtype=dtype)
    assert batched.shape == (len(LRS), 121, 3)
    for lr, path in zip(LRS, batched):
        single = train_curve(optim, {**optim_params, "lr": lr}, w_init=START, num_steps=120, dtype=dtype)
        np.testing.assert_allclose(path, single, rtol=0.0, atol=atol)


@pytest.mark.parametrize("optim, optim_params", [
    (GD, {"lr": 0.5}), (GD, {"lr": 0.5, "momentum": 0.8}), (RMSProp, {"lr": 0.3}), (Adam, {"lr": 0.3}),
    (AdamW, {"lr": 0.3, "weight_decay": 0.1}),
], ids=optim_id)
def test_batched_starts_equal_single_runs(optim, optim_params):
    batched = train_curves(optim, optim_params, w_inits=STARTS, num_steps=80)
    assert batched.shape == (len(STARTS), 81, 3)
    for start, path in zip(STARTS, batched):
        np.testing.assert_array_equal(path, train_curve(optim, optim_params, w_init=start, num_steps=80))


def test_batched_starts_with_scheduler_equal_single_runs():
    step = partial(lr_scheduler.StepLR, step_size=10, gamma=0.5)
    batched = train_curves(GD, {"lr": 1.0}, w_inits=STARTS, num_steps=40, scheduler=step)
    for start, path in zip(STARTS, batched):
        np.testing.assert_array_equal(path, train_curve(GD, {"lr": 1.0}, w_init=start, num_steps=40, scheduler=step))


def test_paired_starts_and_learning_rates():
    batched = train_curves(GD, {"momentum": 0.5}, w_inits=STARTS, lrs=LRS, num_steps=50)
    for start, lr, path in zip(STARTS, LRS, batched):
        single = train_curve(GD, {"lr": lr, "momentum": 0.5}, w_init=start, num_steps=50)
        np.testing.assert_array_equal(path, single)


@pytest.mark.parametrize("w_inits", [(5.0, 5.0), ((5.0, 5.0),)], ids=["(2,)", "(1,2)"])
def test_one_start_is_shared_by_every_learning_rate(w_inits):
    """Including the default w_inits, which is one row of shape (1, 2)."""
    for batched in (train_curves(GD, {}, w_inits=w_inits, lrs=[0.1, 2.0], num_steps=20),
                    train_curves(GD, {}, lrs=[0.1, 2.0], num_steps=20)):
        for lr, path in zip([0.1, 2.0], batched):
            np.testing.assert_array_equal(path, train_curve(GD, {"lr": lr}, num_steps=20))


def test_one_diverging_row_leaves_the_others_alone():
    lrs = [0.05, 0.15, 0.09]  # 2/b = 0.1: the middle one diverges
    batched = train_curves(GD, {}, w_inits=[4.0, 1.0], lrs=lrs, loss_fn=ill_conditioned_quadratic, num_steps=300)
    assert not np.isfinite(batched[1, -1]).all()
    for k in (0, 2):
        assert np.isfinite(batched[k]).all()
        single = train_curve(GD, {"lr": lrs[k]}, w_init=[4.0, 1.0], loss_fn=ill_conditioned_quadratic, num_steps=300)
        np.testing.assert_array_equal(batched[k], single)


@pytest.mark.parametrize("kwargs, message", [
    (dict(w_inits=[[0.0, 0.0], [1.0, 1.0]], lrs=[0.1, 0.2, 0.3]), "2 starts for 3 learning rates"),
    (dict(w_inits=[0.0, 0.0], lrs=[0.1], scheduler=lr_scheduler.ConstantLR), "scheduler"),
    (dict(w_inits=[[0.0, 0.0, 0.0]]), "w_inits shape"),
    (dict(w_inits=[0.0, 0.0]), "w_inits shape"),  # one start without lrs: say (1, 2)
    (dict(w_inits=[0.0, 0.0], lrs=[0.1, -0.1]), "Invalid learning rate"),
    (dict(w_inits=[0.0, 0.0], lrs=[0.1, float("nan")]), "Invalid learning rate"),
])
def test_batched_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_curves(GD, {"lr": 0.1}, **kwargs)
