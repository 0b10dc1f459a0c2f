r"""Learning-rate schedules in closed form: pure functions of the step count.

Each function returns :math:`\eta_t`, the learning rate after ``t`` scheduler steps (the rate used by
optimizer step ``t``, counting from 0), and gives the same number as the matching
``torch.optim.lr_scheduler`` class after ``t`` calls of ``scheduler.step()`` (tests check this to
floating-point rounding). PyTorch computes most of them recursively, multiplying the current rate by a
ratio at every step; the closed forms say what those recursions add up to. ``eta`` below is the base
rate ``lr``.

=======================================  =================================================================
closed form                              PyTorch
=======================================  =================================================================
:func:`step_lr`                          ``StepLR(step_size, gamma)``
:func:`multistep_lr`                     ``MultiStepLR(milestones, gamma)``
:func:`exponential_lr`                   ``ExponentialLR(gamma)``
:func:`linear_lr`                        ``LinearLR(start_factor, end_factor, total_iters)``
:func:`cosine_lr`                        ``CosineAnnealingLR(T_max, eta_min)``
:func:`cosine_warm_restarts_lr`          ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)``
:func:`warmup_cosine_lr`                 ``SequentialLR`` of ``LinearLR``, ``CosineAnnealingLR``, ``ConstantLR``
:func:`one_cycle_lr`                     ``OneCycleLR(max_lr, total_steps, ...)``
:func:`sequential_lr`                    ``SequentialLR(schedulers, milestones)``
:func:`reduce_on_plateau`                ``ReduceLROnPlateau`` (depends on the metric, so a whole sequence)
=======================================  =================================================================

:func:`torch_lrs` records the rates a PyTorch scheduler produces, for comparison.
"""

import bisect
import math
import numbers

import numpy as np
import torch

__all__ = [
    "step_lr",
    "multistep_lr",
    "exponential_lr",
    "linear_lr",
    "cosine_lr",
    "cosine_warm_restarts_lr",
    "warmup_cosine_lr",
    "one_cycle_lr",
    "sequential_lr",
    "reduce_on_plateau",
    "torch_lrs",
]


def _check_int(name, value, low):
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low):
        raise ValueError(f"Invalid {name}: {value} (must be an int >= {low})")


def _check_rate(name, value):
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0):
        raise ValueError(f"Invalid {name}: {value} (must be finite and >= 0)")


def _check_positive(name, value):
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
        raise ValueError(f"Invalid {name}: {value} (must be finite and > 0)")


def _check(t, lr):
    """Check the step and the rate; return the rate as a float (a 0-d tensor, as an LR finder writes, too)."""
    _check_int("step", t, 0)
    lr = lr.item() if isinstance(lr, torch.Tensor) and lr.ndim == 0 else lr
    _check_rate("lr", lr)
    return lr


def _decay(lr, gamma, k):
    r""":math:`\eta \gamma^k`, ``inf`` where it overflows (as PyTorch's schedulers give) rather than an error."""
    try:
        return lr * gamma**k
    except OverflowError:
        return math.inf


def _cosine(t, period, high, low):
    r"""Half a cosine from ``high`` (at 0) to ``low`` (at ``period``): :math:`l + (h - l)(1 + \cos(\pi t/T))/2`."""
    return low + (high - low) * (1 + math.cos(math.pi * t / period)) / 2


def step_lr(t, lr, step_size, gamma=0.1):
    r"""Step decay: :math:`\eta_t = \eta\, \gamma^{\lfloor t / s \rfloor}` with ``step_size`` :math:`s`.

    With :math:`\gamma = 1/2` and :math:`s = 100` this is :math:`\eta / 2^{\lfloor t/100 \rfloor}`.
    """
    lr = _check(t, lr)
    _check_int("step_size", step_size, 1)
    _check_positive("gamma", gamma)
    return _decay(lr, gamma, t // step_size)


def multistep_lr(t, lr, milestones, gamma=0.1):
    r""":math:`\eta_t = \eta\, \gamma^{k(t)}`, :math:`k(t)` = the number of milestones :math:`\le t`.

    A milestone listed twice counts twice, as in PyTorch.
    """
    lr = _check(t, lr)
    milestones = sorted(milestones)
    for m in milestones:
        _check_int("milestone", m, 1)
    _check_positive("gamma", gamma)
    return _decay(lr, gamma, bisect.bisect_right(milestones, t))


def exponential_lr(t, lr, gamma):
    r"""Exponential decay: :math:`\eta_t = \eta\, \gamma^t`."""
    lr = _check(t, lr)
    _check_positive("gamma", gamma)
    return _decay(lr, gamma, t)


def linear_lr(t, lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
    r"""A linear ramp of the factor, then constant:

    .. math:: \eta_t = \eta \left(f_0 + (f_1 - f_0)\, \frac{\min(t, T)}{T}\right)

    with ``start_factor`` :math:`f_0`, ``end_factor`` :math:`f_1`, ``total_iters`` :math:`T` (PyTorch's
    defaults). As warmup: :math:`f_0 = 1/(T + 1)`, :math:`f_1 = 1` gives :math:`\eta (t + 1)/(T + 1)`.
    """
    lr = _check(t, lr)
    if not (isinstance(start_factor, numbers.Real) and 0 < start_factor <= 1):
        raise ValueError(f"Invalid start_factor: {start_factor} (must be in (0, 1])")
    if not (isinstance(end_factor, numbers.Real) and 0 <= end_factor <= 1):
        raise ValueError(f"Invalid end_factor: {end_factor} (must be in [0, 1])")
    _check_int("total_iters", total_iters, 1)
    return lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters)


def cosine_lr(t, lr, T_max, eta_min=0.0):
    r"""Cosine annealing from :math:`\eta` down to :math:`\eta_\min` in ``T_max`` steps:

    .. math:: \eta_t = \eta_\min + (\eta - \eta_\min)\, \frac{1 + \cos(\pi t / T_\max)}{2}.

    The formula holds for every :math:`t`, as PyTorch's does: after :math:`T_\max` the rate climbs back
    to :math:`\eta` at :math:`2 T_\max` (a period of :math:`2 T_\max`, not a floor).
    """
    lr = _check(t, lr)
    _check_int("T_max", T_max, 1)
    _check_rate("eta_min", eta_min)
    if eta_min > lr:
        raise ValueError(f"Invalid eta_min: {eta_min} (must be <= lr = {lr})")
    return _cosine(t, T_max, lr, eta_min)


def cosine_warm_restarts_lr(t, lr, T_0, T_mult=1, eta_min=0.0):
    r"""SGDR (Loshchilov and Hutter): cosine annealing restarted at :math:`\eta` after every cycle.

    .. math:: \eta_t = \eta_\min + (\eta - \eta_\min)\, \frac{1 + \cos(\pi T_\text{cur} / T_i)}{2},

    where cycle :math:`i = 0, 1, \dots` lasts :math:`T_i = T_0\, T_\text{mult}^i` steps and
    :math:`T_\text{cur}` counts the steps since it began. The rate falls towards :math:`\eta_\min` and
    jumps back to :math:`\eta` at the first step of the next cycle (it never reaches :math:`\eta_\min`).
    """
    lr = _check(t, lr)
    _check_int("T_0", T_0, 1)
    _check_int("T_mult", T_mult, 1)
    _check_rate("eta_min", eta_min)
    if T_mult == 1:
        t_cur, t_i = t % T_0, T_0
    else:  # integer arithmetic: whole cycles of length T_0, T_0*T_mult, ... fit before t
        t_cur, t_i = t, T_0
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= T_mult
    return _cosine(t_cur, t_i, lr, eta_min)


def warmup_cosine_lr(t, lr, warmup_steps, decay_steps, min_lr=0.0):
    r"""Linear warmup, cosine decay, then a floor (the three cases of nanoGPT's ``get_lr``).

    With warmup :math:`W` and decay :math:`D` steps,

    .. math::
        \eta_t = \begin{cases}
        \eta\, \dfrac{t + 1}{W + 1} & t < W \quad\text{(warmup: from } \eta/(W+1) \text{ up)} \\[1ex]
        \eta_\min + (\eta - \eta_\min)\, \dfrac{1 + \cos(\pi (t - W)/D)}{2} & W \le t \le W + D
        \quad\text{(cosine decay)} \\[1ex]
        \eta_\min & t > W + D \quad\text{(floor)}.
        \end{cases}

    PyTorch: ``SequentialLR`` of ``LinearLR(start_factor=1/(W+1), total_iters=W)``,
    ``CosineAnnealingLR(T_max=D, eta_min)`` and ``ConstantLR(factor=eta_min/eta, total_iters=n)`` (``n`` at
    least the number of steps left: ``ConstantLR`` returns to :math:`\eta` after ``n`` steps), with
    milestones :math:`W` and :math:`W + D + 1`. Without the third, the cosine would climb back up.
    """
    lr = _check(t, lr)
    _check_int("warmup_steps", warmup_steps, 0)
    _check_int("decay_steps", decay_steps, 1)
    _check_rate("min_lr", min_lr)
    if min_lr > lr:
        raise ValueError(f"Invalid min_lr: {min_lr} (must be <= lr = {lr})")
    if t < warmup_steps:  # warmup: a linear ramp that reaches lr at t = W
        return lr * (t + 1) / (warmup_steps + 1)
    if t > warmup_steps + decay_steps:  # after the decay: stay at the floor
        return min_lr
    return _cosine(t - warmup_steps, decay_steps, lr, min_lr)  # decay: half a cosine from lr to min_lr


def one_cycle_lr(t, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos", div_factor=25.0,
                 final_div_factor=1e4, three_phase=False):
    r"""The one-cycle policy (Smith) as PyTorch's ``OneCycleLR`` computes it.

    From :math:`\eta_0 = \eta_\max / \text{div\_factor}` up to :math:`\eta_\max`, then down to
    :math:`\eta_0 / \text{final\_div\_factor}`. Phase boundaries (in steps) are
    :math:`p T - 1` and :math:`T - 1` for ``total_steps`` :math:`T` and ``pct_start`` :math:`p`; with
    ``three_phase`` the rate first returns to :math:`\eta_0` at :math:`2 p T - 2`, then falls to the end.
    Inside a phase from :math:`a` (at step :math:`s_0`) to :math:`b` (at :math:`s_1`), with
    :math:`x = (t - s_0)/(s_1 - s_0)`: ``"cos"`` gives :math:`b + (a - b)(1 + \cos \pi x)/2`,
    ``"linear"`` gives :math:`a + (b - a) x`.

    Valid for :math:`0 \le t \le T` (PyTorch refuses to step further).
    """
    _check_int("step", t, 0)
    _check_rate("max_lr", max_lr)
    _check_int("total_steps", total_steps, 1)
    if t > total_steps:
        raise ValueError(f"Invalid step: {t} (one-cycle has total_steps = {total_steps})")
    if not (isinstance(pct_start, numbers.Real) and 0 <= pct_start <= 1):
        raise ValueError(f"Invalid pct_start: {pct_start} (must be in [0, 1])")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"Invalid anneal_strategy: {anneal_strategy!r} (must be 'cos' or 'linear')")
    _check_positive("div_factor", div_factor)
    _check_positive("final_div_factor", final_div_factor)
    initial = max_lr / div_factor
    final = initial / final_div_factor
    T = total_steps
    if three_phase:
        phases = [(pct_start * T - 1, initial, max_lr), (2 * pct_start * T - 2, max_lr, initial), (T - 1, initial, final)]
    else:
        phases = [(pct_start * T - 1, initial, max_lr), (T - 1, max_lr, final)]
    # Step 0 falls in the first phase and step T in the last; either would divide by zero if it had no length.
    if phases[0][0] == 0 or phases[-1][0] == phases[-2][0]:
        raise ValueError(f"Invalid pct_start: {pct_start} (with total_steps = {T}, phase "
                         f"{1 if phases[0][0] == 0 else len(phases)} of one-cycle would have no length)")
    start = 0.0
    for i, (end, a, b) in enumerate(phases):  # the first phase whose end t does not pass, or the last
        if t <= end or i == len(phases) - 1:
            x = (t - start) / (end - start)
            if anneal_strategy == "cos":
                return b + (a - b) / 2.0 * (math.cos(math.pi * x) + 1)
            return (b - a) * x + a
        start = end


def sequential_lr(t, schedules, milestones):
    r"""Run ``schedules[0]`` until the first milestone, then ``schedules[1]`` from its own step 0, and so on.

    With milestones :math:`m_1 < m_2 < \dots` (and :math:`m_0 = 0`), step :math:`t` with
    :math:`m_i \le t < m_{i+1}` gets ``schedules[i](t - m_i)``, as ``SequentialLR`` does.

    Args:
        schedules: functions of the step, e.g. ``functools.partial(cosine_lr, lr=0.1, T_max=100)``.
        milestones: ``len(schedules) - 1`` increasing steps.
    """
    _check_int("step", t, 0)
    milestones = list(milestones)
    if len(milestones) != len(schedules) - 1:
        raise ValueError(f"Invalid milestones: {milestones} (need {len(schedules) - 1} for {len(schedules)} schedules)")
    for m in milestones:
        _check_int("milestone", m, 1)
    if any(b <= a for a, b in zip(milestones, milestones[1:])):
        raise ValueError(f"Invalid milestones: {milestones} (must be increasing)")
    i = bisect.bisect_right(milestones, t)
    return schedules[i](t - ([0] + milestones)[i])


def reduce_on_plateau(metrics, lr, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                      cooldown=0, min_lr=0.0, eps=1e-8):
    r"""The rates ``ReduceLROnPlateau`` sets for a sequence of metric values.

    It remembers the best value so far. A value is an improvement when it beats the best by the threshold:
    :math:`m < b (1 - \tau)` (``"rel"``) or :math:`m < b - \tau` (``"abs"``) for ``mode="min"``, and
    likewise upwards for ``"max"``. After more than ``patience`` values in a row without improvement the rate
    becomes :math:`\max(\eta\, \text{factor}, \eta_\min)` (unless that changes it by ``eps`` or less), the count
    restarts, and for the next ``cooldown`` values bad values are not counted.

    Returns:
        ``np.ndarray`` of ``len(metrics) + 1`` rates: entry 0 is ``lr``, entry ``i + 1`` the rate after the
        scheduler has seen ``metrics[i]`` (the rate the next step uses).
    """
    _check_rate("lr", lr)
    if mode not in ("min", "max"):
        raise ValueError(f"Invalid mode: {mode!r} (must be 'min' or 'max')")
    if threshold_mode not in ("rel", "abs"):
        raise ValueError(f"Invalid threshold_mode: {threshold_mode!r} (must be 'rel' or 'abs')")
    if not (isinstance(factor, numbers.Real) and 0 <= factor < 1):
        raise ValueError(f"Invalid factor: {factor} (must be in [0, 1))")
    _check_int("patience", patience, 0)
    _check_int("cooldown", cooldown, 0)
    _check_rate("threshold", threshold)
    _check_rate("min_lr", min_lr)
    _check_rate("eps", eps)
    sign = 1.0 if mode == "min" else -1.0  # "max" is "min" of the negated metric, thresholds included

    def better(value, best):
        if threshold_mode == "abs":
            return sign * value < sign * best - threshold
        return value < best * (1 - threshold) if mode == "min" else value > best * (1 + threshold)

    best, bad, cooling = sign * math.inf, 0, 0
    rates = [lr]
    for value in metrics:
        value = float(value)
        if better(value, best):
            best, bad = value, 0
        else:
            bad += 1
        if cooling > 0:  # in cooldown: bad values are not counted
            cooling -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cooling, bad = cooldown, 0
        rates.append(lr)
    return np.array(rates)


def torch_lrs(make_scheduler, num_steps, lr=1.0, metrics=None):
    """The rates a PyTorch scheduler sets over ``num_steps`` steps, for comparison with the closed forms.

    One parameter and a ``torch.optim.SGD(lr=lr)`` optimizer are made; after each ``optimizer.step()`` comes
    one ``scheduler.step()`` (with ``metrics[t]`` for ``ReduceLROnPlateau``).

    Args:
        make_scheduler: ``optimizer -> scheduler``, e.g. ``functools.partial(StepLR, step_size=100)``.
        num_steps: the number of scheduler steps.
        lr: the optimizer's (base) learning rate.
        metrics: the values to pass to a ``ReduceLROnPlateau`` (``num_steps`` of them).

    Returns:
        ``np.ndarray`` of ``num_steps + 1`` rates: entry ``t`` is the rate after ``t`` scheduler steps.
    """
    _check_int("num_steps", num_steps, 0)
    _check_rate("lr", lr)
    if metrics is not None and len(metrics) != num_steps:
        raise ValueError(f"Invalid metrics: {len(metrics)} values for num_steps = {num_steps}")
    w = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([w], lr=lr)
    scheduler = make_scheduler(optimizer)
    rates = [optimizer.param_groups[0]["lr"]]
    for t in range(num_steps):
        optimizer.step()  # no gradient: nothing moves, but the scheduler sees a step was taken
        scheduler.step() if metrics is None else scheduler.step(metrics[t])
        rates.append(optimizer.param_groups[0]["lr"])
    return np.array(rates, dtype=np.float64)
