r"""The learning-rate range test ("LR finder"): one short run with a growing learning rate.

The test trains for :math:`n` steps while the learning rate grows geometrically from :math:`\eta_\text{start}`
to :math:`\eta_\text{end}`,

.. math:: \eta_i = \eta_\text{start} \left( \eta_\text{end} / \eta_\text{start} \right)^{i / (n - 1)},
    \qquad i = 0, \dots, n - 1,

so the rates are evenly spaced on a log axis (a constant factor apart). Step :math:`i` records the batch loss
:math:`L_i` at the weights *before* the step taken with :math:`\eta_i`, and a smoothed loss :math:`s_i`, an
exponential moving average with bias correction (as in fastai),

.. math:: a_i = \beta\, a_{i-1} + (1 - \beta)\, L_i, \quad a_{-1} = 0, \qquad s_i = \frac{a_i}{1 - \beta^{i+1}},

or, with ``debias=False``, the average started at the first loss, :math:`s_0 = L_0`,
:math:`s_i = \beta s_{i-1} + (1 - \beta) L_i` (torch-lr-finder's form, whose ``smooth_f`` is :math:`1 - \beta`),
which weights the first loss far more: after :math:`i` steps it still carries weight :math:`\beta^i` (0.60 after
10 steps with torch-lr-finder's :math:`\beta = 0.95`), against about :math:`1/(i+1)` with the bias correction.
The test stops after the first step where :math:`s_i` is not finite or has climbed too far above the best (lowest)
smoothed loss so far, :math:`b_i`: by more than ``diverge_th`` :math:`- 1` times :math:`b_i` when :math:`b_i \ge 0`
(:math:`s_i > \text{diverge\_th}\cdot b_i`, torch-lr-finder's rule), and otherwise, for a loss that can be
negative (a log-likelihood, a loss minus a constant), by more than ``diverge_th`` :math:`- 1` times
:math:`\max(|b_i|, s_0 - b_i)`, the larger of the best loss's size and the descent so far. That step is recorded.
Afterwards the model, the parameters' gradients, the
optimizer, the global random state and the loader's generator are exactly as before the test.

Suggestion rule ("steepest descent"): drop the first ``skip_start`` and the last ``skip_end`` recorded points;
on the rest, take the slope of :math:`s` per grid step by finite differences (``np.gradient``: central inside,
one-sided at the two ends; on a geometric sweep this is :math:`\mathrm{d}s / \mathrm{d}\log_{10}\eta` up to a
constant factor) and suggest the rate where it is most negative, the point where the loss falls fastest per factor
of learning rate. No negative slope: no suggestion.
The result also carries ``minimum_lr``, the rate at the lowest smoothed loss; the rule of thumb "minimum / 10"
(fastai's early finder) suggests a tenth of it (:attr:`RangeTestResult.min_over_10`).
(Smith, 2017, introduced the test with a linear sweep; the geometric sweep is fastai's and torch-lr-finder's.)
"""

import copy
import dataclasses
import math
import numbers

import numpy as np
import torch

from .surfaces import pathological_loss
from .training import cross_entropy
from .trajectories import check_start

__all__ = [
    "RangeTestResult",
    "lr_sweep",
    "smooth_losses",
    "suggest_lr",
    "lr_range_test",
    "surface_range_test",
    "plot_lr_range_test",
]


@dataclasses.dataclass
class RangeTestResult:
    """What a range test measured; arrays have one entry per step taken.

    Attributes:
        lrs: the learning rate of each step.
        losses: the raw batch loss at each step (before that step's update).
        smoothed: the smoothed loss.
        suggestion: the steepest-descent rate (``None`` when the smoothed loss never falls).
        suggestion_index: its index in ``lrs``.
        minimum_lr: the rate at the lowest smoothed loss (``None`` when no smoothed loss is finite).
        diverged: whether the test stopped early (the loss climbed too far above the best, or is not finite).
        path: the weights before each step (:func:`surface_range_test` only), shape ``(steps, 2)``.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float | None
    suggestion_index: int | None
    minimum_lr: float | None
    diverged: bool
    path: np.ndarray | None = None

    @property
    def min_over_10(self):
        """The rule of thumb "minimum / 10": a tenth of the rate at the lowest smoothed loss (or ``None``)."""
        return None if self.minimum_lr is None else self.minimum_lr / 10


def _check_sweep(start_lr, end_lr, num_steps):
    if not (isinstance(start_lr, numbers.Real) and math.isfinite(start_lr) and start_lr > 0):
        raise ValueError(f"Invalid start_lr: {start_lr} (must be finite and > 0)")
    if not (isinstance(end_lr, numbers.Real) and math.isfinite(end_lr) and end_lr > start_lr):
        raise ValueError(f"Invalid end_lr: {end_lr} (must be finite and > start_lr = {start_lr})")
    if not (isinstance(num_steps, numbers.Integral) and num_steps >= 2):
        raise ValueError(f"Invalid num_steps: {num_steps} (must be an int >= 2)")


def _check_beta(beta):
    if not (isinstance(beta, numbers.Real) and 0.0 <= beta < 1.0):
        raise ValueError(f"Invalid beta: {beta} (must be in [0, 1))")


def _check_skips(skip_start, skip_end):
    for name, value in (("skip_start", skip_start), ("skip_end", skip_end)):
        if not (isinstance(value, numbers.Integral) and value >= 0):
            raise ValueError(f"Invalid {name}: {value} (must be an int >= 0)")


def lr_sweep(start_lr, end_lr, num_steps):
    r"""The rates of a full test: :math:`\eta_i = \eta_\text{start} (\eta_\text{end}/\eta_\text{start})^{i/(n-1)}`."""
    _check_sweep(start_lr, end_lr, num_steps)
    return np.array([_rate(start_lr, end_lr, num_steps, i) for i in range(num_steps)])


def _rate(start_lr, end_lr, num_steps, i):
    # written as torch-lr-finder's ExponentialLR computes it, so both give the same floats
    return start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))


def _smooth_next(previous, average, loss, i, beta, debias):
    """One smoothing step: returns ``(s_i, a_i)``."""
    if debias:
        average = beta * average + (1 - beta) * loss
        return average / (1 - beta ** (i + 1)), average
    if i == 0:
        return loss, average
    f = 1 - beta  # torch-lr-finder's smooth_f
    return f * loss + (1 - f) * previous, average


def smooth_losses(losses, beta=0.98, debias=True):
    r"""The smoothed losses :math:`s_i` of a sequence of losses (see the module docstring)."""
    _check_beta(beta)
    out, s, a = [], 0.0, 0.0
    for i, loss in enumerate(np.asarray(losses, dtype=np.float64).tolist()):
        s, a = _smooth_next(s, a, loss, i, beta, debias)
        out.append(s)
    return np.array(out)


def suggest_lr(lrs, smoothed, skip_start=10, skip_end=5):
    """The steepest-descent rule: ``(rate, index)`` of the most negative slope of ``smoothed`` per grid step.

    The slope is taken per grid step (the slope in log rate up to a constant factor on a geometric sweep such as
    :func:`lr_sweep`), as torch-lr-finder does. The first ``skip_start`` and the last ``skip_end`` points are left
    out before the slopes are taken.
    Returns ``(None, None)`` when fewer than two points remain or no slope is negative.
    """
    _check_skips(skip_start, skip_end)
    lrs, smoothed = np.asarray(lrs, dtype=np.float64), np.asarray(smoothed, dtype=np.float64)
    if lrs.shape != smoothed.shape or lrs.ndim != 1:
        raise ValueError(f"lrs and smoothed must be 1-D of one length, got {lrs.shape} and {smoothed.shape}")
    stop = len(lrs) - skip_end
    if stop - skip_start < 2:
        return None, None
    window = smoothed[skip_start:stop]
    if not np.all(np.isfinite(window)):
        return None, None
    slopes = np.gradient(window)  # per grid step; a geometric grid makes this d s / d log(lr) up to a constant
    k = int(np.argmin(slopes))
    if not slopes[k] < 0:
        return None, None
    return float(lrs[skip_start + k]), skip_start + k


def _sweep(step, set_lr, start_lr, end_lr, num_steps, beta, diverge_th, debias, skip_start, skip_end, progress):
    """The loop shared by both tests: ``step()`` takes one training step and returns the loss before it."""
    from tqdm.auto import tqdm

    _check_sweep(start_lr, end_lr, num_steps)
    _check_beta(beta)
    _check_skips(skip_start, skip_end)
    if not (isinstance(diverge_th, numbers.Real) and diverge_th > 1):
        raise ValueError(f"Invalid diverge_th: {diverge_th} (must be > 1; math.inf never stops early)")
    lrs, losses, smoothed = [], [], []
    s, a, best, diverged = 0.0, 0.0, math.inf, False
    for i in tqdm(range(num_steps), disable=not progress, leave=False):
        lr = _rate(start_lr, end_lr, num_steps, i)
        set_lr(lr)
        loss = float(step())
        s, a = _smooth_next(s, a, loss, i, beta, debias)
        lrs.append(lr)
        losses.append(loss)
        smoothed.append(s)
        best = min(best, s)
        if not math.isfinite(s) or _climbed(s, best, smoothed[0], diverge_th):
            diverged = True
            break
    lrs, smoothed = np.array(lrs), np.array(smoothed)
    suggestion, index = suggest_lr(lrs, smoothed, skip_start, skip_end)
    finite = np.where(np.isfinite(smoothed), smoothed, np.inf)
    minimum_lr = float(lrs[np.argmin(finite)]) if np.isfinite(finite).any() else None
    return RangeTestResult(lrs=lrs, losses=np.array(losses), smoothed=smoothed, suggestion=suggestion,
                           suggestion_index=index, minimum_lr=minimum_lr, diverged=diverged)


def _climbed(s, best, first, diverge_th):
    """Whether the smoothed loss ``s`` has climbed too far above the ``best`` so far (see the module docstring)."""
    if best >= 0:
        return s > diverge_th * best  # torch-lr-finder's rule, for losses that are never negative
    return s - best > (diverge_th - 1) * max(abs(best), first - best)


def _set_all_groups(optimizer):
    def set_lr(lr):
        for group in optimizer.param_groups:  # torch.optim and the package's optimizers alike
            group["lr"] = lr

    return set_lr


def _batches_forever(data):
    """``(X, y)`` tensors: the full batch at every step; otherwise the loader's batches, epoch after epoch."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        while True:
            yield data
    while True:
        empty = True
        for batch in data:
            empty = False
            yield batch
        if empty:
            raise ValueError("The loader yielded no batches")


def lr_range_test(model, optimizer, data, start_lr=1e-6, end_lr=10.0, num_steps=100, beta=0.98, diverge_th=4.0,
                  debias=True, skip_start=10, skip_end=5, loss_fn=cross_entropy, progress=False):
    """Run the range test on ``model`` with ``optimizer``, then put everything back.

    Every parameter group gets the rate :math:`\\eta_i` at step :math:`i`. The model is in training mode
    during the test. Afterwards the model's and the optimizer's ``state_dict`` (weights, buffers, moments,
    step counts, rates), the parameters' gradients (``.grad``, ``None`` where it was ``None``), the model's mode,
    the global random state (CPU and the model's GPU) and the state of the loader's ``generator`` (as in
    :func:`optim_helpers.digits_loaders`) are restored exactly, so training afterwards runs as if no test had
    taken place.

    Args:
        model: maps a batch of inputs to what ``loss_fn`` takes; batches are moved to its device.
        optimizer: a ``torch.optim.Optimizer`` over ``model``'s parameters (``torch.optim`` or the package's).
        data: a loader of ``(X, y)`` minibatches (restarted when exhausted), or ``(X, y)`` tensors (full batch).
        start_lr, end_lr, num_steps: the geometric sweep.
        beta: smoothing factor in [0, 1) (0: no smoothing); debias: bias-corrected average (else started at L_0).
        diverge_th: stop once the smoothed loss exceeds this multiple of the best one (``math.inf``: never).
        skip_start, skip_end: points left out by the suggestion rule.
        loss_fn: ``loss_fn(outputs, y)`` -> scalar loss.
        progress: show a ``tqdm`` progress bar.

    Returns:
        :class:`RangeTestResult`.
    """
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    model_state = copy.deepcopy(model.state_dict())
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    grads = [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()]
    was_training = model.training
    generator = getattr(data, "generator", None)
    generator_state = generator.get_state() if isinstance(generator, torch.Generator) else None
    gpus = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    batches = _batches_forever(data)

    def step():
        X, y = next(batches)
        loss = loss_fn(model(X.to(device)), y.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    try:
        with torch.random.fork_rng(devices=gpus):
            model.train()
            return _sweep(step, _set_all_groups(optimizer), start_lr, end_lr, num_steps, beta, diverge_th, debias,
                          skip_start, skip_end, progress)
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        for p, grad in zip(model.parameters(), grads):
            p.grad = grad
        model.train(was_training)
        if generator_state is not None:
            generator.set_state(generator_state)


def surface_range_test(optim, optim_params, w_init=(-4.0, -4.0), loss_fn=pathological_loss, start_lr=1e-2,
                       end_lr=10**0.6, num_steps=1000, beta=0.98, diverge_th=4.0, debias=True, skip_start=10,
                       skip_end=5, dtype=torch.float32):
    """The range test on a 2-D surface ``loss_fn(w0, w1)``, one point :math:`w` started at ``w_init``.

    The defaults are the widely shared sweep of chapter 08 (Adam from (-4, -4), rates from :math:`10^{-2}` to
    :math:`10^{0.6}` in 1000 steps), plus smoothing and the divergence stop. ``optim_params`` may leave out
    ``lr`` (the sweep sets it). The result's ``path`` holds :math:`w` before each step.
    """
    w = torch.nn.Parameter(torch.tensor(check_start(w_init).tolist(), dtype=dtype))
    optimizer = optim([w], **{"lr": start_lr, **optim_params})
    path = []

    def step():
        path.append(w.detach().clone())
        loss = loss_fn(w[0], w[1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    result = _sweep(step, _set_all_groups(optimizer), start_lr, end_lr, num_steps, beta, diverge_th, debias,
                    skip_start, skip_end, False)
    result.path = torch.stack(path).numpy()
    return result


def plot_lr_range_test(ax, result, log_x=True, raw=True, mark_suggestion=True, color="black", label=None):
    """Draw a range test on ``ax``: smoothed loss (line), raw losses (faint), the suggestion (dot and dashed line).

    ``log_x=False`` draws the same points on a linear axis; ``color`` is the optimizer's, e.g.
    ``style.color("Adam")``. Returns the Axes.
    """
    if raw:
        ax.plot(result.lrs, result.losses, color=color, alpha=0.25, linewidth=0.8)
    ax.plot(result.lrs, result.smoothed, color=color, label=label or "smoothed loss")
    if mark_suggestion and result.suggestion is not None:
        i = result.suggestion_index
        ax.axvline(result.suggestion, color=color, linestyle="--", linewidth=0.8, zorder=1)
        ax.plot(result.suggestion, result.smoothed[i], "o", markersize=7, markerfacecolor="white",
                markeredgecolor=color, markeredgewidth=1.5, label=f"steepest: {result.suggestion:.2g}")
    ax.set_xscale("log" if log_x else "linear")
    ax.set_xlabel("learning rate" + (" (log scale)" if log_x else ""))
    ax.set_ylabel("loss")
    ax.grid(True)
    return ax
