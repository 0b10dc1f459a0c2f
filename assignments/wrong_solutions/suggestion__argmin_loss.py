# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: returns the rate with the lowest smoothed loss instead of the steepest descent. By the minimum the
# loss has stopped falling: that rate is close to divergence, often 10x too large.
def suggest_lr(lrs, losses, beta=0.98):
    """The learning rate where the bias-corrected EMA of the loss falls fastest in log(lr)."""
    lrs = np.asarray(lrs, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if lrs.shape != losses.shape or lrs.ndim != 1 or len(lrs) < 3:
        raise ValueError(f"Invalid lengths: {lrs.shape} rates and {losses.shape} losses (need 1-D, equal, >= 3)")
    if not (np.all(lrs > 0) and np.all(np.diff(lrs) > 0)):
        raise ValueError("Invalid lrs: the learning rates must be positive and increasing")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"Invalid beta: {beta} (must be in [0, 1))")
    smoothed = np.empty_like(losses)
    average = 0.0
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        smoothed[i] = average / (1 - beta ** (i + 1))
    return float(lrs[np.argmin(smoothed)])
