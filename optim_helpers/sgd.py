r"""Stochastic gradient descent on a least-squares problem: minibatch losses, their gradients, epochs, paths.

For data :math:`X \in \mathbb{R}^{N \times d}` (rows :math:`x_i`) and targets :math:`y \in \mathbb{R}^N`, the
mean squared error of the weights :math:`w` over a set :math:`S` of :math:`B` examples is

.. math::
    \mathcal{L}_S(w) = \frac1B \sum_{i \in S} (x_i^\top w - y_i)^2
    = w^\top A_S\, w - 2\, b_S^\top w + c_S, \qquad
    A_S = \tfrac1B \textstyle\sum_{i \in S} x_i x_i^\top,\;
    b_S = \tfrac1B \textstyle\sum_{i \in S} y_i x_i,\;
    c_S = \tfrac1B \textstyle\sum_{i \in S} y_i^2,

with gradient :math:`\nabla \mathcal{L}_S(w) = \frac2B \sum_{i \in S} (x_i^\top w - y_i)\, x_i = 2 (A_S w - b_S)`.
The full loss :math:`\mathcal{L}` is the case :math:`S = \{1, \dots, N\}`; its minimizer solves the normal
equations :math:`A w^\star = b`. SGD steps with :math:`\nabla \mathcal{L}_S` of a fresh minibatch :math:`S` at
every step; an *epoch* shuffles the data once and slices it into minibatches (sampling without replacement).
"""

import itertools
import numbers

import numpy as np
import torch

from .device import pick_device
from .optimizers import GD
from .trajectories import _descend

__all__ = ["least_squares", "mse_loss_surface", "minibatch_gradients", "minibatch_indices", "sgd_path", "sgd_paths"]


def _check_data(X, y, features=None):
    if X.ndim != 2 or (features is not None and X.shape[1] != features):
        want = f"(n, {features})" if features is not None else "(n, d)"
        raise ValueError(f"Invalid X shape: {tuple(X.shape)} (expected {want})")
    if y.shape != X.shape[:1]:
        raise ValueError(f"Invalid y shape: {tuple(y.shape)} (expected ({X.shape[0]},) to match X)")
    if len(y) == 0:
        raise ValueError("Invalid data: no examples")
    if not (torch.isfinite(X).all() and torch.isfinite(y).all()):
        raise ValueError("Invalid data: X and y must be finite (found NaN or inf)")


def _check_int(name, value, minimum):
    if not (isinstance(value, numbers.Integral) and value >= minimum):
        raise ValueError(f"Invalid {name}: {value} (must be an int >= {minimum})")


def least_squares(X, y):
    r"""The minimizer :math:`w^\star` of the mean squared error and the loss at it, in closed form.

    Solves the least-squares problem :math:`\min_w \frac1N \lVert X w - y \rVert^2` in float64
    (``torch.linalg.lstsq``, the minimum-norm solution if :math:`X` has dependent columns).

    Returns:
        ``(w_star, loss_star)``: a float64 tensor of shape ``(d,)`` and the float :math:`\mathcal{L}(w^\star)`.
    """
    X, y = torch.as_tensor(X).double().cpu(), torch.as_tensor(y).double().cpu()
    _check_data(X, y)
    w_star = torch.linalg.lstsq(X, y[:, None], driver="gelsd").solution[:, 0]
    return w_star, float(((X @ w_star - y) ** 2).mean())


def _products(X, y):
    r"""Per-example terms of a 2-feature MSE, one row each: :math:`(x_0^2, x_0 x_1, x_1^2, x_0 y, x_1 y, y^2)`."""
    x0, x1 = X.unbind(dim=1)
    return torch.stack([x0 * x0, x0 * x1, x1 * x1, x0 * y, x1 * y, y * y], dim=1)


def _quadratic(moments):
    """``f(w0, w1)`` from the six means :math:`(A_{00}, A_{01}, A_{11}, b_0, b_1, c)`."""
    cast = {}

    def mse(w0, w1):
        w0, w1 = torch.as_tensor(w0), torch.as_tensor(w1)
        key = (w0.device, w0.dtype)
        if key not in cast:
            cast[key] = moments.to(device=w0.device, dtype=w0.dtype).unbind()
        a00, a01, a11, b0, b1, c = cast[key]
        return a00 * w0 * w0 + 2 * a01 * w0 * w1 + a11 * w1 * w1 - 2 * (b0 * w0 + b1 * w1) + c

    return mse


def mse_loss_surface(X, y):
    r"""The mean squared error of a straight-line fit as a surface ``f(w0, w1)``, vectorized.

    ``f(w0, w1)`` evaluates :math:`w^\top A w - 2 b^\top w + c` from the six numbers :math:`A, b, c` of the data
    (computed once), so a grid of any shape costs a few tensor operations, not one pass over the data per point,
    and autograd gives :math:`\nabla \mathcal{L} = 2 (A w - b)`. ``w0`` and ``w1`` broadcast; the result has their
    dtype and device. In float32, :math:`c` (about :math:`E[y^2]`) cancels against the other terms near the
    minimum: use float64 where loss differences far below :math:`10^{-6} c` matter.

    Args:
        X: features of shape ``(N, 2)`` (e.g. rows :math:`(1, x_i)`).
        y: targets of shape ``(N,)``.

    Returns:
        ``f(w0, w1) -> tensor``, usable by :func:`optim_helpers.surface_grid`, ``plot_contourf`` and ``train_curve``.
    """
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    _check_data(X, y, features=2)
    return _quadratic(_products(X, y).mean(dim=0))


def minibatch_gradients(X, y, w, indices):
    r"""The gradient of the mean squared error of many minibatches at one point, in one vectorized call.

    Row :math:`m` is :math:`\nabla \mathcal{L}_{S_m}(w) = \frac2B \sum_{i \in S_m} (x_i^\top w - y_i)\, x_i` for
    the minibatch :math:`S_m` listed in ``indices[m]`` (repeated indices count as often as they appear).

    Args:
        X, y: data of shapes ``(N, d)`` and ``(N,)``.
        w: the weights, shape ``(d,)``.
        indices: integer tensor of shape ``(M, B)``: M minibatches of B example indices.

    Returns:
        A tensor of shape ``(M, d)`` in the dtype of ``X``.
    """
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    _check_data(X, y)
    indices = torch.as_tensor(indices)
    if indices.ndim != 2 or indices.shape[1] == 0 or indices.dtype.is_floating_point:
        raise ValueError(
            f"Invalid indices: shape {tuple(indices.shape)}, {indices.dtype} (expected (M, B) ints, B >= 1)"
        )
    if indices.numel() and not (0 <= int(indices.min()) and int(indices.max()) < len(y)):
        raise ValueError(f"Invalid indices: values must lie in [0, {len(y)})")
    w = torch.as_tensor(w, dtype=X.dtype, device=X.device)
    if w.shape != X.shape[1:]:
        raise ValueError(f"Invalid w shape: {tuple(w.shape)} (expected ({X.shape[1]},))")
    indices = indices.to(X.device)
    Xb = X[indices]  # (M, B, d)
    residual = Xb @ w - y[indices]  # (M, B)
    return (2.0 / indices.shape[1]) * torch.einsum("mb,mbd->md", residual, Xb)


def minibatch_indices(num_examples, batch_size, seed=0, replacement=False, drop_last=False):
    """An endless, seeded stream of minibatches of example indices (CPU ``torch.long`` tensors).

    Without replacement (the default), it iterates a ``torch.utils.data.DataLoader`` with ``shuffle=True`` and a
    ``torch.Generator`` seeded with ``seed``, epoch after epoch: each epoch is a fresh random permutation of
    ``range(num_examples)`` cut into slices of ``batch_size`` (the last one smaller unless ``drop_last``), the
    same batches as a DataLoader over the data itself with the same generator seed. With replacement, each
    minibatch is ``batch_size`` independent uniform draws (repeats possible).

    Args:
        num_examples: N, the size of the data set.
        batch_size: B; without replacement at most N.
        seed: seeds the generator (the global random state is not used or changed).
        replacement: draw with replacement instead of in epochs.
        drop_last: without replacement, skip each epoch's last, smaller minibatch.
    """
    _check_int("num_examples", num_examples, 1)
    _check_int("batch_size", batch_size, 1)
    if not replacement and batch_size > num_examples:
        raise ValueError(
            f"Invalid batch_size: {batch_size} (more than num_examples={num_examples} without replacement)"
        )
    return _stream(num_examples, batch_size, torch.Generator().manual_seed(seed), replacement, drop_last)


def _stream(num_examples, batch_size, generator, replacement, drop_last):
    if replacement:
        while True:
            yield torch.randint(num_examples, (batch_size,), generator=generator)
    # DataLoader(data, batch_size, shuffle=True, generator) spelled out: the same sampler, the same draws from
    # the generator, the same batches, but each minibatch is fetched in one indexing call, not one per example.
    sampler = torch.utils.data.BatchSampler(
        torch.utils.data.RandomSampler(range(num_examples), generator=generator), batch_size, drop_last
    )
    loader = torch.utils.data.DataLoader(torch.arange(num_examples), sampler=sampler, batch_size=None,
                                         generator=generator)
    while True:
        yield from loader


def sgd_path(X, y, w_init, lr, batch_size, num_steps=None, epochs=None, seed=0, optim=GD, optim_params=None,
             replacement=False, drop_last=False, scheduler=None, dtype=torch.float64, device=None):
    r"""Run an optimizer on minibatch gradients of a 2-weight least-squares fit and record the path.

    Step :math:`t` takes the next minibatch :math:`\mathcal{B}_t` of :func:`minibatch_indices` and hands the
    optimizer :math:`g^t = \nabla \mathcal{L}_{\mathcal{B}_t}(\Theta^{t-1})`; with ``optim=GD`` that is
    :math:`\Theta^t = \Theta^{t-1} - \eta\, g^t`. Any optimizer class works (``GD`` with momentum,
    ``Adam``, ``torch.optim.SGD``, ...). A minibatch is gathered in index order, so with ``batch_size = N`` (no
    replacement) every step uses exactly the full data, and the path equals
    ``train_curve(optim, ..., loss_fn=mse_loss_surface(X, y))`` in the same dtype, bit for bit.

    Args:
        X, y: features ``(N, 2)`` and targets ``(N,)``.
        w_init: the start :math:`(w_0, w_1)`.
        lr: the learning rate :math:`\eta`.
        batch_size: B, examples per step.
        num_steps: number of steps; or give ``epochs`` instead (without replacement: ``ceil(N / B)`` steps per
            epoch, ``floor(N / B)`` with ``drop_last``; with replacement: ``ceil(N / B)`` draws count as one epoch).
        seed: seeds the minibatch order.
        optim, optim_params: the optimizer class and its other arguments, e.g. ``{"momentum": 0.9}``.
        replacement, drop_last: how minibatches are drawn, as in :func:`minibatch_indices`.
        scheduler: optional factory ``scheduler(optimizer) -> LRScheduler``, stepped after every step.
        dtype: dtype of the weights and data (float64 by default: losses near the minimum differ in the 7th digit).
        device: where to compute; ``None`` keeps the device of ``X`` (the CPU for a NumPy array or a CPU tensor),
            so the path equals a CPU ``train_curve`` bit for bit on a GPU machine too; a name or ``torch.device``
            goes through :func:`optim_helpers.pick_device`.

    Returns:
        ``np.ndarray`` of shape ``(num_steps + 1, 3)`` whose row ``t`` is ``(w0_t, w1_t, L(w_t))`` with the *full*
        loss :math:`\mathcal{L}`; row 0 is the start. A diverging run gives non-finite rows; it never raises.
    """
    return _run(X, y, [w_init], lr, batch_size, num_steps, epochs, seed, optim, optim_params, replacement,
                drop_last, scheduler, dtype, device, batched=False)[0]


def sgd_paths(X, y, w_init, lrs, batch_size, num_steps=None, epochs=None, seed=0, optim=GD, optim_params=None,
              replacement=False, drop_last=False, dtype=torch.float64, device=None):
    """:func:`sgd_path` for K learning rates at once, from one start and on the *same* minibatches.

    The K runs are the rows of one ``(K, 2)`` parameter (per-row rates, as in :func:`optim_helpers.train_curves`),
    so each row follows its own :func:`sgd_path` run with the same ``seed``, bit for bit, at the cost of about one.
    K = 1 works too. The other arguments are those of :func:`sgd_path`; ``device=None`` likewise keeps the
    device of ``X``.

    Returns:
        ``np.ndarray`` of shape ``(K, num_steps + 1, 3)``.
    """
    rates = torch.as_tensor(np.asarray(lrs, dtype=np.float64)).reshape(-1, 1)
    if len(rates) == 0:
        raise ValueError("Invalid lrs: no learning rates")
    return _run(X, y, [w_init] * len(rates), rates, batch_size, num_steps, epochs, seed, optim, optim_params,
                replacement, drop_last, None, dtype, device, batched=True)


def _run(X, y, starts, lr, batch_size, num_steps, epochs, seed, optim, optim_params, replacement, drop_last,
         scheduler, dtype, device, batched):
    # batched: one (K, 2) parameter for K runs with per-row rates (sgd_paths, any K >= 1), or one (2,) parameter
    device = torch.as_tensor(X).device if device is None else pick_device(device)
    X = torch.as_tensor(X).to(device=device, dtype=dtype)
    y = torch.as_tensor(y).to(device=device, dtype=dtype)
    _check_data(X, y, features=2)
    n = len(y)
    if (num_steps is None) == (epochs is None):
        raise ValueError(f"Give exactly one of num_steps and epochs (got num_steps={num_steps}, epochs={epochs})")
    batches = minibatch_indices(n, batch_size, seed=seed, replacement=replacement, drop_last=drop_last)
    if epochs is not None:
        _check_int("epochs", epochs, 0)
        per_epoch = n // batch_size if (drop_last and not replacement) else -(-n // batch_size)
        num_steps = epochs * per_epoch
    _check_int("num_steps", num_steps, 0)
    starts = torch.tensor(np.asarray(starts, dtype=np.float64), dtype=dtype, device=device)
    if starts.ndim != 2 or starts.shape[1] != 2:
        raise ValueError(f"Invalid w_init: {starts[0].tolist() if starts.ndim > 1 else starts.tolist()} "
                         "(expected two numbers)")
    if isinstance(lr, torch.Tensor):
        lr = lr.to(device)
    products = _products(X, y)  # minibatch moments are means of its rows
    full_loss = _quadratic(products.mean(dim=0))
    w = torch.nn.Parameter(starts if batched else starts[0])
    optimizer = optim([w], lr=lr, **(optim_params or {}))
    schedule = scheduler(optimizer) if scheduler is not None else None
    path = torch.empty(num_steps + 1, *starts.shape[:-1], 3, dtype=dtype, device=device)
    for t, batch in enumerate(itertools.chain(itertools.islice(batches, num_steps), [None])):
        with torch.no_grad():
            path[t, ..., :2] = w
            path[t, ..., 2] = full_loss(*w.unbind(dim=-1))
        if batch is not None:
            batch = batch.sort().values.to(device)  # a minibatch is a set: index order makes B = N the full data
            _descend(optimizer, schedule, w, _quadratic(products[batch].mean(dim=0))(*w.unbind(dim=-1)))
    return np.asarray(path.transpose(0, 1).cpu().numpy())
