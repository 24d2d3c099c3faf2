"""``python -m workbook grade SUBMISSIONS --out report.csv``: the instructor's command."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .files import find_students
from .grader import Grader, load_exercises
from .model import GradingError


def validate_hidden_checks(path):
    """Run the instructor's hidden checks file once, in a throwaway process, so that a mistake is one line."""
    path = Path(path)
    if not path.is_file():
        raise GradingError(f"--hidden-checks: {path} is not a file")
    program = ("import runpy, sys\nfrom workbook.checks import load_all\nload_all()\n"
               "runpy.run_path(sys.argv[1], run_name='workbook_hidden_checks')\n")
    done = subprocess.run([sys.executable, "-c", program, str(path.resolve())], capture_output=True, text=True,
                          timeout=120, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise GradingError(f"--hidden-checks {path}: {lines[-1] if lines else 'failed'}")


def check_out_path(out, submissions):
    """A one-line error unless report.csv (and report.html, feedback/ beside it) can be written there."""
    out = Path(out)
    if out.is_dir():
        raise GradingError(f"--out {out} is a folder; give a file name such as {out / 'report.csv'}")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise GradingError(f"--out {out}: the folder {out.parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise GradingError(f"--out {out}: cannot write in {out.parent}")
    submissions = Path(submissions).resolve()
    if parent == submissions or submissions in parent.parents:
        raise GradingError(f"--out {out}: write the report outside the submissions folder")
    return out


class Progress:
    """'graded 12/30' on stderr, in place on a terminal."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, done, total):
        if self.tty:
            self.stream.write(f"\rgraded {done}/{total}" + ("\n" if done == total else ""))
        else:
            self.stream.write(f"graded {done}/{total}\n")
        self.stream.flush()


def add_instructor_arguments(parser):
    """The ``grade`` options around the marks (adjust.py): regrade and merge, overrides, deadline, LMS export."""
    parser.add_argument("--student", action="append", default=[], metavar="NAME",
                        help="grade only this student's folder (repeat for several)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other students of the report already at --out (its report.json)")
    parser.add_argument("--overrides", metavar="FILE.csv",
                        help="marks you set by hand: columns student,exercise,points,reason (exercise 'late' "
                             "waives the late penalty); applied on every run")
    parser.add_argument("--deadline", metavar="DATE", help="e.g. 2026-12-01T23:59 (local time unless a zone is given)")
    parser.add_argument("--late-penalty", type=float, default=10, metavar="PERCENT",
                        help="per day or part of a day late, of the total (default: 10)")
    parser.add_argument("--submitted", metavar="FILE.csv",
                        help="when each student handed in: columns student,submitted (default: their newest file)")
    parser.add_argument("--lms", choices=["canvas", "moodle"], help="also write gradebook-LMS.csv to import")
    parser.add_argument("--roster", metavar="FILE.csv",
                        help="LMS ids per student folder: columns student and any of "
                             "id,name,email,sis_id,login,section")
    parser.add_argument("--assignment", default="Flask 2FA Workbook", help="the gradebook column's name")
    parser.add_argument("--no-partial-credit", dest="partial_credit", action="store_false",
                        help="give each my_app/ its stage only, without running the next stage's tests for app_score "
                             "(faster)")


def main(args):
    """The ``grade`` subcommand; returns the exit code (2: a usage problem, said in one line)."""
    from . import adjust
    from .report import results_path, write_reports
    try:
        if args.timeout <= 0 or args.app_timeout <= 0:
            raise GradingError("--timeout and --app-timeout must be positive numbers of seconds")
        if args.jobs is not None and args.jobs < 1:
            raise GradingError("--jobs must be at least 1")
        folders = {folder.name: folder for folder in find_students(args.submissions)}
        only = getattr(args, "student", None) or []
        unknown = [name for name in only if name not in folders]
        if unknown:
            raise GradingError(f"--student {unknown[0]}: no such folder in {args.submissions}")
        if only:
            folders = {name: folders[name] for name in folders if name in only}
        out = check_out_path(args.out, args.submissions)
        earlier = adjust.load_students(results_path(out)) if getattr(args, "merge", False) else None
        overrides = adjust.read_overrides(args.overrides) if getattr(args, "overrides", None) else []
        deadline = adjust.parse_time(args.deadline, "--deadline") if getattr(args, "deadline", None) else None
        submitted = adjust.submission_times(args.submitted) if getattr(args, "submitted", None) else None
        roster = adjust.read_roster(getattr(args, "roster", None))
        load_exercises()
        if args.hidden_checks:
            validate_hidden_checks(args.hidden_checks)
    except GradingError as error:
        print(f"python -m workbook grade: error: {error}", file=sys.stderr)
        return 2
    grader = Grader(timeout=args.timeout, jobs=args.jobs, hidden_checks=args.hidden_checks, progress=Progress(),
                    app_timeout=args.app_timeout, partial_credit=getattr(args, "partial_credit", True))
    try:
        grades = grader.grade_students(folders)
        if deadline is not None:
            adjust.apply_late_penalty(grades, folders, deadline, args.late_penalty, submitted)
        if earlier is not None:
            adjust.merge(grades, earlier)
        adjust.apply_overrides(grades, overrides)
    except KeyboardInterrupt:
        print("\ninterrupted: no report written", file=sys.stderr)
        return 130
    except GradingError as error:
        print(f"python -m workbook grade: error: {error}", file=sys.stderr)
        return 2
    try:
        written = write_reports(grades, out)
        if getattr(args, "lms", None):
            written.append(adjust.write_gradebook(grades, out, args.lms, roster, args.assignment))
    except OSError as error:
        print(f"python -m workbook grade: error: cannot write the report: {error}", file=sys.stderr)
        return 2
    cpu = f" ({grades.cpu_seconds:.0f} CPU seconds in the workers)" if grades.cpu_seconds else ""
    print(f"Graded {len(grades.students)} students in {grades.seconds:.0f} s{cpu}: "
          + ", ".join(str(p) for p in written))
    return 0


def check_main(args):
    """``python -m workbook check``: the student's pre-check, the grader's own marks for their work."""
    from .. import ROOT
    folder = Path(args.folder) if args.folder else (Path.cwd() if (Path.cwd() / "notebooks").is_dir() else ROOT)
    if not (folder / "notebooks").is_dir():
        print(f"python -m workbook check: error: no notebooks/ folder in {folder}", file=sys.stderr)
        return 2
    print(f"Grading {folder / 'notebooks'}" + (" and my_app/" if (folder / "my_app").is_dir() else "")
          + " as the instructor's grader will (save your notebooks first)...", flush=True)
    grades = Grader(timeout=args.timeout).grade_students({"you": folder})
    print(student_summary(grades, grades.students[0]))
    return 0


def student_summary(grades, student):
    """Per lesson, each exercise's line and points; the app's stage; the total."""
    lines = []
    for lesson in sorted(student.notebooks):
        notebook = student.notebooks[lesson]
        lines.append(f"\nLesson {lesson:02d}" + (f" ({notebook.notebook})" if notebook.notebook else ""))
        for note in notebook.notes:
            lines.append(f"  > {note}")
        for exercise_id, grade in notebook.grades.items():
            lines.append(f"  {grade.line()}  [{grade.points}/{grades.exercises[exercise_id].points}]")
    lines.append("")
    lines.append(app_line(student.app))
    if student.app is not None and student.app.next_stage_line():
        lines.append(f"  Next: {student.app.next_stage_line(limit=15)}.")
    for note in student.notes + (student.app.notes if student.app else []):
        lines.append(f"> {note}")
    lines.append(f"\nTotal: {student.total} / {grades.max_points} (what `python -m workbook grade` gives this work;"
                 " checks your instructor adds with --hidden-checks are not in it)")
    return "\n".join(lines)


def app_line(app):
    """The app's line in a student's summary here and in Gradescope's results (gradescope.py)."""
    if app is None or app.stage is None:
        return "No my_app/ was handed in."
    if app.stage:
        return f"✅ Your app passes the stage {app.stage} behaviour tests."
    return "❌ Your app does not pass any stage's behaviour tests yet."
