# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: keeps the maximum of the bias-corrected second moment, max(v_max, v / (1 - beta2^t)), and divides by
# it uncorrected. The early corrected values are large and stay the maximum, so later steps come out too short.
class AMSGrad(OptimizerBase):
    r"""AMSGrad: Adam that divides by the largest (raw) second moment so far, then bias-corrects."""

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))

    def update_param(self, p, grad, state, group):
        beta1, beta2 = group["beta1"], group["beta2"]
        if "t" not in state:
            state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p), v_max=torch.zeros_like(p))
        state["t"] += 1
        t = state["t"]
        state["m"].mul_(beta1).add_(grad, alpha=1 - beta1)
        state["v"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        torch.maximum(state["v_max"], state["v"] / (1 - beta2**t), out=state["v_max"])
        m_hat = state["m"] / (1 - beta1**t)
        p.sub_(group["lr"] * m_hat / (state["v_max"].sqrt() + group["eps"]))
