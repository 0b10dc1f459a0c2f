r"""Gradient-descent optimizers written as short update rules.

Each optimizer is a :class:`torch.optim.Optimizer` subclass, so learning-rate schedulers, parameter
groups and ``state_dict()`` work with it. A subclass implements one method, :meth:`update_param`,
which updates one parameter :math:`\Theta` from its gradient :math:`g = \nabla_\Theta f(\Theta^t)`
and its per-parameter state. The symbols match the book: learning rate :math:`\eta`, decay rates
:math:`\beta, \beta_1, \beta_2`, moments :math:`m, v`.

A learning rate is a non-negative float, or a tensor that broadcasts against the parameter (one rate
per row), which is how :func:`optim_helpers.train_curves` runs many learning rates at once.
"""

import functools
import math
import numbers

import torch
import torch.optim.optimizer as torch_optimizer

__all__ = ["OptimizerBase", "GD", "RMSProp", "Adam", "AdamW"]


def _check_lr(lr):
    bad = (
        not bool(torch.isfinite(lr).all() and (lr >= 0).all())
        if isinstance(lr, torch.Tensor)
        else not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr >= 0.0)
    )
    if bad:
        raise ValueError(f"Invalid learning rate: {lr} (must be finite and >= 0)")


def _check_beta(name):
    def check(beta):
        if not (isinstance(beta, numbers.Real) and 0.0 <= beta < 1.0):
            raise ValueError(f"Invalid {name} value: {beta} (must be in [0, 1))")

    return check


def _check_betas(betas):
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise ValueError(f"Invalid betas value: {betas} (must be a pair (beta1, beta2))")
    _check_beta("beta1")(betas[0])
    _check_beta("beta2")(betas[1])


def _check_nonnegative(name):
    def check(value):
        if not (isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0.0):
            raise ValueError(f"Invalid {name} value: {value} (must be finite and >= 0)")

    return check


# Keys a parameter group may hold besides its parameters and the optimizer's settings: a group's name, and the
# bookkeeping that torch.optim.lr_scheduler writes into groups (so a saved group can be handed back).
_BOOKKEEPING = frozenset({"params", "name", "initial_lr", "base_lr", "max_lr", "min_lr", "base_momentum",
                          "max_momentum"})


class OptimizerBase(torch.optim.Optimizer):
    """Template: validating settings, looping over parameters and the ``lr`` property live here.

    Subclasses list the checks of their settings in ``SETTINGS`` (name -> check that raises ``ValueError``) and
    override :meth:`update_param` only. A parameter group may set any key of the optimizer's ``defaults``; any
    other key is refused by name, so a torch option this optimizer does not implement is never silently ignored. Every setting is checked wherever it enters: the constructor, each parameter
    group (given to the constructor or to :meth:`add_param_group`) and, since a scheduler or a user may write
    into ``param_groups``, again at every :meth:`step`.
    """

    SETTINGS = {"lr": _check_lr}

    def __init__(self, params, defaults):
        self._check_settings(defaults)
        super().__init__(params, defaults)

    def _check_settings(self, group):
        for name, check in self.SETTINGS.items():
            check(group[name])

    def add_param_group(self, param_group):
        """Add a group of parameters; an unknown or unsupported setting, or a complex parameter, is an error."""
        if isinstance(param_group, dict):
            unknown = sorted(set(param_group) - set(self.defaults) - _BOOKKEEPING)
            if unknown:
                raise ValueError(f"Unsupported parameter-group setting(s) {unknown} for {type(self).__name__}: "
                                 f"it supports {sorted(self.defaults)}")
            self._check_settings({**self.defaults, **param_group})
            params = param_group.get("params", [])
            if isinstance(params, torch.Tensor):
                params = [params]
            elif not isinstance(params, (list, tuple, set)):  # a generator: read it once, hand on the list
                params = list(params)
                param_group = {**param_group, "params": params}
            lr = param_group.get("lr", self.defaults["lr"])
            for p in params:
                p = p[1] if isinstance(p, tuple) else p  # (name, parameter) pairs
                if isinstance(p, torch.Tensor) and p.is_complex():
                    raise ValueError(f"Complex parameters are not supported by {type(self).__name__} "
                                     f"(got dtype {p.dtype}); optimize torch.view_as_real(p) instead")
                if isinstance(p, torch.Tensor) and isinstance(lr, torch.Tensor) and not _broadcasts(lr, p):
                    raise ValueError(f"Invalid learning rate shape {tuple(lr.shape)} for a parameter of shape "
                                     f"{tuple(p.shape)} (must broadcast against it, e.g. one rate per row)")
        super().add_param_group(param_group)

    @property
    def lr(self):
        """The learning rate shared by every parameter group (setting it writes every group)."""
        rates = [group["lr"] for group in self.param_groups]
        first = rates[0]
        if any(r is not first and not _same_rate(r, first) for r in rates[1:]):
            raise ValueError(f"Parameter groups have different learning rates: {rates}")
        return first

    @lr.setter
    def lr(self, value):
        if isinstance(value, torch.Tensor) and value.ndim == 0:
            value = value.item()
        _check_lr(value)
        for group in self.param_groups:
            group["lr"] = value

    @staticmethod
    def profile_hook_step(func):
        """How ``torch.optim.Optimizer`` wraps every subclass's ``step``: here with torch's own wrapper (step hooks,
        a profiler label) whenever a profiler runs or a step hook is registered, and as the bare ``step``
        otherwise. The label alone costs about as much as a whole step on a two-weight surface."""
        wrapped = torch.optim.Optimizer.profile_hook_step(func)

        @functools.wraps(func)
        def wrapper(self, *args, **kwargs):
            if _hooks_or_profiler(self):
                return wrapped(self, *args, **kwargs)
            return func(self, *args, **kwargs)

        return wrapper

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; return the closure's loss if one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._check_settings(group)
            for p in group["params"]:
                if p.grad is not None:
                    self.update_param(p, p.grad, self.state[p], group)
        return loss

    def update_param(self, p, grad, state, group):
        """Update parameter ``p`` in place from ``grad``, its ``state`` dict and its ``group``'s settings."""
        raise NotImplementedError

    @staticmethod
    def descend(p, direction, lr, denominator=None):
        r"""In place: :math:`p \leftarrow p - \eta \cdot \text{direction} / \text{denominator}`.

        Fused in-place kernels either way; a tensor of rates broadcasts with the same rounding
        as one float rate, so a batched trajectory follows its single run.
        """
        if isinstance(lr, torch.Tensor):
            lr = lr.to(p.dtype)  # rates are kept in float64 and rounded once, as a float rate is
            if denominator is None:
                p.addcmul_(direction, lr, value=-1)
            else:
                p.addcdiv_(direction * lr, denominator, value=-1)
        elif denominator is None:
            p.add_(direction, alpha=-lr)
        else:
            p.addcdiv_(direction, denominator, value=-lr)


def _hooks_or_profiler(optimizer):
    """Whether a step of ``optimizer`` needs torch's wrapper: a profiler runs, or some step hook is registered
    (on the optimizer, or for all optimizers; if torch keeps the latter elsewhere, assume there are some)."""
    for_all = (getattr(torch_optimizer, "_global_optimizer_pre_hooks", None),
               getattr(torch_optimizer, "_global_optimizer_post_hooks", None))
    return bool(torch.autograd.profiler._is_profiler_enabled or any(h is None or len(h) for h in for_all)
                or optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks)


def _broadcasts(lr, p):
    try:
        return torch.broadcast_shapes(lr.shape, p.shape) == p.shape
    except RuntimeError:
        return False


def _same_rate(a, b):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
    return a == b


class GD(OptimizerBase):
    r"""Gradient descent with optional momentum as an exponential moving average.

    .. math::
        m^t = \beta\, m^{t-1} + (1 - \beta)\, g^t, \qquad \Theta^t = \Theta^{t-1} - \eta\, m^t,
        \qquad m^0 = 0,

    for steps :math:`t = 1, 2, \dots` with :math:`g^t = \nabla \mathcal{L}(\Theta^{t-1})`. With :math:`\beta = 0`
    this is plain gradient descent, :math:`\Theta^t = \Theta^{t-1} - \eta g^t`.

    Note: ``torch.optim.SGD`` uses the heavy-ball form :math:`b^t = \beta b^{t-1} + g^t`, so
    ``GD(lr, momentum=beta)`` equals ``torch.optim.SGD(lr=lr * (1 - beta), momentum=beta)``.
    A scheduler that cycles momentum (``OneCycleLR``, or ``CyclicLR`` with ``cycle_momentum=True``) writes
    :math:`\beta_t` into ``group["momentum"]``, and GD then cycles the decay rate of its average,
    :math:`m^t = \beta_t m^{t-1} + (1 - \beta_t) g^t`. SGD cycles the :math:`\beta` of its sum instead, so the
    two runs agree only while :math:`\beta` is constant; for SGD's run, use ``torch.optim.SGD``.
    """

    SETTINGS = {"lr": _check_lr, "momentum": _check_beta("momentum")}

    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def update_param(self, p, grad, state, group):
        beta = group["momentum"]
        if beta == 0.0:
            self.descend(p, grad, group["lr"])
            return
        if "m" not in state:
            state["m"] = torch.zeros_like(p)
        m = state["m"].mul_(beta).add_(grad, alpha=1 - beta)  # m = beta*m + (1-beta)*g
        self.descend(p, m, group["lr"])


class RMSProp(OptimizerBase):
    r"""RMSProp: divide the gradient by a running root mean square of its history.

    .. math::
        v^t = \beta\, v^{t-1} + (1 - \beta)\, (g^t)^2, \qquad
        \Theta^t = \Theta^{t-1} - \eta\, \frac{g^t}{\sqrt{v^t} + \epsilon}, \qquad v^0 = 0.

    :math:`\epsilon` keeps a zero gradient (with :math:`v^t = 0`) from producing ``0/0 = NaN``.
    Equals ``torch.optim.RMSprop(lr, alpha=beta, eps=eps)``. It has no momentum, so a scheduler that cycles
    momentum refuses it, as it refuses ``torch.optim.Adagrad``: give ``OneCycleLR`` and ``CyclicLR``
    ``cycle_momentum=False``.
    """

    SETTINGS = {"lr": _check_lr, "beta": _check_beta("beta"), "eps": _check_nonnegative("eps")}

    def __init__(self, params, lr, beta=0.9, eps=1e-8):
        super().__init__(params, dict(lr=lr, beta=beta, eps=eps))

    def update_param(self, p, grad, state, group):
        beta = group["beta"]
        if "v" not in state:
            state["v"] = torch.zeros_like(p)
        v = state["v"].mul_(beta).addcmul_(grad, grad, value=1 - beta)  # v = beta*v + (1-beta)*g^2
        self.descend(p, grad, group["lr"], v.sqrt().add_(group["eps"]))


class Adam(OptimizerBase):
    r"""Adam: momentum on the gradient, RMSProp on its scale, both bias-corrected.

    .. math::
        m^t = \beta_1 m^{t-1} + (1 - \beta_1) g^t, \qquad
        v^t = \beta_2 v^{t-1} + (1 - \beta_2) (g^t)^2,

        \hat m^t = \frac{m^t}{1 - \beta_1^t}, \qquad \hat v^t = \frac{v^t}{1 - \beta_2^t}, \qquad
        \Theta^t = \Theta^{t-1} - \eta\, \frac{\hat m^t}{\sqrt{\hat v^t} + \epsilon},

    with :math:`m^0 = v^0 = 0` and :math:`t = 1` at the first step. Equals ``torch.optim.Adam``
    (Kingma & Ba, 2015). As in torch, a parameter group keeps the pair as ``group["betas"] = (beta1, beta2)``,
    which is where a scheduler that cycles momentum writes :math:`\beta_1`.
    """

    SETTINGS = {"lr": _check_lr, "betas": _check_betas, "eps": _check_nonnegative("eps")}

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), eps=eps))

    def update_param(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        if "t" not in state:
            state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
        state["t"] += 1
        t = state["t"]
        m = state["m"].lerp_(grad, 1 - beta1)  # m = beta1*m + (1-beta1)*g
        v = state["v"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v = beta2*v + (1-beta2)*g^2
        # eta * m_hat / (sqrt(v_hat) + eps), with the two corrections folded into scalars
        denominator = (v.sqrt() / math.sqrt(1 - beta2**t)).add_(group["eps"])
        self.descend(p, m, group["lr"] / (1 - beta1**t), denominator)


class AdamW(Adam):
    r"""AdamW: Adam with weight decay decoupled from the gradient.

    .. math::
        \Theta^t = \Theta^{t-1} - \eta \left( \frac{\hat m^t}{\sqrt{\hat v^t} + \epsilon}
        + \lambda_\text{wd}\, \Theta^{t-1} \right),

    where :math:`m, v` see only the loss gradient: the decay :math:`\lambda_\text{wd}\Theta` is taken out of
    the gradient, so the adaptive scaling does not shrink it (Loshchilov & Hutter). Adding
    :math:`\lambda_\text{wd}\Theta` to the gradient instead (L2 regularization in Adam) is not the same.
    Equals ``torch.optim.AdamW``.
    """

    SETTINGS = {**Adam.SETTINGS, "weight_decay": _check_nonnegative("weight_decay")}

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
        OptimizerBase.__init__(self, params, dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay))

    def update_param(self, p, grad, state, group):
        shrink = 1 - group["lr"] * group["weight_decay"]  # decoupled decay: Theta -= eta*lambda_wd*Theta
        p.mul_(shrink.to(p.dtype) if isinstance(shrink, torch.Tensor) else shrink)
        super().update_param(p, grad, state, group)
