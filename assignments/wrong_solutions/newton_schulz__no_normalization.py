# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: skips the scaling X_0 = G / ||G||_F. The quintic pushes singular values towards 1 only from inside
# [0, 1]; a larger singular value is sent far away (p(2) = 33.7, and further at every step), so the result blows up.
def newton_schulz(G, steps=5):
    """About the orthogonal factor U V^T of G = U S V^T: `steps` quintic Newton-Schulz iterations."""
    a, b, c = 3.4445, -4.7750, 2.0315
    tall = G.shape[0] > G.shape[1]
    X = G.T if tall else G
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X
