# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: a loop that is often copied: step (and zero) when i % accum_steps == 0, counting from i = 0. The first step
# uses a single micro-batch and the groups are shifted by one; the leftover micro-batches never get a step.
def train_accumulated(model, optimizer, micro_batches, accum_steps):
    """One optimizer step per group of accum_steps micro-batches, on the group's mean cross-entropy."""
    if accum_steps < 1:
        raise ValueError(f"Invalid accum_steps: {accum_steps} (must be >= 1)")
    steps = 0
    optimizer.zero_grad()
    for i, (X, y) in enumerate(micro_batches):
        (F.cross_entropy(model(X), y) / accum_steps).backward()
        if i % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
            steps += 1
    return steps
