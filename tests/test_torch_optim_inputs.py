"""PyTorch's own optimizer test inputs, run against the package's optimizers.

``torch.testing._internal.common_optimizers`` lists the settings PyTorch tests each optimizer with
(``optim_inputs_func_*``) and the bad settings that must raise (``optim_error_inputs_func_*``). Each input is
translated to the package's names (for ``GD``: ``lr / (1 - momentum)`` with the same ``momentum``, since GD's
momentum is an average); where every setting has a counterpart, ten steps must equal torch.optim's, and where
one has none (``weight_decay`` outside AdamW, ``maximize``, ``amsgrad``, ``nesterov``, ``dampening``,
``centered``, RMSprop's ``momentum``) the package must refuse it by name rather than ignore it.
"""

import pytest
import torch

pytest.importorskip("expecttest")  # needed by torch's test inputs module
from torch.testing._internal import common_optimizers  # noqa: E402

from optim_helpers import GD, Adam, AdamW, RMSProp  # noqa: E402

F64 = torch.float64


def _sgd(kw):
    momentum = kw.pop("momentum", 0.0)
    return GD, {"lr": kw.pop("lr", 1e-3) / (1 - momentum), "momentum": momentum}


def _rmsprop(kw):
    return RMSProp, {"lr": kw.pop("lr", 1e-2), "beta": kw.pop("alpha", 0.99), "eps": kw.pop("eps", 1e-8)}


def _adam(kw, cls=Adam):
    beta1, beta2 = kw.pop("betas", (0.9, 0.999))
    ours = {"lr": kw.pop("lr", 1e-3), "beta1": beta1, "beta2": beta2, "eps": kw.pop("eps", 1e-8)}
    if cls is AdamW:
        ours["weight_decay"] = kw.pop("weight_decay", 1e-2)
    return cls, ours


TRANSLATIONS = {
    "sgd": (torch.optim.SGD, _sgd),
    "rmsprop": (torch.optim.RMSprop, _rmsprop),
    "adam": (torch.optim.Adam, _adam),
    "adamw": (torch.optim.AdamW, lambda kw: _adam(kw, AdamW)),
}
# Settings that are no-ops at their default value, so torch's inputs setting them to the default need no support.
NO_OPS = {"maximize": False, "amsgrad": False, "nesterov": False, "centered": False, "dampening": 0, "momentum": 0}


def _inputs():
    for name, (ref, translate) in TRANSLATIONS.items():
        for spec in getattr(common_optimizers, f"optim_inputs_func_{name}")(device="cpu"):
            yield pytest.param(name, ref, translate, spec.kwargs, id=f"{name}: {spec.desc}")


def _problem():
    g = torch.Generator().manual_seed(0)
    X, Y = torch.randn(16, 4, generator=g, dtype=F64), torch.randn(16, 3, generator=g, dtype=F64)
    init = [torch.randn(4, 3, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64)]
    return init, lambda W, b: (torch.tanh(X @ W + b) - Y).pow(2).mean()


def _run(make, steps=10):
    init, loss_fn = _problem()
    params = [t.clone().requires_grad_(True) for t in init]
    opt = make(params)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(*params).backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in params])


@pytest.mark.parametrize("name, ref, translate, torch_kwargs", list(_inputs()))
def test_torch_inputs_are_matched_or_refused_by_name(name, ref, translate, torch_kwargs):
    rest = dict(torch_kwargs)
    cls, ours = translate(rest)
    unsupported = {k: v for k, v in rest.items() if NO_OPS.get(k, object()) != v}
    if unsupported:
        init, _ = _problem()
        for key, value in unsupported.items():
            group = {"params": [t.clone().requires_grad_(True) for t in init], key: value}
            with pytest.raises(ValueError, match=f"Unsupported parameter-group setting.*'{key}'"):
                cls([group], **ours)
        return
    expected = _run(lambda ps: ref(ps, foreach=False, **torch_kwargs))
    torch.testing.assert_close(_run(lambda ps: cls(ps, **ours)), expected, rtol=1e-10, atol=1e-12)


def _error_inputs():
    """torch's bad hyperparameter values (ValueError on a setting the package has too)."""
    for name, (_, translate) in TRANSLATIONS.items():
        for spec in getattr(common_optimizers, f"optim_error_inputs_func_{name}")(device="cpu", dtype=F64):
            kwargs = spec.optimizer_error_input.kwargs
            if spec.error_type is ValueError and {"momentum", "betas", "weight_decay", "eps"} & set(kwargs) \
                    and not any(isinstance(v, torch.Tensor) or isinstance(v, tuple) and any(
                        isinstance(x, torch.Tensor) for x in v) for v in kwargs.values()):
                yield pytest.param(name, translate, kwargs, id=f"{name}: {kwargs}")


@pytest.mark.parametrize("name, translate, torch_kwargs", list(_error_inputs()))
def test_torch_bad_values_raise_a_value_error_naming_them(name, translate, torch_kwargs):
    rest = dict(torch_kwargs)
    cls, ours = translate(rest)
    group = {"params": [torch.zeros(2, dtype=F64, requires_grad=True)], **rest}  # settings without a counterpart
    with pytest.raises(ValueError) as info:
        cls([group], **ours)
    values = [x for k, v in torch_kwargs.items() if k != "lr" for x in (v if isinstance(v, tuple) else (v,))]
    assert "Unsupported" in str(info.value) or any(str(x) in str(info.value) for x in values), info.value
