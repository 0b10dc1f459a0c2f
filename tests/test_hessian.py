"""Hessian-vector products and power iteration against the full autograd Hessian; slices; paths."""

import numpy as np
import pytest
import torch
from torch import nn

from optim_helpers import (
    double_well,
    filter_normalized_direction,
    flatten,
    full_hessian,
    functional_loss,
    hessian_vector_product,
    loss_slice_2d,
    minimum_energy_path,
    mlp,
    power_iteration,
    slice_curvature,
    top_hessian_eigenvalue,
    unflatten,
)

gen = torch.Generator().manual_seed(0)
X = torch.randn(30, 4, generator=gen, dtype=torch.float64)
y = torch.randint(0, 3, (30,), generator=gen)


def tiny():
    """A tiny tanh MLP in float64 (4 -> 3 -> 3: 27 parameters) and its loss as a function of the parameters."""
    model = mlp(4, 3, 3, activation=nn.Tanh, seed=0).double()
    return (model, *functional_loss(model, X, y))


def test_functional_loss_is_the_models_loss():
    model, f, params = tiny()
    assert f(params).item() == pytest.approx(nn.functional.cross_entropy(model(X), y).item(), rel=1e-14)
    assert [p.shape for p in params] == [p.shape for p in model.parameters()]


def test_hvp_equals_full_hessian_times_v():
    _, f, params = tiny()
    H = full_hessian(f, params)
    assert H.shape == (27, 27)
    torch.testing.assert_close(H, H.T, rtol=1e-10, atol=1e-12)  # Schwarz
    for seed in range(3):
        v = torch.randn(27, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        torch.testing.assert_close(hessian_vector_product(f, params, v), H @ v, rtol=1e-10, atol=1e-12)


def test_full_hessian_of_a_quadratic_is_its_matrix():
    A = torch.tensor([[3.0, 1.0, 0.0], [1.0, -2.0, 0.5], [0.0, 0.5, 1.0]], dtype=torch.float64)
    params = [torch.tensor([0.3, -1.0], dtype=torch.float64), torch.tensor([2.0], dtype=torch.float64)]

    def f(ps):
        x = flatten(ps)
        return 0.5 * x @ A @ x

    torch.testing.assert_close(full_hessian(f, params), A)
    torch.testing.assert_close(hessian_vector_product(f, params, torch.ones(3, dtype=torch.float64)), A.sum(1))


def test_power_iteration_finds_the_largest_magnitude_eigenvalue():
    _, f, params = tiny()
    eigenvalues = torch.linalg.eigvalsh(full_hessian(f, params))
    top = eigenvalues[eigenvalues.abs().argmax()].item()
    estimate, v = top_hessian_eigenvalue(f, params, iters=500, tol=1e-12, seed=1)
    assert estimate == pytest.approx(top, rel=1e-6)
    assert v.norm().item() == pytest.approx(1.0)
    torch.testing.assert_close(hessian_vector_product(f, params, v), top * v, rtol=0, atol=1e-4 * abs(top))
    # a negative dominant eigenvalue keeps its sign
    estimates, _ = power_iteration(lambda v: torch.tensor([-5.0, 2.0, 1.0]) * v, 3, iters=200)
    assert estimates[-1] == pytest.approx(-5.0, rel=1e-5)


def test_power_iteration_stops_at_tol_and_checks_arguments():
    estimates, _ = power_iteration(lambda v: torch.tensor([4.0, 1.0]) * v, 2, iters=1000, tol=1e-6)
    assert len(estimates) < 50
    with pytest.raises(ValueError, match="iters: 0"):
        power_iteration(lambda v: v, 2, iters=0)
    _, f, params = tiny()
    with pytest.raises(ValueError, match="vector length: 5"):
        hessian_vector_product(f, params, torch.ones(5, dtype=torch.float64))
    with pytest.raises(ValueError, match="vector length"):
        unflatten(torch.ones(5), params)


def test_filter_normalized_direction():
    model, _, params = tiny()
    direction = filter_normalized_direction(model, seed=3)
    assert torch.equal(flatten(direction), flatten(filter_normalized_direction(params, seed=3)))
    assert not torch.equal(flatten(direction), flatten(filter_normalized_direction(params, seed=4)))
    for d, p in zip(direction, params):
        assert d.shape == p.shape
        if p.ndim == 1:
            assert torch.all(d == 0)  # biases do not move
        else:
            torch.testing.assert_close(d.norm(dim=1), p.norm(dim=1))  # one norm per row (filter)
            assert not torch.allclose(d, p)


def test_loss_slice_2d_centre_points_and_no_side_effects():
    model, f, params = tiny()
    before = [p.detach().clone() for p in model.parameters()]
    centre = [p.clone() for p in params]
    d1, d2 = filter_normalized_direction(params, 0), filter_normalized_direction(params, 1)
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-0.5, 0.5, 3)
    Z = loss_slice_2d(f, params, (d1, d2), alphas, betas, chunk_size=4)
    assert Z.shape == (3, 5)
    assert Z[1, 2] == pytest.approx(nn.functional.cross_entropy(model(X), y).item(), rel=1e-12)
    for i, b in enumerate(betas):
        for j, a in enumerate(alphas):
            moved = [p + a * u + b * w for p, u, w in zip(params, d1, d2)]
            assert Z[i, j] == pytest.approx(f(moved).item(), rel=1e-12)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))
    assert all(torch.equal(p, q) for p, q in zip(params, centre))
    with pytest.raises(ValueError, match="two"):
        loss_slice_2d(f, params, (d1,), alphas, betas)
    with pytest.raises(ValueError, match="shaped like"):
        loss_slice_2d(f, params, (d1, d2[:-1]), alphas, betas)


def test_slice_curvature_is_exact_for_quadratics():
    alphas, betas = np.linspace(-1, 1, 7), np.linspace(-2, 2, 9)
    B, A = np.meshgrid(betas, alphas, indexing="ij")
    Z = 3 * A**2 + 2 * A * B - 0.5 * B**2 + A  # Hessian [[6, 2], [2, -1]]
    eigenvalues = slice_curvature(Z, alphas, betas)
    assert eigenvalues.shape == (7, 5, 2)
    np.testing.assert_allclose(eigenvalues, np.broadcast_to(np.linalg.eigvalsh([[6, 2], [2, -1]]), (7, 5, 2)),
                               rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="evenly spaced"):
        slice_curvature(Z, alphas**3, betas)
    with pytest.raises(ValueError, match="Z shape"):
        slice_curvature(Z.T, alphas, betas)


def ring(w):
    """(|w|^2 - 1)^2 + 0.5 w1^2: minima (+-1, 0), a maximum 1 at 0, saddles (0, +-sqrt(0.75)) of height 0.4375."""
    return ((w**2).sum(-1) - 1) ** 2 + 0.5 * w[..., 1] ** 2


def test_minimum_energy_path_goes_around_the_hill_through_the_saddle():
    start, end = torch.tensor([-1.0, 0.0]), torch.tensor([1.0, 0.0])
    bent = torch.stack([torch.linspace(-1, 1, 21), 0.3 * torch.sin(torch.linspace(0, np.pi, 21))], 1)
    path = minimum_energy_path(ring, start, end, num_points=21, num_steps=400, lr=0.02, initial_path=bent)
    assert path.shape == (21, 2)
    assert np.array_equal(path[0], [-1, 0]) and np.array_equal(path[-1], [1, 0])
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    np.testing.assert_allclose(steps, steps.mean(), rtol=2e-3)  # equal spacing (along the previous polygon)
    heights = ring(torch.from_numpy(path)).numpy()
    top = path[heights.argmax()]
    assert heights.max() == pytest.approx(0.4375, abs=2e-3)  # the saddle, not the hill of height 1
    np.testing.assert_allclose(top, [0.0, np.sqrt(0.75)], atol=0.05)
    # on the symmetric double well the straight line is already the minimum-energy path
    well = minimum_energy_path(lambda w: double_well(w[..., 0], w[..., 1]), start, end, num_points=11, num_steps=50)
    np.testing.assert_allclose(well[:, 1], 0.0, atol=1e-12)


def test_minimum_energy_path_bad_arguments():
    start, end = torch.zeros(2), torch.ones(2)
    with pytest.raises(ValueError, match="num_points: 2"):
        minimum_energy_path(ring, start, end, num_points=2)
    with pytest.raises(ValueError, match="lr: -0.1"):
        minimum_energy_path(ring, start, end, lr=-0.1)
    with pytest.raises(ValueError, match="initial_path shape"):
        minimum_energy_path(ring, start, end, num_points=5, initial_path=np.zeros((4, 2)))
