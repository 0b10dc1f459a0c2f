"""Latency of every chapter's live explorer, in a kernel: slider change to new image bytes.

Each chapter runs in a kernel (nbclient) up to its end; then, for every explorer it built, each slider is moved
through all its values, one move at a time from the explorer's start, and each move is timed as the live widget
does it: ``explorer.render(**values)`` (update the figure, draw it, encode the PNG that the image widget shows).
Targets: at most 50 ms for the 2-D surfaces, at most 150 ms for the explorers over real models (chapters 07-09).

usage: python benchmarks/bench_chapter_explorers.py [--quick] [NOTEBOOK ...]   (default: every chapter)
"""

import argparse
import json
from pathlib import Path

import nbformat
from _timing import machine, verdict
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MODEL_CHAPTERS = ("07", "08", "09")  # explorers over trained networks or many runs: the 150 ms target

TIMING_CELL = """
import json as _json, statistics as _statistics, time as _time
from optim_helpers.widgets import Explorer as _Explorer

_found, _out = [], {}
for _name, _value in list(globals().items()):
    if isinstance(_value, _Explorer) and all(_value is not _f for _f in _found):
        _found.append(_value)
for _k, _explorer in enumerate(_found):
    _explorer.render(**_explorer.initial)  # warm: the first move may build cached runs
    _times = []
    for _ in range(REPEATS):
        for _slider, _values in _explorer.sliders.items():
            for _v in _values:
                _start = _time.perf_counter()
                _explorer.render(**{**_explorer.initial, _slider: _v})
                _times.append(_time.perf_counter() - _start)
    _out[_k] = {"moves": len(_times), "median_ms": 1e3 * _statistics.median(_times), "max_ms": 1e3 * max(_times)}
print("TIMINGS" + _json.dumps(_out))
"""


def explorer_timings(path, repeats):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(TIMING_CELL.replace("REPEATS", str(repeats))))
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    return json.loads(text.split("TIMINGS", 1)[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one pass over the slider values instead of three")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(machine())
    print("chapter                      explorer  moves  median ms  max ms  target")
    for path in paths:
        target = 150 if path.name[:2] in MODEL_CHAPTERS else 50
        for k, t in explorer_timings(path, 1 if args.quick else 3).items():
            print(f"{path.stem:28s} {k:>8s} {t['moves']:6d} {t['median_ms']:10.1f} {t['max_ms']:7.1f}  "
                  f"{verdict(f'<= {target} ms', t['max_ms'] <= target)}")


if __name__ == "__main__":
    main()
