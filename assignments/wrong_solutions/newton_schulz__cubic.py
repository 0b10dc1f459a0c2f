# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: the classical cubic Newton-Schulz iteration, X <- 1.5 X - 0.5 X X^T X, with Muon's five steps. It
# converges to U V^T, but its slope at zero is only 1.5: five steps multiply a small singular value by about 7.6
# where the quintic multiplies it by about 490, so the small ones stay far below 1.
def newton_schulz(G, steps=5):
    """About the orthogonal factor U V^T of G = U S V^T: `steps` quintic Newton-Schulz iterations."""
    tall = G.shape[0] > G.shape[1]
    X = G.T if tall else G
    X = X / max(float(torch.linalg.matrix_norm(X)), 1e-7)
    for _ in range(steps):
        X = 1.5 * X - 0.5 * (X @ X.T) @ X
    return X.T if tall else X
