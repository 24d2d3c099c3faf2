"""What an instructor needs around the marks: regrading some students into an earlier report,
manual overrides that survive a rerun, a deadline with a late penalty, and a gradebook for the LMS.

    grade SUBMISSIONS --out report.csv --student ana --merge          # regrade ana, keep the others
    grade SUBMISSIONS --out report.csv --overrides overrides.csv      # student,exercise,points,reason
    grade SUBMISSIONS --out report.csv --deadline 2026-12-01T23:59 --late-penalty 10 [--submitted times.csv]
    grade SUBMISSIONS --out report.csv --lms canvas --roster roster.csv   # gradebook-canvas.csv beside it

report.json (written beside report.csv on every run) holds every result, so that ``--merge``
can put a regraded student back among the others. Overrides and the penalty are applied
after grading, every run, from their files: rerunning the grader never loses them.
"""
import csv
import dataclasses
import json
import math
from datetime import datetime, timezone
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


def newest_file_time(folder):
    times = [p.stat().st_mtime for p in Path(folder).rglob("*") if p.is_file()]
    return datetime.fromtimestamp(max(times), tz=timezone.utc) if times else None


def apply_late_penalty(grades, folders, deadline, percent_per_day, submitted=None):
    """Late students lose ``percent_per_day`` % of their total per day or part of a day (at most all of it).

    The time handed in comes from ``submitted`` ({student: datetime}) when given, else from the
    newest file in the student's folder (which a copy may have changed: prefer the LMS's times).
    """
    for student in grades.students:
        handed_in = (submitted or {}).get(student.name)
        if handed_in is None and student.name in folders:
            handed_in = newest_file_time(folders[student.name])
        if handed_in is None or handed_in <= deadline:
            continue
        days = math.ceil((handed_in - deadline).total_seconds() / 86400)
        student.late_days = days
        student.penalty = min(1.0, days * percent_per_day / 100)
        student.notes.append(f"handed in {days} day{'s' if days > 1 else ''} late: "
                             f"-{student.penalty:.0%} of the total")


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


def write_gradebook(grades, out, lms, roster, assignment):
    """The gradebook CSV the LMS imports: Canvas's or Moodle's column shape, one row per student, the final grade."""
    from .report import _cell
    path = Path(out).parent / f"gradebook-{lms}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if lms == "canvas":
            # Canvas's own export: Student, ID, SIS User ID, SIS Login ID, Section, then one column per assignment.
            writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                             f"{assignment} ({grades.max_points})"])
            for student in grades.students:
                info = roster.get(student.name, {})
                writer.writerow([_cell(v) for v in (info.get("name") or student.name, info.get("id", ""),
                                                    info.get("sis_id", ""), info.get("login", ""),
                                                    info.get("section", ""), student.final)])
        else:
            # Moodle's grade import: identify each row by ID number or email address, then the grade.
            writer.writerow(["ID number", "Email address", "Full name", assignment])
            for student in grades.students:
                info = roster.get(student.name, {})
                writer.writerow([_cell(v) for v in (info.get("id") or student.name, info.get("email", ""),
                                                    info.get("name") or student.name, student.final)])
    return path
