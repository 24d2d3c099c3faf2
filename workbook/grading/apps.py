"""Grading a student's my_app/: the highest stage whose behaviour tests (tests/stages) it passes."""
import re
import time

from ..stages import STAGES
from .files import copy_tree, remove_tree
from .model import AppGrade, StageRun

DEFAULT_APP_TIMEOUT = 300    # seconds per stage test run on a my_app/ (as workbook.my_app)
# The stage search only needs pass or fail: stop at the first failure, and skip the
# plugins the behaviour tests do not use (nbval alone costs ~2 s of start-up).
STAGE_TEST_ARGS = ("-x", "-p", "no:nbval", "-p", "no:xdist")


def grade_app(app_folder, task_dir, timeout=DEFAULT_APP_TIMEOUT, cancelled=None):
    """The AppGrade of the app in ``app_folder``; ``task_dir`` is scratch space, ``cancelled`` an Event."""
    from ..my_app import run_stage_tests
    started = time.monotonic()
    grade = AppGrade(0)
    if not (app_folder / "app.py").is_file():
        grade.notes.append("my_app: no app.py")
        return grade
    timed_out = False
    for number in sorted((s.number for s in STAGES), reverse=True):
        if cancelled is not None and cancelled.is_set():
            break
        stage_dir = task_dir / f"stage{number}"
        copy = stage_dir / "my_app"
        copy_tree(app_folder, copy)
        run = run_stage_tests(number, copy, timeout=timeout, cwd=stage_dir,
                              extra_args=(*STAGE_TEST_ARGS, "--basetemp", str(stage_dir / "pytest-tmp")))
        remove_tree(stage_dir)
        grade.runs.append(StageRun(number, run.passed, run.summary()))
        if run.passed:
            grade.stage = number
            break
        if run.returncode is None and not timed_out:
            timed_out = True
            grade.notes.append(f"my_app: stage {number} tests timed out after {timeout:g} s")
        load_error = app_load_error(run.output)
        if load_error:
            grade.notes.append(f"my_app: {load_error}")
            break
    else:
        grade.notes.append("my_app: passes no stage's tests")
    grade.seconds = time.monotonic() - started
    return grade


def app_load_error(output):
    """'import error (SyntaxError: ...)' when the app could not even be loaded, else None."""
    for line in output.splitlines():
        if "AppLoadError:" in line:
            text = line.split("AppLoadError:", 1)[1].strip()
            if "failed to import:" in text:
                return "import error (" + text.split("failed to import:", 1)[1].strip()[:200] + ")"
            return "cannot load the app (" + re.sub(r"\S*/", "", text)[:200] + ")"
    return None
