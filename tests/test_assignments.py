"""The graded assignments: generation with nbgrader's preprocessors, and grading that can tell right from wrong.

Each assignment notebook is graded the way ``nbgrader autograde`` grades it: the source's test cells (hidden tests
included) are put back into the submission, the notebook runs top to bottom, and a graded cell scores its
points unless it raised. Three kinds of submission per notebook:

- the reference solutions (the instructor's cells in the student notebook): every test passes;
- the student notebook as generated (``raise NotImplementedError()`` stubs): every test fails;
- plausible wrong solutions (``assignments/wrong_solutions/<task>__<mistake>.py``): each task's hidden tests fail.

All submissions of one notebook run in one kernel (its namespace reset in between); the notebooks are
parametrized, so pytest-xdist (``-n 2``) spreads them over workers. The last test runs nbgrader itself
(generate_assignment, autograde) on one assignment, with the course's nbgrader_config.py.
"""

import copy
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbgrader import utils

ROOT = Path(__file__).resolve().parent.parent
WRONG = ROOT / "assignments" / "wrong_solutions"

_spec = importlib.util.spec_from_file_location("make_assignments", ROOT / "scripts" / "make_assignments.py")
make_assignments = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_assignments)

NAMES = sorted(make_assignments.source_notebooks())


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _solution_ids(nb):
    return [_gid(cell) for cell in nb.cells if utils.is_solution(cell)]


def _task_of(grade_id, solution_ids):
    """The task (solution cell) a graded cell tests: its grade_id is '<task>_visible' or '<task>_hidden'."""
    task = grade_id.rsplit("_", 1)[0]
    assert task in solution_ids, grade_id
    return task


def _wrong_solutions():
    """``{task: [path, ...]}``, the mistakes of each task in name order."""
    found = {}
    for path in sorted(WRONG.glob("*__*.py")):
        found.setdefault(path.stem.split("__")[0], []).append(path)
    return found


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    return {name: tuple(nbformat.read(p, as_version=4) for p in paths)
            for name, paths in make_assignments.generate(out).items()}


@pytest.fixture(scope="session")
def sources():
    return {name: nbformat.read(path, as_version=4) for name, path in make_assignments.source_notebooks().items()}


def test_layout_and_metadata(sources):
    assert NAMES == ["ps1-descent", "ps2-adaptive", "ps3-training", "ps4-after-adam"]
    all_tasks = []
    for name, nb in sources.items():
        ids = [_gid(cell) for cell in nb.cells]
        assert None not in ids and len(ids) == len(set(ids)), name
        for cell in nb.cells:
            meta = cell.metadata["nbgrader"]
            assert meta["schema_version"] == 3
            if meta["grade"]:
                assert cell.cell_type == "code" and meta["locked"] and meta["points"] > 0, _gid(cell)
        tasks = _solution_ids(nb)
        all_tasks += tasks
        graded = [_gid(cell) for cell in nb.cells if utils.is_grade(cell)]
        for task in tasks:  # every task: one visible and one hidden test cell, the hidden one with hidden tests
            assert {f"{task}_visible", f"{task}_hidden"} <= set(graded), task
            hidden = next(c for c in nb.cells if _gid(c) == f"{task}_hidden")
            assert "### BEGIN HIDDEN TESTS" in hidden.source and "### END HIDDEN TESTS" in hidden.source
        assert {_task_of(g, tasks) for g in graded} == set(tasks)
    # one task per chapter from 01 to 09, two for chapter 10 and one for chapter 11
    assert len(all_tasks) == 12 and len(set(all_tasks)) == 12
    assert set(_wrong_solutions()) == set(all_tasks)


def test_student_and_instructor_versions(sources, generated):
    for name, (student, instructor) in generated.items():
        source = sources[name]
        assert len(student.cells) == len(instructor.cells) == len(source.cells)
        for s_cell, i_cell, src in zip(student.cells, instructor.cells, source.cells):
            assert _gid(s_cell) == _gid(i_cell) == _gid(src)
            if s_cell.cell_type == "code":
                assert s_cell.outputs == [] and i_cell.outputs == []
            assert i_cell.source == src.source  # the instructor keeps everything
            assert "BEGIN SOLUTION" not in s_cell.source and "HIDDEN TESTS" not in s_cell.source
            if utils.is_solution(src):
                assert s_cell.source.count("raise NotImplementedError()") == src.source.count("### BEGIN SOLUTION")
                for definition in re.findall(r"^(?:def|class) \w+", src.source, flags=re.M):
                    assert definition in s_cell.source  # the signatures stay
            else:
                meta = s_cell.metadata["nbgrader"]
                assert meta["locked"] and "checksum" in meta, _gid(s_cell)
                if "### BEGIN HIDDEN TESTS" not in src.source:
                    assert s_cell.source == src.source


def test_restore_tests_needs_every_graded_cell(sources, generated):
    student = nbformat.from_dict(copy.deepcopy(generated["ps1-descent"][0]))
    student.cells = [cell for cell in student.cells if _gid(cell) != "nesterov_hidden"]
    with pytest.raises(ValueError, match="nesterov_hidden"):
        make_assignments.restore_tests(student, sources["ps1-descent"])


def _submission(name, generated, sources, variant):
    """The student notebook with its solution cells filled in for the given variant."""
    student = nbformat.from_dict(copy.deepcopy(generated[name][0]))
    if variant == "stub":
        return student, set()
    source_cells = {_gid(cell): cell for cell in sources[name].cells}
    replaced = set()
    for cell in student.cells:
        if not utils.is_solution(cell):
            continue
        task = _gid(cell)
        if variant == "reference":
            cell.source = source_cells[task].source
            continue
        k = int(variant.removeprefix("wrong"))
        mistakes = _wrong_solutions()[task]
        if k < len(mistakes):  # the k-th mistake of each task; tasks with fewer keep their stub
            cell.source = mistakes[k].read_text()
            replaced.add(task)
    return student, replaced


def _variants(tasks):
    """The reference, the stubs, and as many wrong variants as the task with the most mistakes has."""
    return ["reference", "stub"] + [f"wrong{k}" for k in range(max(len(_wrong_solutions()[t]) for t in tasks))]


@pytest.mark.parametrize("name", NAMES)
def test_grading(name, generated, sources):
    tasks = _solution_ids(sources[name])
    variants = _variants(tasks)
    submissions = [_submission(name, generated, sources, variant) for variant in variants]
    restored = [make_assignments.restore_tests(nb, sources[name]) for nb, _ in submissions]
    for variant, (_, wrong_tasks), executed in zip(variants, submissions, make_assignments.execute_many(restored)):
        result = make_assignments.scores(executed)
        errors = make_assignments.failures(executed)
        assert len(result) == 2 * len(tasks)
        if variant == "reference":  # (a) the reference solutions earn every point
            assert errors == {}
            assert all(points == max_points for points, max_points in result.values()), result
        elif variant == "stub":  # (b) the stubs earn none
            assert all(points == 0 for points, _ in result.values()), result
            assert all("NotImplementedError" in message for message in errors.values()), errors
        else:  # (c) each wrong solution fails its task's hidden tests
            assert wrong_tasks, f"no wrong solution in {variant}"
            for grade_id, (points, _) in result.items():
                if _task_of(grade_id, tasks) in wrong_tasks and grade_id.endswith("_hidden"):
                    assert points == 0, f"the hidden tests of {grade_id} accept a wrong solution ({variant})"


def test_real_nbgrader_round_trip(tmp_path, generated, sources):
    """nbgrader itself, with the course's nbgrader_config.py: its release equals our student version, and
    autograde gives the reference solutions every point and the stubs none."""
    import os
    import shutil
    import subprocess
    import sys

    from nbgrader.api import Gradebook

    name = "ps2-adaptive"
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "source", course / "source")
    shutil.copy(ROOT / "assignments" / "nbgrader_config.py", course)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")

    def nbgrader(*args):
        subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, check=True,
                       capture_output=True, text=True)

    nbgrader("generate_assignment", name)
    released = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    ours = generated[name][0]
    assert [c.source for c in released.cells] == [c.source for c in ours.cells]
    submissions = {"ref": _submission(name, generated, sources, "reference")[0],
                   "stub": _submission(name, generated, sources, "stub")[0]}
    for student, nb in submissions.items():
        (course / "submitted" / student / name).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / name / f"{name}.ipynb")
    nbgrader("autograde", name)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        totals = {s: gradebook.find_submission(name, s).score for s in submissions}
        max_score = gradebook.find_assignment(name).max_score
    assert max_score == 8
    assert totals == {"ref": 8, "stub": 0}
