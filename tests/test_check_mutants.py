"""Every check catches the mistakes its lesson teaches against, in the notebook and in the grade.

For each answer in tests/mutants/*.py: run it like a notebook cell, then the
check cell (``run_check``, what a student sees) and the grader
(``run_check(..., include_hidden=True)``). A right answer gets ✅ from both; a
wrong one gets ❌ from both, and the ❌ line names the mistake (its ``hint``).
"""
import dataclasses
import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from workbook.checks import EXERCISES, FAILED, PASSED, QUESTIONS, load_all, run_check

MUTANTS_DIR = Path(__file__).parent / "mutants"
if str(MUTANTS_DIR.parent) not in sys.path:
    sys.path.insert(0, str(MUTANTS_DIR.parent))

# Lesson 08's exercises are covered by their own tests (tests/test_stage7_mutants.py covers 7.6 and 7.9 too).
FIRST_NOT_COVERED_HERE = (8, 0)
MIN_RIGHT, MIN_WRONG = 1, 3


def _mutant_modules():
    return [importlib.import_module(f"mutants.{path.stem}")
            for path in sorted(MUTANTS_DIR.glob("*.py")) if path.stem != "__init__"]


def _all_mutants():
    """(module, mutant) pairs; a mutant is anything with exercise, name, source, passes and hint."""
    return [(module, mutant) for module in _mutant_modules() for mutant in module.MUTANTS]


def _id_key(exercise_id):
    """(lesson, exercise number); a question or an attack counts as (lesson, 0): covered with its lesson's
    first exercises."""
    lesson, number = exercise_id.split(".")
    return int(lesson), 0 if number[0] in "AQ" else int(number)


def _setup_for(module, mutant):
    own = getattr(module, "SETUP", None)
    if own is not None:
        return own
    shared = importlib.import_module("mutants").LESSON_SETUP
    return shared[_id_key(mutant.exercise)[0]]


def _answer(module, mutant):
    """The objects the exercise's check takes, defined by running the mutant like a notebook cell."""
    namespace = {"__name__": "__main__"}
    exec(compile(textwrap.dedent(_setup_for(module, mutant)), "<lesson setup>", "exec"), namespace)
    exec(compile(textwrap.dedent(mutant.source), f"<answer {mutant.exercise}: {mutant.name}>", "exec"), namespace)
    return [namespace[name] for name in EXERCISES[mutant.exercise].uses]


def check_and_grade(exercise_id, *objects):
    """(what the check cell shows, what the grader gives): ``run_check`` and ``run_check(..., include_hidden=True)``,
    the visible check run once. The grader's run_check runs the same visible check first and stops at its verdict
    unless it passed, so its word is the check cell's, or, after a pass, that of the hidden checks in turn (run by
    run_check itself, the first of them in the visible check's place)."""
    seen = run_check(exercise_id, *objects)
    entry = EXERCISES.get(exercise_id)
    if seen.status != PASSED or entry is None or not entry.hidden:
        return seen, seen
    EXERCISES[exercise_id] = dataclasses.replace(entry, check=entry.hidden[0], hidden=entry.hidden[1:])
    try:
        return seen, run_check(exercise_id, *objects, include_hidden=True)
    finally:
        EXERCISES[exercise_id] = entry


load_all()
CASES = _all_mutants()


@pytest.mark.parametrize(
    "module, mutant", CASES,
    ids=[f"{m.exercise} {'right' if m.passes else 'wrong'}: {m.name}" for _, m in CASES])
def test_check_and_grade_agree_with_the_answer(module, mutant):
    assert mutant.exercise in EXERCISES, f"no exercise {mutant.exercise} is registered"
    objects = _answer(module, mutant)
    seen, graded = check_and_grade(mutant.exercise, *objects)
    if mutant.passes:
        assert seen.status == PASSED, f"the check cell says: {seen.line()}"
        assert graded.status == PASSED, f"the grader says: {graded.line()}"
    else:
        assert mutant.hint, "a wrong answer needs the hint its ❌ must give"
        assert seen.status == FAILED, f"the check cell lets this mistake through: {seen.line()}"
        assert mutant.hint in seen.message, f"the check cell's hint misses the mistake: {seen.line()}"
        assert graded.status == FAILED, f"the grader lets this mistake through: {graded.line()}"
        assert mutant.hint in graded.message, f"the grader's hint misses the mistake: {graded.line()}"


def test_every_exercise_has_right_and_wrong_answers():
    counts = {exercise_id: [0, 0] for exercise_id in EXERCISES
              if _id_key(exercise_id) < FIRST_NOT_COVERED_HERE}
    for _, mutant in CASES:
        if mutant.exercise in counts:
            counts[mutant.exercise][0 if mutant.passes else 1] += 1
    short = {exercise_id: f"{right} right, {wrong} wrong" for exercise_id, (right, wrong) in counts.items()
             if right < MIN_RIGHT or wrong < MIN_WRONG}
    assert not short, (
        f"each exercise needs at least {MIN_RIGHT} right and {MIN_WRONG} wrong answers in tests/mutants: {short}"
    )


def test_mutant_names_are_unique_per_exercise():
    seen = [(mutant.exercise, mutant.name) for _, mutant in CASES]
    assert len(seen) == len(set(seen))


def test_lesson_08s_exercises_have_a_right_answer_and_five_wrong_ones():
    """Lesson 08 (tests/mutants/lesson_08.py): every exercise and question, at least 1 right and 5 wrong (3 for a
    question with fewer options)."""
    counts = {exercise_id: [0, 0] for exercise_id, entry in EXERCISES.items() if entry.lesson == 8}
    assert len(counts) >= 7, f"lesson 08 registers 5 exercises and 2 questions: {sorted(counts)}"
    for _, mutant in CASES:
        if mutant.exercise in counts:
            counts[mutant.exercise][0 if mutant.passes else 1] += 1
    short = {exercise_id: f"{right} right, {wrong} wrong" for exercise_id, (right, wrong) in counts.items()
             if right < 1 or wrong < (3 if ".Q" in exercise_id else 5)}
    assert not short, f"lesson 08 needs more answers in tests/mutants/lesson_08.py: {short}"


def test_a_stub_of_another_exercise_is_named_not_shown_as_not_done():
    """5.3 done, 5.2 still a stub: the check says to finish 5.2, instead of ⏳ for 5.3."""
    namespace = {"__name__": "__main__"}
    exec(textwrap.dedent(importlib.import_module("mutants").LESSON_SETUP[5]), namespace)
    exec(textwrap.dedent("""
        def normalise_code(raw):
            raise NotImplementedError("Exercise 5.2: Normalise the typed code")

        def status_for(secret, raw, now):
            code = normalise_code(raw)
            if code is None:
                return 400
            return 200 if code_is_valid(secret, code, now) else 401
    """), namespace)
    result = run_check("5.3", namespace["status_for"])
    assert result.status == FAILED and "finish Exercise 5.2 first" in result.message
    own_stub = run_check("5.2", namespace["normalise_code"])
    assert own_stub.status != PASSED and own_stub.status != FAILED


def test_every_wrong_option_of_a_question_gets_its_own_hint():
    """A mutant per option: the right letter passes, each wrong one fails with the hint of its misconception."""
    for question_id, question in QUESTIONS.items():
        answered = {}
        for _, mutant in CASES:
            if mutant.exercise == question_id:
                namespace = {}
                exec(textwrap.dedent(mutant.source), namespace)
                answered[str(namespace[question.variable]).strip("() ").lower()] = mutant
        assert set(question.options) <= set(answered), f"{question_id}: a mutant for each option, got {sorted(answered)}"
        assert answered[question.answer].passes, f"{question_id}: the right option must pass"
        hints = [answered[letter].hint for letter in question.why_not]
        assert len(set(hints)) == len(hints), f"{question_id}: each wrong option needs a hint of its own"
        for letter, why in question.why_not.items():
            assert not answered[letter].passes and answered[letter].hint in why, (
                f"{question_id} ({letter}): the mutant's hint must come from that option's own explanation")


def test_a_check_with_drawn_inputs_leaves_the_notebooks_folder_as_it_was(tmp_path, monkeypatch):
    """Hypothesis keeps its cache in the temporary folder, not beside the student's notebook."""
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec("def grouped(secret):\n    return ' '.join(secret[i:i + 4] for i in range(0, len(secret), 4))", namespace)
    assert run_check("4.1", namespace["grouped"]).status == PASSED
    assert list(tmp_path.iterdir()) == []


# Lessons 00-06 were given a second, independent catalogue of wrong answers (issue #22): five or more
# per exercise; lesson 07 joins when its own catalogue is written.
LESSONS_WITH_FIVE_WRONG = range(0, 7)


def test_every_exercise_of_lessons_00_to_06_has_five_wrong_answers():
    wrong = {exercise_id: 0 for exercise_id, entry in EXERCISES.items()
             if entry.lesson in LESSONS_WITH_FIVE_WRONG and exercise_id not in QUESTIONS}
    for _, mutant in CASES:
        if mutant.exercise in wrong and not mutant.passes:
            wrong[mutant.exercise] += 1
    short = {exercise_id: count for exercise_id, count in wrong.items() if count < 5}
    assert not short, f"fewer than five wrong answers in tests/mutants: {short}"


def test_a_time_rounded_to_the_minute_is_caught_whatever_minute_the_check_draws(monkeypatch):
    """7.11 draws its `now`; a draw on a whole minute once let `now // 60 * 60` pass the time check (1 run in 60),
    to fail later with another hint. Every draw lands on a whole minute here: the ❌ still names the time."""
    lesson_07 = importlib.import_module("workbook.checks.lesson_07")

    class OnTheMinute:
        """Draws that put `now` and `later` on a whole minute (1_700_000_000 is 20 s past one)."""
        def randrange(self, start, stop=None):
            return 40 if stop is None else 60

    monkeypatch.setattr(lesson_07, "DRAW", OnTheMinute())
    module = importlib.import_module("mutants.lesson_07_throttle_and_secrets")
    for name in ("the time rounded to the minute", "the time of the call, not now"):
        mutant = next(m for m in module.MUTANTS if m.exercise == "7.11" and m.name == name)
        result = run_check("7.11", *_answer(module, mutant))
        assert result.status == FAILED and mutant.hint in result.message, f"{name}: {result.line()}"
    right = next(m for m in module.MUTANTS if m.exercise == "7.11" and m.passes)
    assert run_check("7.11", *_answer(module, right)).status == PASSED
