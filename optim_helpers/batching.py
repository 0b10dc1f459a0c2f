r"""Minibatches: how noisy their gradients are, how to add several up into one step, and how to scale the rate.

Write :math:`g_i = \nabla \ell_i(\Theta)` for the gradient of example :math:`i` of :math:`N`, :math:`g` for
their mean (the full-batch gradient) and :math:`\sigma^2 = \frac1N \sum_i \lVert g_i - g \rVert^2` for their
spread. The gradient of a minibatch :math:`S` of :math:`B` examples, :math:`g_S = \frac1B \sum_{i \in S} g_i`,
is an unbiased estimate of :math:`g` with

.. math::
    \mathbb{E} \lVert g_S - g \rVert^2 = \frac{\sigma^2}{B} \quad\text{(with replacement)}, \qquad
    \mathbb{E} \lVert g_S - g \rVert^2 = \frac{\sigma^2}{B} \cdot \frac{N - B}{N - 1}
    \quad\text{(without replacement)}.

:func:`minibatch_gradient_variance` measures the left side by sampling minibatches and differentiating
their loss; :func:`predicted_gradient_variance` evaluates the right side from :func:`per_example_gradients`.

Gradient accumulation adds the gradients of :math:`k` micro-batches before one optimizer step. Done right
(:func:`accumulate_gradients`, :func:`train_accumulated`), each example's loss is weighted by one over the
number of examples in its group, so the accumulated gradient is exactly the gradient of the mean loss of the
group, whatever the sizes of its micro-batches; the step comes after micro-batch :math:`i` when
:math:`(i + 1) \bmod k = 0`, and a leftover group at the end of an epoch gets a step of its own.
"""

import numbers
import time

import numpy as np
import torch

from .training import cross_entropy

__all__ = [
    "per_example_gradients",
    "minibatch_gradient_variance",
    "predicted_gradient_variance",
    "accumulation_groups",
    "accumulate_gradients",
    "train_accumulated",
    "linear_scaling_lr",
    "DelayedDataset",
]


def _check_int(name, value, minimum):
    if not (isinstance(value, numbers.Integral) and value >= minimum):
        raise ValueError(f"Invalid {name}: {value} (must be an int >= {minimum})")


def _device_of(model):
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def _batch_gradient_fn(model, loss_fn):
    """``(params, X, y) -> flat gradient of loss_fn(model(X), y)``, functional, for ``torch.func.vmap``."""
    names = [name for name, _ in model.named_parameters()]

    def loss(params, X, y):
        return loss_fn(torch.func.functional_call(model, dict(zip(names, params)), (X,)), y)

    def flat_grad(params, X, y):
        return torch.cat([g.reshape(-1) for g in torch.func.grad(loss)(params, X, y)])

    return flat_grad, [p.detach() for p in model.parameters()]


def per_example_gradients(model, X, y, loss_fn=cross_entropy):
    r"""The gradient of every example's loss, :math:`g_i = \nabla_\Theta\, \ell(f(x_i), y_i)`, one row each.

    Computed with ``torch.func.vmap`` over batches of one; the model is not changed.

    Returns:
        A tensor of shape ``(N, P)``, :math:`P` the number of parameters (in ``model.parameters()`` order).
    """
    flat_grad, params = _batch_gradient_fn(model, loss_fn)
    device = _device_of(model)
    X, y = X.to(device), y.to(device)
    return torch.func.vmap(lambda x, t: flat_grad(params, x[None], t[None]))(X, y)


def minibatch_gradient_variance(model, X, y, batch_sizes, num_batches=100, seed=0, replacement=False,
                                loss_fn=cross_entropy):
    r"""Measured :math:`\mathbb{E} \lVert g_S - g \rVert^2` for every batch size: sample, differentiate, average.

    For each :math:`B`, draw ``num_batches`` minibatches of :math:`B` examples (distinct examples within a
    minibatch unless ``replacement``), compute each minibatch's gradient with autograd on its mean loss, and
    average its squared distance to the full-batch gradient :math:`g`. The model is not changed.

    Args:
        batch_sizes: the values of :math:`B` (ints; at most ``len(X)`` without replacement).
        num_batches: minibatches per batch size.
        seed: seeds the sampling (its own generator; the global random state is untouched).

    Returns:
        ``np.ndarray`` of shape ``(len(batch_sizes),)``.
    """
    n = len(X)
    _check_int("num_batches", num_batches, 1)
    for b in batch_sizes:
        _check_int("batch_size", b, 1)
        if not replacement and b > n:
            raise ValueError(f"Invalid batch_size: {b} (more than the {n} examples, without replacement)")
    flat_grad, params = _batch_gradient_fn(model, loss_fn)
    device = _device_of(model)
    X, y = X.to(device), y.to(device)
    full = flat_grad(params, X, y)
    generator = torch.Generator().manual_seed(seed)
    out = []
    for b in batch_sizes:
        if replacement:
            idx = torch.randint(0, n, (num_batches, b), generator=generator)
        else:
            idx = torch.stack([torch.randperm(n, generator=generator)[:b] for _ in range(num_batches)])
        idx = idx.to(device)
        grads = torch.func.vmap(lambda i: flat_grad(params, X[i], y[i]))(idx)
        out.append(((grads - full) ** 2).sum(dim=1).mean().item())
    return np.array(out)


def predicted_gradient_variance(per_example, batch_sizes, replacement=False):
    r"""The closed form :math:`\frac{\sigma^2}{B}` (with replacement) or :math:`\frac{\sigma^2}{B}\frac{N-B}{N-1}`.

    Args:
        per_example: the ``(N, P)`` per-example gradients (:func:`per_example_gradients`).
        batch_sizes: the values of :math:`B`.

    Returns:
        ``np.ndarray`` of shape ``(len(batch_sizes),)``.
    """
    per_example = torch.as_tensor(per_example)
    n = per_example.shape[0]
    if per_example.ndim != 2 or n < 2:
        raise ValueError(f"Invalid per_example shape: {tuple(per_example.shape)} (need (N, P) with N >= 2)")
    sigma2 = ((per_example - per_example.mean(dim=0)) ** 2).sum(dim=1).mean().item()
    out = []
    for b in batch_sizes:
        _check_int("batch_size", b, 1)
        if not replacement and b > n:
            raise ValueError(f"Invalid batch_size: {b} (more than the {n} examples, without replacement)")
        out.append(sigma2 / b if replacement else sigma2 / b * (n - b) / (n - 1))
    return np.array(out)


def accumulation_groups(num_micro_batches, accumulation_steps):
    """Which micro-batches each optimizer step adds up: ``[[0, .., k-1], [k, .., 2k-1], ..., leftover]``.

    The step after micro-batch ``i`` comes when ``(i + 1) % k == 0``, and after the last micro-batch of the
    epoch when a shorter leftover group remains.
    """
    _check_int("num_micro_batches", num_micro_batches, 0)
    _check_int("accumulation_steps", accumulation_steps, 1)
    k = accumulation_steps
    return [list(range(start, min(start + k, num_micro_batches))) for start in range(0, num_micro_batches, k)]


def _group_backward(model, micro_batches, loss_fn):
    """Backward of the summed per-example losses of the micro-batches, then divide by their count."""
    device = _device_of(model)
    total, count = 0.0, 0
    for X, y in micro_batches:
        if len(y) == 0:
            continue
        loss = loss_fn(model(X.to(device)), y.to(device))  # the mean over this micro-batch
        (loss * len(y)).sum().backward()  # so the sum over its examples (per model, for K models)
        total = total + loss.detach() * len(y)
        count += len(y)
    if count == 0:
        raise ValueError("Invalid micro_batches: no examples")
    for p in model.parameters():
        if p.grad is not None:
            p.grad /= count
    return total / count, count


def accumulate_gradients(model, micro_batches, loss_fn=cross_entropy):
    r"""Leave in every ``.grad`` the gradient of the mean loss over *all* examples of the micro-batches.

    With micro-batches :math:`S_1, \dots, S_k` of sizes :math:`n_1, \dots, n_k` and :math:`n = \sum_j n_j`,

    .. math:: \frac1n \sum_{j=1}^{k} \sum_{i \in S_j} \nabla \ell_i
              = \sum_{j=1}^{k} \frac{n_j}{n}\, \nabla \mathcal{L}_{S_j},

    which is the gradient of the one large batch :math:`S_1 \cup \dots \cup S_k`, equal sizes or not (dividing
    each micro-batch's mean loss by :math:`k` instead is right only when all :math:`n_j` are equal). Existing
    gradients are cleared first.

    Args:
        micro_batches: an iterable of ``(X, y)``; ``loss_fn(logits, y)`` must be the *mean* loss.

    Returns:
        The mean loss over all examples (a float; an array of K for a batched model).
    """
    for p in model.parameters():
        p.grad = None
    loss, _ = _group_backward(model, micro_batches, loss_fn)
    return loss.item() if loss.ndim == 0 else loss.cpu().numpy()


def train_accumulated(model, optimizer, loader, accumulation_steps, epochs=1, loss_fn=cross_entropy, scheduler=None,
                      progress=False):
    """Train with gradient accumulation: one optimizer step per group of ``accumulation_steps`` micro-batches.

    The step after micro-batch ``i`` (counted from 0 in each epoch) comes when ``(i + 1) % k == 0``; a
    leftover group of fewer than ``k`` micro-batches at the end of an epoch gets its own step, so no
    gradient leaks into the next epoch. Each group's gradient is the gradient of its mean loss, weighted by the
    real number of examples (see :func:`accumulate_gradients`). ``scheduler.step()`` follows every optimizer step.

    Returns:
        ``(losses, group_sizes)``: the mean loss of each group (before its step) and its number of examples,
        both ``np.ndarray`` with one entry per optimizer step.
    """
    from tqdm.auto import tqdm

    _check_int("accumulation_steps", accumulation_steps, 1)
    _check_int("epochs", epochs, 0)
    k = accumulation_steps
    model.train()
    losses, sizes = [], []

    def step(group):
        optimizer.zero_grad()
        loss, count = _group_backward(model, group, loss_fn)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.cpu())
        sizes.append(count)

    total = epochs * -(-len(loader) // k) if hasattr(loader, "__len__") else None
    with tqdm(total=total, disable=not progress, leave=False) as bar:
        for _ in range(epochs):
            group = []
            for i, batch in enumerate(loader):
                group.append(batch)
                if (i + 1) % k == 0:
                    step(group)
                    bar.update()
                    group = []
            if group:  # the leftover group of this epoch
                step(group)
                bar.update()
    if not losses:
        return np.zeros((0,)), np.zeros((0,), dtype=int)
    return torch.stack(losses).numpy(), np.array(sizes)


def linear_scaling_lr(base_lr, base_batch_size, batch_size):
    r"""The linear scaling rule (Goyal et al., 2017): :math:`\eta = \eta_0 \cdot B / B_0`."""
    _check_int("base_batch_size", base_batch_size, 1)
    _check_int("batch_size", batch_size, 1)
    if not (np.isfinite(base_lr) and base_lr >= 0):
        raise ValueError(f"Invalid base_lr: {base_lr} (must be finite and >= 0)")
    return base_lr * batch_size / base_batch_size


class DelayedDataset(torch.utils.data.Dataset):
    """A dataset that waits ``delay`` seconds before returning each item of ``dataset``.

    It stands in for loading that takes time without using the processor (reading files, a network
    store), to show what ``DataLoader(num_workers=...)`` changes.
    """

    def __init__(self, dataset, delay):
        if not (np.isfinite(delay) and delay >= 0):
            raise ValueError(f"Invalid delay: {delay} (must be finite and >= 0)")
        self.dataset, self.delay = dataset, delay

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        time.sleep(self.delay)
        return self.dataset[i]
