"""The instructor's adjustments as data: ``instructor.json`` beside the report, checked before any grading.

Everything an instructor decides around the marks lives in one file beside report.csv:

    {"overrides": [{"student": "dan", "exercise": "3.2", "points": 2, "reason": "..."}],
     "deadline": "2026-12-01T23:59+01:00", "late_penalty": 10,
     "submitted": {"ana": "2026-12-01T20:00+01:00"},
     "roster": {"ana": {"id": "101", "name": "Ana Lee", ...}},
     "export": {"lms": "canvas", "canvas_assignment": "12345", "app_points": 0, "assignment": "..."}}

An option given on the command line replaces its part of the file (``--overrides FILE`` replaces the
overrides with that file's rows, ``--submitted FILE`` the times, ``--roster FILE`` the roster,
``--deadline DATE`` the deadline, ``--deadline none`` removes it); an option left out keeps what the
file had. So a rerun with fewer options (``--student dan --merge``) loses nothing: the whole file is
applied to every student of the report on every run, after grading and after merging.

Before any notebook runs, the file is checked against the class: an override or a submission time
for a student who has no folder, an exercise id that does not exist, points out of range, a deadline
without submission times, a student missing from the roster of an LMS export: the run stops at once,
naming every problem, with the close matches (``Hugo``: did you mean ``hugo``?). A student with no
submission time is a warning and gets no penalty: never a file's date, which a copy changes.

(As nbgrader keeps manual grades in its gradebook database, apart from the autograded results, and
applies them on every ``generate_feedback``/``export``: the adjustments here are never mixed into the
graded results; report.json's results are cleared of them and they are applied again.)
"""
import difflib
import json
import math
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from . import integrity
from .files import NotebookError, find_notebooks, read_code_cells, remove_tree, unpack_zips
from .model import GradingError

FILE_NAME = "instructor.json"
DEFAULT_LATE_PENALTY = 10.0


@dataclass
class Adjustments:
    overrides: list = field(default_factory=list)   # [{"student", "exercise", "points", "reason"}]
    deadline: str | None = None                      # ISO date and time
    late_penalty: float = DEFAULT_LATE_PENALTY       # % of the total per day or part of a day late
    submitted: dict = field(default_factory=dict)   # student -> ISO date and time handed in
    roster: dict = field(default_factory=dict)      # student -> {"id", "name", "email", "sis_id", "login", ...}
    export: dict = field(default_factory=dict)      # "lms", "canvas_assignment", "app_points", "assignment"


def file_path(out):
    return Path(out).parent / FILE_NAME


def load(out):
    """The adjustments kept beside the report at ``out`` (none yet: empty)."""
    path = file_path(out)
    if not path.exists():
        return Adjustments()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {name: data[name] for name in Adjustments.__dataclass_fields__ if name in data}
        return Adjustments(**known)
    except (OSError, ValueError, TypeError) as error:
        raise GradingError(f"{path}: cannot read the instructor's file ({error}); fix or remove it") from None


def save(adjustments, out):
    path = file_path(out)
    path.write_text(json.dumps(asdict(adjustments), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def update_from_options(adjustments, args):
    """Replace the parts of ``adjustments`` whose option was given (the files are read here)."""
    from . import adjust
    if getattr(args, "overrides", None):
        adjustments.overrides = [{"student": s, "exercise": e, "points": p, "reason": r}
                                 for s, e, p, r in adjust.read_overrides(args.overrides)]
    if getattr(args, "deadline", None):
        if args.deadline.strip().casefold() == "none":
            adjustments.deadline = None
        else:
            adjustments.deadline = adjust.parse_time(args.deadline, "--deadline").isoformat()
    if getattr(args, "late_penalty", None) is not None:
        if not 0 <= args.late_penalty <= 100:
            raise GradingError("--late-penalty: a percentage from 0 to 100")
        adjustments.late_penalty = args.late_penalty
    if getattr(args, "submitted", None):
        adjustments.submitted = {name: moment.isoformat()
                                 for name, moment in adjust.submission_times(args.submitted).items()}
    if getattr(args, "roster", None):
        adjustments.roster = adjust.read_roster(args.roster)
    for option in ("lms", "canvas_assignment", "app_points", "assignment"):
        value = getattr(args, option, None)
        if value is not None:
            adjustments.export[option] = value
    return adjustments


def close_matches(name, known):
    """'; did you mean hugo?' for a name that is almost one of ``known`` (case first, then spelling)."""
    known = list(known)
    same_case = [k for k in known if k.casefold() == str(name).casefold()]
    # difflib's measure, then the longer shared beginning: '1.9' is nearer '1.1' than '7.9'
    scored = sorted(((difflib.SequenceMatcher(None, str(name), k).ratio(), len(os.path.commonprefix([str(name), k])), k)
                     for k in known if k not in same_case), key=lambda t: (-t[0], -t[1], t[2]))
    matches = same_case + [k for ratio, _, k in scored if ratio >= 0.6]
    return f" (did you mean {' or '.join(repr(m) for m in matches[:3])}?)" if matches else ""


def problems(adjustments, students, exercises, graded=None):
    """Every problem of ``adjustments`` for a class of ``students`` (names) and ``exercises`` ({id: Exercise}).

    ``graded``: the students graded in this run (they must be on the roster of an LMS export)."""
    found = []
    students = sorted(students)
    for number, row in enumerate(adjustments.overrides, 1):
        where = f"override {number} ({row.get('student')}, {row.get('exercise')})"
        if row.get("student") not in students:
            found.append(f"{where}: no student {row.get('student')!r}{close_matches(row.get('student'), students)}")
        exercise_id = row.get("exercise")
        if exercise_id != "late" and exercise_id not in exercises:
            found.append(f"{where}: no exercise {exercise_id!r}"
                         f"{close_matches(exercise_id, [*exercises, 'late'])}")
        elif exercise_id != "late":
            try:
                points = float(row.get("points"))
            except (TypeError, ValueError):
                points = math.nan
            if not 0 <= points <= exercises[exercise_id].points:
                found.append(f"{where}: points {row.get('points')!r} not between 0 and "
                             f"{exercises[exercise_id].points}")
    for name in sorted(adjustments.submitted):
        if name not in students:
            found.append(f"submitted: no student {name!r}{close_matches(name, students)}")
    if adjustments.deadline is not None and not adjustments.submitted:
        found.append("deadline: no submission times; give --submitted times.csv (student,submitted, from your "
                     "LMS): a file's date is never used, a copy changes it")
    for name in sorted(adjustments.roster):
        if name not in students:
            found.append(f"roster: no student folder {name!r}{close_matches(name, students)}"
                         " (a student who handed nothing in needs no row)")
    lms = adjustments.export.get("lms")
    if lms:
        for name in sorted(graded if graded is not None else students):
            info = adjustments.roster.get(name, {})
            if not (info.get("id") or (lms == "moodle" and info.get("email"))):
                found.append(f"--lms {lms}: {name!r} has no {'id' if lms != 'moodle' else 'id or email'} in the "
                             f"roster{close_matches(name, adjustments.roster)}")
        if lms == "canvas" and not str(adjustments.export.get("canvas_assignment") or "").strip().isdigit():
            found.append("--lms canvas: give --canvas-assignment ID (the number in the assignment's address, "
                         ".../assignments/12345)")
    return found


def check(adjustments, students, exercises, graded=None):
    """Stop (GradingError naming every problem) unless the adjustments fit the class."""
    found = problems(adjustments, students, exercises, graded)
    if found:
        raise GradingError("the instructor's adjustments do not fit the class; nothing was graded:\n  "
                           + "\n  ".join(found))


# ---------------------------------------------------------------------------
# Applying them, on every run


ADJUSTMENT_NOTE = re.compile(r"^(late penalty waived|handed in \d+ days? late: |no submission time: "
                             r"|[\d.]+: set to .* by the instructor \(was )")
SHARED_FLAG = re.compile(r"^answer to \S+ like .*'s \([\d.]+\)$")   # integrity.shared_answers' words


def clear(student, exercises):
    """``student`` as graded, without any adjustment (an earlier run's, kept in report.json)."""
    student.penalty, student.late_days = 0.0, 0
    student.notes = [note for note in student.notes if not ADJUSTMENT_NOTE.match(note)]
    for notebook in student.notebooks.values():
        for exercise_id, grade in notebook.grades.items():
            if grade.overridden:
                grade.points = exercises[exercise_id].points if grade.status == "passed" else 0
                grade.overridden = False


def late_penalty(grades, adjustments):
    """The late penalty for every student of ``grades``; [warning] for those with no submission time."""
    warnings = []
    if adjustments.deadline is None:
        return warnings
    deadline = datetime.fromisoformat(adjustments.deadline)
    for student in grades.students:
        handed_in = adjustments.submitted.get(student.name)
        if handed_in is None:
            warnings.append(f"{student.name}: no submission time; no late penalty")
            student.notes.append("no submission time: no late penalty applied")
            continue
        handed_in = datetime.fromisoformat(handed_in)
        if handed_in <= deadline:
            continue
        days = math.ceil((handed_in - deadline).total_seconds() / 86400)
        student.late_days = days
        student.penalty = min(1.0, days * adjustments.late_penalty / 100)
        student.notes.append(f"handed in {days} day{'s' if days > 1 else ''} late: "
                             f"-{student.penalty:.0%} of the total")
    return warnings


def before_deadline(adjustments, now=None):
    """Whether the deadline is still to come (feedback then shows the visible checks only)."""
    if adjustments.deadline is None:
        return False
    return (now or datetime.now().astimezone()) < datetime.fromisoformat(adjustments.deadline)


def apply(grades, adjustments):
    """Clear every student of ``grades`` of earlier adjustments, then apply ``adjustments``; [warning]."""
    from .adjust import apply_overrides
    for student in grades.students:
        clear(student, grades.exercises)
    warnings = late_penalty(grades, adjustments)
    apply_overrides(grades, [(row["student"], row["exercise"], float(row["points"]), row.get("reason", ""))
                             for row in adjustments.overrides])
    return warnings


# ---------------------------------------------------------------------------
# Flags between students, after a regrade merged into the class


def class_cells(folder, lessons):
    """{lesson: code cells} of the notebook the grader reads first for each lesson (zips unpacked)."""
    scratch = Path(tempfile.mkdtemp(prefix="workbook-cells-"))
    try:
        zips, _notes = unpack_zips(folder, scratch)
        found = {}
        for lesson in lessons:
            for path in (p for root in [Path(folder), *zips] for p in find_notebooks(root, lesson)):
                try:
                    found[lesson] = read_code_cells(path)
                    break
                except NotebookError:
                    continue
        return found
    finally:
        remove_tree(scratch)


def recompute_shared_flags(grades, folders):
    """'answer to 3.2 like ben's (0.97)', both ways, for the whole class (regraded or kept)."""
    lessons = sorted({e.lesson for e in grades.exercises.values()})
    cells = {student.name: class_cells(folders[student.name], lessons)
             for student in grades.students if student.name in folders}
    shared = integrity.shared_answers(cells)
    for student in grades.students:
        if student.name in folders:
            student.flags = [flag for flag in student.flags if not SHARED_FLAG.match(flag)]
            student.flags += shared.get(student.name, [])


def remove_stale_logs(out):
    """logs/ beside the report is written again whole from the results: no log of an earlier run stays."""
    remove_tree(Path(out).parent / "logs")
