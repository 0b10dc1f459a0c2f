"""The book's one repository address, and the Colab bootstrap cell of every notebook and assignment that uses it."""

import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ASSIGNMENTS = sorted((ROOT / "assignments" / "source").glob("*/*.ipynb"))
REPOSITORY = CONFIG["repository"]["url"]
GIT_URL = re.compile(r"git\+(https://[^\s\"']+)")


def _first_code_cell(path):
    nb = nbformat.read(path, as_version=4)
    return nb.cells[0]


def test_the_config_names_one_repository_and_every_launch_button():
    assert REPOSITORY.startswith("https://github.com/") and not REPOSITORY.endswith((".git", "/"))
    assert CONFIG["repository"]["branch"] == "main"
    buttons = CONFIG["launch_buttons"]
    assert buttons["colab_url"] == "https://colab.research.google.com"
    assert buttons["binderhub_url"] == "https://mybinder.org"
    assert CONFIG["html"]["use_repository_button"] and CONFIG["html"]["use_download_button"]


def test_there_are_eleven_chapters():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 12)]


@pytest.mark.parametrize("path", NOTEBOOKS + ASSIGNMENTS, ids=lambda p: p.stem)
def test_bootstrap_cell_installs_from_the_configured_repository(path):
    cell = _first_code_cell(path)
    assert cell.cell_type == "code", "the first cell is the Colab bootstrap"
    if path.parent.name == "notebooks":
        assert "remove-cell" in cell.metadata.get("tags", []), "the bootstrap is hidden in the book"
    urls = GIT_URL.findall(cell.source)
    assert urls == [REPOSITORY], f"{path.name} installs from {urls}, _config.yml says {REPOSITORY}"
    # A no-op where the package is importable: the install sits under `except ImportError`.
    assert re.search(r"try:\s+import optim_helpers.*\nexcept ImportError:\s+%pip install", cell.source, re.S)
    assert cell.source.count("%pip") == 1 and "torch" not in cell.source, "never reinstall Colab's torch"


def _run_bootstrap(source):
    """Run a bootstrap cell with its ``%pip install ARGS`` magic recorded instead of run; return the ARGS."""
    installs = []
    code = re.sub(r"%pip install (.*)", lambda m: f"installs.append({m.group(1).strip()!r})", source)
    exec(compile(code, "bootstrap", "exec"), {"installs": installs})
    return installs


@pytest.mark.parametrize("path", NOTEBOOKS + ASSIGNMENTS, ids=lambda p: p.stem)
def test_bootstrap_cell_is_a_no_op_where_the_package_is_importable(path):
    assert _run_bootstrap(_first_code_cell(path).source) == []


@pytest.mark.parametrize("path", NOTEBOOKS + ASSIGNMENTS, ids=lambda p: p.stem)
def test_bootstrap_cell_installs_where_the_package_is_missing(path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optim_helpers", None)  # `import optim_helpers` now raises ImportError
    (args,) = _run_bootstrap(_first_code_cell(path).source)
    assert f"optim-helpers @ git+{REPOSITORY}" in args


def test_binder_installs_the_package_alone():
    lines = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    assert [line for line in lines if line and not line.startswith("#")] == ["."]
