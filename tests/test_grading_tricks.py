"""Issue 20's tricks played through all three graders: ``grade``, ``check`` and what run_autograder runs.

The student's cells run in a process of their own (remote.py: as nobody, in namespaces of its own,
the grader's folder and the hidden checks out of its sight); the checks and the verdicts are in the
judge. Each trick below is a notebook for lesson 00 or 01: the tricks get no marks (and a flag where
the trick is visible in the source), the honest work beside them keeps every mark, and a fresh
notebook is "not done" throughout.
"""
import contextlib
import io
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from messy_class import EXERCISES, LESSON_FILES, answered, released, with_cell, write

from workbook import ROOT
from workbook.__main__ import main as workbook_main
from workbook.grading import remote

pytestmark = pytest.mark.slow

HIDDEN_SECRET = "HIDDEN-CHECKS-SECRET-7f3a"

# The forging cell: find the grader's channel in this process, send "all passed".
FORGE_DONE = """
import gc
from multiprocessing.connection import Connection
conn = next(o for o in gc.get_objects() if isinstance(o, Connection) and not o.closed)
results = {i: {"status": "passed", "message": ""} for i in ("0.1", "0.2", "0.Q1")}
conn.send(("done", {"results": results, "cell_errors": [], "stopped_at": None, "interrupted": False}))
"""

# ...and the same aimed at whatever descriptors the process has: "all passed" written on every one.
FORGE_EVERY_CHANNEL = """
import json, os
passed = {i: {"status": "passed", "message": ""} for i in ("0.1", "0.2", "0.Q1")}
lines = [json.dumps(m).encode() + b"\\n" for m in (
    {"value": []}, {"value": None}, {"value": 0}, {"value": "b"},
    ["done", {"results": passed, "cell_errors": [], "stopped_at": None, "interrupted": False}])]
for fd in range(3, 64):
    for line in lines * 3:
        try:
            os.write(fd, line)
        except OSError:
            break
"""

# Patching what the checks use, from a cell: the checks, run_check, pyotp, hmac.
PATCH_EVERYTHING = """
import hmac, pyotp
import workbook.checks as checks
for entry in checks.EXERCISES.values():
    entry.check = lambda *objects: None
    entry.hidden = []
checks.run_check = lambda exercise_id, *objects, **kw: checks.Result(exercise_id, checks.PASSED)
hmac.compare_digest = lambda a, b: True
pyotp.TOTP.verify = lambda self, *a, **k: True
pyotp.TOTP.now = lambda self: "000000"
"""

ALWAYS_EQUAL = """# Exercise 0.1: Count the 30-second steps
class Step(int):
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    __hash__ = int.__hash__

def time_step(unix_time):
    return Step(0)

answer_0_q1 = type("Letter", (str,), {"__eq__": lambda self, other: True, "__hash__": str.__hash__})("z")
"""


def reading_cell(hidden_checks):
    """Reads the solutions and the hidden checks from disk, and takes the answers it finds there."""
    return f"""
import glob, json, re
stolen = []
for path in glob.glob({str(ROOT / "solutions" / "00_*.ipynb")!r}) + [{str(hidden_checks)!r}]:
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as error:
        print("could not read", path, type(error).__name__)
        continue
    stolen.append(text)
    if path.endswith(".ipynb"):
        for cell in json.loads(text)["cells"]:
            source = "".join(cell["source"])
            if "### BEGIN SOLUTION" in source:
                exec(source, globals())
print("stolen:", len(stolen), [HIDDEN in s for s in stolen])
""".replace("HIDDEN", repr(HIDDEN_SECRET))


KILL_EVERYONE = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError as error:\n    print(error)"

KEEPS_RUNNING = """
import threading, time, workbook.checks as checks
def meddle():
    while True:
        checks.run_check = lambda exercise_id, *objects, **kw: checks.Result(exercise_id, checks.PASSED)
        time.sleep(0.01)
threading.Thread(target=meddle, name="meddler", daemon=True).start()
"""

LESSON_0 = [i for i, e in EXERCISES.items() if e.lesson == 0]
FULL_0 = {i: EXERCISES[i].points for i in LESSON_0}
NONE_0 = {i: 0 for i in LESSON_0}


@pytest.fixture(scope="module")
def tricks():
    """The class: {name: (folder, points deserved in lesson 00, flags expected)}; the hidden checks file."""
    root = Path(tempfile.mkdtemp(prefix="workbook-tricks-"))
    hidden = root / "hidden_checks.py"   # world-readable on purpose: only the sandbox keeps it from the student
    hidden.write_text(f"# {HIDDEN_SECRET}\nfrom workbook.checks import hidden_check\n", encoding="utf-8")
    root.chmod(0o755)
    hidden.chmod(0o644)
    fresh = released(0)
    solved = answered(0, "honest")
    cases = {
        "honest": (solved, FULL_0, []),
        "fresh": (fresh, NONE_0, []),
        "forger": (with_cell(fresh, FORGE_DONE), NONE_0, ["gc.get_objects, multiprocessing.connection"]),
        "channel_forger": (with_cell(fresh, FORGE_EVERY_CHANNEL), NONE_0, []),
        "patcher": (with_cell(fresh, PATCH_EVERYTHING), NONE_0, ["internals: EXERCISES, run_check"]),
        "equal_int": (with_cell(fresh, ALWAYS_EQUAL), NONE_0, ["defines __eq__"]),
        "reader": (with_cell(fresh, reading_cell(hidden)), NONE_0, []),
        "killer": (with_cell(solved, KILL_EVERYONE, after="0.1"), FULL_0, []),
        "threader": (with_cell(solved, KEEPS_RUNNING, after="0.1"), FULL_0,
                     ["left 1 thread(s) running during grading (meddler)"]),
    }
    submissions = root / "submissions"
    for name, (notebook, _points, _flags) in cases.items():
        write(notebook, submissions / name / "notebooks" / LESSON_FILES[0])
    yield {"root": root, "hidden": hidden, "submissions": submissions,
           "cases": {name: (points, flags) for name, (_nb, points, flags) in cases.items()}}
    shutil.rmtree(root, ignore_errors=True)


def _isolated():
    """Whether this machine runs the student's process isolated (it must, as root or in CI)."""
    return remote.namespaces_work()


def test_grade_gives_the_tricks_nothing_and_honest_work_every_mark(tricks):
    import csv
    out = tricks["root"] / "out" / "report.csv"
    out.parent.mkdir()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = workbook_main(["grade", str(tricks["submissions"]), "--out", str(out), "--timeout", "60",
                              "--jobs", "2", "--hidden-checks", str(tricks["hidden"])])
    assert code == 0
    with open(out, newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(tricks["cases"])   # every student graded: no trick ended the grader
    for name, (points, flags) in tricks["cases"].items():
        assert {i: int(rows[name][i]) for i in LESSON_0} == points, (name, rows[name]["notes"], rows[name]["flags"])
        for flag in flags:
            assert flag in rows[name]["flags"], (name, rows[name]["flags"])
    assert not rows["honest"]["flags"].replace("00: solution markers", "").strip(" ;:") or \
        "solution markers" in rows["honest"]["flags"]
    reader_log = (out.parent / "logs" / "reader" / "00.log").read_text(encoding="utf-8")
    if _isolated():
        # the solutions are not there at all; the hidden checks file reads as empty
        assert "stolen: 1 [False]" in reader_log, reader_log
        assert f"could not read {ROOT / 'solutions'}" not in reader_log   # glob found nothing to try
    fresh = (out.parent / "feedback" / "fresh.md").read_text(encoding="utf-8")
    assert all(f"⏳ Exercise {i}" in fresh or f"⏳ Question {i}" in fresh for i in LESSON_0), fresh


@pytest.mark.parametrize("name", ["honest", "fresh", "forger", "channel_forger", "patcher", "equal_int", "reader",
                                  "killer", "threader"])
def test_check_and_run_autograder_agree(tricks, name):
    """The pre-check (visible checks) and what run_autograder runs (hidden checks too) give the same marks."""
    from workbook.grading.gradescope import grade_submission
    points, _flags = tricks["cases"][name]
    folder = tricks["submissions"] / name
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        assert workbook_main(["check", str(folder), "--timeout", "60"]) == 0
    total = int(re.search(r"Total: (\d+) / ", printed.getvalue()).group(1))
    assert total == sum(points.values()), printed.getvalue()
    student, _grades = grade_submission(folder, hidden_checks=str(tricks["hidden"]), timeout=60)
    assert {i: student.points(i) for i in LESSON_0} == points, (student.all_notes(), student.all_flags())
