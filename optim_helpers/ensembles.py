r"""Snapshot ensembles (Huang et al., 2017): one training run, several models.

Train with cosine warm restarts, keep a copy of the model at the end of every cycle (where the rate is
lowest), and predict with the average of the copies' softmax outputs,

.. math:: p(y \mid x) = \frac{1}{M} \sum_{m=1}^{M} \operatorname{softmax}\bigl(f_{\Theta_m}(x)\bigr)_y .

A :class:`~optim_helpers.BatchedMLP` works too: its K models are ensembled separately (logits
``(K, N, C)`` give K ensembles).
"""

import copy
import math
import numbers

import numpy as np
import torch

from .training import _device_of, train

__all__ = ["train_snapshots", "ensemble_probabilities", "ensemble_evaluate"]


def train_snapshots(model, optimizer, data, num_cycles, epochs_per_cycle, scheduler=None, progress=False):
    """Train ``model`` in place for ``num_cycles`` cycles and keep a copy at the end of each.

    Args:
        model, optimizer, data: as in :func:`optim_helpers.train` (``data`` a loader of minibatches).
        num_cycles: the number of cycles (and of snapshots).
        epochs_per_cycle: epochs per cycle; give the scheduler a period of ``epochs_per_cycle * len(data)``
            steps (e.g. ``CosineAnnealingWarmRestarts(T_0=...)``) so that each snapshot is taken where the rate
            is lowest.
        scheduler: stepped after every optimizer step.
        progress: show a progress bar per cycle.

    Returns:
        ``(snapshots, losses)``: a list of ``num_cycles`` deep copies of the model (in evaluation mode), and the
        training losses of every step (an ``np.ndarray`` as :func:`optim_helpers.train` returns).
    """
    for name, value in (("num_cycles", num_cycles), ("epochs_per_cycle", epochs_per_cycle)):
        if not (isinstance(value, numbers.Integral) and value >= 1):
            raise ValueError(f"Invalid {name}: {value} (must be an int >= 1)")
    snapshots, losses = [], []
    for _ in range(num_cycles):
        losses.append(train(model, optimizer, data, epochs=epochs_per_cycle, scheduler=scheduler, progress=progress))
        snapshots.append(copy.deepcopy(model).eval())
    return snapshots, np.concatenate(losses)


def _each_model(models, X, normalize):
    """Yield ``normalize(model(X), dim=-1)`` for each model, evaluated in evaluation mode (its mode restored)."""
    if not models:
        raise ValueError("Invalid models: an ensemble needs at least one model")
    for model in models:
        was_training = model.training
        model.eval()
        try:
            yield normalize(model(X.to(_device_of(model))), dim=-1)
        finally:
            model.train(was_training)


@torch.no_grad()
def ensemble_probabilities(models, X):
    """The mean of the models' softmax outputs on ``X``: ``(N, C)``, or ``(K, N, C)`` for batched models.

    Each model is evaluated in evaluation mode (its previous mode is restored).
    """
    models = list(models)
    total = None
    for p in _each_model(models, X, torch.softmax):
        total = p if total is None else total + p
    return total / len(models)


def _ensemble_log_probabilities(models, X):
    r"""``log`` of :func:`ensemble_probabilities`, computed stably: :math:`\log \frac1M \sum_m e^{\ell_m}`
    with :math:`\ell_m` each model's ``log_softmax``, accumulated with ``logaddexp``, so that a probability that
    underflows to zero in every model still has a finite logarithm."""
    models = list(models)
    total = None
    for log_p in _each_model(models, X, torch.log_softmax):
        total = log_p if total is None else torch.logaddexp(total, log_p)
    return total - math.log(len(models))


@torch.no_grad()
def ensemble_evaluate(models, X, y):
    r"""``(loss, accuracy)`` of the averaged prediction: loss :math:`-\frac1N \sum_n \log p(y_n \mid x_n)`.

    Floats for single models, arrays of K for :class:`~optim_helpers.BatchedMLP` s (as
    :func:`optim_helpers.evaluate`). The logarithm of the averaged probabilities is computed from the models'
    ``log_softmax`` outputs (``logsumexp`` over the models, minus :math:`\log M`), so the loss stays finite
    where a probability underflows; for one model this equals :func:`optim_helpers.evaluate` up to
    floating-point rounding.
    """
    log_p = _ensemble_log_probabilities(models, X)
    y = y.to(log_p.device)
    picked = log_p.gather(-1, y.expand(*log_p.shape[:-2], -1)[..., None])[..., 0]
    loss = -picked.mean(dim=-1)
    acc = (log_p.argmax(dim=-1) == y).to(log_p.dtype).mean(dim=-1)
    if loss.ndim == 0:
        return loss.item(), acc.item()
    return loss.cpu().numpy(), acc.cpu().numpy()
