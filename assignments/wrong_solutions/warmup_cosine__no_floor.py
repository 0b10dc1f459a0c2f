# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: no floor after W + D: the cosine goes on and the learning rate climbs back towards eta
# (CosineAnnealingLR does the same past T_max, which is why the schedule must stop there).
def warmup_cosine(step, base_lr, warmup_steps, decay_steps, min_lr=0.0):
    """The learning rate after `step` optimizer steps: linear warmup, cosine decay to min_lr, then constant."""
    if step < 0 or warmup_steps < 0 or decay_steps < 1:
        raise ValueError(f"Invalid steps: step={step}, warmup_steps={warmup_steps}, decay_steps={decay_steps}")
    if step < warmup_steps:
        return base_lr * (step + 1) / (warmup_steps + 1)
    progress = (step - warmup_steps) / decay_steps
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * progress))
