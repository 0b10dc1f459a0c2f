"""The dependency ranges that pyproject.toml declares, kept honest.

``make oldest-env`` runs every notebook with the oldest versions pyproject.toml accepts, as pinned in
requirements-oldest.txt; the first test keeps the two files in step. Only one torch (the pinned CPU build) can be
installed here, so torch's lower bound rests on the documentation instead: every ``torch.*`` name the package
uses is listed below with the release whose documentation first has it, and the second test fails when the
package starts using a name that is not listed, or one newer than the declared bound.
"""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The first torch release documenting each name the package uses (torch.func and the optimizer step hooks came with
# 2.0; meshgrid's indexing=, NAdam and RAdam with 1.10; torch.linalg's names with 1.8 to 1.13; the rest are older).
# Names reached through an alias (F.cross_entropy, dist.all_reduce, nn.Linear) are covered by their module's entry:
# those modules have been stable since 1.x.
TORCH_NAMES = {
    "2.0": ["torch.func.functional_call", "torch.func.grad", "torch.func.hessian", "torch.func.vmap",
            "torch.optim.optimizer", "torch.optim.Optimizer.profile_hook_step"],
    "1.13": ["torch.linalg.LinAlgError"],
    "1.12": ["torch.backends.mps.is_available"],
    "1.10": ["torch.meshgrid", "torch.optim.NAdam", "torch.optim.RAdam"],
    "1.9": ["torch.linalg.lstsq", "torch.linalg.vector_norm"],
    "1.8": ["torch.broadcast_shapes", "torch.linalg.eigh"],
    "1.6": ["torch.view_as_real", "torch.searchsorted", "torch.logaddexp", "torch.utils.data.RandomSampler"],
    "1.5": ["torch.autograd.functional.hessian"],
    "1.2": ["torch.optim.AdamW"],
    "1.0": ["torch.Generator", "torch.Tensor", "torch.abs", "torch.addmm", "torch.arange", "torch.as_tensor",
            "torch.autograd.grad", "torch.autograd.profiler._is_profiler_enabled", "torch.baddbmm", "torch.cat",
            "torch.cuda.current_device", "torch.cuda.device_count", "torch.cuda.is_available", "torch.device",
            "torch.distributed", "torch.einsum", "torch.empty", "torch.enable_grad", "torch.equal", "torch.eye",
            "torch.finfo", "torch.float32", "torch.float64", "torch.full_like", "torch.isfinite", "torch.linspace",
            "torch.log_softmax", "torch.long", "torch.manual_seed", "torch.multiprocessing", "torch.nn.Parameter",
            "torch.nn.functional", "torch.nn.parallel", "torch.no_grad", "torch.ones_like", "torch.optim",
            "torch.optim.Adagrad", "torch.optim.Adam", "torch.optim.LBFGS", "torch.optim.Optimizer",
            "torch.optim.RMSprop", "torch.optim.SGD", "torch.optim.lr_scheduler",
            "torch.optim.lr_scheduler.ReduceLROnPlateau", "torch.rand", "torch.randint", "torch.randn",
            "torch.random.fork_rng", "torch.randperm", "torch.set_num_threads", "torch.sigmoid", "torch.softmax",
            "torch.split", "torch.stack", "torch.tanh", "torch.tensor", "torch.utils.data.BatchSampler",
            "torch.utils.data.DataLoader", "torch.utils.data.Dataset", "torch.utils.data.TensorDataset", "torch.where",
            "torch.zeros", "torch.zeros_like"],
}


def version(text):
    """``"1.24"`` -> ``(1, 24, 0)``: a release as three numbers."""
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def declared_lower_bounds():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {}
    for requirement in dependencies:
        name, bound = re.fullmatch(r"([A-Za-z0-9_-]+)>=([0-9.]+)", requirement).groups()
        bounds[name] = bound
    return bounds


def pins(path):
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return dict(line.split("==") for line in lines if "==" in line)


def test_the_oldest_environment_pins_exactly_the_declared_lower_bounds():
    bounds, oldest = declared_lower_bounds(), pins(ROOT / "requirements-oldest.txt")
    assert set(oldest) == set(bounds)
    for name, bound in bounds.items():
        if name == "torch":  # the one CPU build that can be installed: the pinned one
            assert oldest[name] == pins(ROOT / "requirements.txt")[name] and version(oldest[name]) >= version(bound)
        else:
            assert version(oldest[name]) == version(bound), name


def test_every_torch_name_the_package_uses_is_documented_by_the_declared_torch():
    used = set()
    for path in (ROOT / "optim_helpers").glob("*.py"):
        used |= set(re.findall(r"torch(?:\.[A-Za-z_][A-Za-z0-9_]*)+", path.read_text()))
    listed = {name: release for release, names in TORCH_NAMES.items() for name in names}
    assert used - set(listed) == set(), "add these to TORCH_NAMES with the release that introduced them"
    newest = max(version(listed[name]) for name in used)
    assert newest <= version(declared_lower_bounds()["torch"])
