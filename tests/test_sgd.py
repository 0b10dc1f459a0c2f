"""Least squares, minibatch losses and gradients against closed forms and autograd; epochs; SGD paths."""

import math

import numpy as np
import pytest
import torch

from optim_helpers import (
    GD,
    Adam,
    least_squares,
    linear_regression_data,
    minibatch_gradients,
    minibatch_indices,
    mse_loss_surface,
    sgd_path,
    sgd_paths,
    surface_grid,
    train_curve,
)


@pytest.fixture(scope="module")
def data():
    return linear_regression_data(n=200, seed=1)


def direct_mse(X, y, w):
    return ((X @ w - y) ** 2).mean()


def test_least_squares_solves_the_normal_equations(data):
    X, y = data
    w_star, loss_star = least_squares(X, y)
    np.testing.assert_allclose(w_star.numpy(), np.linalg.solve(X.T @ X, X.T @ y), rtol=1e-12)
    assert loss_star == pytest.approx(float(direct_mse(X, y, w_star)), rel=1e-12)
    w = w_star.clone().requires_grad_(True)
    direct_mse(X, y, w).backward()
    assert w.grad.abs().max() < 1e-12
    assert torch.allclose(w_star, torch.tensor([-1.0, 3.0], dtype=torch.float64), atol=0.03)
    assert 0.8 * 0.05**2 < loss_star < 1.2 * 0.05**2  # the noise variance


def test_surface_equals_the_mean_squared_error_and_its_gradient(data):
    X, y = data
    f = mse_loss_surface(X, y)
    rng = np.random.default_rng(0)
    for w in rng.uniform(-5, 5, size=(5, 2)):
        w = torch.tensor(w, requires_grad=True)
        value = f(*w.unbind())
        expected = direct_mse(X, y, w)
        assert value.item() == pytest.approx(expected.item(), rel=1e-12)
        (grad,) = torch.autograd.grad(value, w)
        (reference,) = torch.autograd.grad(expected, w)
        torch.testing.assert_close(grad, reference, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(grad, 2 * X.T @ (X @ w.detach() - y) / len(y), rtol=1e-12, atol=1e-12)


def test_surface_broadcasts_over_a_grid(data):
    X, y = data
    f = mse_loss_surface(X, y)
    W0, W1, Z = surface_grid(f, -3, 3, -4, 4, N=7)
    expected = [[direct_mse(X, y, torch.tensor([a, b])).item() for a, b in zip(r0, r1)] for r0, r1 in zip(W0, W1)]
    np.testing.assert_allclose(Z, expected, rtol=1e-12)
    assert f(torch.zeros(3, 1), torch.zeros(1, 4)).shape == (3, 4)
    assert f(torch.zeros(2, dtype=torch.float32), torch.zeros(2, dtype=torch.float32)).dtype == torch.float32


def test_minibatch_gradients_match_autograd(data):
    X, y = data
    w = torch.tensor([0.5, -2.0], dtype=torch.float64)
    indices = torch.randint(len(y), (6, 5), generator=torch.Generator().manual_seed(0))
    indices[0] = 3  # repeats count as often as they appear
    grads = minibatch_gradients(X, y, w, indices)
    assert grads.shape == (6, 2)
    for row, idx in zip(grads, indices):
        v = w.clone().requires_grad_(True)
        direct_mse(X[idx], y[idx], v).backward()
        torch.testing.assert_close(row, v.grad, rtol=1e-12, atol=1e-12)
    full = minibatch_gradients(X, y, w, torch.arange(len(y))[None])[0]
    torch.testing.assert_close(full, 2 * X.T @ (X @ w - y) / len(y), rtol=1e-12, atol=1e-12)


def test_the_minibatch_gradients_of_one_epoch_average_to_the_full_gradient(data):
    X, y = data
    w = torch.tensor([2.0, 1.0], dtype=torch.float64)
    epoch = torch.stack([b for _, b in zip(range(20), minibatch_indices(200, 10, seed=4))])
    mean = minibatch_gradients(X, y, w, epoch).mean(dim=0)
    torch.testing.assert_close(mean, minibatch_gradients(X, y, w, torch.arange(200)[None])[0], rtol=1e-12, atol=1e-12)


def test_epochs_are_permutations_like_a_seeded_dataloader():
    stream = minibatch_indices(23, 5, seed=7)
    batches = [next(stream) for _ in range(15)]  # three epochs of 5 batches (5, 5, 5, 5, 3)
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3] * 3
    epochs = [torch.cat(batches[5 * e: 5 * e + 5]) for e in range(3)]
    for order in epochs:
        assert torch.equal(order.sort().values, torch.arange(23))
    assert not torch.equal(epochs[0], epochs[1])
    dataset = torch.utils.data.TensorDataset(torch.arange(23))
    loader = torch.utils.data.DataLoader(dataset, batch_size=5, shuffle=True,
                                         generator=torch.Generator().manual_seed(7))
    reference = [b for _ in range(3) for (b,) in loader]
    assert all(torch.equal(a, b) for a, b in zip(batches, reference))
    dropped = minibatch_indices(23, 5, seed=7, drop_last=True)
    assert [len(next(dropped)) for _ in range(8)] == [5] * 8


def test_streams_are_seeded_and_leave_the_global_state_alone():
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    for replacement in (False, True):
        a, b, c = (minibatch_indices(50, 4, seed=s, replacement=replacement) for s in (1, 1, 2))
        first, second, other = ([next(s) for _ in range(30)] for s in (a, b, c))
        assert all(torch.equal(u, v) for u, v in zip(first, second))
        assert not all(torch.equal(u, v) for u, v in zip(first, other))
    assert torch.equal(torch.rand(2), expected)


def test_with_replacement_repeats_examples():
    stream = minibatch_indices(1000, 1000, seed=0, replacement=True)
    unique = [len(torch.unique(next(stream))) / 1000 for _ in range(20)]
    assert abs(np.mean(unique) - (1 - (1 - 1 / 1000) ** 1000)) < 0.005
    assert abs(np.mean(unique) - (1 - 1 / math.e)) < 0.005
    assert len(next(minibatch_indices(3, 10, replacement=True))) == 10  # B > N is fine with replacement


def test_full_batch_is_exactly_gradient_descent(data):
    X, y = data
    for optim, params in [(GD, {}), (GD, {"momentum": 0.9}), (Adam, {})]:
        path = sgd_path(X, y, [-4.0, -4.0], 0.3, batch_size=200, num_steps=40, optim=optim, optim_params=params,
                        device="cpu")
        reference = train_curve(optim, {"lr": 0.3, **params}, w_init=[-4.0, -4.0], loss_fn=mse_loss_surface(X, y),
                                num_steps=40, dtype=torch.float64)
        assert np.array_equal(path, reference)
    assert path.shape == (41, 3)


def test_sgd_steps_by_hand_and_full_loss_rows(data):
    X, y = data
    path = sgd_path(X, y, [1.0, 2.0], 0.2, batch_size=8, num_steps=30, seed=3, device="cpu")
    stream = minibatch_indices(200, 8, seed=3)
    w = torch.tensor([1.0, 2.0], dtype=torch.float64)
    for t in range(31):
        np.testing.assert_allclose(path[t, :2], w.numpy(), rtol=1e-12, atol=1e-12)
        assert path[t, 2] == pytest.approx(direct_mse(X, y, w).item(), rel=1e-12)
        if t < 30:
            idx = next(stream)
            w = w - 0.2 * 2 * X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
    again = sgd_path(X, y, [1.0, 2.0], 0.2, batch_size=8, num_steps=30, seed=3, device="cpu")
    assert np.array_equal(path, again)
    assert not np.array_equal(path, sgd_path(X, y, [1.0, 2.0], 0.2, batch_size=8, num_steps=30, seed=4))


def test_torch_sgd_and_scheduler_and_epochs(data):
    X, y = data
    ours = sgd_path(X, y, [0.0, 0.0], 0.1, batch_size=16, epochs=2, seed=0)
    assert ours.shape == (2 * 13 + 1, 3)
    reference = sgd_path(X, y, [0.0, 0.0], 0.1, batch_size=16, epochs=2, seed=0, optim=torch.optim.SGD)
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)
    assert sgd_path(X, y, [0.0, 0.0], 0.1, batch_size=16, epochs=2, drop_last=True).shape == (2 * 12 + 1, 3)
    halve = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.0)  # noqa: E731
    frozen = sgd_path(X, y, [0.0, 0.0], 0.1, batch_size=16, num_steps=5, scheduler=halve)
    assert np.all(frozen[2:] == frozen[1]) and not np.array_equal(frozen[1], frozen[0])


def test_batched_paths_equal_single_runs(data):
    X, y = data
    lrs = [0.01, 0.1, 0.5]
    many = sgd_paths(X, y, [-4.0, -4.0], lrs, batch_size=4, num_steps=50, seed=5)
    assert many.shape == (3, 51, 3)
    for lr, run in zip(lrs, many):
        assert np.array_equal(run, sgd_path(X, y, [-4.0, -4.0], lr, batch_size=4, num_steps=50, seed=5))


def test_one_learning_rate_is_a_batch_of_one(data):
    X, y = data
    one = sgd_paths(X, y, [-4.0, -4.0], [0.1], batch_size=4, num_steps=20, seed=2)
    assert one.shape == (1, 21, 3)
    assert np.array_equal(one[0], sgd_path(X, y, [-4.0, -4.0], 0.1, batch_size=4, num_steps=20, seed=2))
    assert np.array_equal(sgd_paths(X, y, [-4.0, -4.0], 0.1, batch_size=4, num_steps=20, seed=2), one)


def test_default_device_is_the_device_of_the_data(data, monkeypatch):
    X, y = data
    # on a GPU machine too: with device=None nothing moves off the data's device, so the path equals the CPU
    # train_curve bit for bit (pretend CUDA is visible to check that the default does not follow pick_device)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    path = sgd_path(X, y, [-4.0, -4.0], 0.3, batch_size=200, num_steps=10)
    paths = sgd_paths(X, y, [-4.0, -4.0], [0.3], batch_size=200, num_steps=10)
    monkeypatch.undo()
    reference = train_curve(GD, {"lr": 0.3}, w_init=[-4.0, -4.0], loss_fn=mse_loss_surface(X, y), num_steps=10,
                            dtype=torch.float64)
    assert np.array_equal(path, reference) and np.array_equal(paths[0], reference)
    assert np.array_equal(sgd_path(X.numpy(), y.numpy(), [-4.0, -4.0], 0.3, batch_size=200, num_steps=10), reference)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_default_device_follows_cuda_data(data):
    X, y = data
    on_gpu = sgd_path(X.cuda(), y.cuda(), [-4.0, -4.0], 0.3, batch_size=200, num_steps=10)
    explicit = sgd_path(X, y, [-4.0, -4.0], 0.3, batch_size=200, num_steps=10, device="cuda")
    assert np.array_equal(on_gpu, explicit)


def test_divergence_gives_non_finite_rows(data):
    X, y = data
    path = sgd_path(X, y, [0.0, 0.0], 5.0, batch_size=200, num_steps=2000)
    assert not np.all(np.isfinite(path[-1]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "Invalid batch_size: 0"),
        ({"batch_size": 201}, "Invalid batch_size: 201"),
        ({"batch_size": 2.0}, "Invalid batch_size: 2.0"),
        ({"num_steps": -1}, "Invalid num_steps: -1"),
        ({"num_steps": None}, "exactly one of num_steps and epochs"),
        ({"epochs": 1}, "exactly one of num_steps and epochs"),
        ({"lr": -0.1}, "Invalid learning rate: -0.1"),
        ({"w_init": [1.0, 2.0, 3.0]}, "Invalid w_init"),
    ],
)
def test_bad_input_raises(data, kwargs, message):
    X, y = data
    args = {"w_init": [0.0, 0.0], "lr": 0.1, "batch_size": 4, "num_steps": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        sgd_path(X, y, **args)


def test_bad_data_raises(data):
    X, y = data
    with pytest.raises(ValueError, match="Invalid X shape"):
        mse_loss_surface(X[:, :1], y)
    with pytest.raises(ValueError, match="Invalid y shape"):
        mse_loss_surface(X, y[:-1])
    with pytest.raises(ValueError, match="Invalid y shape"):
        least_squares(X, y[:, None])
    with pytest.raises(ValueError, match="Invalid indices"):
        minibatch_gradients(X, y, torch.zeros(2), torch.tensor([[0, 200]]))
    with pytest.raises(ValueError, match="Invalid indices"):
        minibatch_gradients(X, y, torch.zeros(2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="Invalid w shape"):
        minibatch_gradients(X, y, torch.zeros(3), torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="Invalid num_examples: 0"):
        minibatch_indices(0, 1)
    with pytest.raises(ValueError, match="Invalid lrs"):
        sgd_paths(X, y, [0.0, 0.0], [], batch_size=4, num_steps=3)
