# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: forgets rho_i = 1 / (y_i^T s_i) in both loops (xi_i = s_i^T q, and y_i^T r in the second). The result is no
# longer a BFGS update: the direction has the wrong length, and even the wrong orientation, unless every
# y_i^T s_i happens to be 1.
def lbfgs_direction(grad, s_list, y_list):
    """The L-BFGS search direction -K g from the pairs (s_i, y_i), oldest first, by the two-loop recursion."""
    q = grad.clone()
    xi = [None] * len(s_list)
    for i in reversed(range(len(s_list))):
        xi[i] = torch.dot(s_list[i], q)
        q -= xi[i] * y_list[i]
    if s_list:
        q *= torch.dot(s_list[-1], y_list[-1]) / torch.dot(y_list[-1], y_list[-1])
    for i in range(len(s_list)):
        q += (xi[i] - torch.dot(y_list[i], q)) * s_list[i]
    return -q
