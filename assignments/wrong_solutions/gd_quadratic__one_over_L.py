# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: returns 1/L, the rate that reaches the minimum of the sharpest direction in one step, instead of the
# stability limit 2/L. Gradient descent still converges a little above 1/L.
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
    return 1.0 / torch.linalg.eigvalsh(A).max().item()
