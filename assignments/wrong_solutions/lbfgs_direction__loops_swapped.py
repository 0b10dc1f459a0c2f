# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: runs the first loop from the oldest pair to the newest and the second from the newest to the oldest.
# That applies the BFGS updates in the reverse order (the newest pair first, so that the oldest has the last
# word): K_k then satisfies the secant equation K_k y_1 = s_1 of the oldest pair, not that of the newest.
def lbfgs_direction(grad, s_list, y_list):
    """The L-BFGS search direction -K g from the pairs (s_i, y_i), oldest first, by the two-loop recursion."""
    q = grad.clone()
    rho = [1.0 / torch.dot(y, s) for s, y in zip(s_list, y_list)]
    xi = [None] * len(s_list)
    for i in range(len(s_list)):
        xi[i] = rho[i] * torch.dot(s_list[i], q)
        q -= xi[i] * y_list[i]
    if s_list:
        q *= torch.dot(s_list[-1], y_list[-1]) / torch.dot(y_list[-1], y_list[-1])
    for i in reversed(range(len(s_list))):
        q += (xi[i] - rho[i] * torch.dot(y_list[i], q)) * s_list[i]
    return -q
