"""The LR range test: the sweep, the smoothing, the stop, the reset, the suggestion, and torch-lr-finder."""

import copy
import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from optim_helpers import (
    GD,
    Adam,
    digits_loaders,
    lr_range_test,
    lr_sweep,
    mlp,
    plot_lr_range_test,
    smooth_losses,
    suggest_lr,
    surface_range_test,
)

gen = torch.Generator().manual_seed(0)
X = torch.randn(64, 5, generator=gen)
y = torch.randint(0, 3, (64,), generator=gen)


def small_model(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Dropout(dropout), nn.Linear(8, 3))


def loader(batch_size=16, seed=0):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch_size, shuffle=True,
                                       generator=torch.Generator().manual_seed(seed))


def test_sweep_is_geometric_and_runs_exactly_num_steps():
    rates = lr_sweep(1e-3, 10.0, 5)
    np.testing.assert_allclose(rates, [1e-3, 1e-2, 1e-1, 1.0, 10.0], rtol=1e-12)
    rates = lr_sweep(1e-4, 3.0, 37)
    np.testing.assert_allclose(rates[1:] / rates[:-1], (3.0 / 1e-4) ** (1 / 36), rtol=1e-12)
    assert rates[0] == 1e-4 and math.isclose(rates[-1], 3.0, rel_tol=1e-14)
    model = small_model()
    result = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), (X, y), start_lr=1e-4, end_lr=0.1,
                           num_steps=37, diverge_th=math.inf)
    assert not result.diverged and len(result.lrs) == len(result.losses) == len(result.smoothed) == 37
    assert np.array_equal(result.lrs, lr_sweep(1e-4, 0.1, 37))


def test_each_step_uses_its_rate_on_every_group_and_records_the_loss_before_it():
    model = small_model()
    optimizer = torch.optim.SGD([{"params": model[0].parameters()}, {"params": model[3].parameters(), "lr": 5.0}],
                                lr=0.1)
    result = lr_range_test(model, optimizer, (X, y), start_lr=1e-3, end_lr=1.0, num_steps=6, diverge_th=math.inf)
    replay = small_model()
    for lr, loss in zip(result.lrs, result.losses):
        out = nn.functional.cross_entropy(replay(X), y)
        assert out.item() == loss
        replay.zero_grad()
        out.backward()
        with torch.no_grad():
            for p in replay.parameters():
                p -= lr * p.grad
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 5.0]  # restored


def test_smoothing_equals_the_closed_forms():
    losses = np.random.default_rng(0).uniform(0.5, 2.0, size=40)
    t = np.arange(40)
    for beta in (0.0, 0.5, 0.9, 0.98):
        weights = (1 - beta) * np.tril(beta ** np.maximum(t[:, None] - t[None, :], 0))
        debiased = weights @ losses / (1 - beta ** (t + 1))
        np.testing.assert_allclose(smooth_losses(losses, beta), debiased, rtol=1e-12)
        started = beta**t * losses[0] + (weights[:, 1:] @ losses[1:])  # s_0 = L_0, then the plain average
        np.testing.assert_allclose(smooth_losses(losses, beta, debias=False), started, rtol=1e-12)
    assert np.array_equal(smooth_losses(losses, 0.0), losses)
    np.testing.assert_allclose(smooth_losses(np.full(10, 3.0), 0.98), 3.0, rtol=1e-12)  # no bias towards 0
    model = small_model()
    result = lr_range_test(model, GD(model.parameters(), lr=0.1), loader(), start_lr=1e-3, end_lr=1.0, num_steps=30,
                           beta=0.8, diverge_th=math.inf)
    np.testing.assert_allclose(result.smoothed, smooth_losses(result.losses, 0.8), rtol=1e-12)


def test_divergence_stops_at_the_first_step_over_the_threshold():
    w_true = torch.randn(5, 1, generator=gen)
    target = X @ w_true
    model = nn.Linear(5, 1, bias=False)
    nn.init.zeros_(model.weight)
    mse = nn.functional.mse_loss
    full = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), (X, target), start_lr=1e-3,
                         end_lr=1e3, num_steps=60, beta=0.5, diverge_th=math.inf, loss_fn=mse)
    stopped = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), (X, target), start_lr=1e-3,
                            end_lr=1e3, num_steps=60, beta=0.5, diverge_th=4.0, loss_fn=mse)
    s = full.smoothed
    over = [i for i in range(len(s)) if not np.isfinite(s[i]) or s[i] > 4.0 * np.nanmin(s[: i + 1])]
    assert stopped.diverged and len(stopped.lrs) == over[0] + 1 < 60
    assert np.array_equal(stopped.losses, full.losses[: over[0] + 1])  # the crossing step is recorded
    assert stopped.smoothed[-1] > 4 * stopped.smoothed.min() and np.all(
        stopped.smoothed[:-1] <= 4 * np.minimum.accumulate(stopped.smoothed)[:-1])


def test_a_non_finite_loss_stops_the_test():
    calls = []

    def loss_fn(out, target):
        calls.append(1)
        loss = nn.functional.cross_entropy(out, target)
        return loss * math.inf if len(calls) == 7 else loss

    model = small_model()
    result = lr_range_test(model, GD(model.parameters(), lr=0.1), (X, y), start_lr=1e-4, end_lr=1e-3,
                           num_steps=50, diverge_th=math.inf, loss_fn=loss_fn)
    assert result.diverged and len(result.lrs) == 7 and not np.isfinite(result.losses[-1])
    assert np.isfinite(result.minimum_lr)


def _state_equal(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_state_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_state_equal(u, v) for u, v in zip(a, b))
    return a == b


@pytest.mark.parametrize("make_optimizer", [
    lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01),
    lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), lambda p: GD(p, lr=0.05, momentum=0.9),
])
def test_model_optimizer_rng_and_loader_are_restored_bit_for_bit(make_optimizer):
    model = small_model(dropout=0.3)
    optimizer = make_optimizer(model.parameters())
    data = loader(seed=3)
    for Xb, yb in data:  # some history: moments and step counts in the optimizer state
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(Xb), yb).backward()
        optimizer.step()
    model.eval()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    state = copy.deepcopy(optimizer.state_dict())
    torch.manual_seed(11)
    rng_before = torch.get_rng_state()
    generator_before = data.generator.get_state()
    result = lr_range_test(model, optimizer, data, start_lr=1e-3, end_lr=1e3, num_steps=40)
    assert result.diverged  # the weights went far away ...
    assert _state_equal(model.state_dict(), weights)  # ... and came back bit for bit
    assert _state_equal(optimizer.state_dict(), state)
    assert not model.training
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert torch.equal(data.generator.get_state(), generator_before)
    if isinstance(optimizer, (GD, Adam)):  # the package's lr property reads the restored rate
        assert optimizer.lr in (0.01, 0.05)


def test_gradients_are_restored():
    fresh = small_model()
    lr_range_test(fresh, torch.optim.SGD(fresh.parameters(), lr=0.1), (X, y), start_lr=1e-3, end_lr=10.0,
                  num_steps=20)
    assert all(p.grad is None for p in fresh.parameters())  # a fresh model stays without gradients
    model = small_model()
    nn.functional.cross_entropy(model(X[:8]), y[:8]).backward()
    model[3].bias.grad = None  # a mix: some parameters with a gradient, one without
    grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    lr_range_test(model, Adam(model.parameters(), lr=0.01), loader(), start_lr=1e-3, end_lr=10.0, num_steps=20)
    for p, g in zip(model.parameters(), grads):
        assert (p.grad is None) if g is None else (p.grad is not None and torch.equal(p.grad, g))


def test_the_result_does_not_depend_on_the_global_random_state():
    results = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = small_model()
        results.append(lr_range_test(model, GD(model.parameters(), lr=0.1), loader(seed=5), start_lr=1e-3,
                                     end_lr=10.0, num_steps=30))
    assert np.array_equal(results[0].losses, results[1].losses)


def test_restored_even_when_the_test_fails():
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    calls = []

    def failing(out, target):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return nn.functional.cross_entropy(out, target)

    with pytest.raises(RuntimeError, match="boom"):
        lr_range_test(model, optimizer, (X, y), start_lr=1e-2, end_lr=10.0, num_steps=20, loss_fn=failing)
    assert _state_equal(model.state_dict(), weights) and optimizer.param_groups[0]["lr"] == 0.1


def test_suggestion_is_the_steepest_fall_in_log_lr():
    lrs = lr_sweep(1e-5, 10.0, 121)  # 20 points per decade
    x = np.log10(lrs)
    curve = 2.0 - np.tanh((x + 2.0) / 0.7) + 0.02 * (x + 5) ** 2  # steepest fall near 10^-2, then a rise
    lr, i = suggest_lr(lrs, curve, skip_start=0, skip_end=0)
    slopes = np.gradient(curve, x)
    assert i == int(np.argmin(slopes)) and lr == lrs[i]
    assert abs(np.log10(lr) - (-2.0)) <= 0.05 + 1e-9  # within one grid step of the analytic steepest point
    # skipping: the window's ends are one-sided differences; the index refers to the full arrays
    lr2, i2 = suggest_lr(lrs, curve, skip_start=70, skip_end=5)
    assert i2 >= 70 and lr2 == lrs[i2] and i2 == 70 + int(np.argmin(np.gradient(curve[70:116])))
    assert suggest_lr(lrs, x, skip_start=0, skip_end=0) == (None, None)  # never falls: no suggestion
    assert suggest_lr(lrs[:12], curve[:12]) == (None, None)  # too short once 10 + 5 points are skipped
    with pytest.raises(ValueError, match="skip_start"):
        suggest_lr(lrs, curve, skip_start=-1)
    with pytest.raises(ValueError, match="length"):
        suggest_lr(lrs, curve[:-1])


def test_minimum_and_minimum_over_10_rule():
    model = small_model()
    result = lr_range_test(model, GD(model.parameters(), lr=0.1), loader(), start_lr=1e-3, end_lr=1e3, num_steps=60,
                           beta=0.9)
    assert result.minimum_lr == result.lrs[np.argmin(result.smoothed)]
    assert result.min_over_10 == result.minimum_lr / 10
    assert result.suggestion == result.lrs[result.suggestion_index]


@pytest.mark.parametrize("kwargs, word", [
    (dict(start_lr=0.0), "start_lr"), (dict(start_lr=-1e-3), "start_lr"), (dict(start_lr=math.nan), "start_lr"),
    (dict(start_lr=1e-2, end_lr=1e-2), "end_lr"), (dict(start_lr=1e-2, end_lr=1e-3), "end_lr"),
    (dict(end_lr=math.inf), "end_lr"), (dict(num_steps=1), "num_steps"), (dict(num_steps=10.0), "num_steps"),
    (dict(beta=-0.1), "beta"), (dict(beta=1.0), "beta"), (dict(diverge_th=1.0), "diverge_th"),
    (dict(skip_end=-1), "skip_end"),
])
def test_bad_input_raises_value_error_naming_it(kwargs, word):
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=word):
        lr_range_test(model, optimizer, (X, y), **kwargs)
    assert _state_equal(model.state_dict(), before)
    if word in ("start_lr", "end_lr", "num_steps"):
        with pytest.raises(ValueError, match=word):
            lr_sweep(**{"start_lr": 1e-3, "end_lr": 1.0, "num_steps": 10, **kwargs})
    if word == "beta":
        with pytest.raises(ValueError, match="beta"):
            smooth_losses([1.0, 2.0], kwargs["beta"])


def test_an_empty_loader_raises():
    empty = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[:0], y[:0]), batch_size=4)
    model = small_model()
    with pytest.raises(ValueError, match="no batches"):
        lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), empty)


def _torch_lr_finder(model, optimizer, data, **kwargs):
    from torch_lr_finder import LRFinder

    finder = LRFinder(model, optimizer, nn.CrossEntropyLoss())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder.range_test(data, step_mode="exp", **kwargs)
    finder.reset()
    return finder


@pytest.mark.parametrize("make_optimizer", [lambda p: torch.optim.SGD(p, lr=1.0), lambda p: Adam(p, lr=1.0)])
def test_agrees_with_torch_lr_finder_on_the_digits(make_optimizer, capsys):
    pytest.importorskip("torch_lr_finder")
    sweep = dict(start_lr=1e-4, end_lr=10.0)

    def ours(**kw):
        model = mlp(64, 32, 10, seed=0)
        return lr_range_test(model, make_optimizer(model.parameters()), digits_loaders(32, seed=0)[0], **sweep,
                             num_steps=100, **kw)

    def theirs(**kw):
        model = mlp(64, 32, 10, seed=0)
        return _torch_lr_finder(model, make_optimizer(model.parameters()), digits_loaders(32, seed=0)[0], **sweep,
                                num_iter=100, **kw)

    # no smoothing, (almost) no stop: the same rates and bit-identical raw losses
    raw, raw_theirs = ours(beta=0.0, diverge_th=1e300), theirs(smooth_f=0.0, diverge_th=1e300)
    assert len(raw.lrs) >= 80
    assert np.array_equal(raw.lrs, raw_theirs.history["lr"])
    assert np.array_equal(raw.losses, raw_theirs.history["loss"])
    # their smoothing (smooth_f = 1 - beta, started at the first loss) and their stop
    smooth, smooth_theirs = ours(beta=0.95, debias=False, diverge_th=5.0), theirs(smooth_f=0.05, diverge_th=5)
    assert smooth.diverged and len(smooth.lrs) == len(smooth_theirs.history["lr"]) < 100
    np.testing.assert_allclose(smooth.smoothed, smooth_theirs.history["loss"], rtol=1e-12)
    np.testing.assert_array_equal(smooth.losses, raw.losses[: len(smooth.losses)])
    _, suggestion = smooth_theirs.plot(skip_start=10, skip_end=5, suggest_lr=True, ax=plt.figure().gca())
    plt.close("all")
    assert suggestion == smooth.suggestion  # steepest gradient: the same grid point
    capsys.readouterr()


def test_surface_range_test_reproduces_the_shared_sweep():
    raw = surface_range_test(Adam, {}, beta=0.0, diverge_th=math.inf)
    np.testing.assert_allclose(raw.lrs, 10 ** np.linspace(-2.0, 0.6, 1000), rtol=1e-12)
    assert raw.path.shape == (1000, 2) and np.array_equal(raw.path[0], [-4.0, -4.0])
    from optim_helpers import pathological_loss

    w = torch.tensor(raw.path)
    np.testing.assert_allclose(raw.losses, pathological_loss(w[:, 0], w[:, 1]).numpy(), rtol=1e-6)
    smoothed = surface_range_test(GD, {}, w_init=(-4.0, 5.0), num_steps=200)
    assert len(smoothed.lrs) <= 200 and smoothed.path.shape == (len(smoothed.lrs), 2)


def test_plot_draws_on_log_or_linear_axes():
    model = small_model()
    result = lr_range_test(model, GD(model.parameters(), lr=0.1), loader(), start_lr=1e-3, end_lr=1e3, num_steps=60,
                           beta=0.9)
    fig, (a, b) = plt.subplots(1, 2)
    assert plot_lr_range_test(a, result) is a and a.get_xscale() == "log"
    assert len(a.lines) == 4  # raw, smoothed, suggestion line and dot
    np.testing.assert_array_equal(a.lines[1].get_ydata(), result.smoothed)
    plot_lr_range_test(b, result, log_x=False, raw=False, mark_suggestion=False)
    assert b.get_xscale() == "linear" and len(b.lines) == 1
    plt.close(fig)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_the_gpu_from_cpu_batches():
    model = small_model().cuda()
    optimizer = Adam(model.parameters(), lr=0.01)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    result = lr_range_test(model, optimizer, loader(), start_lr=1e-3, end_lr=10.0, num_steps=30)
    assert len(result.lrs) >= 2 and _state_equal(model.state_dict(), weights)


def test_divergence_works_for_losses_below_zero():
    """A loss shifted down by a constant (a log-likelihood, say) is not 'diverged' merely because it is negative."""
    w_true = torch.randn(5, 1, generator=gen)
    target = X @ w_true
    results = {}
    for shift in (0.0, 100.0):
        model = nn.Linear(5, 1, bias=False)
        nn.init.zeros_(model.weight)

        def shifted(out, t, shift=shift):
            return nn.functional.mse_loss(out, t) - shift

        results[shift] = lr_range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), (X, target),
                                       start_lr=1e-3, end_lr=1e3, num_steps=60, beta=0.5, loss_fn=shifted)
    below_zero = results[100.0]
    assert below_zero.smoothed.max() < 0 or below_zero.smoothed[0] < 0  # the whole loss lives below zero
    assert len(below_zero.lrs) > 20  # it did not stop at the first step where best < 0
    assert below_zero.diverged  # but it still stops once the loss blows up
    assert below_zero.smoothed[-1] - below_zero.smoothed.min() > 3 * max(
        abs(below_zero.smoothed.min()), below_zero.smoothed[0] - below_zero.smoothed.min())


def test_a_loss_that_is_nan_from_the_start_reports_no_rates():
    model = small_model()
    result = lr_range_test(model, GD(model.parameters(), lr=0.1), (X, y), start_lr=1e-6, end_lr=1.0, num_steps=30,
                           loss_fn=lambda out, t: nn.functional.cross_entropy(out, t) * math.nan)
    assert result.diverged and len(result.lrs) == 1
    assert result.minimum_lr is None and result.min_over_10 is None and result.suggestion is None


def test_evaluate_has_no_accuracy_for_non_finite_outputs():
    from optim_helpers import BatchedMLP, evaluate

    model = small_model()
    with torch.no_grad():
        model[0].weight.fill_(math.nan)
    loss, acc = evaluate(model, X, y)
    assert math.isnan(loss) and math.isnan(acc)
    nets = BatchedMLP.from_seeds(5, 8, 3, [0, 1])
    with torch.no_grad():
        next(nets.parameters())[0].fill_(math.inf)  # network 0 broken, network 1 fine
    _, accs = evaluate(nets, X, y)
    assert math.isnan(accs[0]) and 0 <= accs[1] <= 1
