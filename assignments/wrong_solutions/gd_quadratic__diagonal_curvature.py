# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: reads the largest curvature off the diagonal of A. Right only when A is diagonal; for a rotated A the
# largest eigenvalue exceeds every diagonal entry, so the "stable" rate it returns makes gradient descent diverge.
def gd_path(A, b, w0, lr, num_steps):
    """Gradient descent on f(w) = w^T A w / 2 - b^T w: the iterates, shape (num_steps + 1, d), row 0 = w0."""
    w = w0.clone()
    path = [w]
    for _ in range(num_steps):
        w = w - lr * (A @ w - b)
        path.append(w)
    return torch.stack(path)


def largest_stable_lr(A):
    """The learning rate at which gradient descent on the quadratic with Hessian A stops converging."""
    return 2.0 / A.diagonal().max().item()
