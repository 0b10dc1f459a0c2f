"""The book renders the outputs stored in the notebooks: they must be complete, and the check that re-creates them
under perturbed floating point must really perturb it."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _perturbations():
    spec = importlib.util.spec_from_file_location("nbval_perturbed", ROOT / "scripts" / "nbval_perturbed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PERTURBATIONS


def test_the_book_renders_stored_outputs_without_executing():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_was_run_in_order_without_error(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert None not in counts, f"{path.name}: unexecuted cells; run `make execute`"
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: not executed top to bottom in one kernel"
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name}: stored error {output.get('ename')}"
            assert WIDGET_VIEW not in output.get("data", {}), f"{path.name}: widget view without state"
    assert "widgets" not in nb.metadata


def _torch_numerics(env):
    code = "import torch; print(torch.backends.cpu.get_cpu_capability(), torch.get_num_threads())"
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True,
                            check=True)
    capability, threads = result.stdout.split()
    return capability, int(threads)


def test_the_perturbations_change_kernels_and_threads():
    perturbations = _perturbations()
    assert _torch_numerics(perturbations["scalar-kernels"])[0] == "DEFAULT"
    assert _torch_numerics(perturbations["avx2-kernels"])[0] in {"DEFAULT", "AVX2"}  # never wider than asked
    assert _torch_numerics(perturbations["one-thread-mkl-compatible"])[1] == 1
    assert perturbations["one-thread-mkl-compatible"]["MKL_CBWR"] == "COMPATIBLE"
