#!/usr/bin/env bash
# Print every benchmark's figures (speed targets are printed, never asserted). Pass --quick for short runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
for script in benchmarks/bench_*.py; do
    echo "== $script"
    "$PY" "$script" "$@"
    echo
done
