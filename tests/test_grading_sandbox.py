"""What a graded notebook cannot do to the grader (issue 24): install into its environment, or cost a
hanging cell's time limit twice."""
import base64
import csv
import hashlib
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
from messy_class import LESSON_FILES, answered, code_cell_number, exercise_cell, with_cell, write

from workbook.__main__ import main as workbook_main

pytestmark = pytest.mark.slow


def make_wheel(folder, name):
    """A small pure-Python wheel, written by hand (no network, no build backend)."""
    files = {f"{name}/__init__.py": f"VALUE = '{name} installed for this notebook only'\n",
             f"{name}-0.1.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n",
             f"{name}-0.1.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: by-hand\nRoot-Is-Purelib: true\n"
                                           "Tag: py3-none-any\n"}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{name}-0.1.dist-info/RECORD"] = "\n".join(record + [f"{name}-0.1.dist-info/RECORD,,"]) + "\n"
    wheel = Path(folder) / f"{name}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def installed():
    """The grader's environment: every file name in its site-packages."""
    site = Path(sysconfig.get_paths()["purelib"])
    return sorted(str(p.relative_to(site)) for p in site.iterdir())


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_pip_in_a_notebook_installs_for_that_notebook_only(tmp_path):
    submissions = tmp_path / "submissions"
    # the wheels come with ana's notebooks (the student's process reads nothing of the grader's folders)
    wheels = submissions / "ana" / "notebooks" / "wheels"
    wheels.mkdir(parents=True)
    first, second = make_wheel(wheels, "tinypkg_shell"), make_wheel(wheels, "tinypkg_magic")
    notebook = with_cell(answered(1, "ana"), f"!pip install --no-index --quiet wheels/{first.name}\n"
                                             f"%pip install --no-index --quiet wheels/{second.name}\n"
                                             "import tinypkg_shell, tinypkg_magic\n"
                                             "print(tinypkg_shell.VALUE, tinypkg_magic.VALUE)", after="1.1")
    write(notebook, submissions / "ana" / "notebooks" / LESSON_FILES[1])
    # ben installs nothing: what ana installed is not there for him
    write(with_cell(answered(1, "ben"), "import tinypkg_shell", after="1.1"),
          submissions / "ben" / "notebooks" / LESSON_FILES[1])
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    before = installed()
    assert workbook_main(["grade", str(submissions), "--out", str(out), "--timeout", "60", "--jobs", "1"]) == 0
    assert installed() == before                      # the grader's environment is as it was
    log = (out.parent / "logs" / "ana" / "01.log").read_text(encoding="utf-8")
    assert "tinypkg_shell installed for this notebook only" in log and "tinypkg_magic installed" in log
    rows = _rows(out)
    assert rows["ana"]["total"] == rows["ben"]["total"] == "4"   # 1.1-1.3 and 1.Q1
    feedback = (out.parent / "feedback" / "ben.md").read_text(encoding="utf-8")
    assert "ModuleNotFoundError: No module named 'tinypkg_shell'" in feedback
    with pytest.raises(ImportError):
        __import__("tinypkg_shell")
    assert not any("tinypkg" in p for p in sys.path)


def test_a_hanging_cell_costs_the_timeout_once_and_the_cells_before_it_keep_their_marks(tmp_path):
    """The hang is after 1.1 and before 1.2: the fast pass (demonstration cells skipped) meets it, 1.2 and 1.3
    fail, so the notebook runs again whole; that run stops before the cell that hung instead of waiting again."""
    timeout = 8
    notebook = with_cell(answered(1, "sleepy"), "import time\ntime.sleep(1000)", after="1.1")
    hung = code_cell_number(notebook, exercise_cell(notebook, "1.1") + 2)
    submissions = tmp_path / "submissions"
    write(notebook, submissions / "sleepy" / "notebooks" / LESSON_FILES[1])
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    started = time.monotonic()
    assert workbook_main(["grade", str(submissions), "--out", str(out), "--timeout", str(timeout),
                          "--jobs", "1"]) == 0
    elapsed = time.monotonic() - started
    row = _rows(out)["sleepy"]
    assert (row["1.1"], row["1.2"], row["1.3"]) == ("1", "0", "0")
    assert f"01: timed out after {timeout} s in code cell {hung} (import time); later cells not run" in row["notes"]
    assert row["notes"].count("timed out") == 1
    with open(out.parent / "timings.csv", newline="", encoding="utf-8") as handle:
        seconds = float(next(csv.DictReader(handle))["seconds"])
    # twice the timeout before (the fast pass, then the whole notebook waited for the same cell again)
    assert seconds < 2 * timeout and elapsed < 2 * timeout + 10, (seconds, elapsed)
