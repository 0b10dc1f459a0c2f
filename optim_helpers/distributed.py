r"""Data-parallel SGD with ``torch.distributed`` and ``DistributedDataParallel``, small enough for a laptop.

:math:`W` worker processes each hold a full copy of the model. At every step all of them draw the same
global minibatch of :math:`B` examples and rank :math:`r` keeps its own shard
:math:`S_r` of :math:`B/W` of them. Each computes the gradient of the mean loss on its shard,
:math:`g_r = \frac{W}{B} \sum_{i \in S_r} \nabla \ell_i`, and ``DistributedDataParallel`` all-reduces
(sums) the gradients during the backward pass and divides by :math:`W`, so that every rank ends up with

.. math:: \frac{1}{W} \sum_{r=1}^{W} g_r = \frac{1}{B} \sum_{i=1}^{B} \nabla \ell_i ,

the gradient of the large batch. Every rank then takes the same optimizer step, and the copies stay equal:
data-parallel training *is* large-batch training, which is why the learning rate must follow the global
batch size. The shards must be of equal size (:math:`W` divides :math:`B`), or the plain average over
ranks would weight the examples unequally.

:func:`data_parallel_train` starts the workers itself (``spawn`` start method, a free port on
127.0.0.1, the gloo backend on CPU and NCCL when every rank can have its own GPU), collects their results
through a queue, destroys the process groups and gives up after ``timeout`` seconds rather than hang.
:func:`large_batch_train` is the same training in one process, for comparison. At scale, one starts one
process per GPU with ``torchrun`` instead, which sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT`` for each of them.
"""

import copy
import datetime
import numbers
import queue as queue_module
import socket
import time
import traceback

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from .training import cross_entropy

__all__ = ["free_port", "default_backend", "global_batches", "data_parallel_train", "large_batch_train"]


def free_port(host="127.0.0.1"):
    """A TCP port on ``host`` that is free right now (the operating system picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def default_backend(world_size):
    """``"nccl"`` when NCCL is built in and there is one GPU per rank, otherwise ``"gloo"`` (CPU)."""
    if torch.cuda.is_available() and dist.is_nccl_available() and torch.cuda.device_count() >= world_size:
        return "nccl"
    return "gloo"


def _check_int(name, value, minimum):
    if not (isinstance(value, numbers.Integral) and value >= minimum):
        raise ValueError(f"Invalid {name}: {value} (must be an int >= {minimum})")


def global_batches(num_examples, batch_size, num_steps, seed=0):
    """The indices of the global minibatch of every step: ``batch_size`` distinct examples drawn at random.

    Returns:
        A ``torch.long`` tensor of shape ``(num_steps, batch_size)``, the same for the same arguments
        (its own generator; the global random state is untouched).
    """
    _check_int("num_examples", num_examples, 1)
    _check_int("batch_size", batch_size, 1)
    _check_int("num_steps", num_steps, 0)
    if batch_size > num_examples:
        raise ValueError(f"Invalid batch_size: {batch_size} (the data have only {num_examples} examples)")
    generator = torch.Generator().manual_seed(seed)
    if num_steps == 0:
        return torch.zeros((0, batch_size), dtype=torch.long)
    return torch.stack([torch.randperm(num_examples, generator=generator)[:batch_size] for _ in range(num_steps)])


def _grads(model):
    return [p.grad.detach().cpu().clone().numpy() for p in model.parameters()]


def _weights(model):
    return [p.detach().cpu().clone().numpy() for p in model.parameters()]


def _worker(rank, world_size, port, backend, model, X, y, batches, lr, momentum, loss_fn, timeout, num_threads,
            results):
    """One rank: join the group, train its DDP copy on its shard of every global batch, report to ``results``."""
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(num_threads)
    try:
        dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size,
                                timeout=datetime.timedelta(seconds=timeout))
        try:
            device = torch.device(f"cuda:{rank}") if backend == "nccl" else torch.device("cpu")
            # A private copy: tensors sent to spawned processes arrive in shared memory, so without it all
            # ranks would update one and the same storage (and step W times per step).
            model = copy.deepcopy(model).to(device)
            ddp = DistributedDataParallel(model, device_ids=[rank] if backend == "nccl" else None)
            optimizer = torch.optim.SGD(ddp.parameters(), lr=lr, momentum=momentum)
            shard = batches.shape[1] // world_size
            losses, local_gradient, first_gradient = [], None, None
            for step, idx in enumerate(batches):
                mine = idx[rank * shard:(rank + 1) * shard]
                xb, yb = X[mine].to(device), y[mine].to(device)
                if step == 0:  # this rank's own gradient, before any communication
                    with ddp.no_sync():
                        loss_fn(ddp(xb), yb).backward()
                    local_gradient = _grads(model)
                    optimizer.zero_grad()
                loss = loss_fn(ddp(xb), yb)
                loss.backward()  # DDP all-reduces the gradients here and divides by world_size
                if step == 0:
                    first_gradient = _grads(model)
                optimizer.step()
                optimizer.zero_grad()
                total = loss.detach().clone()
                dist.all_reduce(total)  # the mean loss of the global batch, for the record
                losses.append(total.item() / world_size)
            results.put((rank, "ok", {"weights": _weights(model), "losses": losses, "local_gradient": local_gradient,
                                      "first_gradient": first_gradient}))
        finally:
            dist.destroy_process_group()
    except Exception:  # report instead of leaving the parent waiting
        results.put((rank, "error", traceback.format_exc()))


def _check_common(model, X, y, batch_size, num_steps, lr, momentum):
    _check_int("batch_size", batch_size, 1)
    _check_int("num_steps", num_steps, 0)
    if len(X) != len(y):
        raise ValueError(f"Invalid data: {len(X)} inputs but {len(y)} labels")
    if not (lr >= 0 and lr < float("inf")):
        raise ValueError(f"Invalid learning rate: {lr} (must be finite and >= 0)")
    if not 0 <= momentum < 1:
        raise ValueError(f"Invalid momentum: {momentum} (must be in [0, 1))")


def data_parallel_train(model, X, y, batch_size, num_steps, lr, world_size=2, momentum=0.0, loss_fn=cross_entropy,
                        seed=0, backend=None, timeout=60.0, num_threads=1):
    r"""Train a copy of ``model`` with SGD on ``world_size`` processes, each on its share of every global batch.

    The global batches are :func:`global_batches` ``(len(X), batch_size, num_steps, seed)``; rank :math:`r`
    uses the :math:`r`-th of ``world_size`` equal slices of each. ``model`` itself is not changed.

    Args:
        model: a picklable ``nn.Module`` (its class importable, e.g. :class:`optim_helpers.MLP`).
        X, y: the whole training set (every rank receives it and picks its shard).
        batch_size: the *global* batch size :math:`B`, a multiple of ``world_size``.
        num_steps, lr, momentum: the run: ``torch.optim.SGD(lr=lr, momentum=momentum)`` on every rank.
        world_size: the number of processes :math:`W`.
        loss_fn: a picklable ``loss_fn(logits, y)`` returning the mean loss.
        backend: ``"gloo"`` or ``"nccl"``; ``None`` picks with :func:`default_backend`.
        timeout: seconds before the run is abandoned (the workers are terminated).
        num_threads: torch threads per worker.

    Returns:
        A dict: ``weights`` (final parameters of rank 0, a list of ``np.ndarray`` in ``model.parameters()``
        order), ``losses`` (the global batch's mean loss at every step, before the step), ``first_gradient``
        (the all-reduced gradient of the first step), ``local_gradients`` (each rank's gradient of its own
        shard at the first step, before communication), ``rank_weights`` (every rank's final parameters)
        and ``backend``.

    Raises:
        ValueError: bad arguments. TimeoutError: the workers did not finish in time. RuntimeError: a
        worker failed (its traceback is in the message).
    """
    _check_common(model, X, y, batch_size, num_steps, lr, momentum)
    _check_int("world_size", world_size, 1)
    if batch_size % world_size:
        raise ValueError(f"Invalid batch_size: {batch_size} (must be a multiple of world_size={world_size})")
    if not timeout > 0:
        raise ValueError(f"Invalid timeout: {timeout} (must be > 0)")
    backend = backend or default_backend(world_size)
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"Invalid backend: {backend!r} (use 'gloo' or 'nccl')")
    batches = global_batches(len(X), batch_size, num_steps, seed)
    model = copy.deepcopy(model).cpu()
    context = mp.get_context("spawn")
    results = context.Queue()
    port = free_port()
    workers = [
        context.Process(target=_worker, args=(rank, world_size, port, backend, model, X.cpu(), y.cpu(), batches,
                                              lr, momentum, loss_fn, timeout, num_threads, results), daemon=True)
        for rank in range(world_size)
    ]
    for w in workers:
        w.start()
    collected = {}
    deadline = time.monotonic() + timeout
    try:
        for _ in range(world_size):
            rank, status, payload = results.get(timeout=max(0.0, deadline - time.monotonic()))
            if status != "ok":
                raise RuntimeError(f"Data-parallel worker {rank} failed:\n{payload}")
            collected[rank] = payload
    except queue_module.Empty:
        raise TimeoutError(f"The {world_size} workers did not finish within {timeout} s") from None
    finally:
        for w in workers:
            w.join(timeout=5)
            if w.is_alive():
                w.terminate()
                w.join()
    first = collected[0]
    return {
        "weights": first["weights"],
        "losses": first["losses"],
        "first_gradient": first["first_gradient"],
        "local_gradients": [collected[r]["local_gradient"] for r in range(world_size)],
        "rank_weights": [collected[r]["weights"] for r in range(world_size)],
        "backend": backend,
    }


def large_batch_train(model, X, y, batch_size, num_steps, lr, momentum=0.0, loss_fn=cross_entropy, seed=0):
    """The same training as :func:`data_parallel_train`, in one process on whole global batches.

    Returns:
        A dict with ``weights``, ``losses`` and ``first_gradient`` as in :func:`data_parallel_train`
        (``model`` itself is not changed).
    """
    _check_common(model, X, y, batch_size, num_steps, lr, momentum)
    batches = global_batches(len(X), batch_size, num_steps, seed)
    model = copy.deepcopy(model)
    device = next(model.parameters()).device
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses, first_gradient = [], None
    for step, idx in enumerate(batches):
        loss = loss_fn(model(X[idx].to(device)), y[idx].to(device))
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            first_gradient = _grads(model)
        optimizer.step()
        losses.append(loss.item())
    return {"weights": _weights(model), "losses": losses, "first_gradient": first_gradient}
