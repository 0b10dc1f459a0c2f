"""MLPs by hand, batched models against single ones, the training loop and evaluation."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from optim_helpers import GD, BatchedMLP, accuracy, cross_entropy, evaluate, load_digits_tensors, mlp, train

gen = torch.Generator().manual_seed(0)
X = torch.randn(40, 5, generator=gen)
y = torch.randint(0, 3, (40,), generator=gen)


def test_mlp_is_the_formula_plain_and_residual():
    for residual in (False, True):
        model = mlp(5, 4, 3, depth=3, residual=residual, activation=nn.Tanh, seed=0)
        assert len(model.layers) == 4
        W = [(layer.weight, layer.bias) for layer in model.layers]
        h = X @ W[0][0].T + W[0][1]
        for w, b in W[1:-1]:
            z = torch.tanh(h) @ w.T + b
            h = h + z if residual else z
        expected = torch.tanh(h) @ W[-1][0].T + W[-1][1]
        torch.testing.assert_close(model(X), expected)
    plain, res = mlp(5, 4, 3, depth=3, seed=0), mlp(5, 4, 3, depth=3, residual=True, seed=0)
    assert all(torch.equal(p, q) for p, q in zip(plain.parameters(), res.parameters()))  # same weights ...
    assert not torch.allclose(plain(X), res(X))  # ... the skips are the only difference


def test_seed_fixes_the_weights_and_leaves_the_global_state_alone():
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    a, b = mlp(5, 4, 3, seed=7), mlp(5, 4, 3, seed=7)
    assert torch.equal(torch.rand(2), expected)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.layers[0].weight, mlp(5, 4, 3, seed=8).layers[0].weight)


@pytest.mark.parametrize("kw", [{"hidden": 0}, {"depth": 0}, {"in_features": 2.5}])
def test_bad_sizes_raise(kw):
    args = {"in_features": 5, "hidden": 4, "out_features": 3, **kw}
    with pytest.raises(ValueError, match=next(iter(kw))):
        mlp(**args)


@pytest.mark.parametrize("depth, residual", [(1, False), (3, True)])
def test_batched_model_k_is_mlp_with_seed_k(depth, residual):
    seeds = [3, 1, 4]
    batched = BatchedMLP.from_seeds(5, 4, 3, seeds, depth=depth, residual=residual)
    out = batched(X)
    assert out.shape == (3, 40, 3) and batched.num_models == 3
    for k, s in enumerate(seeds):
        single = mlp(5, 4, 3, depth=depth, residual=residual, seed=s)
        torch.testing.assert_close(out[k], single(X))
        torch.testing.assert_close(batched.model(k)(X), single(X))
    torch.testing.assert_close(batched(X.expand(3, 40, 5)), out)  # per-model inputs


def test_model_k_of_a_float64_batch_is_an_exact_float64_copy_and_leaves_the_random_state_alone():
    batched = BatchedMLP.from_seeds(5, 4, 3, [0, 1], depth=2).double()
    with torch.no_grad():
        batched.weights[0].add_(1e-12)  # a change that float32 would lose
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    single = batched.model(1)
    assert torch.equal(torch.rand(2), expected)
    assert all(p.dtype == torch.float64 for p in single.parameters())
    assert torch.equal(single.layers[0].weight, batched.weights[0][1].T)
    torch.testing.assert_close(single(X.double()), batched(X.double())[1], rtol=1e-13, atol=1e-13)


def test_from_models_refuses_mixed_shapes():
    with pytest.raises(ValueError, match="one shape"):
        BatchedMLP.from_models([mlp(5, 4, 3), mlp(5, 6, 3)])
    with pytest.raises(ValueError, match="at least one"):
        BatchedMLP.from_models([])


def test_batched_cross_entropy_and_accuracy_per_model():
    logits = torch.randn(4, 40, 3, generator=gen)
    expected = torch.stack([F.cross_entropy(z, y) for z in logits])
    torch.testing.assert_close(cross_entropy(logits, y), expected)
    torch.testing.assert_close(cross_entropy(logits[0], y), expected[0])
    acc = accuracy(logits, y)
    assert acc.shape == (4,) and acc[1] == (logits[1].argmax(1) == y).float().mean()


def test_training_reduces_the_loss_full_batch_and_minibatch():
    X_train, y_train, _, _ = load_digits_tensors()
    model = mlp(64, 16, 10, seed=0)
    history = train(model, torch.optim.Adam(model.parameters(), lr=0.01), (X_train, y_train), num_steps=30)
    assert history.shape == (30,) and history[-1] < 0.5 * history[0]
    assert evaluate(model, X_train, y_train)[0] < history[-1]  # the loss after the last step is lower still
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_train, y_train), batch_size=256)
    model = mlp(64, 16, 10, seed=0)
    history = train(model, GD(model.parameters(), lr=0.5), loader, epochs=3)
    assert history.shape == (3 * 6,) and history[-6:].mean() < 0.5 * history[:6].mean()
    assert train(model, GD(model.parameters(), lr=0.5), loader, num_steps=8).shape == (8,)


def test_batched_training_equals_training_each_model_alone():
    seeds = [0, 1, 2]
    batched = BatchedMLP.from_seeds(5, 4, 3, seeds)
    history = train(batched, torch.optim.Adam(batched.parameters(), lr=0.05), (X, y), num_steps=25)
    assert history.shape == (25, 3)
    for k, s in enumerate(seeds):
        single = mlp(5, 4, 3, seed=s)
        alone = train(single, torch.optim.Adam(single.parameters(), lr=0.05), (X, y), num_steps=25)
        np.testing.assert_allclose(history[:, k], alone, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(batched.model(k)(X), single(X), rtol=1e-4, atol=1e-5)


def test_scheduler_is_stepped_every_step():
    model = mlp(5, 4, 3, seed=0)
    optimizer = GD(model.parameters(), lr=1.0)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    train(model, optimizer, (X, y), num_steps=4, scheduler=schedule)
    assert optimizer.lr == 1.0 / 16


def test_bad_training_arguments_raise():
    model = mlp(5, 4, 3)
    optimizer = GD(model.parameters(), lr=0.1)
    loader = [(X, y)]
    with pytest.raises(ValueError, match="num_steps"):
        train(model, optimizer, (X, y), epochs=2)
    with pytest.raises(ValueError, match="num_steps: -1"):
        train(model, optimizer, (X, y), num_steps=-1)
    with pytest.raises(ValueError, match="exactly one"):
        train(model, optimizer, loader)
    with pytest.raises(ValueError, match="exactly one"):
        train(model, optimizer, loader, epochs=1, num_steps=1)
    with pytest.raises(ValueError, match="no batches"):
        train(model, optimizer, [], epochs=1)


def test_evaluate_gives_floats_and_restores_the_mode():
    model = mlp(5, 4, 3, seed=0)
    model.train()
    loss, acc = evaluate(model, X, y)
    assert isinstance(loss, float) and isinstance(acc, float) and model.training
    assert loss == pytest.approx(F.cross_entropy(model(X), y).item())
    model.eval()
    evaluate(model, X, y)
    assert not model.training
    losses, accs = evaluate(BatchedMLP.from_seeds(5, 4, 3, [0, 1]), X, y)
    assert losses.shape == (2,) and accs.shape == (2,) and losses[0] == pytest.approx(loss)
