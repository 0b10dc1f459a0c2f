"""Each chapter ends with its references (hidden in the book, read in JupyterLab and Colab), kept up to date."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[1]


def _script():
    """scripts/chapter_references.py, the one place that builds the list."""
    spec = importlib.util.spec_from_file_location("chapter_references", ROOT / "scripts" / "chapter_references.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_chapter_lists_what_it_cites_and_is_up_to_date():
    result = subprocess.run([sys.executable, ROOT / "scripts" / "chapter_references.py", "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_list_has_every_cited_key_once_in_order():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Momentum {cite}`polyak1964some`, again {cite:t}`polyak1964some` and "
                                      "{cite}`kingma2015adam, duchi2011adaptive`.")])
    cell = _script().expected_cell(nb, parse_file(ROOT / "references.bib"))
    keys = [line.split("`")[1] for line in cell.source.splitlines() if line.startswith("- `")]
    assert keys == ["polyak1964some", "kingma2015adam", "duchi2011adaptive"]
    assert "remove-cell" in cell.metadata["tags"] and "Polyak" in cell.source
