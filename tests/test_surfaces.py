"""Surfaces broadcast, and autograd at their critical points gives the closed forms of their docstrings."""

import math
from functools import partial

import pytest
import torch

from optim_helpers import surfaces

F64 = torch.float64
SURFACES = [getattr(surfaces, name) for name in surfaces.__all__]


def name_of(x):
    return getattr(x, "__name__", None) or getattr(getattr(x, "func", None), "__name__", None)


@pytest.mark.parametrize("f", SURFACES, ids=name_of)
@pytest.mark.parametrize("shape", [(), (7,), (5, 6)], ids=["scalar", "batch", "grid"])
def test_broadcasts_and_each_entry_is_its_own_point(f, shape):
    gen = torch.Generator().manual_seed(0)
    w0, w1 = 4 * torch.rand(shape, generator=gen, dtype=F64) - 2, 4 * torch.rand(shape, generator=gen, dtype=F64) - 2
    out = f(w0, w1)
    assert out.shape == shape
    pointwise = [f(a, b) for a, b in zip(w0.reshape(-1), w1.reshape(-1))]
    torch.testing.assert_close(out.reshape(-1), torch.stack(pointwise), rtol=1e-15, atol=0.0)


@pytest.mark.parametrize("f", SURFACES, ids=name_of)
def test_broadcasts_a_column_against_a_row(f):
    w0, w1 = torch.linspace(-2, 2, 4, dtype=F64)[:, None], torch.linspace(-1, 1, 3, dtype=F64)[None, :]
    grid = torch.meshgrid(w0[:, 0], w1[0], indexing="ij")
    torch.testing.assert_close(f(w0, w1), f(*grid), rtol=0.0, atol=0.0)
    assert f(w0, w1).shape == (4, 3)


# Values at a few points, from the formulas in the docstrings.
VALUES = [
    (surfaces.pathological_loss, (0.0, 0.0), 0.5),
    (surfaces.pathological_loss, (1.0, -2.0), math.tanh(1) ** 2 + 0.02 + 1 / (1 + math.exp(2))),
    (surfaces.ill_conditioned_quadratic, (2.0, 1.0), 0.5 * (4 + 20)),
    (partial(surfaces.ill_conditioned_quadratic, a=0.5, b=3.0), (2.0, 1.0), 0.5 * (0.5 * 4 + 3)),
    (surfaces.bowl, (1.0, -2.0), 5.0),
    (surfaces.cap, (1.0, -2.0), -5.0),
    (surfaces.saddle, (1.0, -2.0), -3.0),
    (surfaces.flat_saddle, (1.0, -2.0), -7.0),
    (surfaces.double_well, (2.0, 1.0), 10.0),
    (surfaces.rosenbrock, (0.0, 1.0), 1.0 + 100.0),
    (partial(surfaces.rosenbrock, a=2.0, b=10.0), (1.0, 3.0), 1.0 + 10.0 * 4),
    (surfaces.himmelblau, (0.0, 0.0), 121.0 + 49.0),
]


@pytest.mark.parametrize("f, point, value", VALUES, ids=name_of)
def test_values(f, point, value):
    assert f(*torch.tensor(point, dtype=F64)).item() == pytest.approx(value, rel=1e-15)


def gradient_and_hessian(f, point):
    """Autograd's gradient and Hessian of ``f(w0, w1)`` at ``point``."""

    def g(w):
        return f(w[0], w[1])

    w = torch.tensor(point, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(g(w), w)
    return grad, torch.autograd.functional.hessian(g, w.detach())


# (surface, critical point, Hessian in closed form)
CRITICAL = [
    (surfaces.bowl, (0.0, 0.0), [[2, 0], [0, 2]]),
    (surfaces.cap, (0.0, 0.0), [[-2, 0], [0, -2]]),
    (surfaces.saddle, (0.0, 0.0), [[2, 0], [0, -2]]),
    (surfaces.flat_saddle, (0.0, 0.0), [[2, 0], [0, 0]]),
    (surfaces.double_well, (1.0, 0.0), [[8, 0], [0, 2]]),
    (surfaces.double_well, (-1.0, 0.0), [[8, 0], [0, 2]]),
    (surfaces.double_well, (0.0, 0.0), [[-4, 0], [0, 2]]),
    # (2 + 8 b a^2, -4 b a; -4 b a, 2 b) at (a, a^2)
    (surfaces.rosenbrock, (1.0, 1.0), [[802, -400], [-400, 200]]),
    (partial(surfaces.rosenbrock, a=2.0, b=10.0), (2.0, 4.0), [[2 + 8 * 10 * 4, -80], [-80, 20]]),
    (surfaces.ill_conditioned_quadratic, (0.0, 0.0), [[1, 0], [0, 20]]),
    (partial(surfaces.ill_conditioned_quadratic, a=0.5, b=3.0), (0.0, 0.0), [[0.5, 0], [0, 3]]),
    # f = A^2 + B^2, A = w0^2 + w1 - 11, B = w0 + w1^2 - 7, A = B = 0 at (3, 2):
    # f_00 = 4A + 8 w0^2 + 2 = 74, f_11 = 4B + 8 w1^2 + 2 = 34, f_01 = 4 w0 + 4 w1 = 20
    (surfaces.himmelblau, (3.0, 2.0), [[74, 20], [20, 34]]),
]


@pytest.mark.parametrize("f, point, hessian", CRITICAL, ids=name_of)
def test_critical_points_match_closed_forms(f, point, hessian):
    grad, hess = gradient_and_hessian(f, point)
    torch.testing.assert_close(grad, torch.zeros(2, dtype=F64), rtol=0.0, atol=1e-12)
    torch.testing.assert_close(hess, torch.tensor(hessian, dtype=F64), rtol=1e-12, atol=1e-12)


def test_minima_have_zero_loss():
    for f, point in [(surfaces.himmelblau, (3.0, 2.0)), (surfaces.rosenbrock, (1.0, 1.0)),
                     (surfaces.double_well, (-1.0, 0.0)), (partial(surfaces.rosenbrock, a=2.0, b=10.0), (2.0, 4.0))]:
        assert f(*torch.tensor(point, dtype=F64)).item() == 0.0


def test_flat_saddle_is_neither_minimum_nor_maximum():
    """The zero Hessian eigenvalue leaves it open; the cubic goes down on one side and up on the other."""
    h = torch.tensor([-1e-3, 1e-3], dtype=F64)
    values = surfaces.flat_saddle(torch.zeros(2, dtype=F64), h)
    assert values[0] < 0 < values[1]


def pathological_minimum():
    """For w1 < 0: d/dw1 [0.01 |w1| + s(w1)] = -0.01 + s(1 - s) = 0, with s = sigmoid(w1).

    With u = e^{w1}: s(1 - s) = u / (1 + u)^2 = 0.01, so u^2 - 98 u + 1 = 0 and u = 49 - sqrt(2400).
    """
    w1 = math.log(49 - math.sqrt(2400))
    s = 1 / (1 + math.exp(-w1))
    return w1, s


def test_pathological_minimum_closed_form_and_grid_search():
    w1_star, s = pathological_minimum()
    assert s * (1 - s) == pytest.approx(0.01, rel=1e-12)
    grid = torch.linspace(-10, 10, 2_000_001, dtype=F64)  # spacing 1e-5
    loss = surfaces.pathological_loss(torch.zeros_like(grid), grid)
    assert abs(grid[loss.argmin()].item() - w1_star) < 2e-5
    # the docstring's round numbers: about (0, -4.6), loss about 0.056
    assert w1_star == pytest.approx(-4.6, abs=0.05)
    assert loss.min().item() == pytest.approx(0.056, abs=5e-4)


def test_pathological_minimum_gradient_and_hessian():
    """Zero gradient there; Hessian diag(2, s'') with tanh^2'' = 2 at 0 and s'' = s(1-s)(1-2s)."""
    w1_star, s = pathological_minimum()
    grad, hess = gradient_and_hessian(surfaces.pathological_loss, (0.0, w1_star))
    torch.testing.assert_close(grad, torch.zeros(2, dtype=F64), rtol=0.0, atol=1e-15)
    expected = torch.tensor([[2.0, 0.0], [0.0, 0.01 * (1 - 2 * s)]], dtype=F64)
    torch.testing.assert_close(hess, expected, rtol=1e-12, atol=1e-15)
