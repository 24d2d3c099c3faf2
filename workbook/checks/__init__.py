"""Check cells: one line of feedback per exercise, the same checks the instructor grades with.

Each lesson's checks live in ``workbook/checks/lesson_NN.py`` and register
themselves with ``@exercise``. A check is a function that takes the student's
objects (named in ``uses``) and raises AssertionError with a hint when
something is wrong. In a notebook, a check cell calls:

    check("3.2", provisioning_uri)

and prints exactly one line: ✅ passed, ❌ wrong (with the hint) or ⏳ not done
yet (the NotImplementedError stub is still there). It never raises.
``@hidden_check`` adds checks that only the grader runs.

A *question* (``question(...)`` in a lesson's module) is an exercise too: a prompt with lettered
options, the right one, and for each wrong option a hint that names the misconception behind it.
The student assigns a letter to ``answer_<lesson>_q<n>`` and the usual check cell,
``check("2.Q1", answer_2_q1)``, says ✅, ❌ with that hint, or ⏳ while it is still ``None``. It is
registered in ``EXERCISES`` like any exercise, so the grader, Gradescope and the pre-check grade it.

The visible check tests everything the lesson teaches, above all the insecure
pattern it warns against, so that a ✅ in the notebook means the grade agrees.
Hidden checks only try other inputs (another key, another user, odd names), so
that an answer written to fit the visible inputs still fails.
tests/test_check_mutants.py holds each check to that, with right and wrong
answers for every exercise (tests/mutants/).

Nothing here gives an answer away: the checks' reference helpers are marked
``@reference_only`` and refuse to run for anyone but the checks (a student's
function that calls one gets ❌), and ``run_check`` refuses, as an answer, a
function of the workbook's own, and re-validates the registry (a check that is
not one of the package's own, after a notebook patched it, is not run).
"""
import functools
import importlib
import os
import pkgutil
import random
import sys
from dataclasses import dataclass, field

PASSED, FAILED, NOT_DONE = "passed", "failed", "not done"
SYMBOLS = {PASSED: "✅", FAILED: "❌", NOT_DONE: "⏳"}


@dataclass
class Exercise:
    id: str            # "3.2": lesson 3, exercise 2
    title: str
    uses: tuple        # names the student defines in the notebook, passed to the check in order
    check: callable
    points: int = 1
    hidden: list = field(default_factory=list)  # extra checks only the grader runs

    @property
    def lesson(self) -> int:
        return int(self.id.split(".")[0])


EXERCISES: dict[str, Exercise] = {}

CHECKS_FOLDER = os.path.dirname(os.path.abspath(__file__)) + os.sep
# Where a registered check may come from: the lessons' modules, the instructor's hidden checks file,
# and the grading worker (which stands in for a visible check that already passed).
CHECK_MODULES = ("workbook.checks.lesson_", "workbook_hidden_checks", "workbook.grading.worker")


def reference_only(function):
    """Mark a reference helper of the checks: it runs only when called from the checks' own code.

    A student who imports it (``from workbook.checks.lesson_02 import _reference_counter``) and calls
    it from their answer gets an AssertionError, so the check says ❌, not ✅.
    """
    @functools.wraps(function)
    def only_for_the_checks(*args, **kwargs):
        caller = sys._getframe(1).f_code.co_filename
        if not os.path.abspath(caller).startswith(CHECKS_FOLDER):
            raise AssertionError(f"{function.__name__} is the checks' own reference, not an answer: "
                                 "write the code yourself.")
        return function(*args, **kwargs)
    return only_for_the_checks


def exercise(exercise_id, title, uses, points=1):
    """Register ``function`` as the visible check of an exercise."""
    def register(function):
        if exercise_id in EXERCISES:
            raise ValueError(f"Exercise {exercise_id} is registered twice.")
        EXERCISES[exercise_id] = Exercise(exercise_id, title, tuple(uses), function, points)
        return function
    return register


def hidden_check(exercise_id):
    """Register ``function`` as a further check of an exercise, run only when grading."""
    def register(function):
        EXERCISES[exercise_id].hidden.append(function)
        return function
    return register


@dataclass
class Question:
    id: str              # "2.Q1": lesson 2, question 1
    title: str
    prompt: str
    options: dict        # letter -> option text, in the order shown
    answer: str          # the right letter
    why_not: dict        # wrong letter -> the hint naming its misconception

    @property
    def variable(self):
        return answer_variable(self.id)


QUESTIONS: dict[str, Question] = {}


def answer_variable(question_id):
    """The name a notebook assigns its answer to: "2.Q1" -> "answer_2_q1"."""
    lesson, number = question_id.split(".")
    return f"answer_{lesson}_{number.lower()}"


def is_question(exercise_id):
    return ".Q" in exercise_id


def is_attack(exercise_id):
    """An exercise where the student writes an attack on a weak app ("7.A1"), before the lesson's defence."""
    return ".A" in exercise_id


def exercise_order(exercise_id):
    """A sort key: a lesson's exercises in order, then its attacks, then its questions
    ("7.11" < "7.A1" < "7.Q1" < "8.1")."""
    lesson, number = exercise_id.split(".")
    series = {"A": 1, "Q": 2}.get(number[0], 0)
    return (int(lesson), series, int(number[1:] if series else number))


def _letter(given):
    """ "b", "B", "(b)", " b) " -> "b"; anything else as it was."""
    if isinstance(given, str):
        return given.strip().strip("()").strip().lower()
    return given


def question(question_id, title, prompt, options, answer, why_not, points=1):
    """Register a multiple-choice question, checked like an exercise; every wrong option needs its hint."""
    if set(why_not) != set(options) - {answer} or answer not in options:
        raise ValueError(f"Question {question_id}: one hint per wrong option, and the answer among the options.")
    entry = Question(question_id, title, prompt, dict(options), answer, dict(why_not))
    letters = ", ".join(f'"{letter}"' for letter in options)

    def check_answer(given):
        if given is None:
            raise NotImplementedError(f"Question {question_id}: {title}")
        letter = _letter(given)
        assert isinstance(letter, str) and letter in options, (
            f"answer with the letter of one option, in quotes ({letters}), not {given!r}."
        )
        if letter != answer:
            raise AssertionError(f"({letter}) is not right: {why_not[letter]}")

    # The check belongs to the lesson that asks the question (run_check accepts only the lessons' checks).
    check_answer.__module__ = sys._getframe(1).f_globals.get("__name__", __name__)
    check_answer.__qualname__ = check_answer.__name__ = f"check_question_{question_id.replace('.', '_')}"
    if question_id in EXERCISES:
        raise ValueError(f"Exercise {question_id} is registered twice.")
    QUESTIONS[question_id] = entry
    EXERCISES[question_id] = Exercise(question_id, title, (entry.variable,), check_answer, points)
    return entry


# Inputs drawn at random (Hypothesis), from a seed chosen once per run: each run of a check tries
# other inputs, so an answer tuned to a check's fixed examples (a table, a cache) fails sooner or
# later, while a failure can be replayed (a hint from a drawn input ends with the run's seed).
RUN_SEED = random.SystemRandom().randrange(2 ** 32)


def for_all(strategy, test, max_examples=30):
    """Run ``test(value)`` on up to ``max_examples`` values drawn from the Hypothesis ``strategy``.

    The first failing value is shrunk to a small one and its AssertionError (or the student's own
    exception) raised as it was; an answer that gives different results for the same input (state kept
    between calls) fails with a hint that says so. No example database is written (``database=None``), and
    Hypothesis's cache goes to the temporary folder, never the notebook's.
    """
    import tempfile

    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis.configuration import set_hypothesis_home_dir
    from hypothesis.errors import Flaky

    # Hypothesis caches what it learns about the code under test in ./.hypothesis: keep that out of the
    # student's folder (and the grader's scratch copy of it).
    set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "workbook-hypothesis"))

    run = seed(RUN_SEED)(settings(
        max_examples=max_examples, deadline=None, database=None, derandomize=False, print_blob=False,
        suppress_health_check=list(HealthCheck), phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=False)(given(strategy)(test)))
    try:
        run()
    except AssertionError as error:
        raise AssertionError(f"{error} (inputs drawn from seed {RUN_SEED})") from None
    except Flaky:
        raise AssertionError(
            "your function gave different answers for the same input, called twice: does it keep something "
            "between calls (a cache, a global, a default argument that changes)? Work it out from the "
            f"arguments alone each time (inputs from seed {RUN_SEED})."
        ) from None


def load_all():
    """Import every lesson's checks (they register themselves)."""
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("lesson_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return EXERCISES


def prepare_all():
    """Let each lesson's checks build, once, what they always need (a lesson module's ``prepare()``).

    The grader's fork server calls this, so that every worker it forks starts with it built.
    """
    load_all()
    for module in pkgutil.iter_modules(__path__):
        prepare = getattr(importlib.import_module(f"{__name__}.{module.name}"), "prepare", None)
        if callable(prepare):
            prepare()


@dataclass
class Result:
    exercise_id: str
    status: str
    message: str = ""

    def line(self):
        title = EXERCISES[self.exercise_id].title if self.exercise_id in EXERCISES else ""
        kind = "Question" if is_question(self.exercise_id) else "Exercise"
        text = f"{SYMBOLS[self.status]} {kind} {self.exercise_id}: {title}"
        if self.status == PASSED:
            return text + ": passed."
        if self.status == NOT_DONE:
            if is_question(self.exercise_id):
                return text + ": not answered yet (put the letter of your answer in place of None)."
            return text + ": not done yet (replace the `raise NotImplementedError` line with your code)."
        return f"{text}: {self.message}"


def run_check(exercise_id, *objects, include_hidden=False) -> Result:
    """Run an exercise's check on the student's objects, catching everything."""
    load_all()
    if exercise_id not in EXERCISES:
        return Result(exercise_id, FAILED, f"there is no exercise {exercise_id}; check the id in this cell.")
    entry = EXERCISES[exercise_id]
    tampered = [f for f in [entry.check, *entry.hidden]
                if not str(getattr(f, "__module__", "")).startswith(CHECK_MODULES)]
    if tampered:
        return Result(exercise_id, FAILED, "the checks were changed in this session (a check is not the workbook's "
                                           "own): restart the kernel and run the notebook again.")
    borrowed = _borrowed(objects, entry.uses)
    if borrowed:
        return Result(exercise_id, FAILED, f"{borrowed}, not your answer: write the function yourself.")
    for check_function in [entry.check] + (entry.hidden if include_hidden else []):
        try:
            check_function(*objects)
        except NotImplementedError as error:
            other = _other_exercise_stub(error, exercise_id)
            if other:
                return Result(exercise_id, FAILED,
                              f"your answer calls the function of Exercise {other}, which is still a stub "
                              f"({error}): finish Exercise {other} first, then run this check again.")
            return Result(exercise_id, NOT_DONE)
        except AssertionError as error:
            return Result(exercise_id, FAILED, str(error) or "not right yet.")
        except Exception as error:  # the student's code crashed: report it, never crash the notebook
            return Result(exercise_id, FAILED, f"your code raised {type(error).__name__}: {error}")
    return Result(exercise_id, PASSED)


BORROWED = "is the workbook's own code"   # the grader flags an answer refused with this message
# Where the workbook's own code lives: its package, and its reference apps (app_steps/step_NN_*/, however
# loaded: workbook.app_loader names them _workbook_app_N; a scratch copy of app_steps/ counts too).
OWN_PACKAGE = os.path.dirname(CHECKS_FOLDER.rstrip(os.sep)) + os.sep
REFERENCE_APP = os.sep + "app_steps" + os.sep + "step_"


def _defined_by_the_workbook(obj):
    """Where the workbook defines ``obj`` (its file, from the workbook's folder), or None when it does not.

    Judged by where its code lives (a student's own my_app/ loaded by app_loader is theirs)."""
    for _ in range(3):  # a bound method, a functools.partial, a wrapper: what it runs
        obj = getattr(obj, "__func__", None) or getattr(obj, "func", None) or getattr(obj, "__wrapped__", None) or obj
    code = getattr(obj, "__code__", None)
    module = str(getattr(obj, "__module__", "") or "")
    if code is not None:
        filename = code.co_filename
    elif module.startswith(("workbook.", "_workbook_app_")):  # a class: its module's file
        filename = getattr(sys.modules.get(module), "__file__", None) or module
    else:
        return None
    filename = os.path.abspath(filename)
    if REFERENCE_APP in filename:
        return "app_steps" + os.sep + "step_" + filename.split(REFERENCE_APP, 1)[1]
    if filename.startswith(OWN_PACKAGE):
        return "workbook" + os.sep + filename[len(OWN_PACKAGE):]
    return None


def _borrowed(objects, names):
    """'`name` is ...' when an answer is the workbook's own function, or a wrapper of the one of the same name."""
    import types
    for obj in objects:
        try:
            where = callable(obj) and _defined_by_the_workbook(obj)
        except Exception:  # noqa: BLE001 - a student's object that raises when asked: not the workbook's
            where = None
        if not callable(obj):
            continue
        if where:
            name = getattr(obj, "__name__", None) or getattr(getattr(obj, "func", None), "__name__", "it")
            return f"`{name}` {BORROWED} ({where})"
        code, scope = getattr(obj, "__code__", None), dict(getattr(obj, "__globals__", {}))
        for name, cell in zip(code.co_freevars if code else (), getattr(obj, "__closure__", None) or (), strict=False):
            try:
                scope[name] = cell.cell_contents   # what a nested function reads from the one around it
            except ValueError:
                pass
        codes, used = [code] if code is not None else [], set()
        while codes:  # the names its code (and the functions nested in it) reads
            current = codes.pop()
            used.update(current.co_names + current.co_freevars)
            codes += [c for c in current.co_consts if isinstance(c, types.CodeType)]
        wanted = {getattr(obj, "__name__", None), *names}
        for name in used & set(scope):
            value = scope[name]
            try:  # a proxy (flask.session) may raise for any question asked of it outside a request
                candidates = [value] + [getattr(value, attr, None) for attr in used & wanted
                                        if isinstance(value, (types.ModuleType, type))]
                for candidate in candidates:
                    where = callable(candidate) and getattr(candidate, "__name__", None) in wanted and \
                        _defined_by_the_workbook(candidate)
                    if where:
                        return f"`{obj.__name__}` calls `{candidate.__name__}`, which {BORROWED} ({where})"
            except Exception:  # noqa: BLE001, S112 - not a function of the workbook's, then
                continue
    return None


def _other_exercise_stub(error, exercise_id):
    """The id of the exercise whose stub raised ``error``, when it is not ``exercise_id``, else None."""
    text = str(error)
    if text.startswith("Exercise ") and ":" in text:
        stub_id = text[len("Exercise "):].split(":", 1)[0]
        if stub_id in EXERCISES and stub_id != exercise_id:
            return stub_id
    return None


def check(exercise_id, *objects):
    """The check cell: print one line of feedback for this exercise."""
    result = run_check(exercise_id, *objects)
    print(result.line())
    return None
