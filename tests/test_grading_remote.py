"""The prototype of verdicts the student's code cannot reach (workbook/grading/remote.py; issue 20, part 3).

Lesson 00 graded with its checks in this process and the student's cells in a child of their own,
run as ``nobody`` where this runs as root: honest work keeps its marks, and the tricks that need the
checks' process get nowhere. Not used by the Grader yet.
"""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from workbook import ROOT
from workbook.grading.files import read_code_cells
from workbook.grading.remote import StudentProcess, verdict

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shared():
    """A folder the student's user can reach (pytest's own temporary folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="workbook-remote-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def handout(shared):
    from workbook.authoring.handout import build
    build(shared / "handout", stages=1)
    return shared / "handout"


def _graded(handout, cells):
    process = StudentProcess(cells, handout)
    try:
        return process, {exercise_id: verdict(exercise_id, process) for exercise_id in ("0.1", "0.2")}
    finally:
        process.close()


def test_honest_work_keeps_its_marks_and_a_fresh_lesson_is_not_started(handout):
    _process, solved = _graded(handout, read_code_cells(ROOT / "solutions" / "00_start_here.ipynb"))
    assert solved == {"0.1": ("passed", ""), "0.2": ("passed", "")}
    _process, fresh = _graded(handout, read_code_cells(ROOT / "notebooks" / "00_start_here.ipynb"))
    assert fresh == {"0.1": ("not done", ""), "0.2": ("not done", "")}


def test_only_plain_values_cross_so_an_int_that_equals_anything_is_refused(handout):
    cell = ("class Step(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n\n"
            "def time_step(unix_time):\n    return Step(0)\n")
    _process, results = _graded(handout, [cell])
    status, message = results["0.1"]
    assert status == "failed" and "not a plain value" in message, results


def test_the_students_code_runs_as_another_user_without_the_grader_or_the_hidden_checks(handout, shared):
    secret = shared / "grader_secret"   # where the student's user could reach it, but for its mode
    secret.write_text("the run's key")
    secret.chmod(0o600)
    cell = ("import importlib.util, os\n"
            "def time_step(unix_time):\n"
            "    try:\n"
            f"        open({str(secret)!r}).read()\n"
            "        readable = 'read'\n"
            "    except OSError:\n"
            "        readable = 'denied'\n"
            "    from workbook.checks import EXERCISES, load_all\n"
            "    load_all()\n"
            "    hidden = sum(len(e.hidden) for e in EXERCISES.values())\n"
            "    try:\n"
            "        grader = importlib.util.find_spec('workbook.grading.grader') is not None\n"
            "    except ModuleNotFoundError:\n"
            "        grader = False\n"
            "    return [os.geteuid(), readable, hidden, grader]\n")
    process = StudentProcess([cell], handout)
    try:
        uid, readable, hidden, grader = process.call("time_step", 0)
    finally:
        process.close()
    assert (hidden, grader) == (0, False)   # the handout's workbook: visible checks only, no grader
    if os.geteuid() == 0:
        assert process.sandboxed, "as root, the child should run as nobody (a Python nobody may run exists here)"
    if process.sandboxed:
        import pwd
        assert uid == pwd.getpwnam("nobody").pw_uid and readable == "denied"
