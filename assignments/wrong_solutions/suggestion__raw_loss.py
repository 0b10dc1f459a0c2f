# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: takes the slope of the raw loss, skipping the smoothing. On a noisy curve the steepest slope is
# wherever two noisy points happen to differ most.
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
    slope = np.gradient(losses, np.log(lrs))
    return float(lrs[np.argmin(slope)])
