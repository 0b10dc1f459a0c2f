r"""Small real models and the loops that train and evaluate them.

- :class:`MLP` (built by :func:`mlp`): a multilayer perceptron of ``depth`` hidden layers of equal width,
  plain or with residual (skip) connections.
- :class:`BatchedMLP`: K MLPs of the same shape evaluated (and trained) at once, their weights stacked
  along a leading axis, so K random restarts cost one batched matrix product per layer.
- :func:`train`: the training loop (full batch or minibatches), returning the loss at every step.
- :func:`evaluate`, :func:`cross_entropy`, :func:`accuracy`: loss and accuracy, one number per model.

Conventions: a model maps inputs ``(N, d)`` to logits ``(N, C)``; a batched model to ``(K, N, C)``, and its
losses are then vectors of K, one per model. Training a batched model minimizes the *sum* of the K losses,
so each model receives exactly its own gradient; an optimizer that updates element by element (GD,
RMSProp, Adam, ...) then moves each model exactly as if it were trained alone.
"""

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MLP", "mlp", "BatchedMLP", "cross_entropy", "accuracy", "train", "evaluate"]


class MLP(nn.Module):
    r"""A multilayer perceptron with ``depth`` hidden layers of width ``hidden``.

    With :math:`\phi` the activation, the input layer gives :math:`h_1 = W_0 x + b_0`; each further hidden
    layer :math:`\ell = 1, \dots, \text{depth} - 1` computes

    .. math::
        h_{\ell+1} = W_\ell\, \phi(h_\ell) + b_\ell \quad\text{(plain)}, \qquad
        h_{\ell+1} = h_\ell + W_\ell\, \phi(h_\ell) + b_\ell \quad\text{(residual)},

    and the output is :math:`W_\text{out}\, \phi(h_\text{depth}) + b_\text{out}`. The plain network is the
    usual Linear, activation, Linear, ..., Linear stack; the residual one adds the identity "skip" around
    every hidden layer (a pre-activation residual block, as in He et al., 2016). Both have the same
    parameters, so the skips are the only difference.

    Attributes:
        layers: the ``nn.Linear`` layers in order (input, hidden ..., output).
    """

    def __init__(self, in_features, hidden, out_features, depth=1, residual=False, activation=nn.ReLU):
        super().__init__()
        for name, value in (("in_features", in_features), ("hidden", hidden), ("out_features", out_features),
                            ("depth", depth)):
            if not (isinstance(value, numbers.Integral) and value >= 1):
                raise ValueError(f"Invalid {name}: {value} (must be an int >= 1)")
        sizes = [in_features] + [hidden] * depth + [out_features]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.residual = bool(residual)
        self.activation = activation()

    def forward(self, x):
        h = self.layers[0](x)
        for layer in self.layers[1:-1]:
            z = layer(self.activation(h))
            h = h + z if self.residual else z
        return self.layers[-1](self.activation(h))


def mlp(in_features, hidden, out_features, depth=1, residual=False, activation=nn.ReLU, seed=None):
    """Build an :class:`MLP`; with ``seed``, its initial weights are fixed by it (the global RNG is untouched).

    The weights start as PyTorch's ``nn.Linear`` default: uniform in :math:`\\pm 1/\\sqrt{\\text{fan-in}}`.
    """
    if seed is None:
        return MLP(in_features, hidden, out_features, depth, residual, activation)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLP(in_features, hidden, out_features, depth, residual, activation)


class BatchedMLP(nn.Module):
    r"""K :class:`MLP` s of one shape, evaluated at once: logits of shape ``(K, N, C)``.

    Layer :math:`\ell` holds a weight of shape ``(K, fan_in, fan_out)`` and a bias of shape
    ``(K, 1, fan_out)``; model :math:`k` computes exactly what :class:`MLP` computes with the slices
    ``[k]``, using ``torch.baddbmm`` (one batched product per layer). Inputs of shape ``(N, d)`` are shared
    by all K models; inputs of shape ``(K, N, d)`` give each model its own.

    Build it with :meth:`from_models` (stack existing MLPs) or :meth:`from_seeds` (one fresh MLP per seed,
    so model k starts exactly where ``mlp(..., seed=seeds[k])`` starts).
    """

    def __init__(self, weights, biases, residual=False, activation=nn.ReLU):
        super().__init__()
        if len(weights) != len(biases) or not weights:
            raise ValueError(f"Got {len(weights)} weights and {len(biases)} biases (need as many, at least one)")
        self.weights = nn.ParameterList(nn.Parameter(w) for w in weights)
        self.biases = nn.ParameterList(nn.Parameter(b) for b in biases)
        self.residual = bool(residual)
        self.activation = activation()

    @classmethod
    def from_models(cls, models):
        """Stack K :class:`MLP` s of the same shape (their weights are copied)."""
        models = list(models)
        if not models:
            raise ValueError("from_models needs at least one model")
        shapes = {tuple(p.shape for p in m.parameters()) for m in models}
        if len(shapes) != 1 or len({(m.residual, type(m.activation)) for m in models}) != 1:
            raise ValueError("from_models needs models of one shape, residual flag and activation")
        weights = [torch.stack([m.layers[i].weight.detach().T for m in models]) for i in range(len(models[0].layers))]
        biases = [torch.stack([m.layers[i].bias.detach()[None] for m in models]) for i in range(len(models[0].layers))]
        return cls([w.clone() for w in weights], [b.clone() for b in biases], models[0].residual,
                   type(models[0].activation))

    @classmethod
    def from_seeds(cls, in_features, hidden, out_features, seeds, depth=1, residual=False, activation=nn.ReLU):
        """One :func:`mlp` per seed, stacked: ``len(seeds)`` independent random starts."""
        return cls.from_models(
            mlp(in_features, hidden, out_features, depth, residual, activation, seed=int(s)) for s in seeds
        )

    @property
    def num_models(self):
        return self.weights[0].shape[0]

    def model(self, k):
        """Model ``k`` as a stand-alone :class:`MLP`: a copy of its current weights, in their dtype and on their
        device (the global random state is left as it was)."""
        sizes = [self.weights[0].shape[1]] + [w.shape[2] for w in self.weights]
        with torch.random.fork_rng(devices=[]):  # the fresh layers draw weights that are overwritten at once
            single = MLP(sizes[0], sizes[1], sizes[-1], depth=len(self.weights) - 1, residual=self.residual,
                         activation=type(self.activation))
        single.to(dtype=self.weights[0].dtype, device=self.weights[0].device)
        with torch.no_grad():
            for layer, w, b in zip(single.layers, self.weights, self.biases):
                layer.weight.copy_(w[k].T)
                layer.bias.copy_(b[k, 0])
        return single

    def forward(self, x):
        if x.ndim == 2:
            x = x.expand(self.num_models, *x.shape)
        linear = lambda i, h: torch.baddbmm(self.biases[i], h, self.weights[i])  # noqa: E731
        h = linear(0, x)
        for i in range(1, len(self.weights) - 1):
            z = linear(i, self.activation(h))
            h = h + z if self.residual else z
        return linear(len(self.weights) - 1, self.activation(h))


def cross_entropy(logits, y):
    """Mean cross-entropy: logits ``(N, C)`` give a scalar; batched logits ``(K, N, C)`` one loss per model ``(K,)``."""
    if logits.ndim == 2:
        return F.cross_entropy(logits, y)
    # -log softmax(z)_y = logsumexp(z) - z_y, written out: about 3x faster than F.cross_entropy on (K*N, C)
    picked = logits.gather(-1, y.expand(logits.shape[0], -1)[..., None])[..., 0]
    return (logits.logsumexp(dim=-1) - picked).mean(dim=-1)


def accuracy(logits, y):
    """Share of correct argmax predictions: a scalar for ``(N, C)`` logits, ``(K,)`` for ``(K, N, C)``.

    A model whose outputs are not all finite has no accuracy: NaN (its argmax would be an arbitrary class).
    """
    correct = (logits.argmax(dim=-1) == y).to(logits.dtype).mean(dim=-1)
    finite = torch.isfinite(logits).flatten(start_dim=-2).all(dim=-1)
    return torch.where(finite, correct, torch.full_like(correct, math.nan))


def _check_count(name, value):
    if not (isinstance(value, numbers.Integral) and value >= 0):
        raise ValueError(f"Invalid {name}: {value} (must be an int >= 0)")


def _device_of(model):
    """The device of the model's first parameter (the CPU for a model without parameters)."""
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def _batches(data, num_steps, epochs):
    """Yield ``num_steps`` full batches, or ``epochs`` passes over a loader (at most ``num_steps`` batches)."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        if epochs is not None or num_steps is None:
            raise ValueError("With (X, y) tensors (full batch) give num_steps, not epochs")
        _check_count("num_steps", num_steps)
        for _ in range(num_steps):
            yield data
        return
    if (epochs is None) == (num_steps is None):
        raise ValueError(f"With a loader give exactly one of epochs and num_steps (got {epochs} and {num_steps})")
    if num_steps is not None:
        _check_count("num_steps", num_steps)
        if num_steps == 0:
            return
    else:
        _check_count("epochs", epochs)
    step, epoch = 0, 0
    while epochs is None or epoch < epochs:
        empty = True
        for batch in data:
            empty = False
            yield batch
            step += 1
            if num_steps is not None and step == num_steps:
                return
        if empty:
            raise ValueError("The loader yielded no batches")
        epoch += 1


def train(model, optimizer, data, num_steps=None, epochs=None, loss_fn=cross_entropy, scheduler=None,
          progress=False):
    """Train ``model`` in place and return the loss at every step.

    Each step evaluates the loss on one batch, then calls ``zero_grad``, ``backward`` and ``optimizer.step()``
    (and ``scheduler.step()`` when a scheduler is given). The recorded loss is the batch's loss at the
    weights *before* the step. Each batch is moved to the device of the model's parameters, so a model
    on the GPU trains from CPU loaders. A loss vector (a :class:`BatchedMLP`) is summed for the backward pass, so
    every model gets its own gradient.

    Args:
        model: maps a batch of inputs to logits.
        optimizer: a ``torch.optim.Optimizer`` over ``model``'s parameters.
        data: ``(X, y)`` tensors for full-batch training (then give ``num_steps``), or an iterable of
            ``(X, y)`` minibatches such as a DataLoader (then give ``epochs`` or ``num_steps``).
        num_steps, epochs: how long to train.
        loss_fn: ``loss_fn(logits, y)`` -> a scalar or a vector of K losses.
        scheduler: optional learning-rate scheduler, stepped after every optimizer step.
        progress: show a ``tqdm`` progress bar.

    Returns:
        ``np.ndarray`` of the losses, shape ``(steps,)``, or ``(steps, K)`` for K models at once.
    """
    from tqdm.auto import tqdm

    if num_steps is not None:
        total = num_steps
    elif epochs is not None and hasattr(data, "__len__"):
        total = epochs * len(data)
    else:
        total = None
    model.train()
    losses = []
    device = _device_of(model)
    for X, y in tqdm(_batches(data, num_steps, epochs), total=total, disable=not progress, leave=False):
        loss = loss_fn(model(X.to(device)), y.to(device))
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.detach())
    if not losses:
        return np.zeros((0,))
    return torch.stack(losses).cpu().numpy()


@torch.no_grad()
def evaluate(model, X, y, loss_fn=cross_entropy):
    """``(loss, accuracy)`` of ``model`` on ``(X, y)``: floats, or arrays of K for a :class:`BatchedMLP`.

    The model is put in evaluation mode for the call and its previous mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    try:
        logits = model(X.to(_device_of(model)))
        y = y.to(logits.device)
        loss, acc = loss_fn(logits, y), accuracy(logits, y)
    finally:
        model.train(was_training)
    if loss.ndim == 0:
        return loss.item(), acc.item()
    return loss.cpu().numpy(), acc.cpu().numpy()
