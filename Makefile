# make book  : build the HTML book into _build/html (creates .venv/ on first use)
# make test  : unit tests, nbval over every notebook (as stored, then under perturbed floating point),
#              the book build (warnings fail it), browser tests, every notebook in a fresh environment
# make execute : re-execute every notebook in place (after changing code or helpers)
# make perturbed : nbval under other floating-point environments (kernels, threads, MKL path)
# make fresh-env : run every notebook in a new venv made from `pip install .` alone (what Colab gets)
# make oldest-env : the same with the oldest versions pyproject.toml accepts (requirements-oldest.txt)
# make assignments : student and instructor notebooks of the graded assignments in _build/assignments
# make lab : open the chapters in JupyterLab (with the book's settings: widget state saved with the notebook)
# make lab-test : the JupyterLab browser test over all eleven chapters (make test runs six of them)
VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
JOBS     ?= 2

LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

.PHONY: book test unit nbval perturbed browser fresh-env oldest-env execute assignments benchmarks clean lab lab-test

$(STAMP): requirements.txt pyproject.toml lab/overrides.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt -e .
	mkdir -p $(LAB_SETTINGS) && cp lab/overrides.json $(LAB_SETTINGS)/overrides.json
	touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

unit: $(STAMP)
	$(PY) -m pytest tests -q -n $(JOBS) --ignore=tests/browser

# Needs the built book and Debian's chromium (apt-get install -y chromium); screenshots go to _build/screenshots.
# Includes JupyterLab on 127.0.0.1 running six chapters (tests/browser/test_jupyterlab.py); lab-test runs all.
browser: $(STAMP)
	$(PY) -m pytest tests/browser -q

lab-test: $(STAMP)
	LAB_CHAPTERS=all $(PY) -m pytest tests/browser/test_jupyterlab.py -q

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

nbval: $(STAMP)
	$(PY) -m pytest --nbval --nbval-current-env -q -n $(JOBS) --dist loadfile notebooks

# The stored outputs must come out the same under PyTorch's scalar and AVX2 kernels, one thread and MKL's
# compatible code path: what another CPU changes. See scripts/nbval_perturbed.py.
perturbed: $(STAMP)
	$(PY) scripts/nbval_perturbed.py -n $(JOBS) --dist loadfile notebooks

test: unit nbval perturbed book
	$(MAKE) browser
	$(MAKE) fresh-env
	$(MAKE) oldest-env

# Every notebook run to the end in a new venv in _build/<target>: the package from `pip install .` plus a notebook
# runner, nothing else (outputs are not compared). fresh-env holds versions to the pinned set with -c (a constraint
# adds no package, so torch stays the CPU build); oldest-env installs the oldest versions that pyproject.toml
# accepts (torch: the pinned CPU build), so every hidden assertion must hold there too.
fresh-env: VERSIONS := -c requirements.txt
oldest-env: VERSIONS := -r requirements-oldest.txt
fresh-env oldest-env:
	rm -rf _build/$@ && python3 -m venv _build/$@
	_build/$@/bin/pip install --quiet $(VERSIONS) . nbclient ipykernel
	_build/$@/bin/python scripts/run_in_fresh_env.py $(NOTEBOOKS)

execute: $(STAMP)
	$(PY) scripts/execute_notebooks.py $(NOTEBOOKS)

# nbgrader's own preprocessors turn assignments/source/ into student and instructor versions.
assignments: $(STAMP)
	$(PY) scripts/make_assignments.py --out _build/assignments

benchmarks: $(STAMP)
	bash benchmarks/run_all.sh

clean:
	rm -rf _build
