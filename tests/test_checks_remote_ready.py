"""The checks of lessons 00-06 give the same verdict when the student's code is only reachable through stand-ins.

When graded, the student's cells run in a process of their own and the checks see plain values and
stand-ins (REMOTE_DESIGN.md). tests/remote_double.py plays that engine in this process: every answer of
tests/mutants/ for lessons 00-06 is run through it, and a right answer must still pass and a wrong one
still fail with the hint that names its mistake, as tests/test_check_mutants.py asks of the local run.
"""
import sqlite3

import pytest
import remote_double
from test_check_mutants import CASES, _answer

from workbook.checks import FAILED, PASSED, run_check
from workbook.checks.student_side import raised, student_side, type_name

REMOTE_READY_LESSONS = range(0, 7)
READY = [(module, mutant) for module, mutant in CASES if int(mutant.exercise.split(".")[0]) in REMOTE_READY_LESSONS]


@pytest.mark.parametrize(
    "module, mutant", READY,
    ids=[f"{m.exercise} {'right' if m.passes else 'wrong'}: {m.name}" for _, m in READY])
def test_the_verdict_is_the_same_through_stand_ins(module, mutant):
    objects = _answer(module, mutant)
    with remote_double.graded():
        stand_ins = [remote_double.to_judge(obj) for obj in objects]
        graded = run_check(mutant.exercise, *stand_ins, include_hidden=True)
    assert "stand-in" not in graded.message and "judge's own" not in graded.message, (
        f"the check treats the student's code as local: {graded.line()}")
    if mutant.passes:
        assert graded.status == PASSED, f"through stand-ins the grader says: {graded.line()}"
    else:
        assert graded.status == FAILED, f"through stand-ins the grader lets this mistake through: {graded.line()}"
        assert mutant.hint in graded.message, f"through stand-ins the hint misses the mistake: {graded.line()}"


def test_the_double_refuses_what_the_real_engine_refuses():
    """The double is strict: == and isinstance on a stand-in, and a judge-side object handed over, all raise."""
    with remote_double.graded():
        db = student_side.module("sqlite3").connect(":memory:")
        assert type(db) is remote_double.StandIn
        with pytest.raises(TypeError):
            db == db  # noqa: B015, PLR0124 - the comparison itself must raise
        with pytest.raises(TypeError):
            isinstance(db, sqlite3.Connection)
        with pytest.raises(TypeError):
            hash(db)
        with pytest.raises(AttributeError):
            db._private  # noqa: B018
        with pytest.raises(remote_double.JudgeObjectHandedOver):
            db.create_function("f", 1, lambda x: x)
        assert db.execute("SELECT 1 + 1").fetchone() == (2,)   # a plain tuple comes back
        assert type_name(db) == "Connection"
        try:
            db.execute("SELEC nothing")
        except Exception as error:  # noqa: BLE001 - what the student's side raised
            assert type(error) is remote_double.StudentCodeError
            assert raised(error, "OperationalError") and not raised(error, "TypeError")
        else:
            raise AssertionError("a broken query should raise")
    assert student_side.module("sqlite3") is sqlite3, "after grading, module() is the local import again"


def test_every_exercise_of_lessons_00_to_06_is_tried_through_stand_ins():
    from workbook.checks import EXERCISES
    tried = {mutant.exercise for _, mutant in READY}
    wanted = {exercise_id for exercise_id, entry in EXERCISES.items() if entry.lesson in REMOTE_READY_LESSONS}
    assert wanted <= tried, f"no answers tried through stand-ins for {sorted(wanted - tried)}"
