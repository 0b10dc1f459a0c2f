"""Data-parallel SGD on two processes (gloo on CPU) against one process on the large batch."""

import numpy as np
import pytest
import torch

from optim_helpers import data_parallel_train, global_batches, large_batch_train, mlp


def test_two_ranks_compute_the_large_batch_gradient_and_weights():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(64, 6, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (64,), generator=gen)
    net = mlp(6, 5, 3, seed=0).double()
    before = [p.detach().clone() for p in net.parameters()]
    dp = data_parallel_train(net, X, y, batch_size=16, num_steps=5, lr=0.3, world_size=2, timeout=60)
    ref = large_batch_train(net, X, y, batch_size=16, num_steps=5, lr=0.3)
    for a, b, c, g in zip(*dp["local_gradients"], dp["first_gradient"], ref["first_gradient"]):
        np.testing.assert_allclose(c, g, rtol=1e-12, atol=1e-15)  # all-reduced = large batch
        np.testing.assert_allclose((a + b) / 2, g, rtol=1e-12, atol=1e-15)  # = mean of the two shards
    assert not np.allclose(dp["local_gradients"][0][0], dp["local_gradients"][1][0])
    for w, v, u in zip(dp["weights"], ref["weights"], dp["rank_weights"][1]):
        np.testing.assert_allclose(w, v, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(w, u)  # the ranks stay identical
    np.testing.assert_allclose(dp["losses"], ref["losses"], rtol=1e-12)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before))  # the model itself is untouched
    assert dp["backend"] == "gloo" or torch.cuda.is_available()
    idx = global_batches(64, 16, 5, seed=0)
    assert idx.shape == (5, 16) and all(len(set(row.tolist())) == 16 for row in idx)
    with pytest.raises(ValueError, match="batch_size"):
        data_parallel_train(net, X, y, batch_size=15, num_steps=1, lr=0.1, world_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        global_batches(10, 11, 1)
    with pytest.raises(ValueError, match="learning rate"):
        large_batch_train(net, X, y, batch_size=16, num_steps=1, lr=-0.1)
