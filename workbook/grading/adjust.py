"""The instructor's adjustments, read and applied: regrading some students into an earlier report,
manual overrides, submission times, the roster. instructor_file.py keeps them in instructor.json and
applies them on every run; lms.py writes the gradebooks.

report.json (written beside report.csv on every run) holds every result, so that ``--merge``
can put a regraded student back among the others.
"""
import csv
import dataclasses
import json
from datetime import datetime
from pathlib import Path

from .model import AppGrade, ExerciseGrade, GradingError, NotebookGrade, StageRun, StudentGrade

# ---------------------------------------------------------------------------
# report.json: every result, to merge a regrade into


def load_students(path):
    """The StudentGrades of an earlier report.json, by name."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise GradingError(f"--merge: cannot read {path} ({error}); grade the whole class once first") from None
    students = {}
    for raw in data.get("students", []):
        notebooks = {}
        for lesson, notebook in raw.get("notebooks", {}).items():
            grades = {i: ExerciseGrade(**g) for i, g in notebook.pop("grades", {}).items()}
            notebooks[int(lesson)] = NotebookGrade(**{**notebook, "grades": grades})
        app = raw.get("app")
        if app is not None:
            runs = [StageRun(**run) for run in app.pop("runs", [])]
            app = AppGrade(**{**app, "runs": runs,
                              "next_stage": tuple(app["next_stage"]) if app.get("next_stage") else None})
        fields = {f.name for f in dataclasses.fields(StudentGrade)} - {"notebooks", "app"}
        students[raw["name"]] = StudentGrade(**{k: v for k, v in raw.items() if k in fields},
                                             notebooks=notebooks, app=app)
    return students


def merge(grades, earlier):
    """``grades`` (some students, just graded) with the other students of ``earlier``, sorted by name."""
    fresh = {student.name for student in grades.students}
    kept = [student for name, student in earlier.items() if name not in fresh]
    grades.students = sorted(grades.students + kept, key=lambda s: (s.name.casefold(), s.name))
    return grades


# ---------------------------------------------------------------------------
# Overrides


def read_overrides(path):
    """[(student, exercise id, points, reason)] from a CSV with the columns student,exercise,points,reason."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise GradingError(f"--overrides: cannot read {path} ({error.strerror or error})") from None
    overrides = []
    for number, row in enumerate(rows, 2):
        if not {"student", "exercise", "points"} <= set(row):
            raise GradingError(f"--overrides {path}: the columns are student,exercise,points,reason")
        try:
            points = float(row["points"])
        except (TypeError, ValueError):
            raise GradingError(f"--overrides {path}, line {number}: points must be a number, "
                               f"not {row['points']!r}") from None
        overrides.append((row["student"].strip(), row["exercise"].strip(), points, (row.get("reason") or "").strip()))
    return overrides


def apply_overrides(grades, overrides):
    """Set the points the instructor decided; each change is a note. Unknown students or exercises: an error."""
    by_name = {student.name: student for student in grades.students}
    for student_name, exercise_id, points, reason in overrides:
        student = by_name.get(student_name)
        if student is None:
            continue  # not in this run (a regrade of other students): applied when that student is graded
        if exercise_id == "late":
            if not student.penalty:
                continue
            student.penalty, student.late_days = 0.0, 0
            student.notes.append("late penalty waived" + (f" ({reason})" if reason else ""))
            continue
        if exercise_id not in grades.exercises:
            raise GradingError(f"--overrides: there is no exercise {exercise_id!r} (for {student_name})")
        grade = student.grade(exercise_id)
        if grade is None:
            continue
        points = int(points) if float(points).is_integer() else points
        if grade.overridden and grade.points == points:
            continue  # kept from an earlier run (--merge), note and all
        before = grade.points
        grade.points = points
        grade.overridden = True
        if before != points:
            student.notes.append(f"{exercise_id}: set to {points} by the instructor (was {before})"
                                 + (f": {reason}" if reason else ""))


# ---------------------------------------------------------------------------
# Deadline and late penalty


def parse_time(text, what):
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise GradingError(f"{what}: {text!r} is not a date and time such as 2026-12-01T23:59") from None
    return moment if moment.tzinfo else moment.astimezone()   # local time when no zone is given


def submission_times(path):
    """{student: datetime} from a CSV with the columns student,submitted (as an LMS exports them)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return {row["student"].strip(): parse_time(row["submitted"], f"--submitted {path}")
                    for row in csv.DictReader(handle)}
    except (OSError, KeyError) as error:
        raise GradingError(f"--submitted {path}: needs the columns student,submitted ({error})") from None


# ---------------------------------------------------------------------------
# LMS gradebooks


def read_roster(path):
    """{student folder name: {"id", "name", "email", "sis_id", "login", "section"}} from a CSV whose columns
    are student plus any of id, name, email, sis_id, login, section."""
    if path is None:
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return {row["student"].strip(): {k: (v or "").strip() for k, v in row.items()}
                    for row in csv.DictReader(handle)}
    except (OSError, KeyError) as error:
        raise GradingError(f"--roster {path}: needs a student column ({error})") from None
