"""The optimizers after Adam equal their references step for step in float64, on several shapes and parameter
groups: NAdam, RAdam and Adafactor torch.optim's, Lion lion-pytorch's, ScheduleFreeAdamW schedulefree's."""

import copy
import importlib
import math

import pytest
import torch

from optim_helpers import Adam, train_curve, train_curves
from optim_helpers.after_adam import Adafactor, Lion, NAdam, RAdam, ScheduleFreeAdamW, optimizer_state_bytes

CASES = [
    (NAdam, dict(lr=0.01), torch.optim.NAdam, dict(lr=0.01)),
    (NAdam, dict(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6, momentum_decay=0.01),
     torch.optim.NAdam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, momentum_decay=0.01)),
    (RAdam, dict(lr=0.01), torch.optim.RAdam, dict(lr=0.01)),
    (RAdam, dict(lr=0.05, beta1=0.5, beta2=0.9, eps=1e-6), torch.optim.RAdam, dict(lr=0.05, betas=(0.5, 0.9),
                                                                                  eps=1e-6)),
]


@pytest.fixture(autouse=True)
def float64_scalars():
    """torch keeps NAdam's product of momentum weights as a tensor of the default dtype: float64 here."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def case_id(case):
    return f"{case[0].__name__}-{'-'.join(f'{k}={v}' for k, v in case[1].items())}"


def parameters(seed=0):
    """A scalar, a vector and a matrix, in float64."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn((), generator=g, dtype=torch.float64).requires_grad_(),
            torch.randn(5, generator=g, dtype=torch.float64).requires_grad_(),
            torch.randn(4, 3, generator=g, dtype=torch.float64).requires_grad_()]


def loss_of(params):
    scalar, vector, matrix = params
    coupling = torch.tanh(matrix @ vector[:3]).pow(2).sum() + scalar * vector.sum()
    return (scalar - 1) ** 4 + 0.5 * (vector**2).sum() + coupling


def run(optimizer, params, steps):
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_of(params)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_equals_torch_step_for_step_with_param_groups(case):
    ours_cls, ours_kw, torch_cls, torch_kw = case
    ours_params, torch_params = parameters(), parameters()
    scale = 0.5  # the matrix in its own group, at half the rate
    ours = ours_cls([{"params": ours_params[:2]}, {"params": ours_params[2:], "lr": ours_kw["lr"] * scale}],
                    **ours_kw)
    theirs = torch_cls([{"params": torch_params[:2]}, {"params": torch_params[2:], "lr": torch_kw["lr"] * scale}],
                       **torch_kw)
    for step in range(40):  # RAdam switches its adaptive rate on at step 6 (beta2 = 0.999) or step 3 (0.9)
        run(ours, ours_params, 1)
        run(theirs, torch_params, 1)
        for a, b in zip(ours_params, torch_params):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14, msg=f"step {step + 1}")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dict_round_trip_equals_an_uninterrupted_run(case):
    cls, kw = case[:2]
    straight = parameters()
    run(cls(straight, **kw), straight, 12)
    interrupted = parameters()
    first = cls(interrupted, **kw)
    run(first, interrupted, 5)
    saved = copy.deepcopy(first.state_dict())
    resumed = cls(interrupted, **kw)
    resumed.load_state_dict(saved)
    run(resumed, interrupted, 7)
    for a, b in zip(straight, interrupted):
        assert torch.equal(a, b)


def test_radam_takes_momentum_steps_until_the_variance_is_tractable():
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    optimizer = RAdam([w], lr=0.1)
    before = w.detach().clone()
    w.grad = torch.tensor([2.0], dtype=torch.float64)
    optimizer.step()  # rho_1 = 1 <= 5: the step is eta * m_hat = eta * g, whatever the scale of g
    torch.testing.assert_close(before - w.detach(), torch.tensor([0.2], dtype=torch.float64))


BAD_SETTINGS = [
    (NAdam, dict(lr=-1.0), "learning rate: -1.0"),
    (NAdam, dict(beta1=1.0), "beta1 value: 1.0"),
    (NAdam, dict(momentum_decay=-0.1), "momentum_decay value: -0.1"),
    (RAdam, dict(beta2=1.5), "beta2 value: 1.5"),
    (RAdam, dict(eps=float("nan")), "eps value: nan"),
    (Adafactor, dict(lr=-1.0), "learning rate: -1.0"),
    (Adafactor, dict(lr=torch.full((2, 1), 0.1)), r"learning rate: a tensor of shape \(2, 1\)"),
    (Adafactor, dict(beta2_decay=0.5), "beta2_decay value: 0.5"),
    (Adafactor, dict(beta2_decay=-math.inf), "beta2_decay value: -inf"),
    (Adafactor, dict(eps=(None, -1e-3)), r"eps value: \(None, -0.001\)"),
    (Adafactor, dict(eps=(-1.0, 1e-3)), r"eps value: \(-1.0, 0.001\)"),
    (Adafactor, dict(eps=1e-3), "eps value: 0.001"),
    (Adafactor, dict(d=0.5), "d value: 0.5"),
    (Adafactor, dict(weight_decay=-0.1), "weight_decay value: -0.1"),
    (Lion, dict(lr=math.inf), "learning rate: inf"),
    (Lion, dict(beta1=1.0), "beta1 value: 1.0"),
    (Lion, dict(beta2=-0.1), "beta2 value: -0.1"),
    (Lion, dict(weight_decay=-1.0), "weight_decay value: -1.0"),
    (ScheduleFreeAdamW, dict(lr=-0.1), "learning rate: -0.1"),
    (ScheduleFreeAdamW, dict(lr=torch.tensor([0.1, 0.2])), r"learning rate: a tensor of shape \(2,\)"),
    (ScheduleFreeAdamW, dict(beta1=0.0), r"beta1 value: 0.0 \(must be in \(0, 1\)\)"),
    (ScheduleFreeAdamW, dict(beta2=1.0), "beta2 value: 1.0"),
    (ScheduleFreeAdamW, dict(eps=-1e-8), "eps value: -1e-08"),
    (ScheduleFreeAdamW, dict(weight_decay=math.nan), "weight_decay value: nan"),
    (ScheduleFreeAdamW, dict(warmup_steps=2.5), "warmup_steps value: 2.5"),
    (ScheduleFreeAdamW, dict(warmup_steps=-1), "warmup_steps value: -1"),
    (ScheduleFreeAdamW, dict(r=-1.0), "r value: -1.0"),
    (ScheduleFreeAdamW, dict(weight_lr_power=-2.0), "weight_lr_power value: -2.0"),
]


@pytest.mark.parametrize("cls, kw, match", BAD_SETTINGS, ids=lambda x: getattr(x, "__name__", None))
def test_bad_settings_raise_naming_the_value(cls, kw, match):
    with pytest.raises(ValueError, match=match):
        cls([torch.zeros(2, requires_grad=True)], **kw)


def as_group_setting(defaults, name, value):
    """A constructor setting as a parameter group holds it: beta1 and beta2 live in the pair betas."""
    if name in ("beta1", "beta2"):
        betas = list(defaults["betas"])
        betas[name == "beta2"] = value
        return "betas", tuple(betas)
    return name, value


@pytest.mark.parametrize("cls, kw, match", BAD_SETTINGS, ids=lambda x: getattr(x, "__name__", None))
def test_bad_settings_are_refused_in_a_group_and_at_step(cls, kw, match):
    w = torch.zeros(2, requires_grad=True)
    optimizer = cls([w])
    key, value = as_group_setting(optimizer.defaults, *next(iter(kw.items())))
    with pytest.raises(ValueError, match=match):
        optimizer.add_param_group({"params": [torch.zeros(2, requires_grad=True)], key: value})
    optimizer.param_groups[0][key] = value  # as a scheduler or a user could write it
    w.grad = torch.ones(2)
    with pytest.raises(ValueError, match=match):
        optimizer.step()


@pytest.mark.parametrize("cls, option", [(NAdam, "weight_decay"), (RAdam, "weight_decay"), (Adafactor, "maximize"),
                                         (Adafactor, "foreach"), (Lion, "decoupled_weight_decay"),
                                         (Lion, "use_triton"), (ScheduleFreeAdamW, "foreach")])
def test_torch_options_it_lacks_are_refused_by_name(cls, option):
    with pytest.raises(ValueError, match=option):
        cls([{"params": [torch.zeros(2, requires_grad=True)], option: 0.1}])


def reference(module, name):
    """A class of a test-only reference package (skipped where the package is not installed)."""
    return getattr(pytest.importorskip(module), name)


def more_parameters(seed=0):
    """A scalar, a vector, a matrix and a stack of two matrices, in float64."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(), (5,), (4, 3), (2, 3, 4)]
    return [torch.randn(shape, generator=g, dtype=torch.float64).requires_grad_() for shape in shapes]


def more_loss_of(params):
    scalar, vector, matrix, stack = params
    coupling = torch.tanh(matrix @ vector[:3]).pow(2).sum() + scalar * vector.sum()
    return (scalar - 1) ** 4 + 0.5 * (vector**2).sum() + coupling + (torch.sin(stack) * stack).sum() \
        + (stack[..., :3].sum(-1) * matrix[:3].T[:2]).sum()


def more_run(optimizer, params, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        more_loss_of(params).backward()
        optimizer.step()


ADAFACTOR, LION = ("torch.optim", "Adafactor"), ("lion_pytorch", "Lion")
SCHEDULE_FREE = ("schedulefree", "AdamWScheduleFree")
REFERENCE_CASES = [
    (Adafactor, dict(lr=0.05), ADAFACTOR, dict(lr=0.05, foreach=False)),
    (Adafactor, dict(lr=0.2, beta2_decay=-0.5, eps=(0.5, 1e-2), d=2.0, weight_decay=0.1), ADAFACTOR,
     dict(lr=0.2, beta2_decay=-0.5, eps=(0.5, 1e-2), d=2.0, weight_decay=0.1, foreach=False)),
    (Adafactor, dict(lr=0.02, beta2_decay=0.0, d=1.5), ADAFACTOR,  # beta2_hat = 0: v = g^2
     dict(lr=0.02, beta2_decay=0.0, d=1.5, foreach=False)),
    (Lion, dict(lr=0.01), LION, dict(lr=0.01, use_triton=False)),
    (Lion, dict(lr=0.003, beta1=0.8, beta2=0.95, weight_decay=0.5), LION,
     dict(lr=0.003, betas=(0.8, 0.95), weight_decay=0.5, use_triton=False)),
    (ScheduleFreeAdamW, dict(lr=0.01), SCHEDULE_FREE, dict(lr=0.01, foreach=False)),
    (ScheduleFreeAdamW, dict(lr=0.02, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.05, warmup_steps=10, r=1.0,
                             weight_lr_power=1.0), SCHEDULE_FREE,
     dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, warmup_steps=10, r=1.0, weight_lr_power=1.0,
          foreach=False)),
    (ScheduleFreeAdamW, dict(lr=0.05, warmup_steps=5, weight_decay=0.01), SCHEDULE_FREE,
     dict(lr=0.05, warmup_steps=5, weight_decay=0.01, foreach=True)),
]


def assert_same(ours, theirs, step):
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14, msg=f"step {step}")


@pytest.mark.parametrize("case", REFERENCE_CASES, ids=case_id)
def test_equals_its_reference_step_for_step_with_param_groups(case):
    ours_cls, ours_kw, (module, name), ref_kw = case
    ref_cls = reference(module, name)
    ours_params, ref_params = more_parameters(), more_parameters()
    scale = 0.5  # the stack of matrices in its own group, at half the rate
    ours = ours_cls([{"params": ours_params[:3]}, {"params": ours_params[3:], "lr": ours_kw["lr"] * scale}],
                    **ours_kw)
    theirs = ref_cls([{"params": ref_params[:3]}, {"params": ref_params[3:], "lr": ref_kw["lr"] * scale}], **ref_kw)
    if hasattr(theirs, "train"):
        theirs.train()  # schedulefree starts in eval mode; ours in train mode
    for step in range(1, 41):
        more_run(ours, ours_params, 1)
        more_run(theirs, ref_params, 1)
        assert_same(ours_params, ref_params, step)
        if hasattr(theirs, "eval") and step in (15, 30):  # the average x, then back to y, then on
            ours.eval()
            theirs.eval()
            assert_same(ours_params, ref_params, f"{step}, eval")
            ours.train()
            theirs.train()
            assert_same(ours_params, ref_params, f"{step}, train")


@pytest.mark.parametrize("case", REFERENCE_CASES, ids=case_id)
def test_state_dict_round_trip_equals_an_uninterrupted_run(case):
    cls, kw = case[:2]
    switch = cls is ScheduleFreeAdamW  # saved in eval mode, as a checkpoint of schedule-free training is
    straight = more_parameters()
    optimizer = cls(straight, **kw)
    more_run(optimizer, straight, 5)
    if switch:
        optimizer.eval()
        optimizer.train()
    more_run(optimizer, straight, 7)
    interrupted = more_parameters()
    first = cls(interrupted, **kw)
    more_run(first, interrupted, 5)
    if switch:
        first.eval()
    saved = copy.deepcopy(first.state_dict())
    resumed = cls(interrupted, **kw)
    resumed.load_state_dict(saved)
    if switch:
        resumed.train()  # the loaded state knows the parameters hold x
    more_run(resumed, interrupted, 7)
    for a, b in zip(straight, interrupted):
        assert torch.equal(a, b)


def test_schedule_free_refuses_to_step_in_eval_mode_and_switches_between_y_and_x():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    optimizer = ScheduleFreeAdamW([w], lr=0.1)
    optimizer.eval()  # before the first step x = y = z: nothing moves
    assert torch.equal(w.detach(), torch.tensor([1.0, -2.0]))
    with pytest.raises(RuntimeError, match=r"eval mode.*optimizer\.train\(\)"):
        w.grad = torch.ones(2)
        optimizer.step()
    optimizer.train()
    for _ in range(3):
        w.grad = 2 * w.detach()
        optimizer.step()
    y, z = w.detach().clone(), optimizer.state[w]["z"].clone()
    optimizer.eval()
    x = w.detach().clone()
    torch.testing.assert_close(y, 0.1 * z + 0.9 * x)  # y = (1 - beta1) z + beta1 x
    assert not torch.allclose(x, y)
    optimizer.train()
    torch.testing.assert_close(w.detach(), y)


def test_adafactor_keeps_rows_plus_columns_numbers_per_matrix():
    shapes = {(6, 4): 6 + 4, (2, 3, 4): 2 * (3 + 4), (5,): 5, (): 1}
    for shape, numbers in shapes.items():
        w = torch.randn(shape, dtype=torch.float32, requires_grad=True)
        ours, theirs = Adafactor([w]), torch.optim.Adafactor([w])
        w.grad = torch.randn(shape, dtype=torch.float32)
        ours.step()
        theirs.step()
        assert sum(v.numel() for v in ours.state[w].values() if isinstance(v, torch.Tensor)) == numbers
        assert sum(v.numel() for v in theirs.state[w].values()) == numbers + 1  # and a 0-d step counter
        assert optimizer_state_bytes(ours) == 4 * numbers  # float32; the step count t is a Python int


def test_optimizer_state_bytes_counts_every_state_tensor():
    params = [torch.zeros(6, 4, dtype=torch.float32, requires_grad=True),
              torch.zeros(3, dtype=torch.float32, requires_grad=True)]
    entries = 6 * 4 + 3
    step_bytes = torch.tensor(0.0).element_size()  # torch.optim's step: a 0-d tensor of the default dtype
    for p in params:
        p.grad = torch.ones_like(p)
    counts = [(Adam(params), 2 * 4 * entries),  # m and v, float32
              (torch.optim.Adam(params), 2 * 4 * entries + 2 * step_bytes),
              (Adafactor(params), 4 * ((6 + 4) + 3)),  # rows + columns for the matrix, a full v for the vector
              (Lion(params), 4 * entries),  # m alone
              (ScheduleFreeAdamW(params), 2 * 4 * entries)]  # z and v
    for optimizer, expected in counts:
        assert optimizer_state_bytes(optimizer) == 0
        optimizer.step()
        assert optimizer_state_bytes(optimizer) == expected, type(optimizer).__name__
    w = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    w.grad = torch.ones_like(w)
    optimizer = Lion([w])
    optimizer.step()
    assert optimizer_state_bytes(optimizer) == 8 * 10


def test_lion_moves_every_coordinate_by_the_learning_rate():
    w = torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64, requires_grad=True)
    optimizer = Lion([w], lr=0.01)
    w.grad = torch.tensor([1e-6, -3.0, 100.0], dtype=torch.float64)
    optimizer.step()
    torch.testing.assert_close(w.detach(), torch.tensor([0.99, 1.01, 0.99], dtype=torch.float64))


def test_lion_runs_one_learning_rate_per_row_as_separate_runs():
    lrs = [0.01, 0.05, 0.2]
    batched = train_curves(Lion, {"weight_decay": 0.1}, w_inits=(2.0, -1.0), lrs=lrs, num_steps=30)
    for k, lr in enumerate(lrs):
        single = train_curve(Lion, {"lr": lr, "weight_decay": 0.1}, w_init=(2.0, -1.0), num_steps=30)
        assert (batched[k] == single).all()


def test_reference_packages_are_importable_where_the_tests_run():
    """The references are pinned in requirements.txt; a comparison must not be skipped silently in CI."""
    for module in ("lion_pytorch", "schedulefree"):
        importlib.import_module(module)
