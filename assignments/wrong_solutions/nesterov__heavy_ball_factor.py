# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: mixes the conventions: the heavy-ball buffer m = beta*m + g (no 1 - beta) inside the EMA-form step.
# Every step is 1/(1 - beta) times too long; it equals SGD(nesterov=True) with lr, not lr*(1 - beta).
class NesterovGD(OptimizerBase):
    r"""Nesterov momentum, EMA form: m = beta*m + (1-beta)*g;  p -= lr*((1-beta)*g + beta*m)."""

    def __init__(self, params, lr, momentum=0.9):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Invalid momentum value: {momentum} (must be in [0, 1))")
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def update_param(self, p, grad, state, group):
        beta = group["momentum"]
        if "m" not in state:
            state["m"] = torch.zeros_like(p)
        m = state["m"].mul_(beta).add_(grad)
        p.add_(grad + beta * m, alpha=-group["lr"])
