"""Write each chapter's list of references into its last cell, for readers in JupyterLab and Colab.

The book turns `{cite}` roles into links to its bibliography; JupyterLab and Colab show the role as it is written,
with the entry's key. So every notebook ends with a Markdown cell (tagged ``remove-cell``: the book, which has its
bibliography page, leaves it out) listing the entries it cites, by key, from ``references.bib``.

usage: python scripts/chapter_references.py [--check] [NOTEBOOK ...]   (default: every chapter)
    --check: change nothing; exit 1 if a notebook's list is missing or out of date
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat
from pybtex.database import parse_file
from pybtex.plugin import find_plugin

ROOT = Path(__file__).resolve().parents[1]
TAG = "chapter-references"
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def cited_keys(nb):
    """The keys of every citation in the notebook's Markdown, in order of first appearance."""
    keys = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for group in CITE.findall(cell.source):
                keys += [k.strip() for k in group.split(",") if k.strip() not in keys]
    return list(dict.fromkeys(keys))


def references_source(keys, bib):
    style = find_plugin("pybtex.style.formatting", "plain")()
    missing = [k for k in keys if k not in bib.entries]
    if missing:
        raise ValueError(f"Citation keys not in references.bib: {missing}")
    entries = {e.key: e for e in style.format_entries(bib.entries[k] for k in keys)}
    lines = ["## References", "", "The works this chapter cites, by the keys of its citations:", ""]
    lines += [f"- `{k}`: " + " ".join(entries[k].text.render_as("markdown").split("\n")) for k in keys]
    return "\n".join(lines)


def expected_cell(nb, bib):
    keys = cited_keys(nb)
    if not keys:
        return None
    cell = nbformat.v4.new_markdown_cell(references_source(keys, bib))
    cell.metadata["tags"] = ["remove-cell", TAG]
    return cell


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    bib = parse_file(ROOT / "references.bib")
    stale = []
    for path in args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        current = [c for c in nb.cells if TAG in c.metadata.get("tags", [])]
        wanted = expected_cell(nb, bib)
        if [c.source for c in current] == ([wanted.source] if wanted else []):
            continue
        stale.append(path.name)
        if not args.check:
            nb.cells = [c for c in nb.cells if TAG not in c.metadata.get("tags", [])]
            if wanted:
                if current:
                    wanted["id"] = current[0].get("id", wanted.get("id"))
                nb.cells.append(wanted)
            nbformat.write(nb, path)
    if args.check and stale:
        print(f"out of date: {stale}; run scripts/chapter_references.py")
        return 1
    print(f"updated: {stale}" if stale else "all up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
