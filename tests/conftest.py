import matplotlib
import torch

matplotlib.use("Agg")
# The tests use tiny tensors: extra threads only spin, and on a busy 2-core runner that costs ~5x the time.
torch.set_num_threads(1)
