# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: no look-ahead: steps along the average alone, p -= lr*m. That is plain (EMA) momentum, the book's GD,
# not Nesterov's method.
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
        m = state["m"].mul_(beta).add_(grad, alpha=1 - beta)
        p.add_(m, alpha=-group["lr"])
