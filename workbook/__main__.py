"""The workbook's project commands: ``python -m workbook COMMAND``."""
import argparse
import importlib.util
import sys
from pathlib import Path

from . import ROOT


def _present(module):
    """Whether a module is here: the students' repository (the handout) has no grader and no release tools."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:   # its parent package is not there either
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m workbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    diffs = commands.add_parser("diffs", help="rewrite each stage's CHANGES.diff")
    diffs.add_argument("--check", action="store_true", help="only report stale diffs (exit 1 if any)")
    release = commands.add_parser(
        "release", help="make notebooks/ from solutions/ (first setting the demo tags the grader skips by)")
    release.add_argument("--check", action="store_true", help="only report stale notebooks (exit 1 if any)")
    handout = commands.add_parser(
        "handout", help="write the students' repository: the lessons and stage apps without the answers",
        description="Write what a class clones: notebooks/, app_steps/, the helpers with the visible checks only, "
                    "the student README, make lab/make test; no solutions/, hidden checks, mutants or grader.")
    handout.add_argument("folder", metavar="DIR", help="a new (or empty) folder")
    handout.add_argument("--stages", type=int, metavar="N", help="only stages 1 to N and lessons 00 to N")
    grade = commands.add_parser(
        "grade", help="grade a class: SUBMISSIONS/<student>/notebooks/*.ipynb (and my_app/)",
        description="Run each student's notebooks and grade every exercise with the workbook's checks "
                    "(hidden ones too); find the highest stage each my_app/ passes. Writes the CSV, "
                    "an HTML summary beside it and feedback/<student>.md.")
    grade.add_argument("submissions", metavar="SUBMISSIONS", help="a folder with one sub-folder per student")
    grade.add_argument("--out", required=True, metavar="REPORT.csv", help="where to write the CSV report")
    grade.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="how many notebooks to run at once (default: the number of CPUs)")
    grade.add_argument("--timeout", type=float, default=120, metavar="SECONDS",
                       help="time allowed per notebook, and per check (default: 120)")
    grade.add_argument("--app-timeout", type=float, default=300, metavar="SECONDS",
                       help="time allowed per stage test run on a student's my_app/ (default: 300)")
    grade.add_argument("--hidden-checks", metavar="FILE.py",
                       help="extra checks (a Python file using @hidden_check) to run on every submission")
    instructor = _present("workbook.grading.grader") and _present("workbook.authoring.release")
    if instructor:
        from .grading.command import add_instructor_arguments
        add_instructor_arguments(grade)
    autograder = commands.add_parser(
        "autograder", help="write the Gradescope autograder zip",
        description="Write a zip to upload to Gradescope as a Programming Assignment's autograder: each "
                    "submission (notebooks/, optionally my_app/) is graded as `grade` grades it.")
    autograder.add_argument("--out", default="autograder.zip", metavar="ZIP", help="default: autograder.zip")
    autograder.add_argument("--hidden-checks", metavar="FILE.py", help="extra checks to pack in (as for grade)")
    check = commands.add_parser(
        "check", help="see the marks the grader will give your notebooks/ and my_app/",
        description="Run your notebooks and your my_app/ as the instructor's grader does, and print each "
                    "exercise's mark: the same marks `grade` gives. Save your notebooks first.")
    check.add_argument("folder", nargs="?", metavar="FOLDER",
                       help="the folder holding notebooks/ (default: this one, else the workbook's)")
    check.add_argument("--timeout", type=float, default=120, metavar="SECONDS",
                       help="time allowed per notebook (default: 120)")
    check.add_argument("--classroom-grade", action="store_true",
                       help="GitHub Classroom's first step: grade once, save each exercise's result")
    check.add_argument("--classroom", metavar="EXERCISE",
                       help="GitHub Classroom's step for one exercise: its line; exit 0 if it earned its points")
    args = parser.parse_args(argv)

    if not instructor:   # the students' repository: only the pre-check (workbook/precheck.py)
        if args.command != "check":
            print(f"python -m workbook {args.command}: the instructor's repository has it, not this one",
                  file=sys.stderr)
            return 2
        from .precheck import main as precheck
        folder = args.folder or (Path.cwd() if (Path.cwd() / "notebooks").is_dir() else ROOT)
        return precheck(folder, args.timeout, getattr(args, "classroom_grade", False), getattr(args, "classroom", None))
    if args.command == "handout":
        from .authoring.handout import command as handout_main
        return handout_main(args)
    if args.command == "grade":
        from .grading.command import main as grade_main
        return grade_main(args)
    if args.command == "autograder":
        from .grading.gradescope import command as autograder_main
        return autograder_main(args)
    if args.command == "check":
        if args.classroom_grade or args.classroom:
            from .grading.classroom import check_main as classroom_main
            return classroom_main(args)
        from .grading.command import check_main
        return check_main(args)

    stale = []
    if args.command == "diffs":
        from .authoring.diffs import write_diffs as run
    else:
        from .authoring.release import release as run
        from .grading.demo_cells import retag_solutions
        stale += retag_solutions(check=args.check)  # the cells grading may skip (workbook/grading/demo_cells.py)
    stale += run(check=args.check)
    for path in stale:
        verb = "out of date" if args.check else "written"
        print(f"{path.relative_to(ROOT)}: {verb}")
    if not stale:
        print("Everything is up to date.")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
