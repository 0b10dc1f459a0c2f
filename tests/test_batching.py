"""Gradient noise against closed forms, gradient accumulation against autograd on the whole batch."""

import itertools

import numpy as np
import pytest
import torch

from optim_helpers import (
    GD,
    BatchedMLP,
    DelayedDataset,
    accumulate_gradients,
    accumulation_groups,
    cross_entropy,
    linear_scaling_lr,
    minibatch_gradient_variance,
    mlp,
    per_example_gradients,
    predicted_gradient_variance,
    train_accumulated,
)

gen = torch.Generator().manual_seed(0)
X = torch.randn(30, 5, generator=gen, dtype=torch.float64)
y = torch.randint(0, 3, (30,), generator=gen)


def model():
    return mlp(5, 4, 3, activation=torch.nn.Tanh, seed=0).double()


def full_gradient(net, Xb=X, yb=y):
    net.zero_grad()
    cross_entropy(net(Xb), yb).backward()
    return torch.cat([p.grad.reshape(-1) for p in net.parameters()])


def current_grad(net):
    return torch.cat([p.grad.reshape(-1) for p in net.parameters()])


def test_per_example_gradients_are_autograd_one_by_one_and_average_to_the_full_gradient():
    net = model()
    pe = per_example_gradients(net, X, y)
    assert pe.shape == (30, sum(p.numel() for p in net.parameters()))
    for i in (0, 7, 29):
        torch.testing.assert_close(pe[i], full_gradient(net, X[i:i + 1], y[i:i + 1]))
    torch.testing.assert_close(pe.mean(dim=0), full_gradient(net))


def test_prediction_is_the_exact_expectation_over_all_subsets():
    pe = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    g = pe.mean(dim=0)
    for b in (1, 2, 3, 5):
        exact = np.mean([((pe[list(s)].mean(dim=0) - g) ** 2).sum().item()
                         for s in itertools.combinations(range(5), b)])
        with_repl = np.mean([((pe[list(s)].mean(dim=0) - g) ** 2).sum().item()
                             for s in itertools.product(range(5), repeat=b)])
        assert predicted_gradient_variance(pe, [b])[0] == pytest.approx(exact, rel=1e-12)
        assert predicted_gradient_variance(pe, [b], replacement=True)[0] == pytest.approx(with_repl, rel=1e-12)
    assert predicted_gradient_variance(pe, [5])[0] == pytest.approx(0.0, abs=1e-15)


def test_measured_variance_matches_the_prediction_and_falls_as_one_over_b():
    net = model()
    sizes = [1, 2, 4, 8, 16, 30]
    measured = minibatch_gradient_variance(net, X, y, sizes, num_batches=2000, seed=0)
    predicted = predicted_gradient_variance(per_example_gradients(net, X, y), sizes)
    np.testing.assert_allclose(measured[:-1], predicted[:-1], rtol=0.1)
    assert measured[-1] < 1e-25  # B = N without replacement: the full gradient
    with_repl = minibatch_gradient_variance(net, X, y, [1, 4, 16, 64], num_batches=2000, seed=1, replacement=True)
    slope = np.polyfit(np.log([1, 4, 16, 64]), np.log(with_repl), 1)[0]
    assert abs(slope + 1) < 0.1
    again = [minibatch_gradient_variance(net, X, y, [4], seed=3) for _ in range(2)]
    assert np.array_equal(*again)


@pytest.mark.parametrize("bad", [0, 31, 2.5])
def test_bad_batch_sizes_raise(bad):
    with pytest.raises(ValueError, match="batch_size"):
        minibatch_gradient_variance(model(), X, y, [bad])
    with pytest.raises(ValueError, match="batch_size"):
        predicted_gradient_variance(torch.zeros(30, 2), [bad])
    with pytest.raises(ValueError, match="num_batches"):
        minibatch_gradient_variance(model(), X, y, [2], num_batches=0)


def test_accumulation_groups():
    assert accumulation_groups(7, 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert accumulation_groups(6, 3) == [[0, 1, 2], [3, 4, 5]]
    assert accumulation_groups(3, 1) == [[0], [1], [2]]
    assert accumulation_groups(0, 2) == []
    with pytest.raises(ValueError, match="accumulation_steps"):
        accumulation_groups(4, 0)


@pytest.mark.parametrize("sizes", [[10, 10, 10], [30], [1, 12, 17], [29, 1]])
def test_accumulated_gradient_is_the_large_batch_gradient(sizes):
    net = model()
    bounds = np.cumsum([0] + sizes)
    micro = [(X[a:b], y[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    reference = full_gradient(net)
    for p in net.parameters():
        p.grad = torch.ones_like(p)  # stale gradients are cleared
    loss = accumulate_gradients(net, micro)
    torch.testing.assert_close(current_grad(net), reference, rtol=1e-12, atol=1e-14)
    assert loss == pytest.approx(cross_entropy(net(X), y).item(), rel=1e-12)
    if len(set(sizes)) > 1:  # the naive mean of the micro-batch means is wrong for unequal sizes
        net.zero_grad()
        for Xb, yb in micro:
            (cross_entropy(net(Xb), yb) / len(micro)).backward()
        assert not torch.allclose(current_grad(net), reference, rtol=1e-6)


def test_accumulated_gradient_of_a_batched_model():
    batched = BatchedMLP.from_seeds(5, 4, 3, [0, 1])
    micro = [(X[:7].float(), y[:7]), (X[7:].float(), y[7:])]
    accumulate_gradients(batched, micro)
    got = [p.grad.clone() for p in batched.parameters()]
    batched.zero_grad()
    cross_entropy(batched(X.float()), y).sum().backward()
    for a, p in zip(got, batched.parameters()):
        torch.testing.assert_close(a, p.grad)


def test_train_accumulated_equals_large_batch_steps_with_a_leftover_group():
    # 30 examples in micro-batches of 4: 8 micro-batches (the last has 2); k = 3 gives groups of 12, 12 and 6.
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=4, shuffle=False)
    net, ref = model(), model()
    losses, sizes = train_accumulated(net, GD(net.parameters(), lr=0.5), loader, accumulation_steps=3, epochs=2)
    assert list(sizes) == [12, 12, 6] * 2
    optimizer = GD(ref.parameters(), lr=0.5)
    expected = []
    for _ in range(2):
        for a, b in ((0, 12), (12, 24), (24, 30)):
            loss = cross_entropy(ref(X[a:b]), y[a:b])
            expected.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    for p, q in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)


def test_train_accumulated_with_k_one_is_plain_training_and_steps_the_scheduler():
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=7)
    net = model()
    optimizer = GD(net.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    losses, sizes = train_accumulated(net, optimizer, loader, accumulation_steps=1, scheduler=scheduler)
    assert list(sizes) == [7, 7, 7, 7, 2] and len(losses) == 5
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**5)
    with pytest.raises(ValueError, match="accumulation_steps"):
        train_accumulated(net, optimizer, loader, accumulation_steps=0)
    with pytest.raises(ValueError, match="micro_batches"):
        accumulate_gradients(net, [])


def test_linear_scaling_lr_and_delayed_dataset():
    assert linear_scaling_lr(0.1, 32, 256) == pytest.approx(0.8)
    assert linear_scaling_lr(0.1, 32, 32) == 0.1
    with pytest.raises(ValueError, match="batch_size"):
        linear_scaling_lr(0.1, 32, 0)
    with pytest.raises(ValueError, match="base_lr"):
        linear_scaling_lr(-1.0, 32, 64)
    data = DelayedDataset(torch.utils.data.TensorDataset(X, y), delay=0.0)
    assert len(data) == 30 and torch.equal(data[3][0], X[3])
    with pytest.raises(ValueError, match="delay"):
        DelayedDataset(data, delay=-1)
