"""Where tensors live: one helper picks the accelerator when there is one.

The notebooks call :func:`pick_device` once and move their models and data there. Every printed number
is computed so that it does not depend on the device (results are moved back to the CPU and rounded), so
the same notebook passes nbval on a laptop, in CI and on a GPU runtime such as Colab.
"""

import torch

__all__ = ["pick_device"]


def pick_device(device=None):
    """The device to compute on: ``cuda`` when a GPU is visible, otherwise ``cpu``.

    Args:
        device: ``None`` (choose automatically), or a name or ``torch.device`` to use instead, for
            example ``"cpu"`` to force the CPU on a GPU machine.

    Returns:
        ``torch.device``.

    Raises:
        ValueError: the name is not a device, or it asks for CUDA where none is available.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"Invalid device: {device!r}") from error
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Invalid device: {device!r} (no CUDA device is available)")
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
        raise ValueError(f"Invalid device: {device!r} (there are {torch.cuda.device_count()} CUDA devices)")
    if chosen.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"Invalid device: {device!r} (no MPS device is available)")
    if chosen.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"Invalid device: {device!r} (must be 'cpu', 'cuda' or 'mps')")
    return chosen
