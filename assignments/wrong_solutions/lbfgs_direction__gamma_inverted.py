# ruff: noqa: F821 (a notebook cell: torch, math, np, F and OptimizerBase come from the setup cell)
# MISTAKE: scales by gamma = s^T y / s^T s, the curvature c measured along the last step, instead of its inverse
# s^T y / y^T y: K_0 = c I then approximates the Hessian, not its inverse (the wrong units), and the part of the
# step that K_0 shapes comes out about c^2 times too long (too short when c < 1). After M A-conjugate pairs on a
# quadratic the result no longer depends on K_0, which is why the Newton-step test alone does not notice.
def lbfgs_direction(grad, s_list, y_list):
    """The L-BFGS search direction -K g from the pairs (s_i, y_i), oldest first, by the two-loop recursion."""
    q = grad.clone()
    rho = [1.0 / torch.dot(y, s) for s, y in zip(s_list, y_list)]
    xi = [None] * len(s_list)
    for i in reversed(range(len(s_list))):
        xi[i] = rho[i] * torch.dot(s_list[i], q)
        q -= xi[i] * y_list[i]
    if s_list:
        q *= torch.dot(s_list[-1], y_list[-1]) / torch.dot(s_list[-1], s_list[-1])
    for i in range(len(s_list)):
        q += (xi[i] - rho[i] * torch.dot(y_list[i], q)) * s_list[i]
    return -q
