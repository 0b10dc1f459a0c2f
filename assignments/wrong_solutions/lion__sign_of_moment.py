# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: steps along the sign of the moment itself, sign(m^t) with m^t = beta2 m^{t-1} + (1 - beta2) g^t, and
# never interpolates with beta1: that is signSGD with momentum (Signum), whose step follows the slow average
# and, with the default betas, reacts to a new gradient ten times more weakly (1 - beta2 = 0.01, not 0.1).
class Lion(OptimizerBase):
    r"""Lion: p -= lr * (sign(beta1*m + (1-beta1)*g) + wd*p);  then m = beta2*m + (1-beta2)*g."""

    def __init__(self, params, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), weight_decay=weight_decay))

    def update_param(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        if "m" not in state:
            state["m"] = torch.zeros_like(p)
        m = state["m"]
        m.mul_(beta2).add_(grad, alpha=1 - beta2)
        p.mul_(1 - group["lr"] * group["weight_decay"])
        p.sub_(group["lr"] * m.sign())
