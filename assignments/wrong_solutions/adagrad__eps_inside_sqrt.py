# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: puts eps inside the square root, sqrt(s + eps), as some libraries do. PyTorch (and the task) add it
# outside, sqrt(s) + eps; the two differ wherever s is not much larger than eps.
class Adagrad(OptimizerBase):
    r"""Adagrad: s = s + g^2;  p -= lr * g / (sqrt(s) + eps)."""

    def __init__(self, params, lr, eps=1e-10):
        if not (math.isfinite(eps) and eps >= 0):
            raise ValueError(f"Invalid eps value: {eps} (must be finite and >= 0)")
        super().__init__(params, dict(lr=lr, eps=eps))

    def update_param(self, p, grad, state, group):
        if "G" not in state:
            state["G"] = torch.zeros_like(p)
        G = state["G"].addcmul_(grad, grad)
        self.descend(p, grad, group["lr"], (G + group["eps"]).sqrt())
