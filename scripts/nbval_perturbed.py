"""Compare every notebook's stored outputs with fresh runs under other floating-point environments.

usage: python scripts/nbval_perturbed.py [PYTEST_ARGS ...]   (default: notebooks)

Each environment changes the last bits of the arithmetic the way another machine would: PyTorch's scalar or
AVX2 kernels instead of the widest vector kernels this CPU has, one thread instead of several (another order
of reduction), and MKL's conditional-numerical-reproducibility path. nbval must pass in every one of them
against the same stored outputs, so a number printed in the book or asserted about it cannot depend on
rounding. The environment variables reach the notebook kernels, which inherit them from pytest.
"""

import os
import subprocess
import sys
import time

PERTURBATIONS = {
    "scalar-kernels": {"ATEN_CPU_CAPABILITY": "default"},
    "avx2-kernels": {"ATEN_CPU_CAPABILITY": "avx2"},
    "one-thread-mkl-compatible": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MKL_CBWR": "COMPATIBLE"},
}
NBVAL = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-q", "-p", "no:cacheprovider"]


def run(name, pytest_args):
    env = {**os.environ, **PERTURBATIONS[name]}
    settings = " ".join(f"{k}={v}" for k, v in PERTURBATIONS[name].items())
    print(f"== {name}: {settings}", flush=True)
    start = time.perf_counter()
    code = subprocess.call(NBVAL + pytest_args, env=env)
    print(f"== {name}: {'passed' if code == 0 else 'FAILED'} in {time.perf_counter() - start:.0f} s", flush=True)
    return code


def main(pytest_args):
    failed = [name for name in PERTURBATIONS if run(name, pytest_args or ["notebooks"])]
    if failed:
        sys.exit(f"stored outputs not reproduced under: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
