"""A made-up class graded as an instructor grades one (`python -m workbook grade`), for the grader's tests."""
import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from workbook import ROOT


def tree_hash(folder):
    """One digest of every path and file under ``folder``: equal before and after means nothing changed."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def grade_with_command(submissions, out, timeout, wait=600):
    """Grade ``submissions`` into ``out`` (2 jobs, ``timeout`` s per notebook).

    Returns {"done": the finished process, "rows": {student: report row}, "out": out,
    "submissions": submissions, "unchanged": whether the submissions are byte for byte as before}.
    """
    before = tree_hash(submissions)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    # With pytest options of the instructor's own that would break the behaviour tests: they change no grade.
    environment = {**os.environ, "PYTEST_ADDOPTS": "-p no_such_plugin_anywhere --lf -x"}
    done = subprocess.run([sys.executable, "-m", "workbook", "grade", str(submissions), "--out", str(out),
                           "--timeout", str(timeout), "--jobs", "2"],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=wait)
    rows = {}
    if Path(out).exists():
        with open(out, newline="", encoding="utf-8") as handle:
            rows = {row["student"]: row for row in csv.DictReader(handle)}
    return {"done": done, "rows": rows, "out": out, "submissions": submissions,
            "unchanged": tree_hash(submissions) == before}
