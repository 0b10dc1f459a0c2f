"""Closed-form schedules against torch.optim.lr_scheduler, over many steps, and their input checks."""

import functools
import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as S

from optim_helpers import schedules as sch

P = functools.partial
RTOL = 1e-12
LR = 0.3


def closed(fn, n, **kw):
    return np.array([fn(t, **kw) for t in range(n + 1)])


def assert_match(ours, theirs):
    # torch's recursions (cosine) drift from the closed form by a few 1e-13, relative
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0)


CASES = [
    ("step", P(sch.step_lr, lr=LR, step_size=100, gamma=0.5), P(S.StepLR, step_size=100, gamma=0.5), 1000),
    ("step default gamma", P(sch.step_lr, lr=LR, step_size=7), P(S.StepLR, step_size=7), 100),
    ("multistep", P(sch.multistep_lr, lr=LR, milestones=[80, 30, 500], gamma=0.5),
     P(S.MultiStepLR, milestones=[80, 30, 500], gamma=0.5), 1000),
    ("multistep repeated", P(sch.multistep_lr, lr=LR, milestones=[3, 3, 9]),
     P(S.MultiStepLR, milestones=[3, 3, 9]), 20),
    ("exponential", P(sch.exponential_lr, lr=LR, gamma=0.995), P(S.ExponentialLR, gamma=0.995), 1000),
    ("linear", P(sch.linear_lr, lr=LR, start_factor=0.1, end_factor=0.7, total_iters=40),
     P(S.LinearLR, start_factor=0.1, end_factor=0.7, total_iters=40), 200),
    ("linear defaults", P(sch.linear_lr, lr=LR), P(S.LinearLR), 20),
    ("cosine", P(sch.cosine_lr, lr=LR, T_max=100), P(S.CosineAnnealingLR, T_max=100), 1000),
    ("cosine eta_min odd T", P(sch.cosine_lr, lr=LR, T_max=37, eta_min=0.01),
     P(S.CosineAnnealingLR, T_max=37, eta_min=0.01), 1000),
    ("restarts", P(sch.cosine_warm_restarts_lr, lr=LR, T_0=50), P(S.CosineAnnealingWarmRestarts, T_0=50), 1000),
    ("restarts T_mult 2", P(sch.cosine_warm_restarts_lr, lr=LR, T_0=10, T_mult=2, eta_min=0.01),
     P(S.CosineAnnealingWarmRestarts, T_0=10, T_mult=2, eta_min=0.01), 1000),
    ("restarts T_mult 3", P(sch.cosine_warm_restarts_lr, lr=LR, T_0=7, T_mult=3),
     P(S.CosineAnnealingWarmRestarts, T_0=7, T_mult=3), 1000),
]


@pytest.mark.parametrize("name, ours, theirs, n", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, ours, theirs, n):
    assert_match(closed(ours, n), sch.torch_lrs(theirs, n, lr=LR))


@pytest.mark.parametrize("total, pct, anneal, three", [
    (1000, 0.3, "cos", False), (333, 0.25, "linear", False), (1000, 0.3, "cos", True), (97, 0.4, "linear", True),
    (50, 0.5, "cos", False),
    # a first phase shorter than one step, where torch still returns rates
    (10, 0.05, "cos", False), (20, 0.02, "linear", False), (10, 0.05, "cos", True), (7, 0.1, "linear", True),
])
def test_one_cycle_matches_torch(total, pct, anneal, three):
    ours = closed(sch.one_cycle_lr, total, max_lr=LR, total_steps=total, pct_start=pct, anneal_strategy=anneal,
                  three_phase=three)
    theirs = sch.torch_lrs(P(S.OneCycleLR, max_lr=LR, total_steps=total, pct_start=pct, anneal_strategy=anneal,
                             three_phase=three, cycle_momentum=False), total, lr=LR)
    assert_match(ours, theirs)


def test_one_cycle_defaults_and_ends():
    rates = closed(sch.one_cycle_lr, 100, max_lr=1.0, total_steps=100)
    assert rates[0] == pytest.approx(1 / 25)  # div_factor 25
    assert rates.max() == pytest.approx(1.0) and rates.argmax() == 29  # pct_start 0.3: peak at 0.3*100 - 1
    assert rates[99] == pytest.approx(1 / 25 / 1e4)  # final_div_factor 1e4, reached at total_steps - 1


def test_warmup_cosine_matches_sequential_and_nanogpt():
    W, D, floor, n = 50, 300, 0.003, 1000

    def make(opt):
        return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=1 / (W + 1), total_iters=W),
                                    S.CosineAnnealingLR(opt, T_max=D, eta_min=floor),
                                    S.ConstantLR(opt, factor=floor / LR, total_iters=n)], milestones=[W, W + D + 1])

    ours = closed(sch.warmup_cosine_lr, n, lr=LR, warmup_steps=W, decay_steps=D, min_lr=floor)
    assert_match(ours, sch.torch_lrs(make, n, lr=LR))
    for t in (0, 10, W - 1, W, W + 1, 200, W + D, W + D + 1, 999):  # nanoGPT's get_lr, with lr_decay_iters = W + D
        if t < W:
            expected = LR * (t + 1) / (W + 1)
        elif t > W + D:
            expected = floor
        else:
            expected = floor + 0.5 * (1 + math.cos(math.pi * (t - W) / D)) * (LR - floor)
        assert ours[t] == pytest.approx(expected, rel=1e-14)


def test_sequential_lr_matches_torch():
    first, second = P(sch.exponential_lr, lr=LR, gamma=0.9), P(sch.step_lr, lr=LR, step_size=5, gamma=0.5)
    ours = closed(sch.sequential_lr, 60, schedules=[first, second], milestones=[12])

    def make(opt):
        return S.SequentialLR(opt, [S.ExponentialLR(opt, gamma=0.9), S.StepLR(opt, step_size=5, gamma=0.5)],
                              milestones=[12])

    assert_match(ours, sch.torch_lrs(make, 60, lr=LR))


def test_chained_is_a_product():
    def make(opt):
        return S.ChainedScheduler([S.ExponentialLR(opt, gamma=0.9), S.MultiStepLR(opt, milestones=[3, 7], gamma=0.1)])

    ours = [sch.exponential_lr(t, sch.multistep_lr(t, LR, [3, 7], 0.1), 0.9) for t in range(11)]
    assert_match(np.array(ours), sch.torch_lrs(make, 10, lr=LR))


def plateau_metrics():
    rng = np.random.default_rng(0)
    return np.concatenate([np.linspace(1, 0.5, 30), 0.5 + 0.01 * rng.standard_normal(200), np.linspace(0.5, 0.2, 20),
                           np.full(100, 0.2)])


@pytest.mark.parametrize("kw", [
    {}, {"patience": 3, "cooldown": 2, "factor": 0.5, "min_lr": 0.01},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 2},
    {"mode": "max", "patience": 0}, {"threshold_mode": "abs", "threshold": 0.05, "patience": 5, "eps": 0.05},
])
def test_reduce_on_plateau_matches_torch(kw):
    metrics = plateau_metrics()
    ours = sch.reduce_on_plateau(metrics, LR, **kw)
    theirs = sch.torch_lrs(P(S.ReduceLROnPlateau, **kw), len(metrics), lr=LR, metrics=metrics)
    assert_match(ours, theirs)
    assert len(ours) == len(metrics) + 1 and ours[0] == LR


def test_reduce_on_plateau_decisions():
    # 1 improvement, then flat: with patience 2 the rate drops after the 3rd bad value, then every 3 more
    rates = sch.reduce_on_plateau([1.0] + [1.0] * 9, 1.0, factor=0.5, patience=2)
    np.testing.assert_array_equal(rates, [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125])
    assert np.all(sch.reduce_on_plateau(np.linspace(1, 0, 50), 1.0, patience=0) == 1.0)  # always improving


def test_closed_forms_accept_numpy_ints():
    assert sch.step_lr(np.int64(250), 1.0, 100, 0.5) == 0.25


def test_torch_lrs_checks():
    with pytest.raises(ValueError, match="metrics"):
        sch.torch_lrs(S.ReduceLROnPlateau, 5, metrics=[1.0, 2.0])
    with pytest.raises(ValueError, match="num_steps"):
        sch.torch_lrs(P(S.StepLR, step_size=2), -1)


BAD = [
    (sch.step_lr, dict(t=-1, lr=1.0, step_size=10), "step"),
    (sch.step_lr, dict(t=1.5, lr=1.0, step_size=10), "step"),
    (sch.step_lr, dict(t=1, lr=-1.0, step_size=10), "lr"),
    (sch.step_lr, dict(t=1, lr=float("nan"), step_size=10), "lr"),
    (sch.step_lr, dict(t=1, lr=1.0, step_size=0), "step_size"),
    (sch.step_lr, dict(t=1, lr=1.0, step_size=10, gamma=0.0), "gamma"),
    (sch.multistep_lr, dict(t=1, lr=1.0, milestones=[0, 5]), "milestone"),
    (sch.exponential_lr, dict(t=1, lr=1.0, gamma=-0.5), "gamma"),
    (sch.linear_lr, dict(t=1, lr=1.0, start_factor=0.0), "start_factor"),
    (sch.linear_lr, dict(t=1, lr=1.0, end_factor=1.5), "end_factor"),
    (sch.linear_lr, dict(t=1, lr=1.0, total_iters=0), "total_iters"),
    (sch.cosine_lr, dict(t=1, lr=1.0, T_max=0), "T_max"),
    (sch.cosine_lr, dict(t=1, lr=1.0, T_max=10, eta_min=-0.1), "eta_min"),
    (sch.cosine_warm_restarts_lr, dict(t=1, lr=1.0, T_0=0), "T_0"),
    (sch.cosine_warm_restarts_lr, dict(t=1, lr=1.0, T_0=5, T_mult=1.5), "T_mult"),
    (sch.warmup_cosine_lr, dict(t=1, lr=1.0, warmup_steps=-1, decay_steps=10), "warmup_steps"),
    (sch.warmup_cosine_lr, dict(t=1, lr=1.0, warmup_steps=5, decay_steps=0), "decay_steps"),
    (sch.warmup_cosine_lr, dict(t=1, lr=1.0, warmup_steps=5, decay_steps=10, min_lr=2.0), "min_lr"),
    (sch.one_cycle_lr, dict(t=101, max_lr=1.0, total_steps=100), "step"),
    (sch.one_cycle_lr, dict(t=1, max_lr=1.0, total_steps=0), "total_steps"),
    (sch.one_cycle_lr, dict(t=1, max_lr=1.0, total_steps=100, pct_start=1.5), "pct_start"),
    (sch.one_cycle_lr, dict(t=1, max_lr=1.0, total_steps=10, pct_start=0.1), "pct_start"),  # empty first phase
    # an empty last phase is refused at every step, not only at the last one where it would divide by zero
    (sch.one_cycle_lr, dict(t=0, max_lr=1.0, total_steps=10, pct_start=1.0), "pct_start"),
    (sch.one_cycle_lr, dict(t=0, max_lr=1.0, total_steps=10, pct_start=0.55, three_phase=True), "pct_start"),
    (sch.one_cycle_lr, dict(t=1, max_lr=1.0, total_steps=100, anneal_strategy="exp"), "anneal_strategy"),
    (sch.one_cycle_lr, dict(t=1, max_lr=1.0, total_steps=100, div_factor=0), "div_factor"),
    (sch.one_cycle_lr, dict(t=1, max_lr=1.0, total_steps=100, final_div_factor=-1), "final_div_factor"),
    (sch.sequential_lr, dict(t=1, schedules=[abs, abs], milestones=[]), "milestones"),
    (sch.sequential_lr, dict(t=1, schedules=[abs, abs, abs], milestones=[5, 5]), "milestones"),
    (sch.reduce_on_plateau, dict(metrics=[1.0], lr=1.0, mode="up"), "mode"),
    (sch.reduce_on_plateau, dict(metrics=[1.0], lr=1.0, threshold_mode="x"), "threshold_mode"),
    (sch.reduce_on_plateau, dict(metrics=[1.0], lr=1.0, factor=1.0), "factor"),
    (sch.reduce_on_plateau, dict(metrics=[1.0], lr=1.0, patience=-1), "patience"),
    (sch.reduce_on_plateau, dict(metrics=[1.0], lr=1.0, cooldown=0.5), "cooldown"),
]


@pytest.mark.parametrize("fn, kw, name", BAD, ids=[f"{b[0].__name__}-{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_raises(fn, kw, name):
    with pytest.raises(ValueError, match=f"Invalid {name}"):
        fn(**kw)


def test_step_decay_drives_our_optimizers():
    # a common step decay, alpha^t = 2^floor(t/100), through StepLR on the package's GD: the rate read back each step
    from optim_helpers import GD

    w = torch.nn.Parameter(torch.zeros(2))
    opt = GD([w], lr=3.0)
    scheduler = S.StepLR(opt, step_size=100, gamma=0.5)
    seen = []
    for _ in range(350):
        seen.append(opt.lr)
        opt.step()
        scheduler.step()
    assert seen == [3.0 / 2 ** (t // 100) for t in range(350)]
