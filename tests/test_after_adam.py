"""NAdam and RAdam equal torch.optim's, step for step in float64, on several shapes and parameter groups."""

import copy

import pytest
import torch

from optim_helpers.after_adam import NAdam, RAdam

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


@pytest.mark.parametrize("cls, kw, match", [
    (NAdam, dict(lr=-1.0), "learning rate: -1.0"),
    (NAdam, dict(beta1=1.0), "beta1 value: 1.0"),
    (NAdam, dict(momentum_decay=-0.1), "momentum_decay value: -0.1"),
    (RAdam, dict(beta2=1.5), "beta2 value: 1.5"),
    (RAdam, dict(eps=float("nan")), "eps value: nan"),
])
def test_bad_settings_raise_naming_the_value(cls, kw, match):
    with pytest.raises(ValueError, match=match):
        cls([torch.zeros(2, requires_grad=True)], **kw)


@pytest.mark.parametrize("cls", [NAdam, RAdam])
def test_torch_options_it_lacks_are_refused_by_name(cls):
    with pytest.raises(ValueError, match="weight_decay"):
        cls([{"params": [torch.zeros(2, requires_grad=True)], "weight_decay": 0.1}])
