"""The three ways to grade give the same marks: the class grader, Gradescope's autograder, the student's check.

One student's work (lessons 01 and 02, one answer that passes its visible check but not
its hidden one, and a stage 1 app) is graded by ``python -m workbook grade``; the zip from
``python -m workbook autograder`` is unpacked as Gradescope unpacks it and its real
``run_autograder`` grades the same work under a temporary AUTOGRADER_ROOT; and
``python -m workbook check`` runs on the student's own folder.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from workbook import ROOT

pytestmark = pytest.mark.slow

WRONG_ABOVE_32_BITS = 'return struct.pack(">Q", (int(unix_time) // 30) & 0xFFFFFFFF)'
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}


def _student_work(folder):
    """notebooks/01 and 02 from the solutions (2.2 only right below 2**32 steps), and a stage 1 my_app/."""
    (folder / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "01_install.ipynb", folder / "notebooks")
    notebook = nbformat.read(ROOT / "solutions" / "02_secret_key.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if c.source.startswith("# Exercise 2.2"))
    cell.source = cell.source.replace('return struct.pack(">Q", int(unix_time) // 30)', WRONG_ABOVE_32_BITS)
    assert WRONG_ABOVE_32_BITS in cell.source
    nbformat.write(notebook, folder / "notebooks" / "02_secret_key.ipynb")
    shutil.copytree(ROOT / "app_steps" / "step_01_install", folder / "my_app",
                    ignore=shutil.ignore_patterns("__pycache__", "instance", "CHANGES.diff"))
    return folder


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("three_ways")
    student = _student_work(root / "submissions" / "ana")
    out = root / "report" / "report.csv"
    out.parent.mkdir()
    done = subprocess.run([sys.executable, "-m", "workbook", "grade", str(root / "submissions"), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    row = next(csv.DictReader(out.open(encoding="utf-8")))
    return {"root": root, "student": student, "row": row}


def _upload(work, upload_layout, folder):
    """The student's work in ``folder`` as Gradescope unpacks an upload made one way or the other."""
    if upload_layout == "folders":      # the student uploaded notebooks/ and my_app/
        shutil.copytree(work["student"], folder)
    else:                               # loose notebooks, and the app zipped inside its own folder
        folder.mkdir()
        for path in (work["student"] / "notebooks").iterdir():
            shutil.copy(path, folder)
        shutil.copytree(work["student"] / "my_app", folder / "flask-2fa-workbook" / "my_app")
    return folder


def _autograde(work, upload_layout):
    """Build the zip, unpack it as Gradescope does, run run_autograder on an upload; return results.json."""
    grader_root = work["root"] / f"autograder-{upload_layout}"
    zip_path = work["root"] / "autograder.zip"
    if not zip_path.exists():
        done = subprocess.run([sys.executable, "-m", "workbook", "autograder", "--out", str(zip_path)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder"} <= set(names)  # at the root, as Gradescope requires
        assert not any(name.startswith(("solutions/", "tests/mutants/")) for name in names)  # no answers
        assert "tests/stages/conftest.py" in names
        setup = archive.read("setup.sh").decode()
        assert "pip install -r requirements.txt" in setup and "sys.version_info < (3, 11)" in setup
        archive.extractall(grader_root / "source")
        for name in ("setup.sh", "run_autograder"):  # zipfile drops the mode bits; Gradescope keeps them
            mode = archive.getinfo(name).external_attr >> 16
            assert mode & 0o111, f"{name} is not executable in the zip"
            os.chmod(grader_root / "source" / name, mode & 0o777)
    _upload(work, upload_layout, grader_root / "submission")
    shutil.copy(grader_root / "source" / "run_autograder", grader_root / "run_autograder")  # as Gradescope does
    env = {**os.environ, "AUTOGRADER_ROOT": str(grader_root), "WORKBOOK_PYTHON": sys.executable}
    done = subprocess.run([str(grader_root / "run_autograder")], cwd=grader_root, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads((grader_root / "results" / "results.json").read_text(encoding="utf-8"))


def test_run_autograder_gives_the_class_graders_marks(work):
    results = _autograde(work, "folders")
    row = work["row"]
    assert results["score"] == int(row["total"])
    assert sum(test["score"] for test in results["tests"]) == results["score"]
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test), test
        assert test["visibility"] in VISIBILITIES
    by_number = {test["number"]: test for test in results["tests"]}
    for exercise_id in ("1.1", "1.2", "1.3", "2.1", "2.3", "2.4"):
        assert by_number[exercise_id]["score"] == int(row[exercise_id]) == 1
    # 2.2 passes the check the student sees, fails a hidden one: 0 in total, told only after the due date
    assert int(row["2.2"]) == 0
    assert by_number["2.2"]["score"] == 1 and by_number["2.2"]["output"].startswith("✅")
    assert by_number["2.2"]["visibility"] == "visible"
    hidden = by_number["2.2h"]
    assert hidden["score"] == -1 and hidden["visibility"] == "after_due_date" and "❌" in hidden["output"]
    assert row["app_stage"] == "1", row["notes"]
    assert by_number["app"]["output"] == f"✅ Your app passes the stage {row['app_stage']} behaviour tests.", \
        results["output"]  # the grader's notes: why not


def test_a_loose_upload_is_laid_out_as_the_folders_one(work, tmp_path):
    """Loose notebooks, and the app zipped in a folder of its own, are graded from the very files a
    notebooks/ and my_app/ upload gives (run_autograder grades those: the test above)."""
    from class_grading import tree_hash

    from workbook.grading.files import gather_submission
    gathered = {}
    for layout in ("folders", "loose"):
        gathered[layout] = tmp_path / f"gathered-{layout}"
        notes = gather_submission(_upload(work, layout, tmp_path / layout), gathered[layout])
    assert sorted(p.relative_to(gathered["loose"]).as_posix() for p in gathered["loose"].rglob("*.ipynb")) == \
        ["notebooks/01_install.ipynb", "notebooks/02_secret_key.ipynb"]
    assert (gathered["loose"] / "my_app" / "app.py").is_file()
    assert tree_hash(gathered["loose"]) == tree_hash(gathered["folders"])
    assert any("flask-2fa-workbook/my_app" in note for note in notes), notes  # where the app was found


def test_the_students_check_shows_the_graders_marks(work):
    done = subprocess.run([sys.executable, "-m", "workbook", "check", str(work["student"])], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    row = work["row"]
    marks = dict(re.findall(r"(?:Exercise|Question) (\d+\.Q?\d+): .*\[(\d+)/\d+\]", done.stdout))
    assert marks and marks == {exercise_id: row[exercise_id] for exercise_id in marks}
    assert len(marks) == len(row) - 9  # every exercise: all but student, app_stage, app_score, total, max,
    # late_days, final, notes, flags
    assert f"Total: {row['total']} / {row['max']}" in done.stdout
    assert "❌ Exercise 2.2" in done.stdout  # the hidden check's hint, which the grader's feedback gives too
    assert f"passes the stage {row['app_stage']} behaviour tests" in done.stdout
