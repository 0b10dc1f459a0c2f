import pytest
import torch

from optim_helpers import pick_device


def test_picks_cuda_exactly_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")


def test_explicit_choice_wins(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cuda", 0)) == torch.device("cuda", 0)
    with pytest.raises(ValueError, match="there are 1 CUDA devices"):
        pick_device("cuda:3")


@pytest.mark.parametrize("bad", ["gpu0", "not-a-device", 3.5])
def test_bad_names_raise(bad):
    with pytest.raises(ValueError, match="Invalid device"):
        pick_device(bad)


def test_cuda_without_gpu_raises(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA"):
        pick_device("cuda")
