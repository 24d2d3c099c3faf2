"""Lessons 07 and 08's checks give the same verdicts when the answer's functions are proxies.

When graded (REMOTE_DESIGN.md), the checks run in the grader's process on stand-ins for the student's
functions: plain values cross, everything else stays on the student's side behind a proxy that refuses
``==``, ``hash()`` and ``_`` names. tests/remote_double.py plays that engine in one process; here every
right answer of tests/mutants/ for lessons 07 and 08 passes through it, and every wrong one fails with
its hint, as in tests/test_check_mutants.py (the same answers, called directly).
"""
import importlib
import textwrap

import pytest
from remote_double import StandIn, StudentCodeError, graded, to_judge

from workbook.checks import EXERCISES, FAILED, NOT_DONE, PASSED, load_all, run_check
from workbook.checks.student_side import student_side

from mutants import LESSON_SETUP

MODULES = ("lesson_07", "lesson_07_round_two", "lesson_07_throttle_and_secrets", "lesson_07_attack_replay",
           "lesson_07_attack_csrf", "lesson_07_attack_cookie", "lesson_08")

load_all()
CASES = [(module, mutant) for module in (importlib.import_module(f"mutants.{name}") for name in MODULES)
         for mutant in module.MUTANTS]


def verdict(exercise_id, objects):
    """(status, message) of an exercise, its visible and hidden checks run as the grader runs them: on
    stand-ins for the answer's objects, ``student_side.module`` giving stand-ins for modules."""
    entry = EXERCISES[exercise_id]
    stand_ins = [to_judge(obj) for obj in objects]
    with graded():
        for check in [entry.check, *entry.hidden]:
            try:
                check(*stand_ins)
            except NotImplementedError:
                return NOT_DONE, ""
            except AssertionError as error:
                return FAILED, str(error)
            except StudentCodeError as error:
                return FAILED, f"your code raised {error}"
            except Exception as error:  # noqa: BLE001 - a check that broke the rules: it shows in the test
                return FAILED, f"the check raised {type(error).__name__}: {error}"
    return PASSED, ""


def _answer(module, mutant):
    """The objects the exercise's check takes, from the mutant run like a notebook cell."""
    namespace = {"__name__": "__main__"}
    setup = getattr(module, "SETUP", None) or LESSON_SETUP.get(int(mutant.exercise.split(".")[0]), "")
    exec(compile(textwrap.dedent(setup), "<lesson setup>", "exec"), namespace)
    exec(compile(textwrap.dedent(mutant.source), f"<answer {mutant.exercise}: {mutant.name}>", "exec"), namespace)
    return [namespace[name] for name in EXERCISES[mutant.exercise].uses]


@pytest.mark.parametrize("module, mutant", CASES,
                         ids=[f"{m.exercise} {'right' if m.passes else 'wrong'}: {m.name}" for _, m in CASES])
def test_the_verdict_through_proxies_is_the_verdict_in_the_notebook(module, mutant):
    status, message = verdict(mutant.exercise, _answer(module, mutant))
    if mutant.passes:
        assert status == PASSED, f"through proxies: {message}"
    else:
        assert status == FAILED, f"through proxies, this mistake got {status}"
        assert mutant.hint in message, f"through proxies, the hint misses the mistake: {message}"


def test_every_exercise_of_lessons_07_and_08_is_tried_through_proxies():
    tried = {mutant.exercise for _, mutant in CASES}
    assert {exercise_id for exercise_id, entry in EXERCISES.items() if entry.lesson in (7, 8)} <= tried


EXERCISES_07_08 = sorted(exercise_id for exercise_id, entry in EXERCISES.items()
                         if entry.lesson in (7, 8) and ".Q" not in exercise_id)


@pytest.mark.parametrize("exercise_id", EXERCISES_07_08)
def test_a_stub_is_not_done_through_proxies(exercise_id):
    """The untouched notebook: every check says ⏳, through stand-ins too (a fixture that calls the stub where the
    student's code runs passes its NotImplementedError on)."""
    def stub(*args, **kwargs):
        raise NotImplementedError(f"Exercise {exercise_id}: not yet")

    assert verdict(exercise_id, [stub] * len(EXERCISES[exercise_id].uses))[0] == NOT_DONE


# ---- the double itself: what a check may and may not do with a proxy ----------------------------

def test_a_check_that_hands_over_a_function_of_its_own_is_caught():
    """What the double is here for: a check breaking rule 1 fails through it, though it passes in a notebook."""
    with graded():
        db = student_side.module("sqlite3").connect(":memory:")
        assert type(db) is StandIn
        with pytest.raises(TypeError):
            db.set_trace_callback(print)
        with pytest.raises(TypeError):
            db == db  # noqa: B015 - the comparison is what is refused
        assert db.execute("SELECT 3").fetchone() == (3,)    # a plain tuple comes back as itself
    assert type(student_side.module("sqlite3")) is not StandIn


def test_a_session_dict_handed_over_is_a_copy():
    """Why 8.5's session is a LoginSession made on the student's side: a plain dict crosses as a copy."""
    popped = to_judge(lambda session: session.pop("challenge", None))
    session = {"challenge": b"x"}
    assert popped(session) == b"x" and session == {"challenge": b"x"}


@pytest.mark.parametrize("exercise_id", ["7.1", "7.6", "7.8"])
def test_a_table_of_the_old_fixed_inputs_fails(exercise_id):
    """An answer that knows the step and codes the checks used to hand out, and nothing else, fails."""
    source = {
        "7.1": """
TIMECODE = 56_666_666
seen = set()
def accept_once(db, user_id, timecode):
    known = (user_id, timecode) not in seen and timecode in (TIMECODE, TIMECODE + 1, 2 ** 40, 1)
    seen.add((user_id, timecode))
    with db:
        db.execute("UPDATE users SET last_timecode = ? WHERE id = ?", (timecode, user_id)) if known else None
    return known
""",
        "7.6": """
LOGIN_TIME = 1_700_000_000     # the login time the check used to give every session
def session_user(db, session_id, now, idle_seconds=30 * 60, max_seconds=12 * 3600):
    row = db.execute("SELECT user_id, last_seen FROM sessions WHERE id_hash = ?", (session_id,)).fetchone()
    if row is None or now - row["last_seen"] > idle_seconds or now - LOGIN_TIME > max_seconds:
        with db:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (session_id,))
        return None
    with db:
        db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, session_id))
    return row["user_id"]

def end_all_sessions(db, user_id):
    with db:
        db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
""",
        "7.8": """
CODES = {(1, "abcd-efgh-ijkm-nopq-rstu-vwxy"), (1, "qrst-uvwx-yz23-4567-abcd-efgh"),
         (1, "aaaa-bbbb-cccc-dddd-eeee-ffff"), (2, "zzzz-yyyy-xxxx-wwww-vvvv-uuuu")}
def use_recovery_code(db, user_id, code):
    if (user_id, code) not in CODES:
        return False
    CODES.discard((user_id, code))
    with db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?", (user_id, hash_code(code)))
    return True
""",
    }[exercise_id]
    namespace = {"__name__": "__main__"}
    exec(textwrap.dedent(LESSON_SETUP[7]), namespace)
    exec(textwrap.dedent(source), namespace)
    objects = [namespace[name] for name in EXERCISES[exercise_id].uses]
    assert run_check(exercise_id, *objects, include_hidden=True).status == FAILED
    assert verdict(exercise_id, objects)[0] == FAILED
