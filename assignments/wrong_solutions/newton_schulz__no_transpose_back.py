# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: works on G^T for a tall matrix, as it should, but returns that result without transposing it back:
# for a tall G of shape (m, n) it returns an (n, m) matrix, about V U^T instead of U V^T. Square and wide
# matrices come out right, which is why the mistake goes unnoticed.
def newton_schulz(G, steps=5):
    """About the orthogonal factor U V^T of G = U S V^T: `steps` quintic Newton-Schulz iterations."""
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G.T if G.shape[0] > G.shape[1] else G
    X = X / max(float(torch.linalg.matrix_norm(X)), 1e-7)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X
