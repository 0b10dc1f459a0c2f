# make book  : build the HTML book into _build/html (creates .venv/ on first use)
# make test  : unit tests, nbval over every notebook (as stored, then under perturbed floating point),
#              the book build (warnings fail it), browser tests, every notebook in a fresh environment
# make execute : re-execute every notebook in place (after changing code or helpers)
# make perturbed : nbval under other floating-point environments (kernels, threads, MKL path)
# make fresh-env : run every notebook in a new venv made from `pip install .` alone (what Colab gets)
# make oldest-env : the same with the oldest versions pyproject.toml accepts (requirements-oldest.txt)
# make assignments : student and instructor notebooks of the graded assignments in _build/assignments
VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
JOBS     ?= 2
FRESH    := _build/fresh-env
OLDEST   := _build/oldest-env

.PHONY: book test unit nbval perturbed browser fresh-env oldest-env execute assignments benchmarks clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

unit: $(STAMP)
	$(PY) -m pytest tests -q -n $(JOBS) --ignore=tests/browser

# Needs the built book and Debian's chromium (apt-get install -y chromium); screenshots go to _build/screenshots.
browser: $(STAMP)
	$(PY) -m pytest tests/browser -q

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

# The package's own loose dependencies (pyproject.toml) plus a notebook runner, nothing else; versions are
# held to the pinned set with -c (a constraint adds no package), so torch stays the CPU build.
fresh-env:
	rm -rf $(FRESH) && python3 -m venv $(FRESH)
	$(FRESH)/bin/pip install --quiet -c requirements.txt . nbclient ipykernel
	$(FRESH)/bin/python scripts/run_in_fresh_env.py $(NOTEBOOKS)

# The promise of pyproject.toml's lower bounds: the oldest accepted numpy, matplotlib, scikit-learn, ipywidgets and
# tqdm (torch: the pinned CPU build), the package from `pip install .`, every notebook run to the end (every hidden
# assertion holds; outputs are not compared, since other versions print other last digits).
oldest-env:
	rm -rf $(OLDEST) && python3 -m venv $(OLDEST)
	$(OLDEST)/bin/pip install --quiet -r requirements-oldest.txt . nbclient ipykernel
	$(OLDEST)/bin/python scripts/run_in_fresh_env.py $(NOTEBOOKS)

execute: $(STAMP)
	$(PY) scripts/execute_notebooks.py $(NOTEBOOKS)

# nbgrader's own preprocessors turn assignments/source/ into student and instructor versions.
assignments: $(STAMP)
	$(PY) scripts/make_assignments.py --out _build/assignments

benchmarks: $(STAMP)
	bash benchmarks/run_all.sh

clean:
	rm -rf _build
