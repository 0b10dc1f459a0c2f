# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: normalizes only once, at the end. The vector grows like |lambda|^t: fine for small eigenvalues, but it
# overflows to inf (and the answer to nan) when the Hessian has large entries.
def top_eigenpair(matvec, dim, iters=300, seed=0):
    """(lam, v): the eigenvalue of largest magnitude of a symmetric operator, with its sign, and a unit eigenvector."""
    v = torch.randn(dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    v = v / v.norm()
    for _ in range(iters):
        v = matvec(v)
    v = v / v.norm()
    return float(v @ matvec(v)), v
