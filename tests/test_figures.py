"""Every stored figure is made for readers: sharp (2x pixels), no wider than the text column (so its type is shown
at its own size), described by alt text; code that is shown fits the page; plotting code is folded, and hidden
cells are folded in JupyterLab and Colab too."""

import base64
import io
import re
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from optim_helpers import style

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
COLUMN = 690  # CSS pixels: the width of the book's text column at its default layout
CODE_WIDTH = 79  # characters of a code line that fit the column's code blocks


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _shown(cell):
    return not {"remove-cell", "remove-input"} & set(cell.metadata.get("tags", []))


def _png_size(data):
    return Image.open(io.BytesIO(base64.b64decode(data))).size


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_are_retina_pngs_no_wider_than_the_column(path):
    for i, cell in enumerate(_code_cells(path)):
        for output in cell.outputs:
            if "image/png" not in output.get("data", {}):
                continue
            width, height = _png_size(output.data["image/png"])
            mode = Image.open(io.BytesIO(base64.b64decode(output.data["image/png"]))).mode
            assert mode == "P", f"{path.name} cell {i}: not drawn by style.png (a {mode} PNG)"
            shown = output.metadata.get("image/png", {})
            assert shown, f"{path.name} cell {i}: a figure without display size (not retina)"
            assert abs(width - 2 * shown["width"]) <= 2, f"{path.name} cell {i}: {width} px shown at {shown}"
            assert shown["width"] <= COLUMN, f"{path.name} cell {i}: {shown['width']} px wide, the column has {COLUMN}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text(path):
    for i, cell in enumerate(_code_cells(path)):
        figures = sum("image/png" in o.get("data", {}) for o in cell.outputs)
        if not figures or not _shown_output(cell):
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        assert len(alt.split()) >= 8, f"{path.name} cell {i}: alt text {alt!r} does not say what the figure shows"


def _shown_output(cell):
    return not {"remove-cell", "remove-output"} & set(cell.metadata.get("tags", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_explorer_frames_are_as_sharp_as_figures(path):
    for i, cell in enumerate(_code_cells(path)):
        for output in cell.outputs:
            page = "".join(output.get("data", {}).get("text/html", ""))
            if "optim-explorer" not in page:
                continue
            shown = int(re.search(r'<img class="optim-explorer-frame"[^>]* width="(\d+)"', page).group(1))
            first = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
            assert shown <= COLUMN and abs(_png_size(first)[0] - 2 * shown) <= 2, f"{path.name} cell {i}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_shown_code_fits_the_page(path):
    long = [(i, line) for i, cell in enumerate(_code_cells(path)) if _shown(cell)
            for line in cell.source.splitlines() if len(line) > CODE_WIDTH]
    assert not long, f"{path.name}: {len(long)} code lines longer than {CODE_WIDTH} characters, first {long[0]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_folded_and_hidden_code_is_folded_in_jupyterlab_and_colab_too(path):
    cells = _code_cells(path)
    assert any("hide-input" in c.metadata.get("tags", []) for c in cells), f"{path.name}: no plotting code folded"
    for i, cell in enumerate(cells):
        if {"hide-input", "remove-cell"} & set(cell.metadata.get("tags", [])):
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"{path.name} cell {i}"
            assert cell.metadata.get("cellView") == "form", f"{path.name} cell {i}: not folded on Colab"


def test_the_column_fits_the_house_width():
    assert style.WIDTH * style.DPI <= COLUMN
