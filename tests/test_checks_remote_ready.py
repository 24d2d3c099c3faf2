"""The checks of lessons 00-06 give the same verdict when the student's code is only reachable through stand-ins.

When graded, the student's cells run in a process of their own and the checks see plain values and
stand-ins (REMOTE_DESIGN.md). tests/remote_double.py plays that engine in this process: every answer of
tests/mutants/ for lessons 00-06 is run through it, and a right answer must still pass and a wrong one
still fail with the hint that names its mistake, as tests/test_check_mutants.py asks of the local run.
"""
import importlib
import random
import sqlite3

import pytest
import remote_double
from test_check_mutants import CASES, _answer, check_and_grade

from workbook.checks import FAILED, PASSED, run_check
from workbook.checks.student_side import plain, raised, student_side, type_name

REMOTE_READY_LESSONS = range(0, 7)
READY = [(module, mutant) for module, mutant in CASES if int(mutant.exercise.split(".")[0]) in REMOTE_READY_LESSONS]


@pytest.mark.parametrize(
    "module, mutant", READY,
    ids=[f"{m.exercise} {'right' if m.passes else 'wrong'}: {m.name}" for _, m in READY])
def test_the_verdict_is_the_same_through_stand_ins(module, mutant):
    objects = _answer(module, mutant)
    with remote_double.graded():
        stand_ins = [remote_double.to_judge(obj) for obj in objects]
        seen, graded = check_and_grade(mutant.exercise, *stand_ins)   # the visible check (pre-check); the grade
    for who, result in (("the visible check", seen), ("the grader", graded)):
        assert "stand-in" not in result.message and "judge's own" not in result.message, (
            f"{who} treats the student's code as local: {result.line()}")
        if mutant.passes:
            assert result.status == PASSED, f"through stand-ins {who} says: {result.line()}"
        else:
            assert result.status == FAILED, f"through stand-ins {who} lets this mistake through: {result.line()}"
            assert mutant.hint in result.message, f"through stand-ins {who}'s hint misses the mistake: {result.line()}"


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


# A table of what the right answer returned for the inputs of one grading run, replayed in the next: the checks
# must draw other inputs each run (random.SystemRandom, secrets, and Hypothesis from a seed drawn per run), so
# that such a table fails. Left out: 1.2 and 4.2 take no input (their answer is a constant), 6.5's answer is a
# decorator (what it returns is a function, not a value a table could hold), and the questions.
NO_INPUT_TO_DRAW = {"1.2", "4.2", "6.5"}
SEEDED = ["workbook.checks", "workbook.checks.lesson_01", "workbook.checks.lesson_05"]   # modules holding RUN_SEED


def _key(args, kwargs):
    """The inputs of a call as a table would hold them: plain values, or what a plain copy of an object gives."""
    def held(value):
        for snapshot in (lambda: plain(value), lambda: plain(tuple(value))):
            try:
                return snapshot()
            except (TypeError, ValueError):
                pass
        return type(value).__name__
    return repr(([held(arg) for arg in args], sorted((name, held(value)) for name, value in kwargs.items())))


TABLE_CASES = sorted({mutant.exercise: (module, mutant) for module, mutant in reversed(READY)
                      if mutant.passes and ".Q" not in mutant.exercise and mutant.exercise not in NO_INPUT_TO_DRAW
                      }.items())


@pytest.mark.parametrize("exercise_id, case", TABLE_CASES, ids=[exercise_id for exercise_id, _ in TABLE_CASES])
def test_a_table_of_the_last_runs_answers_fails_the_next_run(exercise_id, case, monkeypatch):
    module, mutant = case
    right, = _answer(module, mutant)
    table = {}

    def recorded(*args, **kwargs):
        table[_key(args, kwargs)] = result = right(*args, **kwargs)
        return result

    def replayed(*args, **kwargs):
        return table.get(_key(args, kwargs))

    assert run_check(exercise_id, recorded, include_hidden=True).status == PASSED
    assert table, "the check never called the answer"
    seed = random.SystemRandom().randrange(2 ** 32)   # the next grading run draws its own seed
    for name in SEEDED:
        monkeypatch.setattr(importlib.import_module(name), "RUN_SEED", seed)
    graded = run_check(exercise_id, replayed, include_hidden=True)
    assert graded.status == FAILED, (
        f"{exercise_id}: {len(table)} answers of one run, replayed as a table, pass the next run: {graded.line()}")
