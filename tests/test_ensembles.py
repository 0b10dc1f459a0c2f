"""Snapshot ensembles: averaged softmax against a direct computation, snapshots at the cycle ends."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from optim_helpers import GD, BatchedMLP, evaluate, mlp
from optim_helpers.ensembles import ensemble_evaluate, ensemble_probabilities, train_snapshots

gen = torch.Generator().manual_seed(0)
X = torch.randn(60, 5, generator=gen)
y = torch.randint(0, 3, (60,), generator=gen)


def test_one_model_is_evaluate():
    model = mlp(5, 8, 3, seed=0)
    loss, acc = ensemble_evaluate([model], X, y)
    ref_loss, ref_acc = evaluate(model, X, y)
    assert loss == pytest.approx(ref_loss, rel=1e-6) and acc == ref_acc


def test_average_of_softmaxes_by_hand():
    models = [mlp(5, 8, 3, seed=s) for s in range(3)]
    p = torch.stack([F.softmax(m(X), dim=-1) for m in models]).mean(0)
    torch.testing.assert_close(ensemble_probabilities(models, X), p)
    loss, acc = ensemble_evaluate(models, X, y)
    assert loss == pytest.approx(F.nll_loss(p.log(), y).item(), rel=1e-6)
    assert acc == pytest.approx((p.argmax(1) == y).float().mean().item())
    # averaging probabilities is not averaging logits
    logits_mean = torch.stack([m(X) for m in models]).mean(0)
    assert not torch.allclose(F.softmax(logits_mean, -1), p)


def test_batched_models_give_one_ensemble_each():
    snaps = [BatchedMLP.from_seeds(5, 8, 3, [s, s + 10]) for s in range(3)]
    loss, acc = ensemble_evaluate(snaps, X, y)
    assert loss.shape == (2,) and acc.shape == (2,)
    for k in range(2):
        single_loss, single_acc = ensemble_evaluate([s.model(k) for s in snaps], X, y)
        assert loss[k] == pytest.approx(single_loss, rel=1e-5) and acc[k] == pytest.approx(single_acc)


def test_mode_restored():
    model = mlp(5, 8, 3, seed=0).train()
    ensemble_probabilities([model], X)
    assert model.training


def test_snapshots_are_the_model_at_each_cycle_end():
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=20, shuffle=False)
    model = mlp(5, 8, 3, seed=0)
    opt = GD(model.parameters(), lr=0.5)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2 * len(loader))
    snaps, losses = train_snapshots(model, opt, loader, num_cycles=3, epochs_per_cycle=2, scheduler=sched)
    assert len(snaps) == 3 and losses.shape == (3 * 2 * 3,)
    assert all(not s.training for s in snaps)
    assert all(torch.equal(a, b) for a, b in zip(snaps[-1].parameters(), model.parameters()))
    assert not torch.equal(snaps[0].layers[0].weight, snaps[1].layers[0].weight)  # copies, not the same object
    assert opt.lr == pytest.approx(0.5)  # the schedule restarted right after the last snapshot
    # the same run by hand: the first snapshot is the model after two epochs
    by_hand = mlp(5, 8, 3, seed=0)
    opt2 = GD(by_hand.parameters(), lr=0.5)
    sched2 = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt2, T_0=6)
    for _ in range(2):
        for xb, yb in loader:
            opt2.zero_grad()
            F.cross_entropy(by_hand(xb), yb).backward()
            opt2.step()
            sched2.step()
    for a, b in zip(snaps[0].parameters(), by_hand.parameters()):
        torch.testing.assert_close(a, b)
    assert np.all(np.isfinite(losses))


@pytest.mark.parametrize("kw, name", [({"num_cycles": 0}, "num_cycles"),
                                     ({"epochs_per_cycle": 1.5}, "epochs_per_cycle")])
def test_bad_input(kw, name):
    model = mlp(5, 8, 3, seed=0)
    args = {"num_cycles": 1, "epochs_per_cycle": 1, **kw}
    with pytest.raises(ValueError, match=f"Invalid {name}"):
        train_snapshots(model, GD(model.parameters(), lr=0.1), [(X, y)], **args)
    with pytest.raises(ValueError, match="Invalid models"):
        ensemble_probabilities([], X)


def test_loss_is_finite_where_a_probability_underflows():
    """The log of the averaged probabilities comes from log_softmax: finite where softmax gives exactly 0."""
    model = mlp(5, 8, 3, seed=0)
    with torch.no_grad():
        model.layers[-1].weight.mul_(1e4)  # logits of order 1e4: softmax underflows to 0 for some labels
    logits = model(X)
    assert (F.softmax(logits, -1).gather(1, y[:, None]) == 0).any()
    loss, _ = ensemble_evaluate([model], X, y)
    assert np.isfinite(loss) and loss == pytest.approx(evaluate(model, X, y)[0], rel=1e-6)
    # two copies of one model: the same loss (log of the mean of equal probabilities), also finite
    loss2, _ = ensemble_evaluate([model, model], X, y)
    assert loss2 == pytest.approx(loss, rel=1e-6)
    # the stable form against the direct one where the latter is finite
    models = [mlp(5, 8, 3, seed=s) for s in range(3)]
    p = ensemble_probabilities(models, X)
    assert ensemble_evaluate(models, X, y)[0] == pytest.approx(-p.gather(1, y[:, None]).log().mean().item(), rel=1e-6)
