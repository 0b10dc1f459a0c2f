"""Run every notebook to the end in an environment made from ``pip install .`` alone, as on a fresh Colab runtime.

usage: FRESH_VENV/bin/python scripts/run_in_fresh_env.py NOTEBOOK...

Run it with the fresh environment's interpreter (``make fresh-env`` builds one and calls this). Before a
notebook's own cells, a first cell checks that its kernel runs in this environment and imports the
*installed* package, not the source tree; so a dependency that only the pinned ``requirements.txt``
provides makes a notebook fail here. Notebooks run one after another (so the printed times are each
notebook's own, not shared with another kernel) and are never written back.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECK = """\
import sys, optim_helpers
assert sys.prefix == {prefix!r}, f"kernel runs in {{sys.prefix}}, not in the fresh environment"
assert "site-packages" in optim_helpers.__file__, f"imported from {{optim_helpers.__file__}}, not the installed package"
"""


def run(path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(CHECK.format(prefix=sys.prefix)))
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", store_widget_state=False,
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(paths):
    if sys.prefix == sys.base_prefix:
        sys.exit("run this with the fresh virtual environment's python")
    failed = []
    for path in paths:
        try:
            print(f"{path}: ran to the end in {run(path):.1f} s", flush=True)
        except Exception as error:  # report every notebook, then fail
            failed.append(path)
            print(f"{path}: FAILED\n{error}", flush=True)
    if failed:
        sys.exit(f"{len(failed)} notebook(s) failed in the fresh environment: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
