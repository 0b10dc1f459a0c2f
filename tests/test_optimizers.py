"""Optimizers against torch.optim: update rules, schedulers, state_dict, param groups, bad input."""

import io
import math
import re
from functools import partial

import pytest
import torch
from torch.optim import lr_scheduler

from optim_helpers import GD, Adam, AdamW, RMSProp, pathological_loss

F64 = torch.float64
TIGHT = dict(rtol=1e-12, atol=1e-14)
EXACT = dict(rtol=0.0, atol=0.0)


# --- reference translations: our hyperparameters -> the torch.optim optimizer that must match ---


def sgd_kwargs(lr, momentum=0.0):
    # EMA momentum m = b*m + (1-b)*g equals heavy-ball b = b*b + g scaled by (1-b)
    return dict(lr=lr * (1 - momentum), momentum=momentum, foreach=False)


def rmsprop_kwargs(lr, beta=0.9, eps=1e-8):
    return dict(lr=lr, alpha=beta, eps=eps, foreach=False)


def adam_kwargs(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return dict(lr=lr, betas=(beta1, beta2), eps=eps, foreach=False)


def adamw_kwargs(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return dict(adam_kwargs(lr, beta1, beta2, eps), weight_decay=weight_decay)


REFERENCE = {
    GD: (torch.optim.SGD, sgd_kwargs),
    RMSProp: (torch.optim.RMSprop, rmsprop_kwargs),
    Adam: (torch.optim.Adam, adam_kwargs),
    AdamW: (torch.optim.AdamW, adamw_kwargs),
}

CASES = [
    (GD, dict(lr=0.1)),
    (GD, dict(lr=0.03, momentum=0.5)),
    (GD, dict(lr=0.05, momentum=0.9)),
    (RMSProp, dict(lr=0.01)),
    (RMSProp, dict(lr=0.003, beta=0.5, eps=1e-3)),
    (RMSProp, dict(lr=0.02, beta=0.0, eps=1e-6)),
    (Adam, dict()),
    (Adam, dict(lr=0.01, beta1=0.5, beta2=0.9, eps=1e-6)),
    (Adam, dict(lr=0.03, beta1=0.0, beta2=0.99, eps=1e-4)),
    (AdamW, dict(lr=0.01)),
    (AdamW, dict(lr=0.02, beta1=0.8, beta2=0.95, eps=1e-6, weight_decay=0.1)),
    (AdamW, dict(lr=0.01, weight_decay=0.0)),
]


def case_id(case):
    cls, kw = case
    return cls.__name__ + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


def ours_and_reference(cls, kw):
    """Factories ``params -> optimizer`` for our optimizer and its torch.optim reference."""
    ref_cls, translate = REFERENCE[cls]
    return partial(cls, **kw), partial(ref_cls, **translate(**kw))


# --- problems: initial parameters (several shapes) and a loss of them ---


def least_squares():
    """Convex: a linear least-squares fit with a matrix, a vector and a scalar parameter."""
    g = torch.Generator().manual_seed(0)
    X, Y = torch.randn(20, 4, generator=g, dtype=F64), torch.randn(20, 3, generator=g, dtype=F64)
    init = [torch.randn(4, 3, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64)]
    init.append(torch.tensor(2.0, dtype=F64))

    def loss(W, b, c):
        return ((X @ W + b - Y) ** 2).mean() + (c - 1.0) ** 2

    return init, loss


def tanh_mlp():
    """Non-convex: a one-hidden-layer tanh network fitting a sine."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(32, 3, generator=g, dtype=F64)
    y = torch.sin(X.sum(1))
    init = [
        torch.randn(8, 3, generator=g, dtype=F64),
        torch.randn(8, generator=g, dtype=F64),
        torch.randn(8, generator=g, dtype=F64),
    ]

    def loss(W1, b1, w2):
        return ((torch.tanh(X @ W1.T + b1) @ w2 - y) ** 2).mean()

    return init, loss


def pathological():
    """Non-convex, from a start where the paths do not branch: the book's surface, one (2,) parameter."""
    return [torch.tensor([-2.5, 2.5], dtype=F64)], lambda w: pathological_loss(w[0], w[1])


PROBLEMS = [least_squares, tanh_mlp, pathological]


def leaves(init):
    return [t.clone().requires_grad_(True) for t in init]


def run(make_opt, problem, steps=50, make_sched=None):
    """Train ``steps`` steps; return the flattened parameters at every step and the lr used at each step."""
    init, loss_fn = problem()
    params = leaves(init)
    opt = make_opt(params)
    sched = make_sched(opt) if make_sched else None
    history, lrs = [flat(params)], []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        loss_fn(*params).backward()
        opt.step()
        if sched:
            sched.step()
        history.append(flat(params))
    return torch.stack(history), lrs


def flat(params):
    return torch.cat([p.detach().flatten() for p in params])


# --- 1. update rules equal torch.optim ---


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_reference(case, problem):
    ours, ref = ours_and_reference(*case)
    ours_path, _ = run(ours, problem)
    ref_path, _ = run(ref, problem)
    assert not torch.equal(ours_path[0], ours_path[-1])  # it moved
    torch.testing.assert_close(ours_path, ref_path, **TIGHT)


def test_momentum_differs_from_heavy_ball_with_the_same_lr():
    """The (1 - beta) factor matters: SGD with the *same* lr is a different optimizer."""
    ours, _ = run(partial(GD, lr=0.05, momentum=0.9), least_squares)
    heavy_ball, _ = run(partial(torch.optim.SGD, lr=0.05, momentum=0.9), least_squares)
    assert not torch.allclose(ours[-1], heavy_ball[-1], rtol=1e-3)


def test_adamw_decay_is_not_l2_in_adam():
    """Decoupled decay differs from adding weight_decay * w to the gradient (torch.optim.Adam's weight_decay)."""
    ours, _ = run(partial(AdamW, lr=0.02, weight_decay=0.1), least_squares)
    l2, _ = run(partial(torch.optim.Adam, lr=0.02, weight_decay=0.1), least_squares)
    assert not torch.allclose(ours[-1], l2[-1], rtol=1e-4)


def test_step_returns_closure_loss():
    init, loss_fn = least_squares()
    params = leaves(init)
    opt = GD(params, lr=0.1)

    def closure():
        opt.zero_grad()
        loss = loss_fn(*params)
        loss.backward()
        return loss

    first = opt.step(closure)
    assert first.item() == loss_fn(*init).item()
    assert opt.step(closure).item() < first.item()


# --- 2. lr schedulers drive our optimizers as they drive torch's ---

SCHEDULERS = {
    "StepLR": partial(lr_scheduler.StepLR, step_size=7, gamma=0.5),
    "MultiStepLR": partial(lr_scheduler.MultiStepLR, milestones=[5, 12, 20], gamma=0.3),
    "CosineAnnealingLR": partial(lr_scheduler.CosineAnnealingLR, T_max=30, eta_min=1e-4),
    "OneCycleLR": partial(lr_scheduler.OneCycleLR, max_lr=0.05, total_steps=30, cycle_momentum=False),
    "LinearLR": partial(lr_scheduler.LinearLR, start_factor=0.1, total_iters=10),
    "LambdaLR": partial(lr_scheduler.LambdaLR, lr_lambda=lambda t: 1 / (1 + t)),
}
SCHEDULED = [(GD, dict(lr=0.1)), (RMSProp, dict(lr=0.01)), (Adam, dict(lr=0.02)), (AdamW, dict(lr=0.02))]


@pytest.mark.parametrize("case", SCHEDULED, ids=case_id)
@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_drives_like_torch(name, case):
    ours, ref = ours_and_reference(*case)
    ours_path, ours_lrs = run(ours, least_squares, steps=30, make_sched=SCHEDULERS[name])
    ref_path, ref_lrs = run(ref, least_squares, steps=30, make_sched=SCHEDULERS[name])
    assert len(set(ours_lrs)) > 1  # the schedule did change the lr
    assert ours_lrs == ref_lrs
    torch.testing.assert_close(ours_path, ref_path, **TIGHT)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "LinearLR", "LambdaLR"])
def test_relative_scheduler_keeps_the_momentum_factor(name):
    """A schedule that scales the starting lr keeps GD(lr, b) == SGD(lr * (1 - b), b) at every step."""
    ours, ref = ours_and_reference(GD, dict(lr=0.05, momentum=0.9))
    ours_path, ours_lrs = run(ours, tanh_mlp, steps=30, make_sched=SCHEDULERS[name])
    ref_path, ref_lrs = run(ref, tanh_mlp, steps=30, make_sched=SCHEDULERS[name])
    assert ours_lrs == pytest.approx([lr / (1 - 0.9) for lr in ref_lrs], rel=1e-12)
    torch.testing.assert_close(ours_path, ref_path, **TIGHT)


def test_step_lr_closed_form_reaches_the_lr_property():
    init, _ = least_squares()
    opt = GD(leaves(init), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    for t in range(10):
        assert opt.lr == pytest.approx(0.1 * 0.5 ** (t // 3), rel=1e-15)
        opt.step()
        sched.step()


# --- 3. state_dict round trip and state contents ---

ROUND_TRIP = [(GD, dict(lr=0.05)), (GD, dict(lr=0.05, momentum=0.9)), (RMSProp, dict(lr=0.01)),
              (Adam, dict(lr=0.02, beta1=0.8)), (AdamW, dict(lr=0.02, weight_decay=0.1))]


def train(opt, params, loss_fn, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(*params).backward()
        opt.step()


@pytest.mark.parametrize("case", ROUND_TRIP, ids=case_id)
def test_state_dict_round_trip_equals_uninterrupted_run(case):
    cls, kw = case
    init, loss_fn = tanh_mlp()
    whole = leaves(init)
    train(cls(whole, **kw), whole, loss_fn, 30)

    first = leaves(init)
    opt = cls(first, **kw)
    train(opt, first, loss_fn, 10)
    buffer = io.BytesIO()
    torch.save({"params": [p.detach() for p in first], "optim": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer)

    resumed = leaves(saved["params"])
    fresh = cls(resumed, **kw)
    fresh.load_state_dict(saved["optim"])
    train(fresh, resumed, loss_fn, 20)
    torch.testing.assert_close(flat(resumed), flat(whole), **EXACT)


STATE_KEYS = [
    (GD, dict(lr=0.05), set()),
    (GD, dict(lr=0.05, momentum=0.9), {"m"}),
    (RMSProp, dict(lr=0.01), {"v"}),
    (Adam, dict(lr=0.01), {"t", "m", "v"}),
    (AdamW, dict(lr=0.01), {"t", "m", "v"}),
]


def keys_id(x):
    """Deterministic test ids (a set's str order varies between runs)."""
    if isinstance(x, set):
        return "+".join(sorted(x)) or "no-state"
    return getattr(x, "__name__", None) or ",".join(f"{k}={v}" for k, v in x.items())


@pytest.mark.parametrize("cls, kw, keys", STATE_KEYS, ids=keys_id)
def test_state_keys(cls, kw, keys):
    init, loss_fn = least_squares()
    params = leaves(init)
    opt = cls(params, **kw)
    train(opt, params, loss_fn, 3)
    for p in params:
        assert set(opt.state.get(p, {})) == keys
    if "t" in keys:
        assert all(opt.state[p]["t"] == 3 for p in params)


@pytest.mark.parametrize("case", [(GD, dict(lr=0.05, momentum=0.7)), (RMSProp, dict(lr=0.01, beta=0.8)),
                                  (Adam, dict(lr=0.01, beta1=0.7, beta2=0.9)), (AdamW, dict(lr=0.01))], ids=case_id)
def test_moments_equal_torch_buffers(case):
    """The stored moments are the ones torch keeps (GD's m is (1 - beta) times SGD's momentum buffer)."""
    cls, kw = case
    ours, ref = ours_and_reference(cls, kw)
    init, loss_fn = tanh_mlp()
    p_ours, p_ref = leaves(init), leaves(init)
    opt, ref_opt = ours(p_ours), ref(p_ref)
    train(opt, p_ours, loss_fn, 10)
    train(ref_opt, p_ref, loss_fn, 10)
    for a, b in zip(p_ours, p_ref):
        s, r = opt.state[a], ref_opt.state[b]
        if cls is GD:
            torch.testing.assert_close(s["m"], (1 - kw["momentum"]) * r["momentum_buffer"], **TIGHT)
        elif cls is RMSProp:
            torch.testing.assert_close(s["v"], r["square_avg"], **EXACT)
        else:
            assert s["t"] == int(r["step"]) == 10
            torch.testing.assert_close(s["m"], r["exp_avg"], **EXACT)
            torch.testing.assert_close(s["v"], r["exp_avg_sq"], **EXACT)


# --- 4. param groups and the lr property ---

GROUPS = [
    (GD, [dict(lr=0.1, momentum=0.0), dict(lr=0.02, momentum=0.9), dict(lr=0.05, momentum=0.5)]),
    (RMSProp, [dict(lr=0.01, beta=0.9, eps=1e-8), dict(lr=0.003, beta=0.5, eps=1e-3),
               dict(lr=0.02, beta=0.99, eps=1e-6)]),
    (Adam, [dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8), dict(lr=0.03, beta1=0.5, beta2=0.9, eps=1e-6),
            dict(lr=1e-3, beta1=0.0, beta2=0.99, eps=1e-4)]),
    (AdamW, [dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0),
             dict(lr=0.03, beta1=0.5, beta2=0.9, eps=1e-6, weight_decay=0.1),
             dict(lr=1e-3, beta1=0.8, beta2=0.99, eps=1e-4, weight_decay=1.0)]),
]


@pytest.mark.parametrize("problem", [least_squares, tanh_mlp])
@pytest.mark.parametrize("cls, settings", GROUPS, ids=lambda x: getattr(x, "__name__", ""))
def test_param_groups_match_torch(cls, settings, problem):
    """One group per parameter tensor, each with its own hyperparameters."""
    ref_cls, translate = REFERENCE[cls]

    def as_group(s):  # a group keeps Adam's decay rates as the pair betas, as torch's does
        s = dict(s)
        if "beta1" in s:
            s["betas"] = (s.pop("beta1"), s.pop("beta2"))
        return s

    def ours(params):
        return cls([dict(params=[p], **as_group(s)) for p, s in zip(params, settings)], lr=1.0)

    def ref(params):
        return ref_cls([dict(params=[p], **translate(**s)) for p, s in zip(params, settings)], lr=1.0)

    torch.testing.assert_close(run(ours, problem)[0], run(ref, problem)[0], **TIGHT)


def two_group_gd(lr0=0.1, lr1=0.1):
    init, _ = least_squares()
    params = leaves(init)
    return GD([dict(params=params[:1], lr=lr0), dict(params=params[1:], lr=lr1)], lr=0.5)


def test_lr_property_reads_shared_and_writes_every_group():
    opt = two_group_gd(0.1, 0.1)
    assert opt.lr == 0.1
    opt.lr = 0.03
    assert [g["lr"] for g in opt.param_groups] == [0.03, 0.03]
    assert opt.lr == 0.03


def test_lr_property_raises_when_groups_differ():
    with pytest.raises(ValueError, match="different learning rates"):
        _ = two_group_gd(0.1, 0.2).lr


def test_lr_property_accepts_0d_tensor():
    """A common LR finder writes a 0-d tensor; it is stored as a float."""
    opt = two_group_gd()
    opt.lr = torch.tensor(0.25, dtype=F64)
    assert opt.lr == 0.25 and isinstance(opt.lr, float)
    assert all(g["lr"] == 0.25 for g in opt.param_groups)


def test_tensor_learning_rates_act_per_row():
    """A (K, 1) tensor of rates gives row k its own rate (what train_curves relies on)."""
    w = torch.ones(3, 2, dtype=F64, requires_grad=True)
    rates = torch.tensor([[0.0], [0.1], [0.2]], dtype=F64)
    opt = GD([w], lr=rates)
    (w**2).sum().backward()  # gradient 2 everywhere
    opt.step()
    torch.testing.assert_close(w.detach(), (1 - 2 * rates).expand(3, 2), **EXACT)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        GD([w], lr=torch.tensor([[0.1], [-0.1]]))


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, torch.tensor(-1.0)], ids=str)
def test_lr_property_rejects_bad_values(bad):
    opt = two_group_gd()
    with pytest.raises(ValueError, match="Invalid learning rate"):
        opt.lr = bad
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.1]  # unchanged


# --- 5. bad hyperparameters raise ValueError naming the value ---

BAD = [(cls, dict(lr=lr), lr) for cls in (GD, RMSProp, Adam, AdamW) for lr in (-0.1, math.nan, math.inf)]
BAD += [(GD, dict(lr=0.1, momentum=b), b) for b in (-0.1, 1.0, math.nan)]
BAD += [(RMSProp, dict(lr=0.1, beta=b), b) for b in (-0.1, 1.0, math.nan)]
BAD += [(RMSProp, dict(lr=0.1, eps=-1e-8), -1e-8)]
BAD += [(cls, {name: b}, b) for cls in (Adam, AdamW) for name in ("beta1", "beta2") for b in (-0.1, 1.0)]
BAD += [(cls, dict(eps=-1e-8), -1e-8) for cls in (Adam, AdamW)]
BAD += [(AdamW, dict(weight_decay=-0.01), -0.01), (AdamW, dict(weight_decay=math.nan), math.nan)]


@pytest.mark.parametrize("cls, kw, bad", BAD, ids=lambda x: getattr(x, "__name__", str(x)))
def test_bad_hyperparameter_raises_with_value(cls, kw, bad):
    with pytest.raises(ValueError) as info:
        cls([torch.zeros(2, requires_grad=True)], **kw)
    assert str(bad) in str(info.value)


# --- 6. a gradient that is exactly zero from the first step ---


def saturated_start():
    """pathological_loss at w0 = 20 in float32: tanh(20) rounds to 1, so d/dw0 is exactly 0."""
    w = torch.tensor([20.0, 1.0], requires_grad=True)
    pathological_loss(w[0], w[1]).backward()
    assert w.grad[0] == 0.0 and w.grad[1] != 0.0
    w.grad = None
    return w


@pytest.mark.parametrize("cls", [RMSProp, Adam, AdamW])
def test_zero_gradient_gives_no_nan(cls):
    w = saturated_start()
    opt = cls([w], lr=0.1, **({"weight_decay": 0.0} if cls is AdamW else {}))
    for _ in range(5):
        opt.zero_grad()
        pathological_loss(w[0], w[1]).backward()
        opt.step()
    assert torch.isfinite(w).all()
    assert w[0].item() == 20.0  # unchanged
    assert w[1].item() != 1.0  # the other coordinate did move
    assert opt.state[w]["v"][0] == 0.0


def test_without_eps_zero_gradient_is_nan():
    """Why eps matters: the same rule with eps = 0 divides 0 by sqrt(0)."""
    zero = torch.tensor(0.0)
    assert torch.isnan(zero / (torch.sqrt(zero) + 0.0))
    w = saturated_start()
    opt = RMSProp([w], lr=0.1, eps=0.0)
    pathological_loss(w[0], w[1]).backward()
    opt.step()
    assert torch.isnan(w[0]) and torch.isfinite(w[1])


# --- 7. parameters without a gradient are skipped ---


@pytest.mark.parametrize("case", [(GD, dict(lr=0.1)), (GD, dict(lr=0.1, momentum=0.9)), (RMSProp, dict(lr=0.1)),
                                  (Adam, dict(lr=0.1)), (AdamW, dict(lr=0.1, weight_decay=0.5))], ids=case_id)
def test_parameter_without_grad_is_skipped(case):
    cls, kw = case
    used = torch.ones(3, dtype=F64, requires_grad=True)
    unused = torch.full((2, 2), 3.0, dtype=F64, requires_grad=True)
    opt = cls([used, unused], **kw)
    train(opt, [used], lambda u: (u**2).sum(), 3)
    assert unused.grad is None
    torch.testing.assert_close(unused.detach(), torch.full((2, 2), 3.0, dtype=F64), **EXACT)
    assert unused not in opt.state
    assert not torch.equal(used.detach(), torch.ones(3, dtype=F64))


# --- 8. settings are validated wherever they enter: constructor groups, add_param_group, writes before step ---

GROUP_BAD = [(GD, "lr", v) for v in (-1.0, math.nan, math.inf)]
GROUP_BAD += [(GD, "momentum", v) for v in (1.5, 1.0, -0.1, math.nan)]
GROUP_BAD += [(RMSProp, "beta", 1.0), (RMSProp, "eps", -1.0)]
GROUP_BAD += [(cls, name, v) for cls in (Adam, AdamW)
              for name, v in (("betas", (1.0, 0.999)), ("betas", (0.9, 1.5)), ("betas", (0.9,)), ("betas", 0.9),
                              ("eps", -1e-8))]
GROUP_BAD += [(AdamW, "weight_decay", -0.5), (AdamW, "weight_decay", math.nan)]


def _defaults(cls):
    return dict(lr=0.1) if cls in (GD, RMSProp) else {}


@pytest.mark.parametrize("cls, name, bad", GROUP_BAD, ids=lambda x: getattr(x, "__name__", str(x)))
def test_bad_setting_in_a_param_group_raises(cls, name, bad):
    p, q = (torch.zeros(2, dtype=F64, requires_grad=True) for _ in range(2))
    # the message names the bad number (of a pair, the bad member), or the whole value if it is not a pair
    shown = [b for b, ok in zip(bad, (0.9, 0.999)) if b != ok][0] if isinstance(bad, tuple) and len(bad) == 2 else bad
    match = "Invalid .*" + re.escape(str(shown))
    with pytest.raises(ValueError, match=match):  # through the constructor's list of dicts
        cls([dict(params=[p]), dict(params=[q], **{name: bad})], **_defaults(cls))
    opt = cls([p], **_defaults(cls))
    with pytest.raises(ValueError, match=match):  # through add_param_group
        opt.add_param_group(dict(params=[q], **{name: bad}))
    assert len(opt.param_groups) == 1
    opt.param_groups[0][name] = bad  # written directly, as a scheduler or a user may do
    p.grad = torch.ones_like(p)
    with pytest.raises(ValueError, match=match):
        opt.step()
    torch.testing.assert_close(p.detach(), torch.zeros(2, dtype=F64), **EXACT)  # nothing moved


def test_a_scheduler_that_writes_a_negative_rate_is_caught_at_step():
    w = torch.ones(2, dtype=F64, requires_grad=True)
    opt = GD([w], lr=0.1)
    sched = lr_scheduler.LambdaLR(opt, lambda t: 1.0 if t == 0 else -1.0)
    w.grad = torch.ones_like(w)
    opt.step()
    sched.step()
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        opt.step()


TORCH_OPTIONS = ["weight_decay", "maximize", "amsgrad", "nesterov", "dampening", "centered", "betas", "alpha",
                 "foreach", "fused", "capturable", "differentiable", "momentun", "beta1", "beta2"]


@pytest.mark.parametrize("cls", [GD, RMSProp, Adam, AdamW])
@pytest.mark.parametrize("key", TORCH_OPTIONS)
def test_unsupported_group_setting_is_an_error_naming_it(cls, key):
    if (cls is AdamW and key == "weight_decay") or (cls in (Adam, AdamW) and key == "betas"):
        pytest.skip("a setting of this optimizer")
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=f"Unsupported parameter-group setting.*'{key}'"):
        cls([{"params": [p], key: True}], **_defaults(cls))
    opt = cls([p], **_defaults(cls))
    with pytest.raises(ValueError, match=f"'{key}'"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], key: 0.5})


def test_rmsprop_momentum_is_not_an_rmsprop_setting_but_gd_momentum_is():
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="'momentum'"):
        RMSProp([{"params": [p], "momentum": 0.9}], lr=0.1)
    assert GD([{"params": [p], "momentum": 0.9}], lr=0.1).param_groups[0]["momentum"] == 0.9


def test_scheduler_bookkeeping_and_names_are_accepted_in_groups():
    p = torch.zeros(2, requires_grad=True)
    opt = Adam([{"params": [p], "initial_lr": 0.01, "name": "weights"}], lr=0.01)
    sched = lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)  # resuming needs initial_lr in every group
    assert sched.last_epoch == 4 and opt.param_groups[0]["name"] == "weights"


@pytest.mark.parametrize("cls", [GD, RMSProp, Adam, AdamW])
def test_complex_parameters_are_rejected_and_their_real_view_matches_torch(cls):
    z = torch.tensor([0.7 + 2.0j, -1.0 + 0.5j], dtype=torch.complex128, requires_grad=True)
    with pytest.raises(ValueError, match="Complex parameters.*complex128"):
        cls([z], **_defaults(cls))
    with pytest.raises(ValueError, match="Complex parameters"):
        cls([torch.zeros(1, requires_grad=True)], **_defaults(cls)).add_param_group({"params": [z]})
    # The suggested way, optimizing the real view, is what torch.optim does with a complex parameter.
    kw = _defaults(cls) or dict(lr=0.1)
    ours_z = torch.view_as_real(z.detach().clone()).requires_grad_(True)
    torch_z = z.detach().clone().requires_grad_(True)
    ref_cls, translate = REFERENCE[cls]
    ours, ref = cls([ours_z], **kw), ref_cls([torch_z], **translate(**kw))
    target = torch.tensor([1.0 - 1.0j, 2.0 + 0.0j], dtype=torch.complex128)
    for _ in range(3):
        for opt, param, as_complex in ((ours, ours_z, torch.view_as_complex), (ref, torch_z, lambda t: t)):
            opt.zero_grad()
            (as_complex(param) - target).abs().pow(2).sum().backward()
            opt.step()
    torch.testing.assert_close(torch.view_as_complex(ours_z.detach()), torch_z.detach(), **TIGHT)


def test_parameters_from_a_generator_are_kept():
    w = torch.ones(2, dtype=F64, requires_grad=True)
    opt = GD((p for p in [w]), lr=0.5)
    opt.add_param_group({"params": (p for p in [torch.zeros(1, requires_grad=True)])})
    assert opt.param_groups[0]["params"] == [w] and len(opt.param_groups[1]["params"]) == 1


# --- 9. step hooks and the profiler label, which torch.optim's wrapper adds only when needed ---


@pytest.mark.parametrize("cls", [GD, RMSProp, Adam, AdamW])
def test_step_hooks_run_as_with_torch_optim(cls):
    from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

    w = torch.ones(2, dtype=F64, requires_grad=True)
    opt = cls([w], **_defaults(cls))
    calls = []
    handles = [opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre")),
               opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post")),
               register_optimizer_step_pre_hook(lambda o, args, kwargs: calls.append("all pre")),
               register_optimizer_step_post_hook(lambda o, args, kwargs: calls.append("all post"))]
    w.grad = torch.ones_like(w)
    try:
        opt.step()
        assert calls == ["all pre", "pre", "post", "all post"]  # torch's order
    finally:
        for handle in handles:
            handle.remove()
    calls.clear()
    opt.step()  # without hooks, the bare step
    assert calls == []
    handle = register_optimizer_step_pre_hook(lambda o, args, kwargs: calls.append("all pre"))
    try:
        opt.step()
        assert calls == ["all pre"]
    finally:
        handle.remove()


def test_a_pre_hook_can_replace_the_arguments_as_with_torch_optim():
    w = torch.ones(2, dtype=F64, requires_grad=True)
    opt = GD([w], lr=0.1)
    w.grad = torch.ones_like(w)
    closure_calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": lambda: closure_calls.append(1) or 7.0}))
    assert opt.step() == 7.0 and closure_calls == [1]


def test_the_profiler_sees_the_step_label():
    w = torch.ones(2, dtype=F64, requires_grad=True)
    opt = Adam([w], lr=0.1)
    w.grad = torch.ones_like(w)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        opt.step()
    assert "Optimizer.step#Adam.step" in {event.name for event in prof.events()}
