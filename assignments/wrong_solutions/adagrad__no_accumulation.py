# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: overwrites the sum with the newest squared gradient, s = g^2, instead of adding to it. The first step
# is right, but every later step is again about lr long (a sign-gradient method): the rate never decays.
class Adagrad(OptimizerBase):
    r"""Adagrad: s = s + g^2;  p -= lr * g / (sqrt(s) + eps)."""

    def __init__(self, params, lr, eps=1e-10):
        if not (math.isfinite(eps) and eps >= 0):
            raise ValueError(f"Invalid eps value: {eps} (must be finite and >= 0)")
        super().__init__(params, dict(lr=lr, eps=eps))

    def update_param(self, p, grad, state, group):
        state["G"] = grad * grad
        self.descend(p, grad, group["lr"], state["G"].sqrt().add_(group["eps"]))
