"""`python -m workbook handout DIR`: the students' repository holds no answer, and works on its own (issue 20).

It is built into a temporary folder, scanned for anything that holds an answer, and its own
student suite runs there, with that folder's workbook package (PYTHONPATH), as `make test` runs it:
the tools (check_my_app, the pre-check giving 0 for work not started) and, under nbval, two fresh
lessons whose every check prints ⏳ (the other lessons run the same way; tests/ runs all of them here).
"""
import os
import shutil
import subprocess
import sys

import pytest

from workbook import ROOT
from workbook.authoring.handout import leaks
from workbook.checks import load_all
from workbook.stages import STAGES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handout") / "flask-2fa-workbook"
    done = subprocess.run([sys.executable, "-m", "workbook", "handout", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr   # 1: it found an answer in what it wrote
    return folder


def test_it_holds_no_answer(handout):
    assert leaks(handout) == []
    for gone in ("solutions", "tests/mutants", "bench", "workbook/authoring/release.py", "workbook/grading/grader.py",
                 "workbook/grading/worker.py", "workbook/grading/integrity.py", "tests/test_check_mutants.py"):
        assert not (handout / gone).exists(), gone
    texts = {path: path.read_text(encoding="utf-8", errors="replace") for path in handout.rglob("*")
             if path.is_file() and path.suffix in (".py", ".ipynb", ".md", ".txt", ".json")}
    assert not [path for path, text in texts.items() if "### BEGIN SOLUTION" in text]
    hidden = {check.__name__ for exercise in load_all().values() for check in exercise.hidden}
    assert len(hidden) >= 20
    checks = "".join(text for path, text in texts.items() if "checks" in path.parts)
    assert not [name for name in hidden if name in checks] and "@hidden_check(" not in checks
    assert "## For instructors" not in texts[handout / "README.md"] and "solutions/" not in texts[handout / "README.md"]


def test_what_it_has(handout):
    assert sorted(p.name for p in (handout / "notebooks").iterdir()) == sorted(
        p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in (handout / "app_steps").iterdir()) == [stage.folder.name for stage in STAGES]
    for name in ("Makefile", "requirements.txt", "pyproject.toml", "scripts/find-python", ".devcontainer/devcontainer.json",
                 "tests/stages/conftest.py", "tests/test_my_workbook.py", "docs/app_contract.md"):
        assert (handout / name).is_file(), name
    dry_run = subprocess.run(["make", "-n", "test"], cwd=handout, capture_output=True, text=True, timeout=60)
    assert "-m pytest -n auto --dist loadscope --nbval-lax" in dry_run.stdout, dry_run.stdout + dry_run.stderr


def test_its_student_suite_passes_there(handout):
    environment = {**os.environ, "PYTHONPATH": str(handout), "PYTEST_ADDOPTS": ""}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
                           "--nbval-lax", "tests/test_my_workbook.py", "notebooks/00_start_here.ipynb",
                           "notebooks/03_qr_code.ipynb"],
                          cwd=handout, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_a_class_that_gets_the_stages_week_by_week(tmp_path):
    from workbook.authoring.handout import build
    build(tmp_path / "week3", stages=3)
    assert sorted(p.name[:2] for p in (tmp_path / "week3" / "notebooks").iterdir()) == ["00", "01", "02", "03"]
    assert sorted(p.name[:7] for p in (tmp_path / "week3" / "app_steps").iterdir()) == ["step_01", "step_02", "step_03"]
    readme = (tmp_path / "week3" / "README.md").read_text(encoding="utf-8")
    assert "step_03_qr_code" in readme and "step_04_template" not in readme
    assert leaks(tmp_path / "week3") == []


def test_the_scan_finds_an_answer_left_in(tmp_path):
    from workbook.authoring.handout import build
    build(tmp_path / "h", stages=1)
    shutil.copy(ROOT / "solutions" / "01_install.ipynb", tmp_path / "h" / "notebooks" / "01_install.ipynb")
    shutil.copy(ROOT / "workbook" / "checks" / "lesson_02.py", tmp_path / "h" / "workbook" / "checks")
    found = leaks(tmp_path / "h")
    assert any("01_install.ipynb: ### BEGIN SOLUTION" in problem for problem in found), found
    assert any("lesson_02.py" in problem for problem in found), found
