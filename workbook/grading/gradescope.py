"""Grading on Gradescope: the autograder zip, and what runs in its container for each submission.

``python -m workbook autograder --out autograder.zip`` writes a zip Gradescope accepts as it is:

    setup.sh         installs Python and the pinned requirements on Gradescope's Ubuntu image
    run_autograder   grades $AUTOGRADER_ROOT/submission (default /autograder), writes results/results.json
    workbook/ tests/ notebooks/ app_steps/ requirements.txt pyproject.toml README.md
                     what the grader needs (solutions/ stays out: students never see the autograder,
                     but nothing needs it there)

Each submission is graded by the same Grader as ``python -m workbook grade``, so the
marks are the same. results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/)
has one test per exercise, named and scored as in report.csv, whose output is the line the
student's own check cell prints; an exercise with hidden checks has a second test,
visible only after the due date, which takes the exercise's points back when the code passes
the visible check but not the hidden ones; and one test for my_app/, worth no points
(report.csv does not count it either), saying which stage it reaches. The top-level
``score`` is the class grader's total.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .. import ROOT
from ..checks import is_question
from .command import app_line
from .model import ExerciseGrade

# tests/ whole, so the behaviour suite finds every helper its conftest files import; never
# anything holding answers (solutions/, the right answers in tests/mutants/).
PACKED = ["workbook", "tests", "notebooks", "app_steps", "requirements.txt", "pyproject.toml", "README.md"]
NOT_PACKED = {"__pycache__", "instance", ".ipynb_checkpoints", ".pytest_cache", "workbook.egg-info", "mutants"}
HIDDEN_CHECKS_NAME = "hidden_checks.py"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu), in /autograder/source.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    # Ubuntu 22.04 has Python 3.10; the pinned requirements need 3.11 or later (WTForms 3.3).
    apt-get install -y --no-install-recommends software-properties-common gpg-agent
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PYTHON=python3.11
fi
cd /autograder/source
"$PYTHON" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install -r requirements.txt   # the pinned versions, and the workbook (-e .)
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission: it grades $AUTOGRADER_ROOT/submission
# and writes $AUTOGRADER_ROOT/results/results.json. AUTOGRADER_ROOT is /autograder on Gradescope.
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${WORKBOOK_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source"
export PYTHONPATH="$ROOT/source"
exec "$PYTHON" -m workbook.grading.gradescope --root "$ROOT" HIDDEN
"""


# ---------------------------------------------------------------------------
# The zip


def _files(root, entry):
    path = root / entry
    if path.is_file():
        yield path
        return
    for item in sorted(path.rglob("*")):
        if item.is_file() and not (NOT_PACKED & set(item.relative_to(root).parts)) and item.suffix != ".pyc":
            yield item


def build_zip(out, hidden_checks=None, root=ROOT):
    """Write the autograder zip at ``out``; return the number of files in it."""
    out = Path(out)
    hidden = f"--hidden-checks {HIDDEN_CHECKS_NAME}" if hidden_checks else ""
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.replace("HIDDEN", hidden))):
            info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
            info.external_attr = 0o100755 << 16  # executable: Gradescope runs them as they are
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
            count += 1
        for entry in PACKED:
            for path in _files(root, entry):
                archive.write(path, path.relative_to(root).as_posix())
                count += 1
        if hidden_checks:
            archive.write(hidden_checks, HIDDEN_CHECKS_NAME)
            count += 1
    return count


# ---------------------------------------------------------------------------
# results.json


def results(student, exercises, seconds=0.0, before_due_date=False):
    """Gradescope's results.json for one graded student (a StudentGrade).

    ``before_due_date``: the overall score is the sum of the visible tests, and the hidden checks take
    nothing back yet (a total below that sum would give a hidden failure away); they count when the
    instructor regrades the submissions after the due date."""
    tests = []
    for exercise_id, exercise in exercises.items():
        grade = student.grade(exercise_id) or ExerciseGrade(exercise_id, "failed", "not graded (see the notes).")
        name = f"{'Question' if is_question(exercise_id) else 'Exercise'} {exercise_id}: {exercise.title}"
        visible_passed = (grade.visible_status or grade.status) == "passed"
        tests.append({"name": name, "number": exercise_id, "max_score": exercise.points,
                      "score": exercise.points if visible_passed else 0,
                      "status": "passed" if visible_passed else "failed",
                      "output": grade.visible_line(), "visibility": "visible"})
        hidden_failed = visible_passed and grade.status != "passed"
        if exercise.hidden or hidden_failed:  # the instructor's --hidden-checks are only known by their result
            tests.append({"name": f"{name} (hidden checks)", "number": f"{exercise_id}h", "max_score": 0,
                          "score": -exercise.points if hidden_failed and not before_due_date else 0,
                          "status": "failed" if hidden_failed else "passed",
                          "output": (grade.line() + f" The hidden checks take back its {exercise.points} "
                                     "point(s).") if hidden_failed else "Hidden checks: nothing taken back.",
                          "visibility": "after_due_date"})
    tests.append({"name": "Your app (my_app/)", "number": "app", "max_score": 0, "score": 0,
                  "output": app_line(student.app), "visibility": "visible"})
    # Integrity flags (plan.py, run.py, integrity.py) are for the instructor only: a hidden test worth nothing.
    flags = student.all_flags()
    tests.append({"name": "Integrity flags (instructor only)", "number": "flags", "max_score": 0, "score": 0,
                  "output": "\n".join(flags) if flags else "No integrity flags.", "visibility": "hidden"})
    notes = student.all_notes()
    score = sum(test["score"] for test in tests if test["visibility"] == "visible") if before_due_date \
        else student.total
    return {"score": score, "execution_time": round(seconds),
            "output": "Notes: " + "; ".join(notes) if notes else "Every notebook ran.",
            "stdout_visibility": "hidden", "tests": tests}


def is_before_due_date(metadata_path, now=None):
    """Whether this run is before the assignment's due date (Gradescope's submission_metadata.json:
    ``assignment.due_date``); no file or no date: False (the instructor's run, everything counts)."""
    from datetime import datetime, timezone
    try:
        due = json.loads(Path(metadata_path).read_text(encoding="utf-8"))["assignment"]["due_date"]
        due = datetime.fromisoformat(due.replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    now = now or datetime.now(timezone.utc)
    return now < (due if due.tzinfo else due.replace(tzinfo=timezone.utc))


def grade_submission(upload, hidden_checks=None, timeout=None, name="submission"):
    """Grade one uploaded submission (see files.gather_submission); return (StudentGrade, ClassGrades)."""
    from .files import gather_submission
    from .grader import DEFAULT_TIMEOUT, Grader
    with tempfile.TemporaryDirectory(prefix="workbook-submission-") as staging:
        folder = Path(staging) / name
        notes = gather_submission(upload, folder)
        grades = Grader(timeout=timeout or DEFAULT_TIMEOUT, hidden_checks=hidden_checks).grade_students(
            {name: folder})
    student = grades.students[0]
    student.notes[:0] = notes
    return student, grades


def main(argv=None):
    """What run_autograder runs: ``python -m workbook.grading.gradescope --root /autograder``."""
    parser = argparse.ArgumentParser(prog="python -m workbook.grading.gradescope")
    parser.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    parser.add_argument("--hidden-checks", default=None)
    args = parser.parse_args(argv)
    root = Path(args.root)
    (root / "results").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        student, grades = grade_submission(root / "submission", hidden_checks=args.hidden_checks)
        payload = results(student, grades.exercises, time.monotonic() - started,
                          before_due_date=is_before_due_date(root / "submission_metadata.json"))
    except Exception as error:  # noqa: BLE001 - Gradescope must get a results.json, and the instructor a reason
        payload = {"score": 0, "output": f"The autograder failed: {type(error).__name__}: {error}. "
                                         "Tell your instructor.", "tests": []}
        print(f"autograder error: {type(error).__name__}: {error}", file=sys.stderr)
    (root / "results" / "results.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False),
                                                   encoding="utf-8")
    print(f"score {payload['score']}; results in {root / 'results' / 'results.json'}")
    return 0


def command(args):
    """The ``autograder`` subcommand."""
    out = Path(args.out)
    if out.is_dir() or not out.resolve().parent.is_dir():
        print(f"python -m workbook autograder: error: --out {out}: give a file name in an existing folder",
              file=sys.stderr)
        return 2
    if args.hidden_checks:
        from .command import validate_hidden_checks
        from .model import GradingError
        try:
            validate_hidden_checks(args.hidden_checks)
        except GradingError as error:
            print(f"python -m workbook autograder: error: {error}", file=sys.stderr)
            return 2
    count = build_zip(out, args.hidden_checks)
    print(f"Wrote {out} ({count} files). On Gradescope: a Programming Assignment, upload it as the autograder; "
          "students upload their notebooks/ (and my_app/).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
