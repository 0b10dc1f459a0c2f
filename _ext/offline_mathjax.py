"""Serve MathJax from the book itself, so its equations render offline.

Copies MathJax 3 (from the ``django-static-mathjax`` package, which ships its files) into the
build's ``_static/mathjax`` and points Sphinx's ``mathjax_path`` there, instead of a CDN.
"""

import shutil
from importlib.resources import files
from pathlib import Path

ENTRY = "tex-mml-chtml.js"
# What the TeX-input, CommonHTML-output bundle loads at run time (fonts, extensions, menu).
PARTS = ("input/tex", "output/chtml", "ui", "a11y")


def _source():
    return Path(str(files("mathjax"))) / "static" / "mathjax" / "es5"


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    src, dst = _source(), Path(app.outdir) / "_static" / "mathjax"
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / ENTRY, dst / ENTRY)
    for part in PARTS:
        shutil.copytree(src / part, dst / part, dirs_exist_ok=True)


def setup(app):
    if not (_source() / ENTRY).is_file():
        raise RuntimeError(f"MathJax not found at {_source()}: pip install django-static-mathjax")
    app.config.mathjax_path = f"mathjax/{ENTRY}"
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
