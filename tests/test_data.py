"""The digits split and standardization, recomputed by hand; seeded, reproducible loaders."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from optim_helpers import digits_loaders, linear_regression_data, load_digits_tensors


def test_shapes_sizes_and_dtypes():
    X_train, y_train, X_test, y_test = load_digits_tensors()
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert y_train.shape == (1347,) and y_test.shape == (450,)
    assert X_train.dtype == torch.float32 and y_train.dtype == torch.long
    assert set(y_train.tolist()) == set(range(10)) == set(y_test.tolist())
    X64 = load_digits_tensors(dtype=torch.float64)[0]
    assert X64.dtype == torch.float64
    assert len(load_digits_tensors(test_fraction=0.5)[3]) == 899


def test_standardized_with_training_statistics_only():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, _, y_te = train_test_split(X, y, test_size=0.25, random_state=3, stratify=y)
    mean, std = X_tr.mean(0), X_tr.std(0)
    X_train, _, X_test, y_test = load_digits_tensors(seed=3, dtype=torch.float64)
    varying = std > 0
    np.testing.assert_allclose(X_train.mean(0).numpy(), 0.0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(0, unbiased=False).numpy()[varying], 1.0, rtol=1e-12)
    assert np.all(X_train.numpy()[:, ~varying] == 0)  # constant pixels: centred, not divided by 0
    expected = (X_te - mean) / np.where(varying, std, 1.0)
    np.testing.assert_allclose(X_test.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert np.array_equal(y_test.numpy(), y_te)
    assert abs(X_test.mean().item()) > 1e-6  # the test set is not re-centred on its own statistics


def test_same_seed_same_split_other_seed_other_split():
    a, b, c = load_digits_tensors(seed=1), load_digits_tensors(seed=1), load_digits_tensors(seed=2)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, "0.25"])
def test_bad_test_fraction_raises(bad):
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits_tensors(test_fraction=bad)


def test_bad_dtype_and_batch_sizes_raise():
    with pytest.raises(ValueError, match="dtype"):
        load_digits_tensors(dtype=torch.int64)
    with pytest.raises(ValueError, match="batch_size: 0"):
        digits_loaders(0)
    with pytest.raises(ValueError, match="test_batch_size: -1"):
        digits_loaders(32, test_batch_size=-1)


def order(loader):
    return torch.cat([y for _, y in loader])


def test_loader_order_reproducible_and_reshuffled_each_epoch():
    train_a, test_a = digits_loaders(100, seed=0)
    train_b, _ = digits_loaders(100, seed=0)
    first_a, second_a = order(train_a), order(train_a)
    assert torch.equal(first_a, order(train_b)) and torch.equal(second_a, order(train_b))
    assert not torch.equal(first_a, second_a)  # a new order every epoch
    X_train, y_train, X_test, y_test = load_digits_tensors()
    assert len(train_a) == 14 and [len(y) for _, y in train_a][-1] == 47
    assert torch.equal(torch.sort(first_a).values, torch.sort(y_train).values)  # every sample once per epoch
    (X, y), = list(test_a)  # the whole test set, in order
    assert torch.equal(X, X_test) and torch.equal(y, y_test)
    assert not torch.equal(order(digits_loaders(100, seed=1)[0]), first_a)


def test_loaders_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_loader, _ = digits_loaders(64, drop_last=True)
    _ = order(train_loader)
    assert torch.equal(torch.rand(3), expected)
    assert all(len(y) == 64 for _, y in train_loader)


def test_linear_regression_data_is_the_stated_line_plus_noise():
    X, y = linear_regression_data(n=1000, w_true=(-1.0, 3.0), noise=0.05, seed=0)
    assert X.shape == (1000, 2) and y.shape == (1000,) and X.dtype == torch.float64
    assert torch.all(X[:, 0] == 1) and -1 <= X[:, 1].min() and X[:, 1].max() <= 1
    assert abs(X[:, 1].mean()) < 0.06 and abs(X[:, 1].var() - 1 / 3) < 0.03  # U[-1, 1]
    residual = y - (-1 + 3 * X[:, 1])
    assert abs(residual.std() - 0.05) < 0.005 and abs(residual.mean()) < 0.005
    exact, _ = linear_regression_data(n=10, noise=0.0, x_range=(2.0, 5.0), w_true=(0.5, -2.0), seed=3)
    x = exact[:, 1]
    assert torch.all((2 <= x) & (x <= 5))
    np.testing.assert_allclose(linear_regression_data(n=10, noise=0.0, x_range=(2.0, 5.0), w_true=(0.5, -2.0),
                                                      seed=3)[1].numpy(), (0.5 - 2 * x).numpy(), rtol=1e-12)
    assert linear_regression_data(n=5, dtype=torch.float32)[0].dtype == torch.float32


def test_linear_regression_data_is_seeded_and_leaves_the_global_state_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    a, b, c = (linear_regression_data(n=50, seed=s) for s in (1, 1, 2))
    assert torch.equal(torch.rand(3), expected)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[1], c[1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "Invalid n: 0"),
        ({"n": 2.5}, "Invalid n: 2.5"),
        ({"noise": -0.1}, "Invalid noise: -0.1"),
        ({"noise": float("nan")}, "Invalid noise: nan"),
        ({"x_range": (1.0, 1.0)}, "Invalid x_range"),
        ({"w_true": (1.0, 2.0, 3.0)}, "Invalid w_true"),
        ({"dtype": torch.int64}, "Invalid dtype"),
    ],
)
def test_linear_regression_data_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        linear_regression_data(**kwargs)


def test_digits_splits_keep_the_training_set_and_halve_the_held_out_images():
    from optim_helpers import load_digits_splits

    X_train, y_train, X_val, y_val, X_test, y_test = load_digits_splits(seed=0)
    X_tr, y_tr, X_held, y_held = load_digits_tensors(test_fraction=0.25, seed=0)
    assert torch.equal(X_train, X_tr) and torch.equal(y_train, y_tr)
    assert (len(y_val), len(y_test)) == (225, 225)
    # validation and test partition the held-out images: every held-out row appears in exactly one of them
    held = {tuple(r) for r in X_held.tolist()}
    val, test = {tuple(r) for r in X_val.tolist()}, {tuple(r) for r in X_test.tolist()}
    assert val | test == held and not val & test
    assert torch.bincount(y_val, minlength=10).min() >= 20 and torch.bincount(y_test, minlength=10).min() >= 20
    again = load_digits_splits(seed=0)
    assert torch.equal(again[2], X_val) and not torch.equal(load_digits_splits(seed=1)[2], X_val)


def test_digits_splits_reject_a_held_out_set_too_small_to_split():
    from optim_helpers import load_digits_splits

    with pytest.raises(ValueError, match="held_out_fraction"):
        load_digits_splits(held_out_fraction=0.007)  # 13 images
    with pytest.raises(ValueError, match="held_out_fraction: 1.5"):
        load_digits_splits(held_out_fraction=1.5)
