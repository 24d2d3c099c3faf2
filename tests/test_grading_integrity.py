"""Grades an instructor can trust: every way a student could game the grader is caught and flagged.

Each test is one attack (or one way of handing work in) from issue 14, with the exact mark a careful
instructor would give. The whole messy class is in tests/test_grading_class.py.
"""
import sys
from pathlib import Path

import pytest
from messy_class import stage_6_with_one_bug

from workbook import ROOT, my_app

STAGE_5 = ROOT / "app_steps" / "step_05_verify_route"


def _exit_app(folder):
    folder.mkdir(parents=True)
    (folder / "app.py").write_text("import os; os._exit(0)\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_check_my_app_does_not_pass_an_app_that_ends_the_test_process(tmp_path, capsys):
    my_app.check_my_app(7, _exit_app(tmp_path / "my_app"))
    out = capsys.readouterr().out
    assert out.startswith("❌ Stage 7 tests did not finish"), out
    assert "os._exit()" in out


@pytest.mark.slow
def test_check_my_app_does_not_pass_an_app_that_skips_or_patches_the_tests(tmp_path, capsys):
    from messy_class import patching_app, skipping_app
    my_app.check_my_app(7, skipping_app(tmp_path / "skips"))
    out = capsys.readouterr().out
    assert out.startswith("❌ Stage 7 tests: ") and "A skipped test counts as failed" in out, out
    my_app.check_my_app(1, patching_app(tmp_path / "patches"))
    out = capsys.readouterr().out
    assert out.startswith("❌ Stage 1: the app patched the test process (_pytest.python.Function.runtest)"), out


@pytest.mark.slow
def test_check_my_app_names_every_failing_test_of_the_stage(tmp_path, capsys):
    folder = my_app.start_from(5, tmp_path / "my_app")
    capsys.readouterr()
    my_app.check_my_app(6, folder)
    out = capsys.readouterr().out
    assert out.startswith("❌ Stage 6 tests: ")
    # Not only the first failure: the plugin keeps going on one stage. (A test whose enrolled user
    # could not be set up, the stage 5 app having no /register, is named as an ERROR.)
    named = [line for line in out.splitlines() if line.lstrip().startswith(("FAILED test_", "ERROR (setup) test_"))]
    assert len(named) >= 2, out
    # each with the reason why, under it
    reasons = [line for line in out.splitlines() if line.lstrip().startswith("why: ")]
    assert len(reasons) >= len(named), out


# ---------------------------------------------------------------------------
# Notebooks: one student, graded for real

import nbformat  # noqa: E402

from workbook.checks import load_all  # noqa: E402
from workbook.grading import Grader  # noqa: E402

EXERCISES = load_all()
TIMEOUT = 20


def _notebook(lesson, solved=False):
    folder = "solutions" if solved else "notebooks"
    path = next((ROOT / folder).glob(f"{lesson:02d}_*.ipynb"))
    return path.name, nbformat.read(path, as_version=4)


def _grade_one(tmp_path, notebooks, name="student", app=None):
    """Grade one student whose notebooks/ holds ``{file name: notebook}``; their StudentGrade."""
    folder = tmp_path / "submissions" / name
    (folder / "notebooks").mkdir(parents=True)
    for file_name, notebook in notebooks.items():
        nbformat.write(notebook, folder / "notebooks" / file_name)
    if app is not None:
        app(folder / "my_app")
    return Grader(timeout=TIMEOUT, jobs=2).grade_students({name: folder}).students[0]


def _with_cell(notebook, source, at=None):
    notebook = nbformat.from_dict(notebook)
    cell = nbformat.v4.new_code_cell(source)
    notebook.cells.insert(len(notebook.cells) if at is None else at, cell)
    return notebook


def _points(student, lesson):
    return {i: student.points(i) for i, e in EXERCISES.items() if e.lesson == lesson}


FORGE_DONE = """
import gc
from multiprocessing.connection import Connection
from workbook.checks import EXERCISES
conn = next(o for o in gc.get_objects() if isinstance(o, Connection) and not o.closed)
results = {i: {"status": "passed", "message": ""} for i in EXERCISES}
conn.send(("done", {"payload": {"results": results, "cell_errors": [], "stopped_at": None,
                                 "interrupted": False}, "mac": "0" * 64}))
"""


@pytest.mark.slow
def test_a_cell_that_sends_all_passed_to_the_grader_gets_no_marks_and_a_flag(tmp_path):
    """The student's process holds no channel of the grader's: the cell finds nothing to send on."""
    name, notebook = _notebook(2)
    student = _grade_one(tmp_path, {name: _with_cell(notebook, FORGE_DONE)})
    assert set(_points(student, 2).values()) == {0}
    assert any("internals: EXERCISES, gc.get_objects, multiprocessing.connection" in flag
               for flag in student.all_flags()), student.all_flags()
    assert "StopIteration" in " ".join(text for _index, text in student.notebooks[2].cell_errors)


PATCH_CHECKS = """
import workbook.checks as checks
from workbook.checks import lesson_01
for entry in checks.EXERCISES.values():
    entry.check = lambda *objects: None
checks.run_check = lambda exercise_id, *objects, **kw: checks.Result(exercise_id, checks.PASSED)
lesson_01.check_installed_version = lambda *objects: None
"""


@pytest.mark.slow
def test_patching_the_checks_scores_nothing_and_is_flagged(tmp_path):
    """The cell patches the handout's checks in the student's process; the judge's are elsewhere."""
    name, notebook = _notebook(1)
    student = _grade_one(tmp_path, {name: _with_cell(notebook, PATCH_CHECKS)})
    assert set(_points(student, 1).values()) == {0}
    flags = " ".join(student.all_flags())
    assert "internals: EXERCISES, run_check" in flags, flags


# ---------------------------------------------------------------------------
# Nothing a student can import gives an answer away (run_check, as the check cell and the grader run it)

from workbook.checks import FAILED, PASSED, run_check  # noqa: E402


def test_the_checks_reference_helpers_are_no_answer():
    from workbook.checks.lesson_02 import _reference_counter, _reference_truncate
    from workbook.checks.lesson_03 import contract_uri

    def counter_bytes(unix_time):     # a wrapper: the student's own function calling the reference
        return _reference_counter(unix_time)

    def truncate(mac, digits=6):
        return _reference_truncate(mac, digits)

    for exercise_id, answer in (("2.2", counter_bytes), ("2.3", truncate), ("3.1", contract_uri),
                                ("2.2", _reference_counter)):
        result = run_check(exercise_id, answer, include_hidden=True)
        assert result.status == FAILED, (exercise_id, result)
        assert "reference" in result.message or "workbook's own code" in result.message, result.message


@pytest.mark.parametrize("include_hidden", [False, True], ids=["visible", "hidden"])
def test_the_reference_apps_functions_are_no_answer_however_loaded(include_hidden):
    """Issue 20: app_loader names them _workbook_app_N, not workbook.*; judged by where their code lives."""
    import functools
    import importlib.util

    from workbook.app_loader import load_module
    from workbook.stages import stage
    stage3, stage4, stage5 = (load_module(stage(n).folder) for n in (3, 4, 5))
    spec = importlib.util.spec_from_file_location("my_own_name", stage(5).folder / "app.py")
    renamed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(renamed)

    def grouped(secret):               # a wrapper of the function of the same name
        return stage4.grouped(secret)

    cases = [("3.1", stage3.provisioning_uri), ("4.1", stage4.grouped), ("5.2", stage5.normalise_code),
             ("5.2", renamed.normalise_code), ("4.1", grouped), ("4.1", functools.partial(stage4.grouped))]
    for exercise_id, answer in cases:
        result = run_check(exercise_id, answer, include_hidden=include_hidden)
        assert result.status == FAILED and "is the workbook's own code (app_steps/step_0" in result.message, \
            (exercise_id, answer, result)

    def grouped(secret):               # the student's own: passes
        return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    assert run_check("4.1", grouped, include_hidden=include_hidden).status == PASSED


def test_an_int_that_equals_everything_does_not_pass_0_1():
    class Always(int):
        def __eq__(self, other):
            return True
        __hash__ = int.__hash__

    result = run_check("0.1", lambda unix_time: Always(0), include_hidden=True)
    assert result.status == FAILED and "return an int" in result.message, result
    assert run_check("0.1", lambda unix_time: int(unix_time) // 30, include_hidden=True).status == PASSED


def test_a_check_replaced_in_the_registry_is_not_run():
    from workbook import checks
    entry = checks.EXERCISES["0.1"]
    original = entry.check
    entry.check = lambda time_step: None
    try:
        result = run_check("0.1", lambda unix_time: "wrong")
    finally:
        entry.check = original
    assert result.status == FAILED and "the checks were changed" in result.message


SNOOP = """
import sys, workbook
from workbook.stages import APP_STEPS
(workbook.ROOT / "grading_was_here.txt").write_text("x")
(APP_STEPS / "grading_was_here.txt").write_text("x")
print("ARGV", sys.argv)
!pip --version
"""


@pytest.mark.slow
def test_a_notebook_cannot_write_into_the_workbook_or_read_the_graders_arguments(tmp_path):
    name, notebook = _notebook(1, solved=True)
    student = _grade_one(tmp_path, {name: _with_cell(notebook, SNOOP)})
    assert student.total == sum(e.points for e in EXERCISES.values() if e.lesson == 1)
    assert not (ROOT / "grading_was_here.txt").exists()
    assert not (ROOT / "app_steps" / "grading_was_here.txt").exists()
    log = student.notebooks[1].log
    assert "ARGV ['ipykernel_launcher.py']" in log, log
    pip = next(line for line in log.splitlines() if line.startswith("pip "))
    assert str(Path(sys.prefix).resolve()) in str(Path(pip.split(" from ")[1].split(" (")[0]).resolve()), pip


@pytest.mark.slow
def test_a_cell_that_kills_its_parent_and_exits_ends_only_itself(tmp_path):
    """The student's process is pid 1 of its namespace, as nobody: its parent is out of reach. Its own
    exit ends the worker the same way, and the notebook runs again without that cell."""
    name, notebook = _notebook(1, solved=True)
    cell = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos._exit(1)"
    student = _grade_one(tmp_path, {name: _with_cell(notebook, cell)})
    assert _points(student, 1) == {i: e.points for i, e in EXERCISES.items() if e.lesson == 1}
    notes = "; ".join(student.all_notes())
    assert "ended the Python process (exit code 1); graded without that cell" in notes, notes


# ---------------------------------------------------------------------------
# Apps: marks from each test's reported outcome, partial credit, the failing tests named

STAGE_6 = ROOT / "app_steps" / "step_06_login_flow"


@pytest.mark.slow
def test_a_stage_6_app_with_one_bug_gets_partial_credit_and_the_failing_test_named(tmp_path):
    """It passes no stage whole (stage 6 changed what the stage 5 tests expect), but most of stage 6."""
    from workbook.grading.apps import grade_app
    from workbook.grading.engine import default_engine
    (tmp_path / "scratch").mkdir()
    grade = grade_app(stage_6_with_one_bug(tmp_path / "my_app"), tmp_path / "scratch", engine=default_engine())
    assert grade.stage == 0, grade
    number, passed, total = grade.next_stage
    assert number == 6 and 0 < passed < total and total >= 10, grade.next_stage
    assert 5 < grade.score < 6 and grade.partial == passed / total
    assert "test_logout_ends_the_session" in grade.failing, grade.failing
    assert not grade.flags


@pytest.mark.slow
def test_an_app_that_calls_os_exit_gets_no_stage_and_a_flag(tmp_path):
    from workbook.grading.apps import grade_app
    from workbook.grading.engine import default_engine
    (tmp_path / "scratch").mkdir()
    # The grader's engine (forked workers): the app ends each of the 7 runs; check_my_app's test
    # above covers a fresh pytest process.
    grade = grade_app(_exit_app(tmp_path / "my_app"), tmp_path / "scratch", engine=default_engine())
    assert grade.stage == 0 and grade.partial is None, grade
    assert any("os._exit() or exit()" in flag for flag in grade.flags), grade.flags


@pytest.mark.slow
@pytest.mark.parametrize("trick", ["skips", "patches"])
def test_an_app_that_skips_or_patches_the_tests_gets_no_stage_and_a_flag(tmp_path, trick):
    from messy_class import patching_app, skipping_app

    from workbook.grading.apps import grade_app
    from workbook.grading.engine import default_engine
    (tmp_path / "scratch").mkdir()
    app = (skipping_app if trick == "skips" else patching_app)(tmp_path / "my_app")
    grade = grade_app(app, tmp_path / "scratch", engine=default_engine())
    assert grade.stage == 0, grade
    flag = "the app skipped behaviour tests" if trick == "skips" else "the app patched the test process"
    assert any(flag in f for f in grade.flags), grade.flags


# An honest run of every stage test is not taken for a patch (the guard compares pytest's own functions before
# and after each test: none changes by itself): the Builds' runs of every stage 7 and stage 8 test through
# run_stage_tests, whose plugin holds the guard, must pass (tests/test_lesson_07_build.py,
# tests/test_lesson_07_08_build.py), as must the stage 6 one (tests/test_lesson_06_build.py).


@pytest.mark.slow
def test_the_fresh_interpreter_engine_grades_alike_and_a_forgery_gets_nothing(tmp_path):
    from messy_class import FORGE_DONE, answered
    name, _released = _notebook(1)
    folder = tmp_path / "submissions" / "spawned"
    (folder / "notebooks").mkdir(parents=True)
    nbformat.write(_with_cell(answered(1, "spawned"), FORGE_DONE), folder / "notebooks" / name)
    student = Grader(timeout=TIMEOUT, jobs=1, engine="spawn").grade_students({"spawned": folder}).students[0]
    assert _points(student, 1) == {i: e.points for i, e in EXERCISES.items() if e.lesson == 1}
    assert any("gc.get_objects" in flag for flag in student.all_flags()), student.all_flags()


def test_gradescope_shows_the_flags_to_the_instructor_only():
    from workbook.grading.gradescope import results
    from workbook.grading.model import NotebookGrade, StudentGrade
    student = StudentGrade("ana", notebooks={2: NotebookGrade(2, "notebooks/02.ipynb", flags=["forged result: x"])})
    tests = {test["number"]: test for test in results(student, EXERCISES)["tests"]}
    assert tests["flags"]["visibility"] == "hidden" and tests["flags"]["score"] == 0
    assert tests["flags"]["output"] == "02: forged result: x"
    assert results(StudentGrade("ben"), EXERCISES)["tests"][-1]["output"] == "No integrity flags."


# ---------------------------------------------------------------------------
# Copies flagged that survive small edits (issue 20): comments, docstrings, names and layout set aside

def test_a_copy_with_names_comments_and_a_docstring_changed_is_the_same_code():
    from workbook.grading.similarity import THRESHOLD, alike, fingerprint, similarity
    original = ("def status_for(secret, raw, now):\n    code = normalise_code(raw)\n    if code is None:\n"
                "        return 400\n    if not code_is_valid(secret, code, now):\n        return 401\n    return 200\n")
    disguised = ('def status_for(key, typed, when):\n    """Pick the status."""  # mine\n'
                 "    c = normalise_code(typed)\n\n    if c is None: return 400\n"
                 "    if not code_is_valid(key, c, when):\n        return 401   # wrong code\n    return 200\n")
    assert similarity(fingerprint(original), fingerprint(disguised)) == 1.0
    other = ("def status_for(secret, raw, now):\n    code = normalise_code(raw)\n    status = 200\n"
             "    if code is None:\n        status = 400\n    elif not pyotp.TOTP(secret).verify(code, for_time=now,"
             " valid_window=1):\n        status = 401\n    return status\n")
    assert similarity(fingerprint(original), fingerprint(other)) < THRESHOLD   # written another way: not flagged
    # too short to tell: every right answer is this one
    assert alike(fingerprint(original), fingerprint(disguised)) is None
    assert alike(fingerprint(original * 2), fingerprint(disguised * 2)) == 1.0


def test_the_stage_7_app_with_a_word_of_its_docstring_changed_and_no_readme_is_still_its_copy(tmp_path):
    from messy_class import copy_stage

    from workbook.grading.integrity import app_copy_of_stage
    app = copy_stage(7, tmp_path / "my_app")
    (app / "README.md").unlink()
    source = (app / "app.py").read_text(encoding="utf-8")
    (app / "app.py").write_text(source.replace('"""Stage 7', '"""Step 7', 1), encoding="utf-8")
    assert (app / "app.py").read_text(encoding="utf-8") != source
    stage, score = app_copy_of_stage(app)
    assert stage == 7 and score == 1.0
    assert app_copy_of_stage(copy_stage(6, tmp_path / "six")) == (6, 1.0)

