"""newton_schulz approximates the SVD's orthogonal factor as torch.optim.Muon's iteration does; Muon equals
torch.optim.Muon on the matrices and torch.optim.AdamW on the rest, step for step in float64."""

import copy

import pytest
import torch
from torch.optim import _muon as torch_muon

from optim_helpers.muon import Muon, newton_schulz

SHAPES = [(6, 6), (4, 9), (9, 4), (3, 5), (4, 3)]
ADJUST = [None, "original", "match_rms_adamw"]


def randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def with_singular_values(s, m, n, seed=0):
    """An m x n matrix with singular values s and random singular vectors, with its U and V."""
    U = torch.linalg.qr(randn(m, len(s), seed=seed))[0]
    V = torch.linalg.qr(randn(n, len(s), seed=seed + 1))[0]
    return U @ torch.diag(s) @ V.T, U, V


def torch_zeropower(G, steps=5):
    return torch_muon._zeropower_via_newtonschulz(
        G, (torch_muon.DEFAULT_A, torch_muon.DEFAULT_B, torch_muon.DEFAULT_C), steps, torch_muon.EPS)


@pytest.mark.parametrize("shape", SHAPES + [(64, 16), (32, 32)], ids=str)
@pytest.mark.parametrize("steps", [1, 5, 8])
def test_newton_schulz_is_torchs_iteration(shape, steps):
    G = randn(*shape)
    expected = torch_zeropower(G, steps)  # torch computes in bfloat16
    assert torch.equal(newton_schulz(G.bfloat16(), steps), expected)
    # in float64, only torch's bfloat16 rounding separates the two
    torch.testing.assert_close(newton_schulz(G, steps), expected.double(), rtol=0, atol=0.1)


@pytest.mark.parametrize("shape", [(8, 8), (5, 12), (12, 5)], ids=["square", "wide", "tall"])
def test_newton_schulz_pushes_singular_values_into_a_band_keeping_the_singular_vectors(shape):
    m, n = shape
    k = min(m, n)
    s = torch.logspace(-2.5, 0, k, dtype=torch.float64)  # the smallest is ~1/500 of the Frobenius norm
    G, U, V = with_singular_values(s, m, n)
    out = newton_schulz(G)
    core = U.T @ out @ V  # diagonal if out shares G's singular vectors
    band = torch.diagonal(core)
    assert torch.linalg.matrix_norm(core - torch.diag(band)) < 1e-10
    torch.testing.assert_close(U @ torch.diag(band) @ V.T, out, rtol=0, atol=1e-10)
    assert band.min() > 0.6 and band.max() < 1.25  # measured: [0.682, 1.134] in float64
    assert band.max() - band.min() > 0.1  # five quintic steps do not converge to exactly 1
    polar = U @ V.T
    cosine = (out * polar).sum() / (out.norm() * polar.norm())
    assert cosine > 0.97  # measured: 0.99
    assert (out - polar).norm() / polar.norm() < 0.3  # measured: 0.13 to 0.19


def test_newton_schulz_leaves_tiny_singular_values_behind_and_zero_at_zero():
    s = torch.tensor([1.0, 0.5, 1e-6], dtype=torch.float64)
    G, U, V = with_singular_values(s, 3, 3)
    band = torch.diagonal(U.T @ newton_schulz(G) @ V)
    assert band[:2].min() > 0.6 and band[2] < 1e-2  # 3.4445^5 ~ 490 cannot lift 1e-6 to 1
    assert torch.equal(newton_schulz(torch.zeros(3, 4)), torch.zeros(3, 4))


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4)], ids=str)
def test_newton_schulz_on_a_batch_equals_each_matrix(shape):
    G = randn(2, 3, *shape)
    out = newton_schulz(G)
    assert out.shape == G.shape
    for i in range(2):
        for j in range(3):
            torch.testing.assert_close(out[i, j], newton_schulz(G[i, j]), rtol=1e-12, atol=1e-14)


def test_newton_schulz_keeps_the_dtype():
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        assert newton_schulz(randn(4, 3, dtype=dtype)).dtype == dtype


@pytest.mark.parametrize("bad, match", [(dict(G=torch.zeros(3)), "Invalid G"), (dict(steps=0), "steps value: 0"),
                                        (dict(steps=2.5), "steps value: 2.5"), (dict(eps=-1.0), "eps value: -1.0")])
def test_newton_schulz_rejects_bad_input(bad, match):
    kw = dict(G=torch.zeros(3, 3), steps=5) | bad
    with pytest.raises(ValueError, match=match):
        newton_schulz(kw.pop("G"), **kw)


def run(optimizers, params, loss_fn, steps):
    for _ in range(steps):
        for optimizer in optimizers:
            optimizer.zero_grad()
        loss_fn(params).backward()
        for optimizer in optimizers:
            optimizer.step()


def matrix_loss(params):
    (W,) = params
    x = torch.linspace(-1, 1, W.shape[1], dtype=W.dtype)
    return (torch.tanh(W @ x) - 0.3).pow(2).sum() + 0.1 * W.pow(4).sum()


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (6, 6)], ids=str)
@pytest.mark.parametrize("adjust_lr_fn", ADJUST, ids=str)
@pytest.mark.parametrize("nesterov", [True, False])
def test_a_matrix_follows_torch_muon_step_for_step(shape, adjust_lr_fn, nesterov):
    kw = dict(lr=0.02, momentum=0.9, nesterov=nesterov, weight_decay=0.05, adjust_lr_fn=adjust_lr_fn)
    ours, theirs = [randn(*shape).requires_grad_()], [randn(*shape).requires_grad_()]
    mine, reference = Muon(ours, **kw), torch.optim.Muon(theirs, **kw)
    for step in range(20):
        run([mine], ours, matrix_loss, 1)
        run([reference], theirs, matrix_loss, 1)
        torch.testing.assert_close(ours[0], theirs[0], rtol=1e-12, atol=1e-14, msg=f"step {step + 1}")
    assert torch.equal(mine.state[ours[0]]["momentum_buffer"], reference.state[theirs[0]]["momentum_buffer"])


def model_params(seed=0):
    """A small network: two weight matrices, two biases and a scalar gain, in float64."""
    return [randn(*shape, seed=seed + i).requires_grad_() for i, shape in enumerate([(5, 4), (5,), (3, 5), (3,), ()])]


def model_loss(params):
    W1, b1, W2, b2, gain = params
    x = randn(7, 4, seed=99)
    target = torch.arange(7) % 3
    logits = gain * (torch.tanh(x @ W1.T + b1) @ W2.T + b2)
    return torch.nn.functional.cross_entropy(logits, target)


MODEL_KW = dict(lr=0.05, momentum=0.9, weight_decay=0.02, adjust_lr_fn="match_rms_adamw", adamw_lr=0.01,
                adamw_betas=(0.8, 0.99), adamw_eps=1e-6, adamw_weight_decay=0.03)


def torch_pair(params, kw=MODEL_KW):
    matrices = [p for p in params if p.ndim == 2]
    others = [p for p in params if p.ndim != 2]
    return [torch.optim.Muon(matrices, lr=kw["lr"], momentum=kw["momentum"], weight_decay=kw["weight_decay"],
                             adjust_lr_fn=kw["adjust_lr_fn"]),
            torch.optim.AdamW(others, lr=kw["adamw_lr"], betas=kw["adamw_betas"], eps=kw["adamw_eps"],
                              weight_decay=kw["adamw_weight_decay"])]


def test_a_network_follows_torch_muon_on_matrices_and_adamw_on_the_rest():
    ours, theirs = model_params(), model_params()
    mine, reference = Muon(ours, **MODEL_KW), torch_pair(theirs)
    for step in range(30):
        run([mine], ours, model_loss, 1)
        run(reference, theirs, model_loss, 1)
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14, msg=f"step {step + 1}")


def test_param_groups_follow_two_torch_pairs():
    ours, theirs = model_params(), model_params()
    half = dict(MODEL_KW, lr=MODEL_KW["lr"] / 2, adamw_lr=MODEL_KW["adamw_lr"] / 2, adjust_lr_fn=None)
    group_settings = {k: half[k] for k in ("lr", "adamw_lr", "adjust_lr_fn")}
    mine = Muon([{"params": ours[:2]}, {"params": ours[2:], **group_settings}], **MODEL_KW)
    reference = torch_pair(theirs[:2]) + torch_pair(theirs[2:], half)
    run([mine], ours, model_loss, 15)
    run(reference, theirs, model_loss, 15)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_use_muon_false_sends_matrices_to_adamw():
    ours, theirs = model_params(), model_params()
    mine = Muon(ours, use_muon=False, **MODEL_KW)
    reference = torch.optim.AdamW(theirs, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.03)
    run([mine], ours, model_loss, 10)
    run([reference], theirs, model_loss, 10)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_a_batch_of_matrices_steps_as_each_matrix_alone():
    stacked = randn(3, 4, 6).requires_grad_()
    singles = [randn(3, 4, 6)[k].clone().requires_grad_() for k in range(3)]
    kw = dict(lr=0.02, momentum=0.9, weight_decay=0.05, adjust_lr_fn="original")
    batched = Muon([stacked], use_muon=True, **kw)
    alone = Muon(singles, **kw)
    run([batched], [stacked], lambda ps: sum(matrix_loss([w]) for w in ps[0]), 10)
    run([alone], singles, lambda ps: sum(matrix_loss([w]) for w in ps), 10)
    # the orthogonalization runs in bfloat16, where batched and single products may round differently
    torch.testing.assert_close(stacked, torch.stack(singles), rtol=0, atol=1e-3)


def test_a_tensor_that_is_neither_matrix_nor_vector_needs_use_muon():
    with pytest.raises(ValueError, match=r"shape \(2, 3, 4\).*use_muon"):
        Muon([torch.zeros(2, 3, 4, requires_grad=True)])
    with pytest.raises(ValueError, match=r"use_muon=True needs matrices"):
        Muon([torch.zeros(3, requires_grad=True)], use_muon=True)
    Muon([{"params": [torch.zeros(2, 1, 4, requires_grad=True)], "use_muon": False}])  # batched biases: AdamW


def test_state_dict_round_trip_equals_an_uninterrupted_run():
    straight = model_params()
    run([Muon(straight, **MODEL_KW)], straight, model_loss, 12)
    interrupted = model_params()
    first = Muon(interrupted, **MODEL_KW)
    run([first], interrupted, model_loss, 5)
    saved = copy.deepcopy(first.state_dict())
    resumed = Muon(interrupted, **MODEL_KW)
    resumed.load_state_dict(saved)
    run([resumed], interrupted, model_loss, 7)
    for a, b in zip(straight, interrupted):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kw, match", [
    (dict(lr=-1.0), "learning rate: -1.0"),
    (dict(momentum=1.0), "momentum value: 1.0"),
    (dict(momentum=-0.1), "momentum value: -0.1"),
    (dict(ns_steps=0), "ns_steps value: 0"),
    (dict(ns_steps=2.0), "ns_steps value: 2.0"),
    (dict(weight_decay=-0.1), "weight_decay value: -0.1"),
    (dict(adjust_lr_fn="spectral"), "adjust_lr_fn value: 'spectral'"),
    (dict(nesterov=1), "nesterov value: 1"),
    (dict(adamw_lr=float("nan")), "adamw_lr value: nan"),
    (dict(adamw_betas=(0.9, 1.0)), r"adamw_betas value: \(0.9, 1.0\)"),
    (dict(adamw_eps=-1e-8), "adamw_eps value: -1e-08"),
    (dict(adamw_weight_decay=-1.0), "adamw_weight_decay value: -1.0"),
    (dict(use_muon="yes"), "use_muon value: 'yes'"),
])
def test_bad_settings_raise_naming_the_value(kw, match):
    with pytest.raises(ValueError, match=match):
        Muon([torch.zeros(2, 2, requires_grad=True)], **kw)


def test_torch_options_it_lacks_are_refused_by_name():
    with pytest.raises(ValueError, match="ns_coefficients"):
        Muon([{"params": [torch.zeros(2, 2, requires_grad=True)], "ns_coefficients": (2.0, -1.5, 0.5)}])


def test_a_bad_value_written_into_a_group_is_caught_at_the_next_step():
    w = torch.ones(2, 2, requires_grad=True)
    optimizer = Muon([w])
    with pytest.raises(ValueError, match="adjust_lr_fn value: 'spectral'"):
        optimizer.add_param_group({"params": [torch.ones(3, 3, requires_grad=True)], "adjust_lr_fn": "spectral"})
    optimizer.param_groups[0]["ns_steps"] = 0
    w.grad = torch.ones(2, 2)
    with pytest.raises(ValueError, match="ns_steps value: 0"):
        optimizer.step()
