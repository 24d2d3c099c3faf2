"""GitHub Classroom: a workflow that grades a student's repository on each push, with the checks they can see.

The handout's ``.github/workflows/classroom.yml`` is a copy of ``github_classroom.yml`` beside this
file (made by ``workflow_text``; ``python -m workbook.grading.classroom --write`` rewrites it). Its
steps, as GitHub Classroom's autograding expects (one job ``run-autograding-tests`` in a workflow
named ``Autograding Tests``, then ``classroom-resources/autograding-grading-reporter``):

1. ``python -m workbook check --classroom-grade``: the student's notebooks and my_app/ graded once,
   as ``grade`` grades them, by the visible checks only; each exercise's line and points saved in
   ``.classroom-results.json``.
2. one ``classroom-resources/autograding-command-grader`` step per exercise, worth its points:
   ``python -m workbook check --classroom 1.2`` prints the exercise's ✅/❌/⏳ line and exits 0 only
   when it earned its points (the command grader gives max-score for exit code 0, else 0).
3. the reporter, which adds the steps' results (base64 JSON: version, status, max_score, tests with a
   score each) into the points GitHub Classroom shows.

The hidden checks do not run here (their messages never reach the student before the due date):
the instructor's final grade is ``grade`` on the repositories, hidden checks and all.
"""
import argparse
import json
import sys
from pathlib import Path

# Where the grading step saves each exercise's line and points, and how one step prints one of them:
# the students' repository's pre-check (workbook/precheck.py) does the same with the same file.
from ..precheck import CLASSROOM_RESULTS as RESULTS_NAME
from ..precheck import classroom_result as exercise_result

TEMPLATE = Path(__file__).with_name("github_classroom.yml")
PYTHON_VERSION = "3.12"


def step_id(exercise_id):
    return "exercise-" + exercise_id.replace(".", "-")


def _quoted(text):
    return json.dumps(text, ensure_ascii=False)   # a JSON string is a YAML double-quoted scalar


def workflow_text(exercises):
    """The workflow for ``exercises`` ({id: Exercise}, in lesson order)."""
    lines = [
        "# GitHub Classroom autograding for the Flask 2FA Workbook: written by python -m workbook.grading.classroom",
        "# --write (workbook/grading/classroom.py). The visible checks only; the instructor's grade adds the hidden.",
        "name: Autograding Tests",
        "'on':",
        "- push",
        "- repository_dispatch",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "jobs:",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        "    steps:",
        "    - name: Checkout code",
        "      uses: actions/checkout@v4",
        "    - name: Set up Python",
        "      uses: actions/setup-python@v5",
        "      with:",
        f"        python-version: '{PYTHON_VERSION}'",
        "    - name: Install the workbook",
        "      run: python -m pip install --quiet -r requirements.txt",
        "    - name: Grade the notebooks once (the checks you can see)",
        "      run: python -m workbook check --classroom-grade",
    ]
    for exercise_id, exercise in exercises.items():
        lines += [
            f"    - name: {_quoted(f'Exercise {exercise_id}')}",
            f"      id: {step_id(exercise_id)}",
            "      uses: classroom-resources/autograding-command-grader@v1",
            "      with:",
            f"        test-name: {_quoted(f'Exercise {exercise_id}: {exercise.title}')}",
            f"        command: python -m workbook check --classroom {exercise_id}",
            "        timeout: 1",
            f"        max-score: {exercise.points}",
        ]
    lines += [
        "    - name: Autograding Reporter",
        "      uses: classroom-resources/autograding-grading-reporter@v1",
        "      env:",
    ]
    lines += [f"        {step_id(i).upper()}_RESULTS: \"${{{{steps.{step_id(i)}.outputs.result}}}}\"" for i in exercises]
    lines += ["      with:", f"        runners: {','.join(step_id(i) for i in exercises)}"]
    return "\n".join(lines) + "\n"


def write_workflow(check=False):
    """Rewrite github_classroom.yml from the registry; the paths out of date (all of them with ``check``)."""
    from .grader import load_exercises
    text = workflow_text(load_exercises())
    if TEMPLATE.exists() and TEMPLATE.read_text(encoding="utf-8") == text:
        return []
    if not check:
        TEMPLATE.write_text(text, encoding="utf-8")
    return [TEMPLATE]


def grade_once(folder, timeout):
    """Grade ``folder`` (notebooks/, my_app/) by the visible checks; save each exercise's line and points."""
    from .command import student_summary, visible_points
    from .grader import Grader
    results = Path(folder) / RESULTS_NAME
    results.unlink(missing_ok=True)      # never a result from an earlier run, or one committed by hand
    grades = Grader(timeout=timeout).grade_students({"you": Path(folder)})
    student = grades.students[0]
    saved = {}
    for exercise_id, exercise in grades.exercises.items():
        grade = student.grade(exercise_id)
        saved[exercise_id] = {"points": visible_points(grade, exercise), "max_score": exercise.points,
                              "line": grade.visible_line()}
    results.write_text(json.dumps(saved, ensure_ascii=False, indent=1), encoding="utf-8")
    print(student_summary(grades, student))
    return 0


def check_main(args):
    """``python -m workbook check --classroom-grade`` / ``--classroom EXERCISE``."""
    folder = Path(args.folder) if args.folder else Path.cwd()
    if args.classroom_grade:
        if not (folder / "notebooks").is_dir():
            print(f"python -m workbook check: error: no notebooks/ folder in {folder}", file=sys.stderr)
            return 2
        return grade_once(folder, args.timeout)
    return exercise_result(folder, args.classroom)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m workbook.grading.classroom")
    parser.add_argument("--write", action="store_true", help="rewrite github_classroom.yml")
    parser.add_argument("--check", action="store_true", help="exit 1 if github_classroom.yml is out of date")
    args = parser.parse_args(argv)
    stale = write_workflow(check=not args.write)
    for path in stale:
        print(f"{path}: {'written' if args.write else 'out of date'}")
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
