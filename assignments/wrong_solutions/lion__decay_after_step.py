# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: applies the weight decay after the sign step, to the stepped weights: Theta^t = (1 - eta lambda_wd)
# (Theta^{t-1} - eta sign(...)) instead of (1 - eta lambda_wd) Theta^{t-1} - eta sign(...). The two differ by
# eta^2 lambda_wd at every coordinate and step: small, but not Lion's update (nor lion-pytorch's).
class Lion(OptimizerBase):
    r"""Lion: p -= lr * (sign(beta1*m + (1-beta1)*g) + wd*p);  then m = beta2*m + (1-beta2)*g."""

    def __init__(self, params, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), weight_decay=weight_decay))

    def update_param(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        if "m" not in state:
            state["m"] = torch.zeros_like(p)
        m = state["m"]
        direction = (beta1 * m + (1 - beta1) * grad).sign()
        p.sub_(group["lr"] * direction)
        p.mul_(1 - group["lr"] * group["weight_decay"])
        m.mul_(beta2).add_(grad, alpha=1 - beta2)
