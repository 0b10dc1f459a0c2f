r"""Second-order steps: Newton's method and saddle-free Newton, for problems small enough to hold the Hessian.

Symbols as in the book: weights :math:`\Theta`, gradient :math:`g^t = \nabla \mathcal{L}(\Theta^{t-1})`, Hessian
:math:`\mathsf{H} = \nabla^2 \mathcal{L}(\Theta^{t-1})` with eigendecomposition
:math:`\mathsf{H} = Q \Lambda Q^\top`, learning rate :math:`\eta`, damping :math:`\lambda \ge 0`.

- :func:`newton_direction` solves :math:`(\mathsf{H} + \lambda I)\, d = g` or, saddle-free,
  :math:`(|\mathsf{H}| + \lambda I)\, d = g` with :math:`|\mathsf{H}| = Q |\Lambda| Q^\top`.
- :func:`gradient_and_hessian` evaluates a closure and differentiates it twice.
- :func:`newton_curves` runs K Newton paths on a 2-D surface at once, in the layout of ``train_curves``.
- :class:`Newton` and :class:`SaddleFreeNewton` take the step :math:`\Theta^t = \Theta^{t-1} - \eta\, d` over all
  their parameters at once. They hold a :math:`P \times P` matrix for :math:`P` weights: small problems only.
"""

import math
import numbers

import torch

from .optimizers import OptimizerBase, _check_lr, _check_nonnegative

__all__ = ["newton_direction", "gradient_and_hessian", "Newton", "SaddleFreeNewton", "newton_curves"]


def newton_direction(grad, hessian, damping=0.0, saddle_free=False):
    r"""The Newton direction :math:`d = (\mathsf{H} + \lambda I)^{-1} g`, or :math:`(|\mathsf{H}| + \lambda I)^{-1} g`.

    Both are solved in the eigenbasis of the (symmetric) Hessian, :math:`\mathsf{H} = Q \Lambda Q^\top` with the
    eigenvalues :math:`\lambda_i = \Lambda_{ii}`: :math:`d = Q\, \mathrm{diag}\bigl(1 / (\lambda_i + \lambda)\bigr)\,
    Q^\top g`, or :math:`1 / (|\lambda_i| + \lambda)` for the saddle-free direction (Dauphin et al., 2014). Along an
    eigenvector of negative curvature, Newton's direction points *up* the gradient (towards the critical point,
    which is a maximum along it); the saddle-free one points down, like the gradient, rescaled by
    :math:`1/(|\lambda_i| + \lambda)`.
    A step is :math:`\Theta \leftarrow \Theta - \eta\, d`.

    Args:
        grad: the gradient :math:`g`, shape ``(..., P)``.
        hessian: the Hessian, shape ``(..., P, P)`` (batch dimensions equal to ``grad``'s), symmetric up to rounding.
        damping: :math:`\lambda \ge 0`, added to every eigenvalue; or a tensor of the batch shape ``(...)``, one
            :math:`\lambda` per matrix.
        saddle_free: use :math:`|\mathsf{H}|` instead of :math:`\mathsf{H}`.

    Returns:
        :math:`d`, shaped like ``grad``.

    Raises:
        ValueError: mismatched shapes, a non-symmetric or non-finite matrix, a negative or non-finite damping.
        torch.linalg.LinAlgError: the system is singular (an eigenvalue :math:`\lambda_i + \lambda` is zero up to
            rounding): there is no unique Newton step; add damping.
    """
    if not (isinstance(grad, torch.Tensor) and isinstance(hessian, torch.Tensor)):
        raise ValueError("grad and hessian must be tensors")
    if grad.ndim < 1 or hessian.shape != (*grad.shape, grad.shape[-1]):
        raise ValueError(f"Invalid shapes: grad {tuple(grad.shape)} and hessian {tuple(hessian.shape)} "
                         "(expected grad (..., P) and hessian (..., P, P))")
    if isinstance(damping, torch.Tensor):  # one damping per matrix of a batch
        if damping.shape != grad.shape[:-1] or not bool((torch.isfinite(damping) & (damping >= 0)).all()):
            raise ValueError(f"Invalid damping value: {damping} (a tensor of dampings must have the batch shape "
                             f"{tuple(grad.shape[:-1])} and be finite and >= 0)")
        damping = damping.to(hessian.dtype).unsqueeze(-1)
    elif not (isinstance(damping, numbers.Real) and math.isfinite(damping) and damping >= 0.0):
        raise ValueError(f"Invalid damping value: {damping} (must be finite and >= 0)")
    if not (torch.isfinite(grad).all() and torch.isfinite(hessian).all()):
        raise ValueError("grad and hessian must be finite")
    scale = hessian.abs().amax().item()
    asymmetry = (hessian - hessian.mT).abs().amax().item()
    if asymmetry > math.sqrt(torch.finfo(hessian.dtype).eps) * max(scale, 1e-30):
        raise ValueError(f"Invalid hessian: not symmetric (largest |H - H^T| is {asymmetry:.3g})")
    eigenvalues, Q = torch.linalg.eigh((hessian + hessian.mT) / 2)
    mu = (eigenvalues.abs() if saddle_free else eigenvalues) + damping
    tol = grad.shape[-1] * torch.finfo(hessian.dtype).eps * mu.abs().amax(dim=-1, keepdim=True)
    if bool((mu.abs() <= tol).any()):
        kind = "|H|" if saddle_free else "H"
        raise torch.linalg.LinAlgError(
            f"Singular system: an eigenvalue of {kind} + damping * I is zero (smallest |eigenvalue| "
            f"{mu.abs().amin().item():.3g}); the Newton step is not unique: use damping > 0")
    coordinates = (Q.mT @ grad.unsqueeze(-1)).squeeze(-1)  # g in the eigenbasis
    return (Q @ (coordinates / mu).unsqueeze(-1)).squeeze(-1)


def gradient_and_hessian(closure, params):
    r"""Evaluate ``closure()`` and return ``(loss, g, H)``: the loss, its gradient and its Hessian over ``params``.

    The gradient is taken with ``create_graph=True`` and differentiated once more against every unit vector at
    once (a batched double backward, as ``torch.func.hessian`` computes it), so ``closure`` is an ordinary
    function of the parameters that returns the loss; it must not call ``backward()`` itself. Vectors are flat,
    over ``params`` in order, :math:`P = \sum_i \text{numel}(p_i)`.

    Returns:
        ``(loss, g, H)``: the detached loss, ``g`` of shape ``(P,)`` and ``H`` of shape ``(P, P)``.
    """
    params = list(params)
    with torch.enable_grad():
        loss = closure()
        if not (isinstance(loss, torch.Tensor) and loss.numel() == 1):
            raise ValueError("The closure must return the loss as a one-element tensor")
        loss = loss.reshape(())
        if not loss.requires_grad:
            raise ValueError("The closure's loss does not depend on the parameters")
        try:
            grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True, materialize_grads=True)
        except RuntimeError as error:
            if "second time" in str(error) or "freed" in str(error):
                raise RuntimeError("The closure's graph was freed: for Newton steps the closure returns the loss "
                                   "and does not call backward() itself") from error
            raise
        g = torch.cat([gr.reshape(-1) for gr in grads])
        P = g.numel()
        if not g.requires_grad:  # the loss is linear in the parameters
            return loss.detach(), g.detach(), torch.zeros(P, P, dtype=g.dtype, device=g.device)
        unit = torch.eye(P, dtype=g.dtype, device=g.device)
        rows = torch.autograd.grad(g, params, grad_outputs=unit, is_grads_batched=True, allow_unused=True)
    # a parameter the gradient does not depend on has zero curvature (None here)
    H = torch.cat([unit.new_zeros(P, p.numel()) if r is None else r.reshape(P, -1) for r, p in zip(rows, params)],
                  dim=1)
    return loss.detach(), g.detach(), H.detach()


class Newton(OptimizerBase):
    r"""Newton's method with optional damping, over all the optimizer's parameters jointly.

    .. math::
        \Theta^t = \Theta^{t-1} - \eta\, (\mathsf{H} + \lambda I)^{-1} g^t,
        \qquad g^t = \nabla \mathcal{L}(\Theta^{t-1}), \quad \mathsf{H} = \nabla^2 \mathcal{L}(\Theta^{t-1}),

    with :math:`\eta = 1` the full Newton step, which lands on the critical point of the local quadratic model in
    one step: the minimum if :math:`\mathsf{H}` is positive definite, but a saddle or a maximum otherwise. The
    damping :math:`\lambda \ge 0` moves the step from Newton's (:math:`\lambda = 0`) towards gradient descent
    with learning rate :math:`\eta / \lambda` (:math:`\lambda \gg |\text{eigenvalues}|`).

    The Hessian couples every parameter, so one step solves one :math:`P \times P` system over all parameters
    of all groups: ``damping`` must be the same in every group, while each group moves by its own ``lr``.

    ``step(closure)`` needs the loss as a function, not just its gradient: ``closure()`` recomputes the loss from
    the current parameters and returns it, *without* calling ``backward()`` (unlike a ``torch.optim.LBFGS``
    closure); the optimizer differentiates it twice itself (:func:`gradient_and_hessian`). A singular
    :math:`\mathsf{H} + \lambda I` raises ``torch.linalg.LinAlgError`` rather than taking an arbitrary step; a
    parameter the loss does not reach (zero gradient, zero curvature) makes it singular unless :math:`\lambda > 0`.
    """

    SETTINGS = {"lr": _check_lr, "damping": _check_nonnegative("damping")}
    SADDLE_FREE = False

    def __init__(self, params, lr=1.0, damping=0.0):
        super().__init__(params, dict(lr=lr, damping=damping))

    @torch.no_grad()
    def step(self, closure=None):
        """One Newton step; ``closure()`` returns the loss at the current parameters. Returns that loss."""
        if closure is None:
            raise ValueError(f"{type(self).__name__} needs the loss, not only its gradient: call step(closure) "
                             "with a closure that returns the loss (and does not call backward())")
        for group in self.param_groups:
            self._check_settings(group)
        dampings = {group["damping"] for group in self.param_groups}
        if len(dampings) > 1:
            raise ValueError(f"Invalid damping values {sorted(dampings)}: one Newton system couples every "
                             "parameter, so every group needs the same damping")
        entries = [(p, group) for group in self.param_groups for p in group["params"] if p.requires_grad]
        params = [p for p, _ in entries]
        if len({(p.dtype, p.device) for p in params}) > 1:
            raise ValueError(f"{type(self).__name__} needs every parameter in one dtype on one device")
        loss, g, H = gradient_and_hessian(closure, params)
        direction = newton_direction(g, H, dampings.pop(), saddle_free=self.SADDLE_FREE)
        offset = 0
        for p, group in entries:
            chunk = direction[offset:offset + p.numel()].reshape(p.shape)
            offset += p.numel()
            self.descend(p, chunk, group["lr"])
        return loss


class SaddleFreeNewton(Newton):
    r"""Saddle-free Newton (Dauphin et al., 2014): Newton's step with the Hessian's eigenvalues made positive.

    .. math::
        \Theta^t = \Theta^{t-1} - \eta\, (|\mathsf{H}| + \lambda I)^{-1} g^t,
        \qquad |\mathsf{H}| = Q\, |\Lambda|\, Q^\top \quad \text{for} \quad \mathsf{H} = Q \Lambda Q^\top .

    Where :math:`\mathsf{H}` is positive definite this is Newton's step. Along a direction of negative curvature
    Newton's step points to the top of the hill, that is towards the saddle; the absolute value turns it round,
    so the step goes downhill in every eigen-direction, by :math:`|g_i| / (|\lambda_i| + \lambda)`, and a run
    escapes a saddle instead of converging to it. ``closure`` and groups as in :class:`Newton`.
    """

    SADDLE_FREE = True


def newton_curves(loss_fn, w_inits, num_steps=20, lr=1.0, damping=0.0, saddle_free=False, dtype=torch.float64):
    r"""K (saddle-free) Newton paths on a surface ``f(w0, w1)`` at once: :math:`\Theta^t = \Theta^{t-1} - \eta\, d`.

    Each path takes exactly the steps of :class:`Newton` (or :class:`SaddleFreeNewton`) with the same settings;
    the gradients and Hessians of all K points come from one vectorized call (``torch.func.vmap`` over
    ``torch.func.grad`` and ``torch.func.hessian``).

    Args:
        loss_fn: a surface ``f(w0, w1) -> tensor``, e.g. ``double_well``.
        w_inits: K starts of shape ``(K, 2)``, or one start ``(2,)``.
        num_steps, lr, saddle_free: the run length and the settings of the step.
        damping: :math:`\lambda`, or K of them, one per path (one start ``(2,)`` is then shared by all K).

    Returns:
        ``np.ndarray`` of shape ``(K, num_steps + 1, 3)`` whose row ``[k, t]`` is ``(w0, w1, loss)`` of path k
        after t steps, as :func:`optim_helpers.train_curves` returns it. A step where a system is singular
        raises ``torch.linalg.LinAlgError`` (see :func:`newton_direction`).
    """
    if not (isinstance(num_steps, numbers.Integral) and num_steps >= 0):
        raise ValueError(f"Invalid num_steps: {num_steps} (must be an int >= 0)")
    _check_lr(lr)
    w = torch.as_tensor(w_inits, dtype=dtype).reshape(-1, 2).clone()
    if not isinstance(damping, numbers.Real):  # one damping per path
        damping = torch.as_tensor(damping, dtype=dtype).reshape(-1)
        if len(w) == 1:
            w = w.expand(len(damping), 2).clone()
        if len(w) != len(damping):
            raise ValueError(f"Got {len(w)} starts for {len(damping)} dampings")

    def f(v):
        return loss_fn(v[0], v[1])

    grad, hessian = torch.func.vmap(torch.func.grad(f)), torch.func.vmap(torch.func.hessian(f))
    rows = []
    for t in range(num_steps + 1):
        rows.append(torch.cat([w, loss_fn(w[:, 0], w[:, 1])[:, None]], dim=1))
        if t < num_steps:
            w = w - lr * newton_direction(grad(w), hessian(w), damping, saddle_free)
    return torch.stack(rows, dim=1).numpy()
