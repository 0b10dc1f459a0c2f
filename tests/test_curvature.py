"""Newton and saddle-free Newton against closed forms on quadratics, and against a reference built on
torch.func.hessian and torch.linalg.solve, step for step in float64, on several shapes and parameter groups."""

import copy

import numpy as np
import pytest
import torch

from optim_helpers.curvature import Newton, SaddleFreeNewton, gradient_and_hessian, newton_curves, newton_direction
from optim_helpers.surfaces import double_well, rosenbrock

# torch.func's forward mode loads its decompositions with torch.jit.script on first use, which warns in torch 2.13
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

DT = torch.float64


def random_quadratic(P, seed, eigenvalues=None):
    """A symmetric, non-diagonal A = Q diag(eigenvalues) Q^T with a random rotation Q, and a vector b."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(P, P, generator=g, dtype=DT))
    if eigenvalues is None:
        eigenvalues = torch.linspace(0.5, 5.0, P, dtype=DT)
    A = Q @ torch.diag(torch.as_tensor(eigenvalues, dtype=DT)) @ Q.T
    return (A + A.T) / 2, torch.randn(P, generator=g, dtype=DT), Q


def quadratic(A, b):
    """f(x) = x^T A x / 2 - b^T x: gradient A x - b, Hessian A, critical point A^{-1} b."""
    return lambda x: 0.5 * x @ A @ x - b @ x


def pieces(x, shapes):
    """The flat vector ``x`` cut into tensors of the given shapes."""
    out, offset = [], 0
    for shape in shapes:
        n = torch.Size(shape).numel()
        out.append(x[offset:offset + n].reshape(shape))
        offset += n
    return out


def split(x, shapes):
    """Parameters of the given shapes holding the numbers of the flat vector ``x``."""
    return [p.clone().requires_grad_(True) for p in pieces(x, shapes)]


def flat(params):
    return torch.cat([p.detach().reshape(-1) for p in params])


SHAPES = [[(2,)], [(5,)], [(2, 3), (4,)], [(), (3,), (2, 2)]]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_one_undamped_newton_step_lands_on_the_minimizer_of_a_quadratic(shapes):
    P = sum(torch.Size(s).numel() for s in shapes)
    A, b, _ = random_quadratic(P, seed=P)
    assert (A - torch.diag(torch.diag(A))).abs().max() > 0.1  # not diagonal
    f = quadratic(A, b)
    params = split(torch.randn(P, generator=torch.Generator().manual_seed(1), dtype=DT) * 3, shapes)
    optimizer = Newton(params)
    optimizer.step(lambda: f(torch.cat([p.reshape(-1) for p in params])))
    minimizer = torch.linalg.solve(A, b)
    torch.testing.assert_close(flat(params), minimizer, rtol=1e-12, atol=1e-12)
    grad = A @ flat(params) - b
    assert grad.abs().max() < 1e-12


def test_newton_direction_equals_the_solution_of_the_damped_system():
    A, b, _ = random_quadratic(6, seed=3, eigenvalues=[-3.0, -0.5, 0.2, 1.0, 2.0, 7.0])
    g = torch.randn(6, generator=torch.Generator().manual_seed(4), dtype=DT)
    for damping in (0.0, 0.1, 1.0, 10.0):
        d = newton_direction(g, A, damping)
        torch.testing.assert_close(d, torch.linalg.solve(A + damping * torch.eye(6, dtype=DT), g), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("damping", [0.0, 0.3, 4.0])
def test_damped_newton_step_equals_the_closed_form(damping):
    A, b, _ = random_quadratic(4, seed=5)
    x0 = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=DT)
    x = x0.clone().requires_grad_(True)
    Newton([x], lr=0.7, damping=damping).step(lambda: quadratic(A, b)(x))
    expected = x0 - 0.7 * torch.linalg.solve(A + damping * torch.eye(4, dtype=DT), A @ x0 - b)
    torch.testing.assert_close(x.detach(), expected, rtol=1e-12, atol=1e-12)


def test_large_damping_turns_newton_into_gradient_descent():
    A, b, _ = random_quadratic(3, seed=6)
    g = A @ torch.ones(3, dtype=DT) - b
    damping = 1e6
    torch.testing.assert_close(damping * newton_direction(g, A, damping), g, rtol=1e-5, atol=0)


def test_on_an_indefinite_quadratic_newton_jumps_to_the_saddle_and_saddle_free_moves_away():
    eigenvalues = torch.tensor([-2.0, 0.5, 3.0], dtype=DT)
    A, b, Q = random_quadratic(3, seed=7, eigenvalues=eigenvalues)
    f = quadratic(A, b)
    saddle = torch.linalg.solve(A, b)
    x0 = saddle + Q @ torch.tensor([1.0, 0.2, -0.1], dtype=DT)  # eigen-coordinates z0 = (1, 0.2, -0.1)

    x = x0.clone().requires_grad_(True)
    Newton([x]).step(lambda: f(x))
    torch.testing.assert_close(x.detach(), saddle, rtol=1e-12, atol=1e-12)  # the critical point, a saddle
    assert f(x.detach()) > f(x0)  # uphill along the negative curvature

    y = x0.clone().requires_grad_(True)
    SaddleFreeNewton([y]).step(lambda: f(y))
    # closed form: z1 = z0 - |Lambda|^{-1} Lambda z0 = (1 - sign(lambda_i)) z0_i: positive-curvature coordinates
    # reach 0, the negative-curvature one doubles, away from the saddle
    z1 = Q.T @ (y.detach() - saddle)
    torch.testing.assert_close(z1, torch.tensor([2.0, 0.0, 0.0], dtype=DT), rtol=1e-12, atol=1e-12)
    expected = x0 - Q @ torch.diag(1 / eigenvalues.abs()) @ Q.T @ (A @ x0 - b)
    torch.testing.assert_close(y.detach(), expected, rtol=1e-12, atol=1e-12)
    assert f(y.detach()) < f(x0) < f(x.detach())


def test_saddle_free_equals_newton_where_the_hessian_is_positive_definite():
    A, _, _ = random_quadratic(5, seed=8)
    g = torch.randn(5, generator=torch.Generator().manual_seed(9), dtype=DT)
    for damping in (0.0, 0.5):
        torch.testing.assert_close(newton_direction(g, A, damping, saddle_free=True), newton_direction(g, A, damping),
                                   rtol=1e-12, atol=1e-14)


def test_saddle_free_direction_with_damping_is_the_closed_form():
    A, _, Q = random_quadratic(4, seed=10, eigenvalues=[-5.0, -1.0, 0.5, 2.0])
    g = torch.randn(4, generator=torch.Generator().manual_seed(11), dtype=DT)
    abs_H = Q @ torch.diag(torch.tensor([5.0, 1.0, 0.5, 2.0], dtype=DT)) @ Q.T
    expected = torch.linalg.solve(abs_H + 0.25 * torch.eye(4, dtype=DT), g)
    torch.testing.assert_close(newton_direction(g, A, 0.25, saddle_free=True), expected, rtol=1e-12, atol=1e-14)


def test_newton_direction_is_batched():
    As = torch.stack([random_quadratic(3, seed=s)[0] for s in range(4)])
    gs = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=DT)
    batched = newton_direction(gs, As, 0.1, saddle_free=True)
    for k in range(4):
        torch.testing.assert_close(batched[k], newton_direction(gs[k], As[k], 0.1, saddle_free=True))


def test_hessian_equals_torch_func_hessian_and_the_closed_form():
    w = torch.tensor([-0.7, 1.3], dtype=DT)
    a, b = 1.0, 100.0
    analytic = torch.tensor([[2 - 4 * b * (w[1] - w[0] ** 2) + 8 * b * w[0] ** 2, -4 * b * w[0]],
                             [-4 * b * w[0], 2 * b]], dtype=DT)
    analytic_grad = torch.tensor([-2 * (a - w[0]) - 4 * b * w[0] * (w[1] - w[0] ** 2), 2 * b * (w[1] - w[0] ** 2)],
                                 dtype=DT)
    by_func = torch.func.hessian(lambda v: rosenbrock(v[0], v[1]))(w)
    w0, w1 = w[0].clone().requires_grad_(True), w[1].clone().requires_grad_(True)  # two parameters
    loss, g, H = gradient_and_hessian(lambda: rosenbrock(w0, w1), [w0, w1])
    torch.testing.assert_close(H, analytic, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(H, by_func, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g, analytic_grad, rtol=1e-12, atol=1e-12)
    assert loss.item() == pytest.approx(rosenbrock(w[0], w[1]).item(), rel=1e-14)


def loss_of(params):
    """A non-quadratic loss coupling every parameter, convex enough near the start for Newton to behave."""
    x = torch.cat([p.reshape(-1) for p in params])
    n = len(x)
    M = torch.arange(n * n, dtype=DT).reshape(n, n).sin() * 0.3
    return (x**2).sum() + 0.1 * (x**4).sum() + torch.log1p((M @ x) ** 2).sum() + x.sum()


def reference_step(params, lrs, damping, saddle_free):
    """torch.func.hessian over the flattened parameters and a dense solve; each group moves by its own lr."""
    like = [p.detach() for p in params]
    x = flat(like)

    def f(v):
        return loss_of(pieces(v, [p.shape for p in like]))

    g = torch.func.grad(f)(x)
    H = torch.func.hessian(f)(x)
    if saddle_free:
        lam, Q = torch.linalg.eigh(H)
        H = Q @ torch.diag(lam.abs()) @ Q.T
    d = torch.linalg.solve(H + damping * torch.eye(len(x), dtype=DT), g)
    out, offset = [], 0
    for p, lr in zip(like, lrs):
        out.append(p - lr * d[offset:offset + p.numel()].reshape(p.shape))
        offset += p.numel()
    return out


@pytest.mark.parametrize("cls", [Newton, SaddleFreeNewton])
@pytest.mark.parametrize("shapes", SHAPES[1:], ids=str)
def test_equals_the_reference_step_for_step_with_param_groups(cls, shapes):
    P = sum(torch.Size(s).numel() for s in shapes)
    start = torch.randn(P, generator=torch.Generator().manual_seed(P), dtype=DT)
    ours = split(start, shapes)
    expected = [p.detach().clone() for p in ours]
    groups = [{"params": ours[:1]}]
    if len(ours) > 1:
        groups.append({"params": ours[1:], "lr": 0.25})
    optimizer = cls(groups, lr=0.5, damping=0.1)
    lrs = [0.5] + [0.25] * (len(ours) - 1)
    for step in range(8):
        loss = optimizer.step(lambda: loss_of(ours))
        assert loss.item() == pytest.approx(loss_of(expected).item(), rel=1e-12)
        expected = reference_step(expected, lrs, 0.1, cls.SADDLE_FREE)
        for a, b in zip(ours, expected):
            torch.testing.assert_close(a.detach(), b, rtol=1e-10, atol=1e-12, msg=f"step {step + 1}")


def test_state_dict_round_trip_equals_an_uninterrupted_run():
    def run(optimizer, params, steps):
        for _ in range(steps):
            optimizer.step(lambda: loss_of(params))

    straight = split(torch.linspace(-1, 1, 5, dtype=DT), [(5,)])
    run(SaddleFreeNewton(straight, lr=0.5, damping=0.2), straight, 6)
    interrupted = split(torch.linspace(-1, 1, 5, dtype=DT), [(5,)])
    first = SaddleFreeNewton(interrupted, lr=0.5, damping=0.2)
    run(first, interrupted, 3)
    saved = copy.deepcopy(first.state_dict())
    second = SaddleFreeNewton(interrupted, lr=0.1, damping=3.0)
    second.load_state_dict(saved)
    assert second.param_groups[0]["lr"] == 0.5 and second.param_groups[0]["damping"] == 0.2
    run(second, interrupted, 3)
    torch.testing.assert_close(interrupted[0].detach(), straight[0].detach(), rtol=0, atol=0)


def test_lr_property_and_schedulers_work():
    x = torch.ones(2, dtype=DT, requires_grad=True)
    optimizer = Newton([x], lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    optimizer.step(lambda: (x**2).sum())
    scheduler.step()
    assert optimizer.lr == 0.5


@pytest.mark.parametrize("kw, name", [(dict(lr=-1.0), "learning rate"), (dict(lr=float("nan")), "learning rate"),
                                      (dict(damping=-0.1), "damping"), (dict(damping=float("inf")), "damping")])
def test_invalid_settings_raise_value_errors_naming_them(kw, name):
    x = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=name):
        Newton([x], **kw)
    with pytest.raises(ValueError, match=name):
        SaddleFreeNewton([x], **kw)


def test_unsupported_group_settings_and_mixed_damping_are_refused():
    x, y = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="momentum"):
        Newton([{"params": [x], "momentum": 0.9}])
    optimizer = Newton([{"params": [x]}, {"params": [y], "damping": 1.0}])
    with pytest.raises(ValueError, match="same damping"):
        optimizer.step(lambda: (x**2).sum() + (y**2).sum())
    optimizer = Newton([x])
    optimizer.param_groups[0]["damping"] = -1.0  # written by hand: checked at the step
    with pytest.raises(ValueError, match="damping"):
        optimizer.step(lambda: (x**2).sum())


def test_step_needs_a_closure_that_returns_the_loss():
    x = torch.ones(2, dtype=DT, requires_grad=True)
    optimizer = Newton([x])
    with pytest.raises(ValueError, match="closure"):
        optimizer.step()

    def backward_closure():  # the torch.optim.LBFGS habit: backward() inside the closure frees the graph
        optimizer.zero_grad()
        loss = (x**4).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="backward"):
        optimizer.step(backward_closure)
    with pytest.raises(ValueError, match="one-element"):
        optimizer.step(lambda: x**2)
    assert torch.equal(x.detach(), torch.ones(2, dtype=DT))  # no step was taken


@pytest.mark.parametrize("grad, hessian", [
    (torch.ones(3), torch.eye(2)),
    (torch.ones(2), torch.ones(2)),
    (torch.ones(()), torch.ones(())),
    (torch.ones(2, 2), torch.eye(2)),
])
def test_newton_direction_refuses_bad_shapes(grad, hessian):
    with pytest.raises(ValueError, match="shapes"):
        newton_direction(grad, hessian)


def test_newton_direction_refuses_bad_values():
    g, H = torch.ones(2, dtype=DT), torch.eye(2, dtype=DT)
    for damping in (-1.0, float("nan"), float("inf"), "1"):
        with pytest.raises(ValueError, match="damping"):
            newton_direction(g, H, damping)
    with pytest.raises(ValueError, match="symmetric"):
        newton_direction(g, torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=DT))
    with pytest.raises(ValueError, match="finite"):
        newton_direction(torch.tensor([1.0, float("nan")], dtype=DT), H)
    with pytest.raises(ValueError, match="tensors"):
        newton_direction([1.0, 1.0], H)


def test_a_singular_system_raises_instead_of_stepping():
    g = torch.tensor([1.0, 1.0], dtype=DT)
    flat_direction = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=DT)  # zero curvature along w1
    with pytest.raises(torch.linalg.LinAlgError, match="damping"):
        newton_direction(g, flat_direction)
    with pytest.raises(torch.linalg.LinAlgError, match="damping"):
        newton_direction(g, flat_direction, saddle_free=True)
    with pytest.raises(torch.linalg.LinAlgError):
        newton_direction(g, torch.zeros(2, 2, dtype=DT))
    # H + lambda I singular: an eigenvalue -lambda
    with pytest.raises(torch.linalg.LinAlgError):
        newton_direction(g, torch.diag(torch.tensor([-1.0, 2.0], dtype=DT)), damping=1.0)
    # damping makes it solvable; saddle-free never cancels with damping
    torch.testing.assert_close(newton_direction(g, flat_direction, damping=1.0), torch.tensor([0.5, 1.0], dtype=DT))
    torch.testing.assert_close(newton_direction(g, torch.diag(torch.tensor([-1.0, 2.0], dtype=DT)), damping=1.0,
                                                saddle_free=True), torch.tensor([0.5, 1 / 3], dtype=DT))
    # a parameter the loss does not reach: singular without damping, left in place with it
    x, unused = torch.ones(2, dtype=DT, requires_grad=True), torch.ones(1, dtype=DT, requires_grad=True)
    with pytest.raises(torch.linalg.LinAlgError):
        Newton([x, unused]).step(lambda: (x**2).sum())
    Newton([x, unused], damping=1e-3).step(lambda: (x**2).sum())
    assert unused.item() == 1.0 and x.detach().abs().max() < 1e-3


def test_a_linear_loss_has_a_zero_hessian():
    x = torch.ones(3, dtype=DT, requires_grad=True)
    loss, g, H = gradient_and_hessian(lambda: (torch.arange(3, dtype=DT) * x).sum(), [x])
    assert torch.equal(H, torch.zeros(3, 3, dtype=DT)) and torch.equal(g, torch.arange(3, dtype=DT))
    Newton([x], lr=0.5, damping=2.0).step(lambda: (torch.arange(3, dtype=DT) * x).sum())
    torch.testing.assert_close(x.detach(), 1 - 0.5 * torch.arange(3, dtype=DT) / 2)  # GD with rate lr / damping


@pytest.mark.parametrize("cls, damping", [(Newton, 0.0), (Newton, 0.7), (SaddleFreeNewton, 0.0),
                                          (SaddleFreeNewton, 3.0)])
def test_newton_curves_follow_the_optimizers_path_by_path(cls, damping):
    starts = [[0.3, 1.0], [-0.2, -0.5], [1.7, 0.4]]
    curves = newton_curves(double_well, starts, num_steps=6, lr=0.8, damping=damping, saddle_free=cls.SADDLE_FREE)
    assert curves.shape == (3, 7, 3)
    for start, curve in zip(starts, curves):
        w = torch.tensor(start, dtype=DT, requires_grad=True)
        optimizer = cls([w], lr=0.8, damping=damping)
        for t in range(7):
            np.testing.assert_allclose(curve[t], [*w.tolist(), double_well(w[0], w[1]).item()], rtol=1e-12,
                                       atol=1e-14)
            optimizer.step(lambda: double_well(w[0], w[1]))


def test_newton_curves_from_near_the_saddle_of_the_double_well():
    (newton,), (saddle_free,) = (newton_curves(double_well, [0.01, 1.5], num_steps=30, saddle_free=s) for s in
                                 (False, True))
    np.testing.assert_allclose(newton[-1], [0.0, 0.0, 1.0], atol=1e-12)  # stuck on the saddle
    np.testing.assert_allclose(saddle_free[-1], [1.0, 0.0, 0.0], atol=1e-12)  # escaped to a minimum
    with pytest.raises(ValueError, match="num_steps"):
        newton_curves(double_well, [0.0, 1.0], num_steps=-1)
    with pytest.raises(ValueError, match="learning rate"):
        newton_curves(double_well, [0.0, 1.0], lr=-1.0)


def test_one_damping_per_matrix_or_per_path():
    As = torch.stack([random_quadratic(3, seed=s)[0] for s in range(3)])
    gs = torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=DT)
    dampings = torch.tensor([0.0, 0.5, 2.0], dtype=DT)
    batched = newton_direction(gs, As, dampings)
    for k in range(3):
        torch.testing.assert_close(batched[k], newton_direction(gs[k], As[k], dampings[k].item()))
    curves = newton_curves(double_well, [0.3, 1.0], num_steps=5, damping=[0.0, 3.0])
    for curve, damping in zip(curves, (0.0, 3.0)):
        np.testing.assert_array_equal(curve, newton_curves(double_well, [0.3, 1.0], num_steps=5, damping=damping)[0])
    with pytest.raises(ValueError, match="damping"):
        newton_direction(gs, As, torch.tensor([0.0, -1.0, 1.0], dtype=DT))
    with pytest.raises(ValueError, match="damping"):
        newton_direction(gs, As, torch.tensor([0.0, 1.0], dtype=DT))
    with pytest.raises(ValueError, match="dampings"):
        newton_curves(double_well, [[0.3, 1.0], [0.1, 0.2]], damping=[0.0, 1.0, 2.0])
