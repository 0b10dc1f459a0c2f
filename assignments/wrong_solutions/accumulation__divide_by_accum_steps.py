# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: the common recipe loss.mean() / accum_steps. It weights every micro-batch equally and divides by
# accum_steps even in a shorter leftover group: right only when all micro-batches are equal and groups are full.
def train_accumulated(model, optimizer, micro_batches, accum_steps):
    """One optimizer step per group of accum_steps micro-batches, on the group's mean cross-entropy."""
    if accum_steps < 1:
        raise ValueError(f"Invalid accum_steps: {accum_steps} (must be >= 1)")
    steps = 0
    for start in range(0, len(micro_batches), accum_steps):
        optimizer.zero_grad()
        for X, y in micro_batches[start:start + accum_steps]:
            (F.cross_entropy(model(X), y) / accum_steps).backward()
        optimizer.step()
        steps += 1
    return steps
