# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: takes the length of the last product, ||H v||, as the eigenvalue instead of the Rayleigh quotient
# v^T H v. That is |lambda|: right at a minimum, wrong (sign lost) at a saddle whose largest |lambda| is negative.
def top_eigenpair(matvec, dim, iters=300, seed=0):
    """(lam, v): the eigenvalue of largest magnitude of a symmetric operator, with its sign, and a unit eigenvector."""
    v = torch.randn(dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    v = v / v.norm()
    for _ in range(iters):
        w = matvec(v)
        v = w / w.norm()
    return float(w.norm()), v
