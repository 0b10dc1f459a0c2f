"""Every optimizer against its torch.optim reference, plus schedulers, state, groups and bad input."""

import functools
import math

import pytest
import torch

from optim_helpers import GD, Adam, AdamW, RMSProp, pathological_loss

# (ours, our kwargs, reference, reference kwargs): the same update in two conventions.
PAIRS = [
    (GD, dict(lr=0.1), torch.optim.SGD, dict(lr=0.1)),
    (GD, dict(lr=0.1, momentum=0.9), torch.optim.SGD, dict(lr=0.1 * (1 - 0.9), momentum=0.9)),
    (GD, dict(lr=0.05, momentum=0.5), torch.optim.SGD, dict(lr=0.05 * (1 - 0.5), momentum=0.5)),
    (RMSProp, dict(lr=0.01), torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-8)),
    (RMSProp, dict(lr=0.003, beta=0.99, eps=1e-6), torch.optim.RMSprop, dict(lr=0.003, alpha=0.99, eps=1e-6)),
    (Adam, dict(lr=0.01), torch.optim.Adam, dict(lr=0.01, foreach=False)),
    (Adam, dict(lr=0.02, beta1=0.5, beta2=0.9, eps=1e-6), torch.optim.Adam,
     dict(lr=0.02, betas=(0.5, 0.9), eps=1e-6, foreach=False)),
    (AdamW, dict(lr=0.01), torch.optim.AdamW, dict(lr=0.01, weight_decay=1e-2, foreach=False)),
    (AdamW, dict(lr=0.02, beta1=0.8, beta2=0.99, weight_decay=0.3), torch.optim.AdamW,
     dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.3, foreach=False)),
]
IDS = [f"{p[0].__name__}-{i}" for i, p in enumerate(PAIRS)]


def least_squares(params):
    """Convex: a linear model's mean squared error on fixed data."""
    weight, bias, _ = params
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(32, 4, generator=gen, dtype=torch.float64)
    y = X @ torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64) + 0.1
    return ((X @ weight + bias - y) ** 2).mean()


def tanh_network(params):
    """Non-convex: a tanh unit whose output is scaled by a (3, 2) tensor, fitted to a constant."""
    weight, bias, scale = params
    gen = torch.Generator().manual_seed(2)
    X = torch.randn(16, 4, generator=gen, dtype=torch.float64)
    hidden = torch.tanh(X @ weight + bias)
    return (hidden[:, None, None] * scale - 0.3).pow(2).mean() + 0.01 * scale.pow(4).sum()


def make_params():
    gen = torch.Generator().manual_seed(0)
    shapes = [(4,), (), (3, 2)]
    return [torch.randn(s, generator=gen, dtype=torch.float64).requires_grad_() for s in shapes]


def run(optim_cls, kwargs, loss_fn, steps=60, scheduler=None):
    params = make_params()
    optimizer = optim_cls(params, **kwargs)
    schedule = scheduler(optimizer) if scheduler else None
    lrs = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(params).backward()
        optimizer.step()
        lrs.append(optimizer.param_groups[0]["lr"])
        if schedule:
            schedule.step()
    return [p.detach() for p in params], lrs


def assert_same(ours, ref):
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss_fn", [least_squares, tanh_network])
@pytest.mark.parametrize("ours, ours_kw, ref, ref_kw", PAIRS, ids=IDS)
def test_equals_torch_reference(ours, ours_kw, ref, ref_kw, loss_fn):
    mine, _ = run(ours, ours_kw, loss_fn)
    theirs, _ = run(ref, ref_kw, loss_fn)
    assert not torch.equal(mine[0], make_params()[0]), "the parameters must move"
    assert_same(mine, theirs)


SCHEDULERS = {
    "step": functools.partial(torch.optim.lr_scheduler.StepLR, step_size=10, gamma=0.5),
    "multistep": functools.partial(torch.optim.lr_scheduler.MultiStepLR, milestones=[5, 20], gamma=0.3),
    "cosine": functools.partial(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=30),
    # OneCycle sets the rate itself (not relative to the starting lr) and cannot cycle our beta1.
    "onecycle": functools.partial(
        torch.optim.lr_scheduler.OneCycleLR, max_lr=0.05, total_steps=60, cycle_momentum=False
    ),
}
SCHEDULED = [(PAIRS[0], name) for name in SCHEDULERS] + [(PAIRS[5], name) for name in SCHEDULERS] + [
    (PAIRS[1], name) for name in ("step", "multistep", "cosine")  # relative schedules keep lr*(1-beta)
]


@pytest.mark.parametrize("pair, name", SCHEDULED, ids=[f"{p[0].__name__}-{p[1]}-{n}" for p, n in SCHEDULED])
def test_schedulers_drive_ours_like_torch(pair, name):
    ours, ours_kw, ref, ref_kw = pair
    mine, my_lrs = run(ours, ours_kw, tanh_network, scheduler=SCHEDULERS[name])
    theirs, their_lrs = run(ref, ref_kw, tanh_network, scheduler=SCHEDULERS[name])
    assert len(set(my_lrs)) > 1, "the schedule must change the rate"
    ratio = ours_kw["lr"] / ref_kw["lr"]
    assert my_lrs == pytest.approx([lr * ratio for lr in their_lrs], rel=1e-12)
    assert_same(mine, theirs)


@pytest.mark.parametrize("ours, ours_kw, ref, ref_kw", PAIRS, ids=IDS)
def test_state_dict_round_trip(ours, ours_kw, ref, ref_kw):
    params = make_params()
    optimizer = ours(params, **ours_kw)
    for step in range(40):
        if step == 15:  # save, rebuild from the saved state, continue
            saved = optimizer.state_dict()
            optimizer = ours(params, **ours_kw)
            optimizer.load_state_dict(saved)
        optimizer.zero_grad()
        tanh_network(params).backward()
        optimizer.step()
    uninterrupted, _ = run(ours, ours_kw, tanh_network, steps=40)
    assert_same([p.detach() for p in params], uninterrupted)


@pytest.mark.parametrize(
    "optim_cls, kwargs, keys",
    [(GD, dict(lr=0.1), set()), (GD, dict(lr=0.1, momentum=0.9), {"m"}), (RMSProp, dict(lr=0.1), {"v"}),
     (Adam, dict(), {"t", "m", "v"}), (AdamW, dict(), {"t", "m", "v"})],
)
def test_state_keys(optim_cls, kwargs, keys):
    params = make_params()
    optimizer = optim_cls(params, **kwargs)
    tanh_network(params).backward()
    optimizer.step()
    optimizer.step()
    for p in params:
        assert set(optimizer.state[p]) == keys
    if "t" in keys:
        assert optimizer.state[params[0]]["t"] == 2


def test_param_groups_match_torch():
    def groups(params, lr_scale):
        return [{"params": params[:2], "lr": 0.1 * lr_scale}, {"params": params[2:], "lr": 0.01 * lr_scale}]

    def run_groups(optim_cls, lr_scale, **kw):
        params = make_params()
        optimizer = optim_cls(groups(params, lr_scale), **kw)
        for _ in range(30):
            optimizer.zero_grad()
            tanh_network(params).backward()
            optimizer.step()
        return [p.detach() for p in params]

    assert_same(run_groups(GD, 1.0, lr=1.0, momentum=0.9), run_groups(torch.optim.SGD, 0.1, lr=1.0, momentum=0.9))
    assert_same(run_groups(Adam, 1.0), run_groups(torch.optim.Adam, 1.0, foreach=False))


def test_lr_property_reads_and_writes_every_group():
    params = make_params()
    optimizer = Adam([{"params": params[:1]}, {"params": params[1:]}], lr=0.1)
    assert optimizer.lr == 0.1
    optimizer.lr = 0.5
    assert [g["lr"] for g in optimizer.param_groups] == [0.5, 0.5]
    optimizer.lr = torch.tensor(0.25)  # the text's LR finder writes a 0-d tensor
    assert optimizer.lr == 0.25 and isinstance(optimizer.lr, float)
    optimizer.param_groups[1]["lr"] = 0.3
    with pytest.raises(ValueError, match="different learning rates"):
        _ = optimizer.lr
    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="Invalid learning rate"):
            optimizer.lr = bad


BAD = [
    (GD, dict(lr=-0.1), "-0.1"), (GD, dict(lr=math.nan), "nan"), (GD, dict(lr=math.inf), "inf"),
    (GD, dict(lr=0.1, momentum=-0.1), "-0.1"), (GD, dict(lr=0.1, momentum=1.0), "1.0"),
    (RMSProp, dict(lr=0.1, beta=1.0), "1.0"), (RMSProp, dict(lr=0.1, beta=-0.1), "-0.1"),
    (RMSProp, dict(lr=0.1, eps=-1e-8), "-1e-08"),
    (Adam, dict(beta1=1.0), "1.0"), (Adam, dict(beta1=-0.1), "-0.1"),
    (Adam, dict(beta2=1.0), "1.0"), (Adam, dict(beta2=-0.1), "-0.1"), (Adam, dict(eps=-1.0), "-1.0"),
    (Adam, dict(lr=-1e-3), "-0.001"),
    (AdamW, dict(weight_decay=-0.01), "-0.01"), (AdamW, dict(beta2=1.5), "1.5"),
    (AdamW, dict(weight_decay=math.nan), "nan"),
]


@pytest.mark.parametrize("optim_cls, kwargs, shown", BAD, ids=[f"{c.__name__}-{k}" for c, k, _ in BAD])
def test_bad_hyperparameters_raise(optim_cls, kwargs, shown):
    with pytest.raises(ValueError, match="Invalid") as info:
        optim_cls(make_params(), **kwargs)
    assert shown in str(info.value)


@pytest.mark.parametrize("optim_cls", [RMSProp, Adam])
def test_zero_gradient_gives_no_nan(optim_cls):
    # In float32, tanh(20) is exactly 1, so the w0-gradient of the pathological loss is exactly 0.
    w = torch.tensor([20.0, 1.0], requires_grad=True)
    optimizer = optim_cls([w], lr=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        pathological_loss(w[0], w[1]).backward()
        assert w.grad[0] == 0.0
        optimizer.step()
    assert torch.isfinite(w).all() and w[0] == 20.0
    # Without eps the same rule divides 0 by sqrt(0):
    v = torch.zeros(1)
    assert torch.isnan(torch.zeros(1) / torch.sqrt(v)).all()


def test_zero_gradient_without_eps_is_nan():
    w = torch.tensor([20.0, 1.0], requires_grad=True)
    optimizer = RMSProp([w], lr=0.5, eps=0.0)
    pathological_loss(w[0], w[1]).backward()
    optimizer.step()
    assert torch.isnan(w[0]) and torch.isfinite(w[1])


@pytest.mark.parametrize("optim_cls, kwargs", [(GD, dict(lr=0.1, momentum=0.9)), (RMSProp, dict(lr=0.1)),
                                               (Adam, dict()), (AdamW, dict())])
def test_parameters_without_gradient_are_skipped(optim_cls, kwargs):
    used, unused = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    optimizer = optim_cls([used, unused], **kwargs)
    (used**2).sum().backward()
    optimizer.step()
    assert unused.grad is None and torch.equal(unused, torch.ones(3))
    assert len(optimizer.state[unused]) == 0
    assert not torch.equal(used, torch.ones(3))


def test_tensor_learning_rates_act_per_row():
    w = torch.ones(3, 2, requires_grad=True)
    lrs = torch.tensor([[0.0], [0.1], [0.2]])
    optimizer = GD([w], lr=lrs)
    (w**2).sum().backward()  # gradient 2 everywhere
    optimizer.step()
    torch.testing.assert_close(w.detach(), 1 - 2 * lrs.expand(3, 2))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        GD([w], lr=torch.tensor([[0.1], [-0.1]]))
