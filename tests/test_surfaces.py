"""Surfaces broadcast, and their critical points have the Hessians their docstrings state."""

import math

import pytest
import torch

from optim_helpers import surfaces

SURFACES = [getattr(surfaces, name) for name in surfaces.__all__]


@pytest.mark.parametrize("f", SURFACES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(), (7,), (5, 6)])
def test_broadcasts(f, shape):
    w0, w1 = torch.rand(shape, dtype=torch.float64), torch.rand(shape, dtype=torch.float64)
    out = f(w0, w1)
    assert out.shape == shape
    if shape:  # each entry is the surface at that point alone
        flat = [f(a, b) for a, b in zip(w0.reshape(-1), w1.reshape(-1))]
        torch.testing.assert_close(out.reshape(-1), torch.stack(flat))


def gradient_and_hessian(f, point):
    w = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(f(w[0], w[1]), w)
    hess = torch.autograd.functional.hessian(lambda v: f(v[0], v[1]), w.detach())
    return grad, hess


CRITICAL = [
    (surfaces.bowl, (0.0, 0.0), [[2, 0], [0, 2]]),
    (surfaces.cap, (0.0, 0.0), [[-2, 0], [0, -2]]),
    (surfaces.saddle, (0.0, 0.0), [[2, 0], [0, -2]]),
    (surfaces.flat_saddle, (0.0, 0.0), [[2, 0], [0, 0]]),
    (surfaces.double_well, (1.0, 0.0), [[8, 0], [0, 2]]),
    (surfaces.double_well, (-1.0, 0.0), [[8, 0], [0, 2]]),
    (surfaces.double_well, (0.0, 0.0), [[-4, 0], [0, 2]]),
    (surfaces.rosenbrock, (1.0, 1.0), [[802, -400], [-400, 200]]),
    (surfaces.ill_conditioned_quadratic, (0.0, 0.0), [[1, 0], [0, 20]]),
]


@pytest.mark.parametrize("f, point, hessian", CRITICAL, ids=lambda x: getattr(x, "__name__", None))
def test_critical_points_match_closed_forms(f, point, hessian):
    grad, hess = gradient_and_hessian(f, point)
    torch.testing.assert_close(grad, torch.zeros(2, dtype=torch.float64))
    torch.testing.assert_close(hess, torch.tensor(hessian, dtype=torch.float64))


def test_himmelblau_minimum():
    grad, hess = gradient_and_hessian(surfaces.himmelblau, (3.0, 2.0))
    assert surfaces.himmelblau(torch.tensor(3.0), torch.tensor(2.0)) == 0
    torch.testing.assert_close(grad, torch.zeros(2, dtype=torch.float64))
    assert (torch.linalg.eigvalsh(hess) > 0).all()


def test_pathological_minimum_is_where_the_sigmoid_slope_is_one_hundredth():
    # For w1 < 0: d/dw1 [-0.01 w1 + s(w1)] = -0.01 + s(1 - s) = 0  =>  s = (1 - sqrt(0.96)) / 2.
    s = (1 - math.sqrt(0.96)) / 2
    w1_star = math.log(s / (1 - s))
    grid = torch.linspace(-8, 0, 800_001, dtype=torch.float64)
    loss = surfaces.pathological_loss(torch.zeros_like(grid), grid)
    assert abs(grid[loss.argmin()].item() - w1_star) < 1e-4
    assert abs(w1_star - (-4.585)) < 1e-3 and abs(loss.min().item() - 0.056) < 1e-3
