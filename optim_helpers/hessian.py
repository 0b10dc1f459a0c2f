r"""Probes of a loss landscape around given weights: curvature, 2-D slices and paths between minima.

Everything here works on a loss written as a function of the parameters, ``loss_fn(params) -> scalar``,
where ``params`` is a list of tensors (:func:`functional_loss` makes one from a model and data without
touching the model). Vectors over all parameters are flat, of length :math:`P = \sum_i \text{numel}(p_i)`,
in the order of ``params``.

- The Hessian :math:`\mathsf{H} = \nabla^2 \mathcal{L}(\Theta)` is symmetric (Schwarz), so it has real
  eigenvalues :math:`\lambda_1 \ge \dots \ge \lambda_P` and orthonormal eigenvectors.
  :func:`full_hessian` builds it (:math:`P^2` numbers: tiny models only).
- :func:`hessian_vector_product` computes :math:`\mathsf{H} v` without building :math:`\mathsf{H}`, by
  differentiating :math:`\nabla \mathcal{L} \cdot v` once more (double backward; Pearlmutter, 1994),
  at the cost of about two gradients.
- :func:`power_iteration` and :func:`top_hessian_eigenvalue` find the eigenvalue of largest magnitude from
  such products alone: the *sharpness* :math:`\lambda_\text{max}` at a minimum, which limits the stable
  learning rate of gradient descent to :math:`\eta < 2 / \lambda_\text{max}`.
- :func:`filter_normalized_direction` and :func:`loss_slice_2d` draw the loss on the plane
  :math:`\Theta + \alpha\, d_1 + \beta\, d_2` (Li et al., 2018); :func:`slice_curvature` gives the
  curvature of that slice at every grid point.
- :func:`minimum_energy_path` finds the lowest path between two minima (a string method), which crosses
  the landscape at a saddle point.
"""

import numbers

import numpy as np
import torch
from torch import nn

__all__ = [
    "functional_loss",
    "flatten",
    "unflatten",
    "hessian_vector_product",
    "full_hessian",
    "power_iteration",
    "top_hessian_eigenvalue",
    "filter_normalized_direction",
    "loss_slice_2d",
    "slice_curvature",
    "minimum_energy_path",
]


def functional_loss(model, X, y, loss_fn=None):
    """The loss of ``model`` on ``(X, y)`` as a function of its parameters, and those parameters.

    Returns:
        ``(f, params)``: ``f(params) = loss_fn(model_with(params)(X), y)``, evaluated with
        ``torch.func.functional_call`` (the model's own parameters are never modified), and ``params``, a
        list of detached copies of the model's current parameters, in ``model.parameters()`` order.
        ``loss_fn`` defaults to the mean cross-entropy.
    """
    if loss_fn is None:
        loss_fn = nn.functional.cross_entropy
    names = [name for name, _ in model.named_parameters()]

    def f(params):
        return loss_fn(torch.func.functional_call(model, dict(zip(names, params)), (X,)), y)

    return f, [p.detach().clone() for p in model.parameters()]


def flatten(tensors):
    """One flat vector from a list of tensors (in order)."""
    return torch.cat([t.reshape(-1) for t in tensors])


def unflatten(vector, like):
    """Split a flat vector into tensors shaped like ``like`` (the inverse of :func:`flatten`)."""
    sizes = [t.numel() for t in like]
    if vector.numel() != sum(sizes):
        raise ValueError(f"Invalid vector length: {vector.numel()} (the parameters have {sum(sizes)} numbers)")
    return [chunk.reshape(t.shape) for chunk, t in zip(torch.split(vector, sizes), like)]


def _leaves(params):
    return [p.detach().requires_grad_(True) for p in params]


def hessian_vector_product(loss_fn, params, vector):
    r""":math:`\mathsf{H} v`, the Hessian of ``loss_fn`` at ``params`` times a flat ``vector``.

    Computed as :math:`\nabla_\Theta \bigl(\nabla_\Theta \mathcal{L} \cdot v\bigr)` by double backward,
    without forming :math:`\mathsf{H}`.

    Returns:
        A flat tensor of length :math:`P`.
    """
    leaves = _leaves(params)
    grads = torch.autograd.grad(loss_fn(leaves), leaves, create_graph=True)
    v = vector.detach().to(grads[0].dtype)
    if v.numel() != sum(g.numel() for g in grads):
        raise ValueError(f"Invalid vector length: {v.numel()} (the parameters have "
                         f"{sum(g.numel() for g in grads)} numbers)")
    hv = torch.autograd.grad(flatten(grads) @ v, leaves, allow_unused=True)
    return flatten([torch.zeros_like(p) if h is None else h for h, p in zip(hv, leaves)]).detach()


def full_hessian(loss_fn, params):
    """The full ``(P, P)`` Hessian of ``loss_fn`` at ``params`` (``torch.autograd.functional.hessian``).

    It holds :math:`P^2` numbers: for tiny models and for checking :func:`hessian_vector_product`.
    """
    like = [p.detach() for p in params]
    return torch.autograd.functional.hessian(lambda flat: loss_fn(unflatten(flat, like)), flatten(like))


def power_iteration(matvec, dim, iters=100, tol=1e-7, seed=0, dtype=torch.float32):
    r"""The eigenvalue of largest magnitude of a symmetric operator, from products ``matvec(v)`` alone.

    From a random unit vector :math:`v_0`, repeat :math:`w = A v_t`, :math:`\lambda_t = v_t^\top w`
    (the Rayleigh quotient), :math:`v_{t+1} = w / \lVert w \rVert`. The component of :math:`v_t` along the
    top eigenvector grows by :math:`|\lambda_1 / \lambda_2|` per step relative to the next one, so
    :math:`\lambda_t \to \lambda_1`, the eigenvalue of largest :math:`|\lambda|` (with its sign).

    Args:
        matvec: ``v -> A v`` on flat vectors of length ``dim``.
        iters: the most iterations.
        tol: stop once :math:`|\lambda_t - \lambda_{t-1}| \le \text{tol}\, |\lambda_t|`.
        seed: seeds the start vector (its own generator; the global RNG is untouched).

    Returns:
        ``(estimates, v)``: the Rayleigh quotients :math:`\lambda_0, \lambda_1, \dots` as an ``np.ndarray``
        (the last one is the answer) and the final unit vector.
    """
    if not (isinstance(iters, numbers.Integral) and iters >= 1):
        raise ValueError(f"Invalid iters: {iters} (must be an int >= 1)")
    if not tol >= 0:
        raise ValueError(f"Invalid tol: {tol} (must be >= 0)")
    generator = torch.Generator().manual_seed(seed)
    v = torch.randn(dim, generator=generator, dtype=dtype)
    v /= v.norm()
    estimates = []
    for _ in range(iters):
        w = matvec(v)
        estimates.append((v @ w).item())
        norm = w.norm()
        if norm == 0:  # v is in the null space: the operator is 0 along it
            break
        v = w / norm
        if len(estimates) > 1 and abs(estimates[-1] - estimates[-2]) <= tol * abs(estimates[-1]):
            break
    return np.array(estimates), v


def top_hessian_eigenvalue(loss_fn, params, iters=100, tol=1e-7, seed=0):
    r"""The Hessian eigenvalue of largest magnitude at ``params``, by power iteration on Hessian-vector products.

    At a minimum every eigenvalue is :math:`\ge 0`, so this is the sharpness :math:`\lambda_\text{max}`.

    Returns:
        ``(eigenvalue, eigenvector)``: a float and a flat unit vector of length :math:`P`.
    """
    like = [p.detach() for p in params]
    dim = sum(p.numel() for p in like)
    estimates, v = power_iteration(lambda v: hessian_vector_product(loss_fn, like, v), dim, iters=iters, tol=tol,
                                   seed=seed, dtype=like[0].dtype)
    return float(estimates[-1]), v


def filter_normalized_direction(params, seed=0):
    r"""A random direction scaled filter by filter to the weights (Li et al., 2018).

    For every weight tensor (2 or more dimensions; a *filter* is one slice along its first axis, i.e. one
    row of an ``nn.Linear`` weight, the weights of one output unit), draw a Gaussian :math:`d` and rescale
    each row: :math:`d_i \leftarrow d_i\, \lVert \theta_i \rVert / \lVert d_i \rVert`. Biases (1-D tensors)
    get a zero direction. A step :math:`\alpha d` thus changes every unit by the same *relative* amount,
    which makes slices of differently scaled networks comparable.

    Args:
        params: a model or a list of its parameter tensors.
        seed: seeds the Gaussian draws (its own generator).

    Returns:
        A list of tensors shaped like ``params``.
    """
    if isinstance(params, nn.Module):
        params = list(params.parameters())
    generator = torch.Generator().manual_seed(seed)
    direction = []
    for p in params:
        p = p.detach()
        if p.ndim < 2:
            direction.append(torch.zeros_like(p))
            continue
        d = torch.randn(p.shape, generator=generator, dtype=p.dtype)
        rows, d_rows = p.reshape(len(p), -1), d.reshape(len(d), -1)
        scale = rows.norm(dim=1) / d_rows.norm(dim=1)
        direction.append((d_rows * scale[:, None]).reshape(p.shape))
    return direction


def _check_directions(params, directions):
    if len(directions) != 2:
        raise ValueError(f"Invalid directions: need two, got {len(directions)}")
    for d in directions:
        if len(d) != len(params) or any(a.shape != b.shape for a, b in zip(d, params)):
            raise ValueError("Each direction must be a list of tensors shaped like params")


def _grid(alphas, betas, dtype):
    alphas = torch.as_tensor(np.asarray(alphas, dtype=np.float64), dtype=dtype)
    betas = torch.as_tensor(np.asarray(betas, dtype=np.float64), dtype=dtype)
    if alphas.ndim != 1 or betas.ndim != 1 or len(alphas) < 1 or len(betas) < 1:
        raise ValueError("alphas and betas must be non-empty 1-D sequences")
    B, A = torch.meshgrid(betas, alphas, indexing="ij")
    return A.reshape(-1), B.reshape(-1), (len(betas), len(alphas))


def loss_slice_2d(loss_fn, params, directions, alphas, betas, chunk_size=64):
    r"""The loss on a plane through ``params``: :math:`Z_{ij} = \mathcal{L}(\Theta + \alpha_j d_1 + \beta_i d_2)`.

    All grid points are evaluated with ``torch.func.vmap`` (``chunk_size`` points at a time), under
    ``torch.no_grad``; ``params`` and the model behind ``loss_fn`` are not modified.

    Args:
        loss_fn: ``f(params) -> scalar``, e.g. from :func:`functional_loss`; it must work under ``vmap``.
        params: the centre :math:`\Theta`, a list of tensors.
        directions: ``(d1, d2)``, each a list of tensors shaped like ``params``.
        alphas, betas: the coordinates along ``d1`` and ``d2``.

    Returns:
        ``np.ndarray`` of shape ``(len(betas), len(alphas))``, the layout of ``surface_grid``: rows follow
        :math:`\beta`, columns follow :math:`\alpha`.
    """
    like = [p.detach() for p in params]
    _check_directions(like, directions)
    d1, d2 = ([t.detach() for t in d] for d in directions)
    a, b, shape = _grid(alphas, betas, like[0].dtype)

    def at(alpha, beta):
        return loss_fn([p + alpha * u + beta * w for p, u, w in zip(like, d1, d2)])

    with torch.no_grad():
        Z = torch.func.vmap(at, chunk_size=chunk_size)(a, b)
    return Z.reshape(shape).cpu().numpy()


def slice_curvature(Z, alphas, betas):
    r"""Eigenvalues of the ``2 x 2`` Hessian of a gridded slice, by central differences.

    With :math:`g(\alpha, \beta)` sampled as ``Z`` (rows follow ``betas``, columns ``alphas``, as
    :func:`loss_slice_2d` returns it), the second derivatives at every interior grid point are
    :math:`g_{\alpha\alpha} \approx (g_{j+1} - 2 g_j + g_{j-1}) / h_\alpha^2` and likewise, with the mixed
    one from the four diagonal neighbours. Both eigenvalues positive: the slice is convex there (at the
    scale of the grid); one negative: the slice curves down in some direction. The formulas are exact for
    quadratics.

    Returns:
        ``np.ndarray`` of shape ``(len(betas) - 2, len(alphas) - 2, 2)``: the eigenvalues, smallest first,
        at the interior points.
    """
    Z = np.asarray(Z, dtype=np.float64)
    alphas, betas = np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64)
    if Z.shape != (len(betas), len(alphas)) or min(Z.shape) < 3:
        raise ValueError(f"Invalid Z shape: {Z.shape} (expected (len(betas), len(alphas)), each >= 3)")
    ha, hb = np.diff(alphas), np.diff(betas)
    if not (np.allclose(ha, ha[0]) and np.allclose(hb, hb[0]) and ha[0] > 0 and hb[0] > 0):
        raise ValueError("alphas and betas must be increasing and evenly spaced")
    ha, hb = ha[0], hb[0]
    c = Z[1:-1, 1:-1]
    g_aa = (Z[1:-1, 2:] - 2 * c + Z[1:-1, :-2]) / ha**2
    g_bb = (Z[2:, 1:-1] - 2 * c + Z[:-2, 1:-1]) / hb**2
    g_ab = (Z[2:, 2:] - Z[2:, :-2] - Z[:-2, 2:] + Z[:-2, :-2]) / (4 * ha * hb)
    H = np.stack([np.stack([g_aa, g_ab], -1), np.stack([g_ab, g_bb], -1)], -2)
    return np.linalg.eigvalsh(H)


def minimum_energy_path(loss_fn, start, end, num_points=41, num_steps=500, lr=0.01, initial_path=None):
    r"""The lowest path between two minima, by the (simplified) string method.

    A chain of ``num_points`` points from ``start`` to ``end`` (both kept fixed) is moved repeatedly: one
    gradient-descent step of every inner point, :math:`\phi_i \leftarrow \phi_i - \eta \nabla
    \mathcal{L}(\phi_i)`, then the points are spread out again at equal distances along the chain (linear
    interpolation in arc length), which keeps them from all sliding into the two minima. The chain settles
    on a *minimum-energy path*: at each point the gradient is parallel to the path. Its highest point is a
    saddle point (an index-1 saddle: one negative Hessian eigenvalue, along the path).

    Args:
        loss_fn: a batched loss ``f(points) -> losses``: points ``(n, D)``, losses ``(n,)``.
        start, end: the two end points, shape ``(D,)`` (usually minima).
        num_points, num_steps, lr: chain length, iterations and step size.
        initial_path: optional ``(num_points, D)`` start for the chain (default: the straight line).

    Returns:
        ``np.ndarray`` of shape ``(num_points, D)``: the path, from ``start`` to ``end``.
    """
    if not (isinstance(num_points, numbers.Integral) and num_points >= 3):
        raise ValueError(f"Invalid num_points: {num_points} (must be an int >= 3)")
    if not (isinstance(num_steps, numbers.Integral) and num_steps >= 0):
        raise ValueError(f"Invalid num_steps: {num_steps} (must be an int >= 0)")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"Invalid lr: {lr} (must be finite and > 0)")
    start = torch.as_tensor(start, dtype=torch.float64)
    end = torch.as_tensor(end, dtype=start.dtype)
    if initial_path is None:
        s = torch.linspace(0, 1, num_points, dtype=start.dtype)[:, None]
        path = (1 - s) * start + s * end
    else:
        path = torch.as_tensor(np.asarray(initial_path), dtype=start.dtype).clone()
        if path.shape != (num_points, start.numel()):
            expected = (num_points, start.numel())
            raise ValueError(f"Invalid initial_path shape: {tuple(path.shape)} (expected {expected})")
    for _ in range(num_steps):
        inner = path[1:-1].detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_fn(inner).sum(), inner)
        path = torch.cat([start[None], inner.detach() - lr * grad, end[None]])
        path = _equal_arc_length(path)
    return path.numpy()


def _equal_arc_length(path):
    """Re-space the points of a polygonal path at equal arc length, end points fixed."""
    lengths = torch.cat([path.new_zeros(1), (path[1:] - path[:-1]).norm(dim=1).cumsum(0)])
    targets = torch.linspace(0, lengths[-1].item(), len(path), dtype=path.dtype)
    idx = torch.searchsorted(lengths, targets).clamp(1, len(path) - 1)
    left, right = lengths[idx - 1], lengths[idx]
    t = ((targets - left) / (right - left).clamp_min(1e-300))[:, None]
    out = path[idx - 1] + t * (path[idx] - path[idx - 1])
    out[0], out[-1] = path[0], path[-1]
    return out
