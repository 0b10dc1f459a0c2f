# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: draws the indices with replacement (as some widely shared examples do): an epoch repeats some
# examples and misses about 37% of them.
def epoch_batches(num_examples, batch_size, generator, drop_last=False):
    """One epoch of index batches: a random permutation of range(num_examples), cut into batches."""
    if num_examples < 1:
        raise ValueError(f"Invalid num_examples: {num_examples} (must be >= 1)")
    if batch_size < 1:
        raise ValueError(f"Invalid batch_size: {batch_size} (must be >= 1)")
    batches = list(torch.randint(num_examples, (num_examples,), generator=generator).split(batch_size))
    if drop_last and len(batches[-1]) < batch_size:
        batches.pop()
    return batches
