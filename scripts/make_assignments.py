"""Make the graded assignments: student and instructor notebooks from the nbgrader sources, and grade them.

usage:
    python scripts/make_assignments.py [--out _build/assignments]      # generate both versions
    python scripts/make_assignments.py grade SUBMISSION.ipynb           # grade one filled-in notebook

The sources live in the standard nbgrader course layout, ``assignments/source/<name>/<name>.ipynb``. Both
versions are made with nbgrader's own preprocessors, in the order ``nbgrader generate_assignment`` applies them:

- ``<out>/student/<name>/<name>.ipynb``: solutions replaced by ``raise NotImplementedError()``, hidden tests
  removed, outputs cleared, graded and read-only cells locked and checksummed (what students get);
- ``<out>/instructor/<name>/<name>.ipynb``: the reference solutions and every test, outputs cleared.

``grade`` does what ``nbgrader autograde`` does, without a gradebook: it puts the source's test cells back
(hidden tests included) in place of the submission's, executes the notebook in a fresh kernel, and gives each
graded cell its points unless it raised (``nbgrader.utils.determine_grade``).
"""

import argparse
import copy
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader import utils
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "assignments" / "source"


def source_notebooks(source=SOURCE):
    """The source notebooks, ``{name: path}``, in the order of their names."""
    return {path.parent.name: path for path in sorted(Path(source).glob("*/*.ipynb"))}


def _apply(nb, preprocessors):
    nb = copy.deepcopy(nb)
    resources = {}
    for preprocessor in preprocessors:
        nb, resources = preprocessor().preprocess(nb, resources)
    return nb


def student_version(nb):
    """The notebook students get: nbgrader's generate_assignment preprocessors, without a gradebook."""
    return _apply(nb, [LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums,
                       ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata])


def instructor_version(nb):
    """The reference: solutions and all tests kept, outputs cleared, metadata checked."""
    return _apply(nb, [ClearOutput, CheckCellMetadata])


def generate(out, source=SOURCE):
    """Write the student and instructor notebooks under ``out``; return ``{name: (student, instructor)}`` paths."""
    written = {}
    for name, path in source_notebooks(source).items():
        nb = nbformat.read(path, as_version=4)
        paths = []
        for kind, make in (("student", student_version), ("instructor", instructor_version)):
            target = Path(out) / kind / name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(make(nb), target)
            paths.append(target)
        written[name] = tuple(paths)
    return written


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def restore_tests(submission, source):
    """The submission with every graded (test) cell replaced by the source's cell of the same grade_id."""
    tests = {_grade_id(cell): cell for cell in source.cells if utils.is_grade(cell)}
    nb = copy.deepcopy(submission)
    for i, cell in enumerate(nb.cells):
        if utils.is_grade(cell) and _grade_id(cell) in tests:
            nb.cells[i] = copy.deepcopy(tests[_grade_id(cell)])
    missing = set(tests) - {_grade_id(cell) for cell in nb.cells}
    if missing:
        raise ValueError(f"Invalid submission: graded cells {sorted(missing)} are missing")
    return nb


def execute(nb, timeout=120, kernel_name="python3"):
    """Run every cell in a fresh kernel, errors allowed (as autograding does); return the executed copy."""
    nb = copy.deepcopy(nb)
    NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    return nb


def execute_many(notebooks, timeout=120, kernel_name="python3"):
    """Run several notebooks one after the other in one kernel, its namespace reset before each.

    For checking many submissions quickly (the imports are paid once); ``execute`` gives each a fresh kernel.
    """
    executed = [copy.deepcopy(nb) for nb in notebooks]
    if not executed:
        return executed
    client = NotebookClient(executed[0], timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                            resources={"metadata": {"path": str(ROOT)}})
    with client.setup_kernel():
        for nb in executed:
            client.nb = nb
            reset = nbformat.v4.new_code_cell("%reset -f")
            nb.cells.insert(0, reset)
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            nb.cells.pop(0)
    return executed


def scores(executed):
    """``{grade_id: (points, max_points)}`` for every graded cell of an executed notebook."""
    return {_grade_id(cell): utils.determine_grade(cell) for cell in executed.cells if utils.is_grade(cell)}


def failures(executed):
    """``{grade_id: "Error: message"}`` for every graded cell of an executed notebook that raised."""
    found = {}
    for cell in executed.cells:
        if utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    found[_grade_id(cell)] = f"{output.ename}: {output.evalue}"
    return found


def grade(submission, source, timeout=120):
    """Autograde one submission against its source notebook: ``{grade_id: (points, max_points)}``."""
    return scores(execute(restore_tests(submission, source), timeout=timeout))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="generate", choices=["generate", "grade"])
    parser.add_argument("submission", nargs="?", help="for grade: a filled-in student notebook")
    parser.add_argument("--out", default=str(ROOT / "_build" / "assignments"))
    args = parser.parse_args(argv)
    if args.command == "generate":
        for name, paths in generate(args.out).items():
            print(f"{name}: " + ", ".join(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p) for p in paths))
        return 0
    if args.submission is None:
        parser.error("grade needs a SUBMISSION notebook")
    name = Path(args.submission).stem
    sources = source_notebooks()
    if name not in sources:
        parser.error(f"no source notebook named {name}.ipynb under {SOURCE}")
    result = grade(nbformat.read(args.submission, as_version=4), nbformat.read(sources[name], as_version=4))
    for grade_id, (points, max_points) in result.items():
        print(f"{grade_id:32s} {points:g} / {max_points:g}")
    total = sum(p for p, _ in result.values())
    print(f"{'total':32s} {total:g} / {sum(m for _, m in result.values()):g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
