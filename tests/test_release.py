"""notebooks/ is made from solutions/, and every exercise has its check."""
import re

import nbformat
import pytest

from workbook import ROOT
from workbook.authoring import release
from workbook.checks import is_attack, load_all

SOLUTION_PATHS = sorted(release.SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
LESSONS = ["00_start_here", "01_install", "02_secret_key", "03_qr_code",
           "04_template", "05_verify_route", "06_login_flow", "07_hardening",
           "08_phishing_and_passkeys"]


def test_every_lesson_has_a_solution_and_a_student_notebook():
    for lesson in LESSONS:
        assert (release.SOLUTIONS / f"{lesson}.ipynb").is_file(), f"solutions/{lesson}.ipynb is missing"
        assert (release.NOTEBOOKS / f"{lesson}.ipynb").is_file(), f"notebooks/{lesson}.ipynb is missing"


def test_notebooks_are_up_to_date_with_solutions():
    stale = release.release(check=True)
    assert not stale, f"run `python -m workbook release`: {[p.name for p in stale]} out of date"


@pytest.mark.parametrize("path", SOLUTION_PATHS, ids=lambda p: p.stem)
def test_each_exercise_has_a_registered_check_and_a_check_cell(path):
    notebook = nbformat.read(path, as_version=4)
    exercises = load_all()
    lesson = int(path.stem[:2])
    ids = release.exercise_ids(notebook)
    if lesson > 0:
        # Lesson 07 has ten parts and eleven exercises, besides its attacks (7.A1...); lesson 06 opens with an attack.
        most = 11 if lesson == 7 else 5
        numbered = [exercise_id for exercise_id in ids if not is_attack(exercise_id)]
        assert 2 <= len(numbered) <= most, f"lesson {lesson} should have 2-{most} exercises, has {ids}"
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    ids += release.question_ids(notebook)
    for exercise_id in ids:
        assert exercise_id.startswith(f"{lesson}."), f"exercise {exercise_id} is numbered for another lesson"
        assert exercise_id in exercises, f"exercise {exercise_id} has no check in workbook/checks/"
        assert any(re.search(rf"check\(\s*['\"]{re.escape(exercise_id)}['\"]", source) for source in code), (
            f"exercise {exercise_id} has no check cell"
        )
    registered = sorted(e for e in exercises if exercises[e].lesson == lesson)
    assert registered == sorted(ids), f"checks registered for lesson {lesson} but not in its notebook: {registered}"


def test_stub_keeps_the_function_defined():
    source = (
        "# Exercise 9.1: Add\n"
        "def add(a, b):\n"
        "    ### BEGIN SOLUTION\n"
        "    return a + b\n"
        "    ### END SOLUTION\n"
    )
    stubbed = release.stub_source(source, "test")
    namespace = {}
    exec(stubbed, namespace)
    with pytest.raises(NotImplementedError, match="Exercise 9.1: Add"):
        namespace["add"](1, 2)
    assert "a + b" not in stubbed


def test_a_question_stub_leaves_the_answer_none():
    source = '# Question 9.Q1: Pick one\n### BEGIN SOLUTION\nanswer_9_q1 = "b"\n### END SOLUTION\n'
    stubbed = release.stub_source(source, "test")
    namespace = {}
    exec(stubbed, namespace)
    assert namespace["answer_9_q1"] is None and '"b"' not in stubbed
    assert stubbed.startswith("# Question 9.Q1: Pick one\n")


@pytest.mark.parametrize("source, problem", [
    ("# Question 9.Q1: x\n### BEGIN SOLUTION\nanswer_9_q1 = 'a'\nprint(1)\n### END SOLUTION\n", "one assignment"),
    ("# Question 9.Q1: x\n### BEGIN SOLUTION\nanswer_9_q1 = 'a'\n", "without"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", "Exercise N.M"),
    ("# Exercise 9.1: x\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n", "without"),
    ("# Exercise 9.1: x\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "function body"),
])
def test_broken_markers_are_reported(source, problem):
    with pytest.raises(release.ReleaseError, match=problem):
        release.stub_source(source, "cell 3")


@pytest.mark.parametrize("folder", [release.SOLUTIONS, release.NOTEBOOKS], ids=["solutions", "notebooks"])
def test_notebooks_are_committed_without_outputs(folder):
    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_the_students_lessons_point_to_no_folder_their_handout_lacks(path):
    """The handout (workbook/authoring/handout.py) leaves solutions/ out: no lesson may send the student there."""
    text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    assert "solutions/" not in text
