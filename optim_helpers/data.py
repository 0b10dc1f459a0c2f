r"""The book's data: seeded synthetic linear-regression data, and scikit-learn's bundled handwritten digits.

:func:`linear_regression_data` draws :math:`n` points :math:`x_i \sim U[a, b]` and targets
:math:`y_i = w_0 + w_1 x_i + \sigma \varepsilon_i` with :math:`\varepsilon_i \sim N(0, 1)`; its features are
:math:`(1, x_i)`, so a weight vector :math:`(w_0, w_1)` is an intercept and a slope.

The real data set: scikit-learn's bundled handwritten digits, as tensors and DataLoaders.

``sklearn.datasets.load_digits`` holds 1797 grey-scale images of 8x8 pixels (64 features, values 0 to 16)
in 10 classes (Alpaydin and Kaynak, 1998); it ships with scikit-learn, so nothing is downloaded. The split
into training and test sets is stratified by class and fixed by ``seed``. Features are standardized with
the mean :math:`\mu_j` and standard deviation :math:`s_j` of the *training* set only,

.. math:: x_j \leftarrow (x_j - \mu_j) / s_j ,

(:math:`s_j = 1` for the pixels that are constant in the training set, which are always 0 at the border),
so no information from the test set leaks into training.
"""

import functools
import math
import numbers

import numpy as np
import torch

__all__ = ["linear_regression_data", "load_digits_tensors", "digits_loaders"]


def linear_regression_data(n=1000, w_true=(-1.0, 3.0), noise=0.05, x_range=(-1.0, 1.0), seed=0,
                           dtype=torch.float64):
    r"""Seeded data for a straight-line fit: :math:`y = w_0 + w_1 x + \sigma\varepsilon`.

    Args:
        n: number of examples (an int >= 1).
        w_true: the intercept and slope :math:`(w_0, w_1)` the data are drawn from.
        noise: the standard deviation :math:`\sigma \ge 0` of the Gaussian noise on :math:`y`.
        x_range: ``(low, high)``, the interval :math:`x` is drawn from uniformly.
        seed: seeds a ``torch.Generator`` of its own: the same seed gives the same data, and the global
            random state is left alone.
        dtype: floating dtype of the tensors.

    Returns:
        ``(X, y)``: features of shape ``(n, 2)`` whose rows are :math:`(1, x_i)`, and targets of shape ``(n,)``.
    """
    if not (isinstance(n, numbers.Integral) and n >= 1):
        raise ValueError(f"Invalid n: {n} (must be an int >= 1)")
    if not (isinstance(noise, numbers.Real) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"Invalid noise: {noise} (must be finite and >= 0)")
    low, high = x_range
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"Invalid x_range: {x_range} (must be finite, low < high)")
    if len(w_true) != 2:
        raise ValueError(f"Invalid w_true: {w_true} (must be an intercept and a slope)")
    if not dtype.is_floating_point:
        raise ValueError(f"Invalid dtype: {dtype} (must be a floating dtype)")
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=generator, dtype=torch.float64) * (high - low) + low
    epsilon = torch.randn(n, generator=generator, dtype=torch.float64)
    X = torch.stack([torch.ones_like(x), x], dim=1)
    y = X @ torch.tensor(w_true, dtype=torch.float64) + noise * epsilon
    return X.to(dtype), y.to(dtype)


@functools.lru_cache(maxsize=1)
def _digits():
    """The raw images (1797, 64) as float64 and labels (1797,), read once from scikit-learn's files."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def _check_fraction(value, name="test_fraction"):
    if not (isinstance(value, numbers.Real) and 0.0 < value < 1.0):
        raise ValueError(f"Invalid {name}: {value} (must be in (0, 1))")


def load_digits_tensors(test_fraction=0.25, seed=0, dtype=torch.float32):
    """The digits as standardized tensors, split into a training and a test set.

    Args:
        test_fraction: the share of the 1797 images held out for testing (stratified by class).
        seed: fixes the split; the same seed always gives the same split.
        dtype: floating dtype of the features.

    Returns:
        ``(X_train, y_train, X_test, y_test)``: features of shape ``(n, 64)`` in ``dtype``, standardized
        with the training set's statistics, and integer labels (``torch.long``) of shape ``(n,)``. With the
        defaults, 1347 training and 450 test images.
    """
    from sklearn.model_selection import train_test_split

    _check_fraction(test_fraction)
    if not dtype.is_floating_point:
        raise ValueError(f"Invalid dtype: {dtype} (must be a floating dtype)")
    X, y = _digits()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # constant pixels stay 0 instead of dividing by 0
    as_features = lambda a: torch.as_tensor((a - mean) / std, dtype=dtype)  # noqa: E731
    as_labels = lambda a: torch.as_tensor(a, dtype=torch.long)  # noqa: E731
    return as_features(X_train), as_labels(y_train), as_features(X_test), as_labels(y_test)


def load_digits_splits(held_out_fraction=0.25, seed=0, dtype=torch.float32):
    """The digits split three ways: training, validation and test sets, as standardized tensors.

    The training set is exactly the one of :func:`load_digits_tensors` with ``test_fraction=held_out_fraction``;
    the held-out images are split in half (stratified by class) into a validation set, on which to choose
    hyperparameters, and a test set, to be evaluated once at the end.

    Args:
        held_out_fraction: the share of the 1797 images not used for training (stratified by class).
        seed: fixes both splits.
        dtype: floating dtype of the features.

    Returns:
        ``(X_train, y_train, X_val, y_val, X_test, y_test)``, standardized with the training set's statistics.
        With the defaults, 1347 training, 225 validation and 225 test images.
    """
    from sklearn.model_selection import train_test_split

    _check_fraction(held_out_fraction, "held_out_fraction")
    X_train, y_train, X_held, y_held = load_digits_tensors(held_out_fraction, seed, dtype)
    if len(y_held) < 20:
        raise ValueError(f"Invalid held_out_fraction: {held_out_fraction} (holds out {len(y_held)} images, "
                         "too few to split into validation and test sets)")
    val, test = train_test_split(np.arange(len(y_held)), test_size=0.5, random_state=seed, stratify=y_held.numpy())
    val, test = torch.as_tensor(val), torch.as_tensor(test)
    return X_train, y_train, X_held[val], y_held[val], X_held[test], y_held[test]


def digits_loaders(batch_size, seed=0, test_fraction=0.25, dtype=torch.float32, test_batch_size=None, drop_last=False):
    """Seeded DataLoaders over the digits: a shuffled training loader and an ordered test loader.

    The training loader shuffles with its own ``torch.Generator`` seeded with ``seed``, so the order of
    the minibatches is the same in every run (and does not depend on, or disturb, the global random
    state). Iterating it again gives the next epoch's order.

    Args:
        batch_size: minibatch size of the training loader (an int >= 1).
        seed: fixes both the split (as in :func:`load_digits_tensors`) and the shuffling.
        test_fraction, dtype: as in :func:`load_digits_tensors`.
        test_batch_size: minibatch size of the test loader; ``None`` gives the whole test set in one batch.
        drop_last: drop the last, smaller training minibatch of each epoch.

    Returns:
        ``(train_loader, test_loader)``, two ``torch.utils.data.DataLoader`` over ``TensorDataset`` s.
    """
    for name, size in (("batch_size", batch_size), ("test_batch_size", test_batch_size)):
        if size is None and name == "test_batch_size":
            continue
        if not (isinstance(size, numbers.Integral) and size >= 1):
            raise ValueError(f"Invalid {name}: {size} (must be an int >= 1)")
    X_train, y_train, X_test, y_test = load_digits_tensors(test_fraction, seed, dtype)
    generator = torch.Generator().manual_seed(seed)
    train_loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True,
        generator=generator, drop_last=drop_last,
    )
    test_loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X_test, y_test), batch_size=test_batch_size or len(y_test), shuffle=False
    )
    return train_loader, test_loader
