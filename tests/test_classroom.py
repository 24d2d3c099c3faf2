"""GitHub Classroom (workbook/grading/classroom.py): the workflow's commands run here as Actions would run them;
what the autograding reporter reads is checked against its format, and the marks against `grade`'s."""
import base64
import csv
import json
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest
import yaml
from messy_class import LESSON_FILES, answered, released, write

from workbook import ROOT
from workbook.grading.classroom import TEMPLATE, write_workflow

pytestmark = pytest.mark.slow

WRONG_ABOVE_32_BITS = 'return struct.pack(">Q", (int(unix_time) // 30) & 0xFFFFFFFF)'
STEP_OUTPUT = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.result\s*\}\}$")


def test_the_handouts_workflow_is_up_to_date():
    assert write_workflow(check=True) == [], "run: python -m workbook.grading.classroom --write"


def _command(line):
    """A workflow's `python -m ...` line, run with this checkout's Python."""
    assert line.startswith("python "), line
    return [sys.executable, *line.split()[1:]]


def command_grader(step, cwd):
    """What classroom-resources/autograding-command-grader does: run `command`; exit 0 earns max-score; its
    `result` output is the base64 of {version, status, max_score, tests: [{name, status, score, message...}]}."""
    inputs = step["with"]
    started = time.monotonic()
    done = subprocess.run(_command(inputs["command"]), cwd=cwd, capture_output=True, text=True,
                          timeout=float(inputs.get("timeout", 10)) * 60)
    status = "pass" if done.returncode == 0 else "fail"
    max_score = int(inputs.get("max-score", 0))
    result = {"version": 1, "status": status, "max_score": max_score,
              "tests": [{"name": inputs["test-name"], "status": status, "score": max_score if status == "pass" else 0,
                         "message": None if status == "pass" else done.stdout.strip(),
                         "test_code": inputs["command"], "filename": "", "line_no": 0,
                         "duration": round((time.monotonic() - started) * 1000)}]}
    return base64.b64encode(json.dumps(result).encode()).decode(), done.stdout


def reporter_input(step, outputs):
    """The autograding-grading-reporter's input: for each runner in `runners`, <RUNNER>_RESULTS, decoded."""
    runners = [r for r in re.split(r"[\s,]", step["with"]["runners"]) if r]
    env = {name: STEP_OUTPUT.match(value).group(1) for name, value in step["env"].items()}
    decoded = {}
    for runner in runners:
        source = env[f"{runner.upper()}_RESULTS"]          # the name the reporter reads
        decoded[runner] = json.loads(base64.b64decode(outputs[source]).decode("utf-8"))
    return decoded


def check_reporter_format(results):
    """The shape the reporter reads: status pass/fail/error; max_score; tests with name, status and a score."""
    assert results["status"] in {"pass", "fail", "error"}
    assert isinstance(results["max_score"], int) and results["max_score"] >= 0
    assert results["tests"]
    for test in results["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert test["status"] in {"pass", "fail", "error"}
        assert isinstance(test["score"], (int, float)) and 0 <= test["score"] <= results["max_score"]


def test_the_workflow_run_here_gives_grades_marks_by_the_visible_checks(tmp_path):
    """Lessons 00 and 01 done, 02 done with one answer that passes its visible check but not its hidden one,
    03 as released. Every step of the workflow runs here; the reporter's total is grade's, but for that one."""
    student = tmp_path / "repo"
    write(answered(0, "ana"), student / "notebooks" / LESSON_FILES[0])
    write(answered(1, "ana"), student / "notebooks" / LESSON_FILES[1])
    notebook = answered(2, "ana")
    cell = next(c for c in notebook.cells if c.source.startswith("# Exercise 2.2"))
    cell.source = cell.source.replace('return struct.pack(">Q", int(unix_time) // 30)', WRONG_ABOVE_32_BITS)
    assert WRONG_ABOVE_32_BITS in cell.source
    nbformat.write(notebook, student / "notebooks" / LESSON_FILES[2])
    write(released(3), student / "notebooks" / LESSON_FILES[3])

    workflow = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    assert workflow["name"] == "Autograding Tests" and list(workflow["jobs"]) == ["run-autograding-tests"]
    assert "push" in workflow["on"]
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    outputs, printed = {}, {}
    reporter = None
    for step in steps:
        uses = step.get("uses", "")
        if "run" in step:
            if "pip install" in step["run"]:
                continue          # this checkout's environment is the one the workflow installs
            done = subprocess.run(_command(step["run"]), cwd=student, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr
        elif uses.startswith("classroom-resources/autograding-command-grader@"):
            outputs[step["id"]], printed[step["id"]] = command_grader(step, student)
        elif uses.startswith("classroom-resources/autograding-grading-reporter@"):
            reporter = step
        else:
            assert uses.startswith(("actions/checkout@", "actions/setup-python@")), uses
    results = reporter_input(reporter, outputs)
    for runner_results in results.values():
        check_reporter_format(runner_results)
    # As the reporter's NotifyClassroom adds them up
    total = sum(test["score"] for r in results.values() for test in r["tests"])
    maximum = sum(r["max_score"] for r in results.values())

    submissions = tmp_path / "submissions"
    shutil.copytree(student / "notebooks", submissions / "ana" / "notebooks")
    out = tmp_path / "report" / "report.csv"
    out.parent.mkdir()
    done = subprocess.run([sys.executable, "-m", "workbook", "grade", str(submissions), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    row = next(csv.DictReader(out.open(encoding="utf-8")))
    assert maximum == int(row["max"])
    by_exercise = {step["with"]["command"].split()[-1]: step["id"] for step in steps if "with" in step
                   and "command" in step["with"]}
    for exercise_id, runner in by_exercise.items():
        score = results[runner]["tests"][0]["score"]
        assert score == (1 if exercise_id == "2.2" else int(row[exercise_id])), exercise_id
    assert int(row["2.2"]) == 0 and total == int(row["total"]) + 1 > 0
    # the hidden check's message is never printed: the student sees what their check cell says
    assert printed["exercise-2-2"].startswith("✅ Exercise 2.2")
    assert printed["exercise-3-1"].startswith("⏳ Exercise 3.1") and results["exercise-3-1"]["status"] == "fail"
