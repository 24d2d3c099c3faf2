"""The gradebook an LMS imports: Canvas, Moodle, or a plain CSV, beside the report.

What the grade is: the exercises' points (report.csv's ``total``), plus, only with ``--app-points N``,
the app's share (N × app_score / the number of stages: the last stage gets N, stage 5 with 40 % of
stage 6's tests 5.4/8 × N of 8 stages),
then the late penalty. Points possible: the exercises' points, plus N.

* Canvas (its gradebook's CSV import): the columns ``Student, ID, SIS User ID, SIS Login ID, Section``
  then one column per assignment named ``Assignment name (assignment id)``; the second row is
  ``Points Possible``. Canvas matches a row by ID (or SIS User ID / SIS Login ID), and the assignment
  column by the id in brackets: the instructor gives it (``--canvas-assignment 12345``).
* Moodle (Grades > Import > CSV file): any header row; each row is matched by a user field, here
  ``ID number`` or ``Email address``; the grade column is mapped to the grade item on import.
* csv: ``student, id, name, email, exercises, app, late_days, grade, points_possible``.

A student with no id in the roster stops the run before grading (instructor_file.problems).
"""
import csv
from pathlib import Path

from ..stages import STAGES

DEFAULT_ASSIGNMENT = "Flask 2FA Workbook"


def _number(value):
    value = round(value, 2)
    return int(value) if float(value).is_integer() else value


def _cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def app_points(student, points):
    """The app's share of ``points``: in proportion to app_score (0 without an app)."""
    if not points or student.app is None or student.app.score is None:
        return 0
    return points * min(student.app.score, len(STAGES)) / len(STAGES)


def grade(student, points):
    """What the gradebook gets: (exercises + the app's share) after the late penalty."""
    return _number((student.total + app_points(student, points)) * (1 - student.penalty))


def points_possible(grades, points):
    return _number(grades.max_points + (points or 0))


def write_gradebook(grades, out, adjustments):
    export = adjustments.export
    lms = export["lms"]
    points = float(export.get("app_points") or 0)
    assignment = export.get("assignment") or DEFAULT_ASSIGNMENT
    roster = adjustments.roster
    path = Path(out).parent / f"gradebook-{lms}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if lms == "canvas":
            writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                             f"{assignment} ({export['canvas_assignment']})"])
            writer.writerow(["    Points Possible", "", "", "", "", points_possible(grades, points)])
            for student in grades.students:
                info = roster.get(student.name, {})
                writer.writerow([_cell(v) for v in (info.get("name") or student.name, info.get("id", ""),
                                                    info.get("sis_id", ""), info.get("login", ""),
                                                    info.get("section", ""), grade(student, points))])
        elif lms == "moodle":
            writer.writerow(["ID number", "Email address", "Full name", assignment])
            for student in grades.students:
                info = roster.get(student.name, {})
                writer.writerow([_cell(v) for v in (info.get("id", ""), info.get("email", ""),
                                                    info.get("name") or student.name, grade(student, points))])
        else:
            writer.writerow(["student", "id", "name", "email", "exercises", "app", "late_days", "grade",
                             "points_possible"])
            for student in grades.students:
                info = roster.get(student.name, {})
                writer.writerow([_cell(v) for v in (
                    student.name, info.get("id", ""), info.get("name", ""), info.get("email", ""), student.total,
                    _number(app_points(student, points)), student.late_days, grade(student, points),
                    points_possible(grades, points))])
    return path
