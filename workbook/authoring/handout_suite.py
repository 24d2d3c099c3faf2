"""This folder's own tests (``make test``): what you were handed works as the lessons say.

With the lessons themselves (nbval runs every cell of notebooks/, and every check must print ⏳
while the exercise is still yours to do), these check the tools: your app's behaviour tests
(check_my_app) and the pre-check of every notebook (``python -m workbook check``).
(The instructor's repository writes this file as tests/test_my_workbook.py of the handout:
workbook/authoring/handout.py.)
"""
import shutil
import subprocess
import sys
from pathlib import Path

import workbook
from workbook import my_app
from workbook.checks import load_all

ROOT = Path(__file__).resolve().parent.parent


def test_the_workbook_imported_is_this_folders():
    assert Path(workbook.__file__).resolve().parent == ROOT / "workbook"
    assert workbook.ROOT == ROOT


def test_every_exercise_has_its_check():
    exercises = load_all()
    lessons = {int(path.name[:2]) for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert exercises and lessons <= {exercise.lesson for exercise in exercises.values()} | {0}


def test_check_my_app_passes_an_untouched_copy_of_stage_1(tmp_path, capsys):
    folder = my_app.start_from(1, tmp_path / "my_app")
    capsys.readouterr()
    my_app.check_my_app(1, folder)
    out = capsys.readouterr().out
    assert out.startswith("✅ Your app passes every stage 1 test"), out


def test_check_my_app_fails_an_app_with_no_routes(tmp_path, capsys):
    folder = tmp_path / "my_app"
    folder.mkdir()
    (folder / "app.py").write_text("from flask import Flask\n\n\ndef create_app(test_config=None):\n"
                                   "    return Flask(__name__)\n", encoding="utf-8")
    my_app.check_my_app(1, folder)
    assert capsys.readouterr().out.startswith("❌ Stage 1 tests: ")


def test_the_pre_check_gives_nothing_for_work_not_started(tmp_path):
    first = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))[0]
    (tmp_path / "notebooks").mkdir()
    shutil.copy(first, tmp_path / "notebooks")
    done = subprocess.run([sys.executable, "-m", "workbook", "check", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    maximum = sum(exercise.points for exercise in load_all().values())
    assert f"Total: 0 / {maximum}" in done.stdout, done.stdout
    assert "⏳ Exercise" in done.stdout and "✅" not in done.stdout


def test_github_classrooms_steps_read_the_pre_checks_results(tmp_path, capsys):
    from workbook import precheck
    (tmp_path / "notebooks").mkdir()
    first = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))[0]
    shutil.copy(first, tmp_path / "notebooks")
    assert precheck.classroom_result(tmp_path, "0.1") == 1   # not graded yet
    assert precheck.main(tmp_path, 120, classroom_grade=True) == 0
    capsys.readouterr()
    assert precheck.main(tmp_path, classroom="0.1") == 1   # not done: no points, the step fails
    assert capsys.readouterr().out.startswith("⏳ Exercise 0.1")
