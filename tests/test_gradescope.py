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
    """notebooks/01 and 02 from the solutions (2.2 only right below 2**32 steps, question 2.Q1 answered
    wrong), and a stage 1 my_app/."""
    (folder / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "01_install.ipynb", folder / "notebooks")
    notebook = nbformat.read(ROOT / "solutions" / "02_secret_key.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if c.source.startswith("# Exercise 2.2"))
    cell.source = cell.source.replace('return struct.pack(">Q", int(unix_time) // 30)', WRONG_ABOVE_32_BITS)
    assert WRONG_ABOVE_32_BITS in cell.source
    question = next(c for c in notebook.cells if c.source.startswith("# Question 2.Q1"))
    question.source = '# Question 2.Q1: What the session cookie\'s signature protects\nanswer_2_q1 = "a"'
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
    elif upload_layout == "checkout":   # their whole checkout, with the workbook's solutions/ and app_steps/
        shutil.copytree(work["student"], folder / "flask-2fa-workbook")
        shutil.copytree(ROOT / "solutions", folder / "flask-2fa-workbook" / "solutions")
        shutil.copytree(ROOT / "app_steps", folder / "flask-2fa-workbook" / "app_steps",
                        ignore=shutil.ignore_patterns("__pycache__", "instance"))
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
    """Uploaded as a whole checkout: its solutions/ and app_steps/ are not graded, and the note says so."""
    results = _autograde(work, "checkout")
    assert "not graded: flask-2fa-workbook/app_steps/ (the workbook's stage apps), " \
           "flask-2fa-workbook/solutions/ (the workbook's answers)" in results["output"], results["output"]
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
    # Questions are graded like exercises: 1.Q1 right, 2.Q1 wrong with the hint naming its misconception
    assert by_number["1.Q1"]["score"] == int(row["1.Q1"]) == 1
    assert by_number["2.Q1"]["score"] == int(row["2.Q1"]) == 0
    assert by_number["2.Q1"]["name"].startswith("Question 2.Q1")
    assert "a signed cookie is not a secret one" in by_number["2.Q1"]["output"]
    assert row["app_stage"] == "1", row["notes"]
    assert by_number["app"]["output"] == f"✅ Your app passes the stage {row['app_stage']} behaviour tests.", \
        results["output"]  # the grader's notes: why not


def test_a_loose_upload_is_laid_out_as_the_folders_one(work, tmp_path):
    """Loose notebooks, and the app zipped in a folder of its own, are graded from the very files a
    notebooks/ and my_app/ upload gives (run_autograder grades those: the test above)."""
    from class_grading import tree_hash

    from workbook.grading.files import gather_submission
    gathered = {}
    for layout in ("folders", "checkout", "loose"):
        gathered[layout] = tmp_path / f"gathered-{layout}"
        notes = gather_submission(_upload(work, layout, tmp_path / layout), gathered[layout])
        if layout == "checkout":
            assert tree_hash(gathered["checkout"]) == tree_hash(gathered["folders"])  # no solutions/, no stage app
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
    marks = dict(re.findall(r"(?:Exercise|Question) (\d+\.[AQ]?\d+): .*\[(\d+)/\d+\]", done.stdout))
    # the grader's marks, but for 2.2, whose hidden check fails: the pre-check shows what the check cell
    # shows (✅, its point), and never the hidden check's message
    assert marks and marks == {exercise_id: row[exercise_id] if exercise_id != "2.2" else "1" for exercise_id in marks}
    assert len(marks) == len(row) - 9  # every exercise: all but student, app_stage, app_score, total, max,
    # late_days, final, notes, flags
    assert f"Total: {int(row['total']) + 1} / {row['max']} by the checks you can see" in done.stdout
    assert "✅ Exercise 2.2" in done.stdout and "❌ Exercise 2.2" not in done.stdout
    assert "❌ Question 2.Q1" in done.stdout and "a signed cookie is not a secret one" in done.stdout
    assert f"passes the stage {row['app_stage']} behaviour tests" in done.stdout


def test_run_autograders_grading_refuses_borrowed_answers_and_skipped_tests(tmp_path):
    """What run_autograder runs for an upload (grade_submission, then results.json): stage 4's own grouped()
    handed in as 4.1 scores nothing, and an app whose tests are skipped gets no stage; both flagged."""
    from messy_class import BORROWED_GROUPED, exercise_cell, released, skipping_app, write

    from workbook.grading.gradescope import grade_submission, results
    notebook = released(4)
    notebook.cells[exercise_cell(notebook, "4.1")].source = BORROWED_GROUPED
    write(notebook, tmp_path / "upload" / "04_template.ipynb")
    skipping_app(tmp_path / "upload" / "my_app")
    student, grades = grade_submission(tmp_path / "upload", timeout=30)
    by_number = {test["number"]: test for test in results(student, grades.exercises)["tests"]}
    assert by_number["4.1"]["score"] == 0 and "is the workbook's own code" in by_number["4.1"]["output"]
    assert by_number["app"]["output"] == "❌ Your app does not pass any stage's behaviour tests yet."
    flags = by_number["flags"]["output"]
    assert "the app skipped behaviour tests" in flags and "answer to 4.1: `grouped` is the workbook's own" in flags


def test_an_upload_keeps_its_own_modules_and_colabs_names(tmp_path):
    """Loose files from Colab: "Copy of 03_qr_code.ipynb" and the helper module it imports go to notebooks/."""
    from workbook.grading.files import find_notebooks, gather_submission
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(ROOT / "notebooks" / "03_qr_code.ipynb", upload / "Copy of 03_qr_code.ipynb")
    (upload / "uri_helpers.py").write_text("X = 1\n", encoding="utf-8")
    (upload / "helpers").mkdir()
    (upload / "helpers" / "__init__.py").write_text("", encoding="utf-8")
    gather_submission(upload, tmp_path / "gathered")
    notebooks = tmp_path / "gathered" / "notebooks"
    assert sorted(p.name for p in notebooks.iterdir()) == ["Copy of 03_qr_code.ipynb", "helpers", "uri_helpers.py"]
    assert [p.name for p in find_notebooks(tmp_path / "gathered", 3)] == ["Copy of 03_qr_code.ipynb"]
