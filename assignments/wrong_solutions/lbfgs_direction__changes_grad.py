# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: starts from q = grad without a copy and updates q in place, so the caller's gradient is overwritten
# (and the returned direction is the negated caller's tensor). An optimizer that keeps that gradient to form the
# next pair, y = g_new - g, then builds its pairs from garbage.
def lbfgs_direction(grad, s_list, y_list):
    """The L-BFGS search direction -K g from the pairs (s_i, y_i), oldest first, by the two-loop recursion."""
    q = grad
    rho = [1.0 / torch.dot(y, s) for s, y in zip(s_list, y_list)]
    xi = [None] * len(s_list)
    for i in reversed(range(len(s_list))):
        xi[i] = rho[i] * torch.dot(s_list[i], q)
        q -= xi[i] * y_list[i]
    if s_list:
        q *= torch.dot(s_list[-1], y_list[-1]) / torch.dot(y_list[-1], y_list[-1])
    for i in range(len(s_list)):
        q += (xi[i] - rho[i] * torch.dot(y_list[i], q)) * s_list[i]
    return -q
