# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: warmup off by one: eta * t / W. The first step has learning rate 0 (it does not move) and the warmup
# reaches only eta * (W - 1) / W before the decay jumps to eta. (The visible test of step 0 already catches it.)
def warmup_cosine(step, base_lr, warmup_steps, decay_steps, min_lr=0.0):
    """The learning rate after `step` optimizer steps: linear warmup, cosine decay to min_lr, then constant."""
    if step < 0 or warmup_steps < 0 or decay_steps < 1:
        raise ValueError(f"Invalid steps: step={step}, warmup_steps={warmup_steps}, decay_steps={decay_steps}")
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    if step > warmup_steps + decay_steps:
        return float(min_lr)
    progress = (step - warmup_steps) / decay_steps
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * progress))
