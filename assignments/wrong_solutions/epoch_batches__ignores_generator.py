# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: shuffles with the global random number generator instead of the one passed in, so a seeded generator
# does not reproduce the epoch (and it does not match the DataLoader's order).
def epoch_batches(num_examples, batch_size, generator, drop_last=False):
    """One epoch of index batches: a random permutation of range(num_examples), cut into batches."""
    if num_examples < 1:
        raise ValueError(f"Invalid num_examples: {num_examples} (must be >= 1)")
    if batch_size < 1:
        raise ValueError(f"Invalid batch_size: {batch_size} (must be >= 1)")
    batches = list(torch.randperm(num_examples).split(batch_size))
    if drop_last and len(batches[-1]) < batch_size:
        batches.pop()
    return batches
