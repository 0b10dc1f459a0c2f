r"""Optimizers after Adam, written as short update rules on :class:`~optim_helpers.optimizers.OptimizerBase`.

Same symbols as Adam: gradient :math:`g^t`, moments :math:`m^t, v^t` with :math:`m^0 = v^0 = 0`, decay rates
:math:`\beta_1, \beta_2`, step :math:`t = 1` first. Each equals its reference implementation step for step:
NAdam, RAdam and Adafactor those of ``torch.optim``, Lion that of ``lion-pytorch`` and ScheduleFreeAdamW the
``AdamWScheduleFree`` of ``schedulefree``. :func:`optimizer_state_bytes` measures what each keeps per parameter.
"""

import math
import numbers

import torch

from .optimizers import OptimizerBase, _check_betas, _check_lr, _check_nonnegative

__all__ = ["NAdam", "RAdam", "Adafactor", "Lion", "ScheduleFreeAdamW", "optimizer_state_bytes"]


def _moments(state, p, grad, betas):
    """Advance Adam's two moments of ``p`` in ``state`` by one step; return ``(t, m, v)``."""
    beta1, beta2 = betas
    if "t" not in state:
        state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
    state["t"] += 1
    m = state["m"].lerp_(grad, 1 - beta1)  # m = beta1*m + (1-beta1)*g
    v = state["v"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v = beta2*v + (1-beta2)*g^2
    return state["t"], m, v


class NAdam(OptimizerBase):
    r"""NAdam: Adam with Nesterov momentum (Dozat, 2016), with PyTorch's momentum schedule.

    .. math::
        \mu_t = \beta_1 \bigl(1 - \tfrac12\, 0.96^{t \psi}\bigr), \qquad
        \hat m^t = \frac{\mu_{t+1}\, m^t}{1 - \prod_{i \le t+1} \mu_i}
        + \frac{(1 - \mu_t)\, g^t}{1 - \prod_{i \le t} \mu_i}, \qquad
        \Theta^t = \Theta^{t-1} - \eta\, \frac{\hat m^t}{\sqrt{v^t / (1 - \beta_2^t)} + \epsilon},

    with Adam's :math:`m^t, v^t`. The step looks one momentum step ahead: it uses the next step's weight
    :math:`\mu_{t+1}` on :math:`m^t` and today's on the fresh gradient. :math:`\psi` is ``momentum_decay``
    (default :math:`4 \cdot 10^{-3}`), which warms :math:`\mu_t` up from :math:`\beta_1/2` to :math:`\beta_1`.
    Equals ``torch.optim.NAdam`` (without weight decay).
    """

    SETTINGS = {"lr": _check_lr, "betas": _check_betas, "eps": _check_nonnegative("eps"),
                "momentum_decay": _check_nonnegative("momentum_decay")}

    def __init__(self, params, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3):
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), eps=eps, momentum_decay=momentum_decay))

    def update_param(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        t, m, v = _moments(state, p, grad, group["betas"])
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] = state.get("mu_product", 1.0) * mu
        denominator = (v / (1 - beta2**t)).sqrt_().add_(group["eps"])
        lr = group["lr"]
        self.descend(p, grad, lr * (1.0 - mu) / (1.0 - state["mu_product"]), denominator)
        self.descend(p, m, lr * mu_next / (1.0 - state["mu_product"] * mu_next), denominator)


class RAdam(OptimizerBase):
    r"""RAdam: Adam whose adaptive rate is switched on only once it is reliable (Liu et al., 2020).

    .. math::
        \rho_\infty = \frac{2}{1 - \beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}, \qquad
        \hat m^t = \frac{m^t}{1 - \beta_1^t},

        \Theta^t = \Theta^{t-1} - \eta\, r_t\, \frac{\sqrt{1 - \beta_2^t}\, \hat m^t}{\sqrt{v^t} + \epsilon}
        \quad \text{if } \rho_t > 5, \qquad \text{else} \quad \Theta^t = \Theta^{t-1} - \eta\, \hat m^t,

    with :math:`r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}`.
    While too few squared gradients are averaged (:math:`\rho_t \le 5`, the first 5 steps for
    :math:`\beta_2 = 0.999`) the variance of :math:`1/\sqrt{\hat v}` is too large, and the step is momentum alone;
    afterwards :math:`r_t < 1` scales the adaptive step down, rising towards 1: a warmup without a schedule.
    As in PyTorch, :math:`\epsilon` is added to :math:`\sqrt{v^t}` before the bias correction (Adam adds it
    after). Equals ``torch.optim.RAdam`` (without weight decay).
    """

    SETTINGS = {"lr": _check_lr, "betas": _check_betas, "eps": _check_nonnegative("eps")}

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), eps=eps))

    def update_param(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        t, m, v = _moments(state, p, grad, group["betas"])
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        lr = group["lr"] / (1 - beta1**t)  # eta * m_hat = (eta / (1 - beta1^t)) * m
        if rho <= 5:
            self.descend(p, m, lr)
            return
        rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        self.descend(p, m, lr * rect * math.sqrt(1 - beta2**t), v.sqrt().add_(group["eps"]))


def _check_float_lr(name):
    """The learning-rate check of an optimizer whose step couples a parameter's entries: one float per group."""

    def check(lr):
        if isinstance(lr, torch.Tensor):
            raise ValueError(f"Invalid learning rate: a tensor of shape {tuple(lr.shape)} ({name} takes one float "
                             "rate per parameter group, not one per row)")
        _check_lr(lr)

    return check


def _check_that(name, holds, requirement):
    """A check that ``name`` is a finite real number for which ``holds(value)``; else a ValueError naming it."""

    def check(value):
        if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
                and holds(value)):
            raise ValueError(f"Invalid {name} value: {value} (must be {requirement})")

    return check


def _check_adafactor_eps(eps):
    def nonnegative(x):
        return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x) and x >= 0

    if not (isinstance(eps, (tuple, list)) and len(eps) == 2 and (eps[0] is None or nonnegative(eps[0]))
            and nonnegative(eps[1])):
        raise ValueError(f"Invalid eps value: {eps} (must be a pair (eps1 or None, eps2) of finite numbers >= 0)")


class Adafactor(OptimizerBase):
    r"""Adafactor: Adam's second moment kept as row and column averages, without momentum (Shazeer & Stern, 2018).

    For a matrix parameter :math:`\Theta \in \mathbb{R}^{n \times k}`, with :math:`\hat\beta_{2,t} = 1 - t^{\tau}`,

    .. math::
        r^t = \hat\beta_{2,t}\, r^{t-1} + (1 - \hat\beta_{2,t})\, \tfrac1k (g^t \odot g^t)\, \mathbf{1}_k, \qquad
        c^t = \hat\beta_{2,t}\, c^{t-1} + (1 - \hat\beta_{2,t})\, \tfrac1n \mathbf{1}_n^\top (g^t \odot g^t),

        \hat v^t = \frac{r^t c^t}{\max(\bar r^t, \epsilon_1)}, \qquad
        u^t = \frac{g^t}{\max\bigl(\sqrt{\hat v^t}, \epsilon_1\bigr)}, \qquad
        \Theta^t = (1 - \eta\lambda)\, \Theta^{t-1}
        - \alpha_t\, \frac{u^t}{\max\bigl(1, \operatorname{RMS}(u^t) / d\bigr)},

    where the column :math:`r^t \in \mathbb{R}^n` holds the mean square gradient of each row, the row
    :math:`c^t \in \mathbb{R}^{1 \times k}` that of each column, and their outer product divided by the mean
    :math:`\bar r^t` of :math:`r^t` stands for Adam's :math:`v^t` (exactly, when :math:`g \odot g` has rank one).
    The step is relative to the parameter's size, :math:`\alpha_t = \max(\epsilon_2, \operatorname{RMS}(\Theta^{t-1}))
    \min(\eta, 1/\sqrt{t})`, and clipped to root mean square :math:`d`. :math:`\tau` is ``beta2_decay``
    (default :math:`-0.8`: :math:`\hat\beta_{2,t} = 0, 0.43, 0.58, \dots \to 1`, so the first steps average few
    gradients and no bias correction is needed), :math:`\lambda` is ``weight_decay``, and ``eps = (eps1, eps2)``
    with ``eps1=None`` meaning the machine epsilon of the parameter's dtype. A vector (or scalar) keeps the full
    :math:`v^t = \hat\beta_{2,t} v^{t-1} + (1 - \hat\beta_{2,t}) (g^t)^2` and uses :math:`\hat v^t = v^t`.

    Memory: an :math:`n \times k` matrix keeps :math:`n + k` numbers, where Adam keeps :math:`2nk`
    (:math:`m` and :math:`v`); a tensor of more dimensions is a stack of matrices over its last two dimensions,
    :math:`n + k` numbers per matrix. Equals ``Adafactor`` of ``torch.optim`` (PyTorch 2.5 and later), where
    the learning rate caps the relative step (the paper fixes the cap at :math:`10^{-2}`, the default here) and
    scales the decoupled weight decay.
    """

    SETTINGS = {"lr": _check_float_lr("Adafactor"), "beta2_decay": _check_that("beta2_decay", lambda x: x <= 0, "<= 0"),
                "eps": _check_adafactor_eps, "d": _check_that("d", lambda x: x >= 1, ">= 1"),
                "weight_decay": _check_nonnegative("weight_decay")}

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay))

    def update_param(self, p, grad, state, group):
        factored = grad.ndim >= 2
        if "t" not in state:
            state["t"] = 0
            if factored:  # one number per row and one per column of each matrix (the last two dimensions)
                state["r"] = grad.new_zeros(*grad.shape[:-1], 1)
                state["c"] = grad.new_zeros(*grad.shape[:-2], 1, grad.shape[-1])
            else:
                state["v"] = torch.zeros_like(p)
        state["t"] += 1
        t, lr = state["t"], group["lr"]
        eps1, eps2 = group["eps"]
        eps1 = torch.finfo(p.dtype).eps if eps1 is None else eps1
        weight = t ** group["beta2_decay"]  # 1 - beta2_hat_t
        alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * min(lr, 1 / (t**0.5))  # RMS(Theta^{t-1}) rho_t
        if group["weight_decay"] != 0:
            p.mul_(1 - lr * group["weight_decay"])
        if factored:  # the mean squares along rows and columns, as norms: g * g is never stored
            r = state["r"].lerp_(grad.norm(dim=-1, keepdim=True).square_().div_(grad.size(-1)), weight)
            c = state["c"].lerp_(grad.norm(dim=-2, keepdim=True).square_().div_(grad.size(-2)), weight)
            v_hat = (r @ c).div_(r.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            v_hat = state["v"].lerp_(grad * grad, weight).clone()
        u = v_hat.clamp_(min=eps1 * eps1).rsqrt_().mul_(grad)  # g / max(sqrt(v_hat), eps1)
        clip = max(1.0, u.norm(2).item() / ((u.numel() ** 0.5) * group["d"]))  # max(1, RMS(u) / d)
        p.add_(u, alpha=-alpha / clip)


class Lion(OptimizerBase):
    r"""Lion: the sign of a momentum mix, found by program search (Chen et al., 2023).

    .. math::
        c^t = \beta_1 m^{t-1} + (1 - \beta_1)\, g^t, \qquad
        \Theta^t = (1 - \eta\lambda)\, \Theta^{t-1} - \eta\, \operatorname{sign}(c^t), \qquad
        m^t = \beta_2 m^{t-1} + (1 - \beta_2)\, g^t, \qquad m^0 = 0.

    Every coordinate moves by exactly :math:`\eta` (besides the decay :math:`\lambda`, ``weight_decay``): the
    gradient chooses only the direction. The step mixes in more of the fresh gradient (:math:`1 - \beta_1 = 0.1`)
    than the momentum it keeps (:math:`1 - \beta_2 = 0.01`). One state tensor per parameter, :math:`m`, where Adam
    keeps two. Because a sign step is large, Lion takes a learning rate several times smaller than AdamW's, and a
    weight decay as many times larger. Equals ``Lion`` of ``lion-pytorch`` (with its default
    ``decoupled_weight_decay=False``).
    """

    SETTINGS = {"lr": _check_lr, "betas": _check_betas, "weight_decay": _check_nonnegative("weight_decay")}

    def __init__(self, params, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), weight_decay=weight_decay))

    def update_param(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        if "m" not in state:
            state["m"] = torch.zeros_like(p)
        m = state["m"]
        shrink = 1 - group["lr"] * group["weight_decay"]
        p.mul_(shrink.to(p.dtype) if isinstance(shrink, torch.Tensor) else shrink)
        c = m.mul(beta1).add_(grad, alpha=1 - beta1)
        self.descend(p, c.sign_(), group["lr"])
        m.mul_(beta2).add_(grad, alpha=1 - beta2)


def _check_schedule_free_betas(betas):
    _check_betas(betas)
    _check_that("beta1", lambda x: 0 < x < 1, "in (0, 1)")(betas[0])  # eval() divides by beta1


class ScheduleFreeAdamW(OptimizerBase):
    r"""Schedule-free AdamW: averaging instead of a decaying learning rate (Defazio et al., 2024).

    .. math::
        z^t = z^{t-1} - \gamma_t \Bigl(\frac{g^t}{\sqrt{v^t / (1 - \beta_2^t)} + \epsilon} + \lambda\, y^{t-1}\Bigr),
        \qquad v^t = \beta_2 v^{t-1} + (1 - \beta_2)\, (g^t)^2,

        x^t = (1 - c_t)\, x^{t-1} + c_t\, z^t, \qquad
        y^t = (1 - \beta_1)\, z^t + \beta_1\, x^t, \qquad
        c_t = \frac{w_t}{\sum_{i \le t} w_i}, \quad w_t = t^r \bigl(\max_{i \le t} \gamma_i\bigr)^{p},

    with :math:`x^0 = y^0 = z^0 = \Theta^0` and the gradient :math:`g^t = \nabla \mathcal{L}(y^{t-1})`. The
    sequence :math:`z` is the base AdamW step at a constant rate :math:`\gamma_t = \eta \min(1, t / T)` (after a
    linear warmup over :math:`T` = ``warmup_steps``); :math:`x` is its weighted average (:math:`c_t = 1/t`, the
    plain average, when :math:`r = 0` and :math:`\gamma` is constant), the point to evaluate; :math:`y`, where
    gradients are taken, lies between them, and :math:`\beta_1` plays the part of momentum. :math:`p` is
    ``weight_lr_power``, :math:`\lambda` is ``weight_decay``. Only :math:`z` and :math:`v` are stored
    (:math:`x = (y - (1 - \beta_1) z) / \beta_1`), so the memory is Adam's.

    The parameters hold :math:`y` in train mode. :meth:`eval` puts :math:`x` into them (call it before evaluating
    or saving), :meth:`train` puts :math:`y` back, and :meth:`step` refuses to run in eval mode. Equals
    ``AdamWScheduleFree`` of ``schedulefree``, except that it starts in train mode (that one needs ``train()``
    before the first step; before it :math:`x = y = z` and the mode changes nothing). ``beta1`` must be in
    :math:`(0, 1)`, since :meth:`eval` divides by it.
    """

    SETTINGS = {"lr": _check_float_lr("ScheduleFreeAdamW"), "betas": _check_schedule_free_betas,
                "eps": _check_nonnegative("eps"), "weight_decay": _check_nonnegative("weight_decay"),
                "warmup_steps": _check_that("warmup_steps", lambda x: isinstance(x, numbers.Integral) and x >= 0,
                                            "an int >= 0"),
                "r": _check_nonnegative("r"),
                "weight_lr_power": _check_nonnegative("weight_lr_power")}

    def __init__(self, params, lr=2.5e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, warmup_steps=0, r=0.0,
                 weight_lr_power=2.0):
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                                      warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power))

    @torch.no_grad()
    def eval(self):
        r"""Put the average into the parameters: :math:`\Theta \leftarrow x = (y - (1 - \beta_1) z) / \beta_1`."""
        self._switch(train=False)

    @torch.no_grad()
    def train(self):
        r"""Put the gradient point back: :math:`\Theta \leftarrow y = (1 - \beta_1) z + \beta_1 x`."""
        self._switch(train=True)

    def _switch(self, train):
        for group in self.param_groups:
            if group.get("train_mode", True) != train:
                beta1 = group["betas"][0]
                for p in group["params"]:
                    if "z" in self.state[p]:
                        p.lerp_(self.state[p]["z"], 1 - beta1 if train else 1 - 1 / beta1)
                group["train_mode"] = train

    @torch.no_grad()
    def step(self, closure=None):
        """One step from the gradients at :math:`y`; an error in eval mode, where the parameters hold :math:`x`."""
        if not all(group.get("train_mode", True) for group in self.param_groups):
            raise RuntimeError("ScheduleFreeAdamW.step() called in eval mode: the parameters hold the average x, "
                               "not the point y where gradients belong; call optimizer.train() before training")
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:  # the group's schedule: gamma_t and c_t, shared by its parameters
            self._check_settings(group)
            t = group["k"] = group.get("k", 0) + 1
            gamma = group["lr"] * (t / group["warmup_steps"] if t <= group["warmup_steps"] else 1.0)
            lr_max = group["lr_max"] = max(gamma, group.get("lr_max", 0.0))
            weight = t ** group["r"] * lr_max ** group["weight_lr_power"]
            group["weight_sum"] = group.get("weight_sum", 0.0) + weight
            group["scheduled_lr"], group["c"] = gamma, weight / group["weight_sum"] if group["weight_sum"] else 0.0
        super().step()
        return loss

    def update_param(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        gamma, c, t = group["scheduled_lr"], group["c"], group["k"]
        if "z" not in state:
            state.update(z=p.clone(), v=torch.zeros_like(p))
        z = state["z"]
        v = state["v"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        direction = grad / v.div(1 - beta2**t).sqrt_().add_(group["eps"])
        if group["weight_decay"] != 0:
            direction.add_(p, alpha=group["weight_decay"])  # decay taken at y
        p.lerp_(z, c).add_(direction, alpha=gamma * (beta1 * (1 - c) - 1))  # y^t, from y^{t-1} and z^{t-1}
        z.sub_(direction, alpha=gamma)


def optimizer_state_bytes(optimizer):
    """Bytes held by the tensors in ``optimizer.state``: the sum of ``numel * element_size`` over every tensor kept
    for every parameter (moments, factors, and the 0-d step counters of ``torch.optim``; a step count kept as a
    Python number, as this package does, holds no tensor and counts nothing). Divide by the number of parameters
    for bytes per parameter: 8 for Adam in float32, 4 for Lion, far fewer for Adafactor on large matrices.
    """
    return sum(value.numel() * value.element_size() for state in optimizer.state.values()
               for value in state.values() if isinstance(value, torch.Tensor))
