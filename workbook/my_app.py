"""Your own app, in my_app/: start it from a stage, and test it with the stage's behaviour tests.

The tests are the same ones the project runs on app_steps/ and the instructor's
checker runs on your submission (tests/stages, aimed at your folder).
"""
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import ROOT
from .stages import stage as stage_by_number

MY_APP = ROOT / "my_app"
STAGE_TESTS = ROOT / "tests" / "stages"


def start_from(number, folder=MY_APP):
    """Copy stage ``number``'s app into ``folder`` to work on, unless you already have work there."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        print(f"{folder} already has your work in it; nothing was copied over it.")
        return folder
    shutil.copytree(stage_by_number(number).folder, folder, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("instance", "__pycache__", "CHANGES.diff"))
    print(f"Copied stage {number} into {folder}: edit {folder / 'app.py'}.")
    return folder


@dataclass
class StageTestRun:
    stage: int
    returncode: int | None   # None: timed out
    output: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0

    def summary(self) -> str:
        lines = [line for line in self.output.strip().splitlines() if line.strip()]
        return lines[-1] if lines else "(no output)"


def run_stage_tests(number, app_dir=MY_APP, timeout=300, extra_args=()) -> StageTestRun:
    """Run the behaviour tests of stage ``number`` against the app in ``app_dir``, in a fresh process."""
    command = [sys.executable, "-m", "pytest", str(STAGE_TESTS), "--app-dir", str(Path(app_dir).resolve()),
               "--stage", str(number), "-q", "--no-header", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
               *extra_args]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"").decode(errors="replace") if isinstance(error.stdout, bytes) else (error.stdout or "")
        return StageTestRun(number, None, output + f"\ntimed out after {timeout} s")
    return StageTestRun(number, done.returncode, done.stdout + done.stderr)


def check_my_app(number, app_dir=MY_APP):
    """Print whether your app passes stage ``number``'s tests, with the failures if not."""
    if not (Path(app_dir) / "app.py").is_file():
        print(f"❌ There is no {Path(app_dir) / 'app.py'} yet: run start_from({number}) first.")
        return None
    run = run_stage_tests(number, app_dir, extra_args=("--tb=line",))
    if run.passed:
        print(f"✅ Your app passes every stage {number} test: {run.summary()}")
    else:
        failures = [line for line in run.output.splitlines() if line.startswith(("FAILED", "ERROR"))]
        print(f"❌ Stage {number} tests: {run.summary()}")
        print("\n".join(failures[:15]) or run.output[-2000:])
    return None
