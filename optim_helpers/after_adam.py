r"""Optimizers after Adam, written as short update rules on :class:`~optim_helpers.optimizers.OptimizerBase`.

Same symbols as Adam: gradient :math:`g^t`, moments :math:`m^t, v^t` with :math:`m^0 = v^0 = 0`, decay rates
:math:`\beta_1, \beta_2`, step :math:`t = 1` first. Each equals its ``torch.optim`` counterpart step for step.
"""

import math

import torch

from .optimizers import OptimizerBase, _check_betas, _check_lr, _check_nonnegative

__all__ = ["NAdam", "RAdam"]


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
