r"""Two-dimensional loss surfaces :math:`f(w_0, w_1)`.

Every surface takes two tensors of any (broadcastable) shape and returns a tensor of their broadcast
shape, so a whole grid, a batch of K points or a single point is one call. Hessians given in the
docstrings are the closed forms the tests check against autograd. Each surface's ``minima`` attribute
lists its minimizers ``(w_0, w_1)`` (empty where it has none), for the plots to mark.
"""

import math

import torch

__all__ = [
    "pathological_loss",
    "ill_conditioned_quadratic",
    "bowl",
    "cap",
    "saddle",
    "flat_saddle",
    "double_well",
    "rosenbrock",
    "himmelblau",
]


def pathological_loss(w0, w1):
    r""":math:`\tanh(w_0)^2 + 0.01\,|w_1| + \sigma(w_1)`: plateaus in both directions.

    The :math:`0.01|w_1|` term sits on the sigmoid coordinate, so the loss keeps falling for
    negative :math:`w_1` until :math:`\sigma'(w_1) = 0.01`, near :math:`w_1 \approx -4.6`: the true
    minimum is at about :math:`(0, -4.6)` with loss about 0.056. (The UvA tutorial puts the
    :math:`|\cdot|` term on :math:`w_0`.)
    """
    return torch.tanh(w0) ** 2 + 0.01 * torch.abs(w1) + torch.sigmoid(w1)


def ill_conditioned_quadratic(w0, w1, a=1.0, b=20.0):
    r""":math:`\tfrac12 (a\, w_0^2 + b\, w_1^2)`: a narrow valley, Hessian :math:`\mathrm{diag}(a, b)`.

    Gradient descent is stable for :math:`\eta < 2/b` and its slow direction contracts by
    :math:`|1 - \eta a|` per step: the condition number :math:`b/a` sets the pace.
    """
    return 0.5 * (a * w0**2 + b * w1**2)


def bowl(w0, w1):
    r""":math:`w_0^2 + w_1^2`: a minimum, Hessian :math:`\mathrm{diag}(2, 2)`."""
    return w0**2 + w1**2


def cap(w0, w1):
    r""":math:`-(w_0^2 + w_1^2)`: a maximum, Hessian :math:`\mathrm{diag}(-2, -2)`."""
    return -(w0**2 + w1**2)


def saddle(w0, w1):
    r""":math:`w_0^2 - w_1^2`: a saddle point at the origin, Hessian :math:`\mathrm{diag}(2, -2)`."""
    return w0**2 - w1**2


def flat_saddle(w0, w1):
    r""":math:`w_0^2 + w_1^3`: a degenerate critical point, Hessian :math:`\mathrm{diag}(2, 0)` at 0.

    The zero eigenvalue leaves the type undecided at second order; the cubic term makes it neither
    a minimum nor a maximum.
    """
    return w0**2 + w1**3


def double_well(w0, w1):
    r""":math:`(w_0^2 - 1)^2 + w_1^2`: two symmetric minima at :math:`(\pm 1, 0)` and a saddle at 0.

    Hessian :math:`\mathrm{diag}(8, 2)` at the minima and :math:`\mathrm{diag}(-4, 2)` at the saddle.
    """
    return (w0**2 - 1) ** 2 + w1**2


def rosenbrock(w0, w1, a=1.0, b=100.0):
    r""":math:`(a - w_0)^2 + b\,(w_1 - w_0^2)^2`: a curved valley, minimum 0 at :math:`(a, a^2)`.

    Hessian at the minimum: :math:`\begin{pmatrix} 2 + 8 b a^2 & -4 b a \\ -4 b a & 2 b \end{pmatrix}`.
    """
    return (a - w0) ** 2 + b * (w1 - w0**2) ** 2


def himmelblau(w0, w1):
    r""":math:`(w_0^2 + w_1 - 11)^2 + (w_0 + w_1^2 - 7)^2`: four minima of loss 0, one at :math:`(3, 2)`."""
    return (w0**2 + w1 - 11) ** 2 + (w0 + w1**2 - 7) ** 2


# sigma'(w_1) = sigma (1 - sigma) = 0.01 at the minimum of the pathological loss (w_1 < 0).
_SIGMA = (1 - math.sqrt(1 - 4 * 0.01)) / 2
pathological_loss.minima = ((0.0, math.log(_SIGMA / (1 - _SIGMA))),)
ill_conditioned_quadratic.minima = ((0.0, 0.0),)
bowl.minima = ((0.0, 0.0),)
cap.minima = saddle.minima = flat_saddle.minima = ()
double_well.minima = ((-1.0, 0.0), (1.0, 0.0))
rosenbrock.minima = ((1.0, 1.0),)
himmelblau.minima = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))
