"""Every scheduler of ``torch.optim.lr_scheduler`` drives the package's optimizers as it drives torch.optim's.

For each scheduler and each of the four optimizers, 24 steps of the package's optimizer under the scheduler must
equal 24 steps of its torch.optim counterpart under the same scheduler, in float64. The counterparts:
``RMSProp(lr, beta)`` is ``RMSprop(lr, alpha=beta)``; ``Adam`` and ``AdamW`` are torch's, and keep their decay
rates in ``group["betas"]`` as torch's do, so a scheduler that cycles momentum cycles :math:`\\beta_1` in both.
``GD(lr, momentum=beta)`` is ``SGD(lr * (1 - beta), momentum=beta)``, so every absolute rate a scheduler is given
(``eta_min``, ``base_lr``, ``max_lr``) is scaled by ``1 - beta`` on the SGD side. A scheduler that cycles
momentum writes :math:`\\beta_t` into GD's average instead of SGD's sum; that run is checked against the update
rule written out by hand with the rates and decay rates the scheduler produced. ``RMSProp`` has no momentum,
and a scheduler asked to cycle it refuses it with torch's own error, as it refuses ``torch.optim.Adagrad``.
"""

import inspect
from functools import partial

import pytest
import torch
from torch.optim import lr_scheduler as S

from optim_helpers import GD, Adam, AdamW, RMSProp

F64 = torch.float64
TIGHT = dict(rtol=1e-11, atol=1e-13)
STEPS = 24
LR = 0.05


def schedulers(scale):
    """Scheduler factories ``optimizer -> scheduler``; absolute rates are multiplied by ``scale``."""
    return {
        "LambdaLR": lambda o: S.LambdaLR(o, lambda t: 0.9**t),
        "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda t: 0.95),
        "StepLR": lambda o: S.StepLR(o, step_size=5, gamma=0.5),
        "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[4, 9, 15], gamma=0.3),
        "ConstantLR": lambda o: S.ConstantLR(o, factor=0.4, total_iters=6),
        "LinearLR": lambda o: S.LinearLR(o, start_factor=0.1, total_iters=8),
        "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.9),
        "SequentialLR": lambda o: S.SequentialLR(
            o, [S.LinearLR(o, start_factor=0.2, total_iters=5), S.ExponentialLR(o, gamma=0.9)], milestones=[5]),
        "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=20, power=2.0),
        "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.002 * scale),
        "ChainedScheduler": lambda o: S.ChainedScheduler([S.ExponentialLR(o, gamma=0.95),
                                                          S.StepLR(o, step_size=4, gamma=0.5)]),
        "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=0, threshold=0.2, eps=0.0),
        "CyclicLR": lambda o: S.CyclicLR(o, base_lr=0.005 * scale, max_lr=LR * scale, step_size_up=5,
                                         cycle_momentum=False),
        "CyclicLR cycling momentum": lambda o: S.CyclicLR(o, base_lr=0.005 * scale, max_lr=LR * scale,
                                                          step_size_up=5),
        "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2,
                                                                               eta_min=0.001 * scale),
        "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=LR * scale, total_steps=STEPS, cycle_momentum=False),
        "OneCycleLR cycling momentum": lambda o: S.OneCycleLR(o, max_lr=LR * scale, total_steps=STEPS),
    }


CYCLING = {"CyclicLR cycling momentum", "OneCycleLR cycling momentum"}
NAMES = list(schedulers(1.0))


def test_every_scheduler_of_torch_is_covered():
    base = S.LRScheduler
    torch_schedulers = {name for name, obj in vars(S).items()
                        if inspect.isclass(obj) and not name.startswith("_")
                        and (issubclass(obj, base) or name == "ReduceLROnPlateau") and obj is not base}
    torch_schedulers -= {"_LRScheduler"}  # the deprecated alias of LRScheduler
    assert torch_schedulers <= {name.split()[0] for name in NAMES}, torch_schedulers - set(NAMES)


def problem():
    """A tanh network's loss in float64, with a matrix, a vector and a scalar parameter."""
    g = torch.Generator().manual_seed(3)
    X, y = torch.randn(24, 3, generator=g, dtype=F64), torch.randn(24, generator=g, dtype=F64)
    init = [torch.randn(5, 3, generator=g, dtype=F64), torch.randn(5, generator=g, dtype=F64),
            torch.tensor(0.3, dtype=F64)]
    return init, lambda W, v, c: ((torch.tanh(X @ W.T) @ v + c - y) ** 2).mean()


def run(make_optimizer, make_scheduler):
    """Train for STEPS steps; return the final weights and, per step, the (rate, momentum) in force."""
    init, loss_fn = problem()
    params = [t.clone().requires_grad_(True) for t in init]
    optimizer = make_optimizer(params)
    scheduler = make_scheduler(optimizer)
    settings = []
    for _ in range(STEPS):
        group = optimizer.param_groups[0]
        settings.append((group["lr"], group.get("momentum", group.get("betas", (None,))[0])))
        optimizer.zero_grad()
        loss = loss_fn(*params)
        loss.backward()
        optimizer.step()
        if isinstance(scheduler, S.ReduceLROnPlateau):
            scheduler.step(loss.item())
        else:
            scheduler.step()
    return torch.cat([p.detach().flatten() for p in params]), settings


PAIRS = {
    "GD": (partial(GD, lr=LR, momentum=0.9), partial(torch.optim.SGD, lr=LR * 0.1, momentum=0.9), 0.1),
    "plain GD": (partial(GD, lr=LR), partial(torch.optim.SGD, lr=LR), 1.0),
    "RMSProp": (partial(RMSProp, lr=LR, beta=0.9), partial(torch.optim.RMSprop, lr=LR, alpha=0.9), 1.0),
    "Adam": (partial(Adam, lr=LR, beta1=0.9, beta2=0.99), partial(torch.optim.Adam, lr=LR, betas=(0.9, 0.99)), 1.0),
    "AdamW": (partial(AdamW, lr=LR, beta1=0.9, beta2=0.99, weight_decay=0.1),
              partial(torch.optim.AdamW, lr=LR, betas=(0.9, 0.99), weight_decay=0.1), 1.0),
}


@pytest.mark.parametrize("optimizer", list(PAIRS))
@pytest.mark.parametrize("name", NAMES)
def test_scheduler_drives_ours_as_it_drives_torch(name, optimizer):
    ours, reference, scale = PAIRS[optimizer]
    if name in CYCLING and optimizer == "RMSProp":
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            run(ours, schedulers(1.0)[name])
        return
    if name in CYCLING and optimizer in ("GD", "plain GD"):
        pytest.skip("GD cycles the decay rate of its average: see the test against the update rule")
    ours_path, ours_settings = run(ours, schedulers(1.0)[name])
    ref_path, ref_settings = run(reference, schedulers(scale)[name])
    rates = [lr for lr, _ in ours_settings]
    assert len(set(rates)) > 1  # the schedule did change the rate
    assert rates == pytest.approx([lr / scale for lr, _ in ref_settings], rel=1e-12)
    if optimizer != "RMSProp":  # (torch's RMSprop has a momentum setting, ours none)
        assert [m for _, m in ours_settings] == [m for _, m in ref_settings]  # and the same momentum
    torch.testing.assert_close(ours_path, ref_path, **TIGHT)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("name", sorted(CYCLING))
def test_gd_under_momentum_cycling_follows_its_average_with_the_cycled_rates(name, momentum):
    """m^t = beta_t m^{t-1} + (1 - beta_t) g^t, Theta^t = Theta^{t-1} - eta_t m^t, with the scheduler's eta_t, beta_t."""
    path, settings = run(partial(GD, lr=LR, momentum=momentum), schedulers(1.0)[name])
    # the rates and decay rates torch writes into torch.optim.SGD's groups are the ones GD received
    _, sgd_settings = run(partial(torch.optim.SGD, lr=LR, momentum=momentum), schedulers(1.0)[name])
    assert settings == sgd_settings and len({m for _, m in settings}) > 1  # the momentum did cycle
    init, loss_fn = problem()
    theta = [t.clone() for t in init]
    m = [torch.zeros_like(t) for t in theta]
    for lr, beta in settings:
        grads = torch.func.grad(lambda ps: loss_fn(*ps))(theta)
        m = [beta * mi + (1 - beta) * gi for mi, gi in zip(m, grads)]
        theta = [t - lr * mi for t, mi in zip(theta, m)]
    torch.testing.assert_close(path, torch.cat([t.flatten() for t in theta]), **TIGHT)
    # and it is not SGD's run: cycling the average and cycling the sum differ
    sgd_path, _ = run(partial(torch.optim.SGD, lr=LR * (1 - momentum), momentum=momentum),
                      schedulers(1 - momentum)[name])
    assert not torch.allclose(path, sgd_path, rtol=1e-6, atol=0.0)


def test_adam_keeps_torch_betas_in_its_groups():
    p, q = (torch.zeros(2, requires_grad=True) for _ in range(2))
    opt = Adam([{"params": [p]}, {"params": [q], "betas": (0.5, 0.9)}], lr=0.1, beta1=0.8, beta2=0.99)
    assert [g["betas"] for g in opt.param_groups] == [(0.8, 0.99), (0.5, 0.9)]
