"""Optimizer trajectories over a 2-D loss surface: one run, or K runs in one vectorized loop."""

import numbers

import numpy as np
import torch

from .surfaces import pathological_loss

__all__ = ["check_start", "train_curve", "train_curves"]


def check_start(w_init, name="w_init"):
    """``w_init`` as a float64 array ``(w0, w1)`` of two finite numbers, or a ``ValueError`` naming it."""
    try:
        start = np.asarray(w_init, dtype=np.float64)
    except (TypeError, ValueError):
        start = None
    if start is None or start.shape != (2,) or not np.isfinite(start).all():
        raise ValueError(f"Invalid {name}: {w_init!r} (must be two finite numbers (w0, w1))")
    return start


def train_curve(
    optim,
    optim_params,
    w_init=(5.0, 5.0),
    loss_fn=pathological_loss,
    num_steps=100,
    scheduler=None,
    dtype=torch.float32,
):
    """Run ``optim`` on ``loss_fn`` from ``w_init`` and record the path.

    Args:
        optim: an optimizer class, e.g. ``GD`` or ``torch.optim.Adam``.
        optim_params: keyword arguments for it, e.g. ``{"lr": 0.1, "momentum": 0.9}``.
        w_init: the start :math:`(w_0, w_1)`.
        loss_fn: a surface ``f(w0, w1) -> tensor``.
        num_steps: number of optimizer steps.
        scheduler: optional factory ``scheduler(optimizer) -> LRScheduler``, stepped after every
            optimizer step, e.g. ``functools.partial(StepLR, step_size=100, gamma=0.5)``.
        dtype: the dtype of the weights.

    Returns:
        ``np.ndarray`` of shape ``(num_steps + 1, 3)`` whose row ``t`` is ``(w0_t, w1_t, loss(w_t))``;
        row 0 is the start. A diverging run gives non-finite rows; it never raises.
    """
    _check_num_steps(num_steps)
    w = torch.nn.Parameter(torch.tensor(check_start(w_init).tolist(), dtype=dtype))
    optimizer = optim([w], **optim_params)
    schedule = scheduler(optimizer) if scheduler is not None else None
    return _record_run(w, optimizer, schedule, loss_fn, num_steps).numpy()


def _check_num_steps(num_steps):
    if not (isinstance(num_steps, numbers.Integral) and num_steps >= 0):
        raise ValueError(f"Invalid num_steps: {num_steps} (must be an int >= 0)")


def _record_run(w, optimizer, schedule, loss_fn, num_steps):
    """Take ``num_steps`` steps on ``loss_fn(*w.unbind(-1))`` (summed over trajectories), each followed by a
    scheduler step; return the rows ``(w0, w1, loss)`` before every step and after the last, shape
    ``(num_steps + 1, *w.shape[:-1], 3)``."""
    points, losses = [], []
    for t in range(num_steps + 1):
        loss = loss_fn(*w.unbind(-1))
        points.append(w.detach().clone())
        losses.append(loss.detach())
        if t < num_steps:
            _descend(optimizer, schedule, w, loss)
    points = torch.stack(points)
    losses = torch.stack(losses).to(w.dtype).reshape(*points.shape[:-1], 1)
    return torch.cat((points, losses), dim=-1)


def _descend(optimizer, schedule, w, loss):
    """One optimizer step on ``loss`` (summed over trajectories), then one scheduler step."""
    total = loss.sum() if loss.ndim else loss
    w.grad = None  # the gradient is set, not accumulated
    total.backward(inputs=(w,))  # and only w's: a loss_fn may reach other tensors that require grad
    optimizer.step()
    if isinstance(schedule, torch.optim.lr_scheduler.ReduceLROnPlateau):
        schedule.step(total.item())
    elif schedule is not None:
        schedule.step()


def train_curves(
    optim,
    optim_params,
    w_inits=((5.0, 5.0),),
    lrs=None,
    loss_fn=pathological_loss,
    num_steps=100,
    scheduler=None,
    dtype=torch.float32,
):
    """Run K trajectories at once: K starting points, K learning rates, or both (paired).

    The K points are the rows of one ``(K, 2)`` parameter, and the loss is the sum of the K
    losses, so each row receives exactly its own gradient. Every optimizer here updates element by
    element, and per-row rates are rounded as a float rate is, so each row follows its own
    :func:`train_curve` run bit for bit.

    Args:
        optim, optim_params, loss_fn, num_steps, dtype: as in :func:`train_curve`.
        w_inits: K starts of shape ``(K, 2)``, or one start ``(2,)`` shared by every learning rate.
        lrs: optional K learning rates, one per trajectory (overrides ``optim_params["lr"]``).
        scheduler: as in :func:`train_curve`; not available together with ``lrs``.

    Returns:
        ``np.ndarray`` of shape ``(K, num_steps + 1, 3)``: ``out[k]`` is trajectory k as
        :func:`train_curve` returns it.
    """
    _check_num_steps(num_steps)
    try:
        starts = torch.as_tensor(np.asarray(w_inits, dtype=np.float64), dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Invalid w_inits: {w_inits!r} (must be K starts (w0, w1))") from error
    if not torch.isfinite(starts).all():
        raise ValueError(f"Invalid w_inits: {w_inits!r} (must be finite)")
    params = dict(optim_params)
    if lrs is not None:
        if len(np.atleast_1d(lrs)) == 0:
            raise ValueError(f"Invalid lrs: {lrs!r} (must hold at least one learning rate)")
        if scheduler is not None:
            raise ValueError("A scheduler with per-trajectory lrs is not supported; run one lr at a time")
        # float64, like a Python float: each optimizer rounds its own step size to the weights' dtype
        rates = torch.as_tensor(np.asarray(lrs, dtype=np.float64)).reshape(-1, 1)
        params["lr"] = rates
        if tuple(starts.shape) in ((2,), (1, 2)):  # one start (the default is one row) for every rate
            starts = starts.expand(len(rates), 2)
    if starts.ndim != 2 or starts.shape[1] != 2 or len(starts) == 0:
        raise ValueError(f"Invalid w_inits shape: {tuple(starts.shape)} (expected (K, 2) or (2,))")
    if lrs is not None and len(starts) != len(params["lr"]):
        raise ValueError(f"Got {len(starts)} starts for {len(params['lr'])} learning rates")

    w = torch.nn.Parameter(starts.clone())
    optimizer = optim([w], **params)
    schedule = scheduler(optimizer) if scheduler is not None else None
    return _record_run(w, optimizer, schedule, loss_fn, num_steps).transpose(0, 1).numpy()
