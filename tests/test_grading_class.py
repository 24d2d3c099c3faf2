"""Issue 14's messy class (tests/messy_class.py), graded once by `python -m workbook grade`: the marks a
careful instructor would give, a flag on every gaming attempt, a note on every file-finding decision."""
import csv
import re

import pytest
from class_grading import grade_with_command
from messy_class import EXERCISES, build_class

TIMEOUT = 10   # seconds per notebook: the slowest lesson takes about 2 s here; the sleeping one hits it

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    expected = build_class(root / "submissions")
    graded = grade_with_command(root / "submissions", root / "out" / "report.csv", TIMEOUT)
    assert graded["done"].returncode == 0, graded["done"].stderr
    return {**graded, "expected": expected}


STUDENTS = ["broken_app", "clone", "colab", "copycat_a", "copycat_b", "disguised", "exit_app", "gamer", "no_folder",
            "odd_cells", "old_format", "patch_app", "pip_cell", "renamed", "skip_app", "sleepy", "stub_dependent", "zipped"]


def test_every_student_is_graded(graded):
    assert sorted(graded["expected"]) == STUDENTS
    assert list(graded["rows"]) == STUDENTS


@pytest.mark.parametrize("student", STUDENTS)
def test_marks(graded, student):
    row, expected = graded["rows"][student], graded["expected"][student]
    got = {i: int(row[i]) for i in EXERCISES}
    # a check not yet written for grading's stand-ins is said to be the workbook's error (a note), never a mark
    errors = workbook_errors(row)
    want = {i: 0 if i in errors else expected["points"].get(i, 0) for i in EXERCISES}
    assert got == want, f"{student}: notes {row['notes']!r}; flags {row['flags']!r}"
    assert int(row["total"]) == sum(want.values())
    if "app_stage" in expected:
        assert row["app_stage"] == expected["app_stage"], row["notes"]


@pytest.mark.parametrize("student", STUDENTS)
def test_notes_say_what_was_found(graded, student):
    row, expected = graded["rows"][student], graded["expected"][student]
    errors = workbook_errors(row)
    for note in expected["notes"]:
        best = re.search(r"^(\d\d): \d+ notebooks for this lesson; graded .* \((\d+) points, the best\)", note)
        if best:   # what a check not yet written for grading's stand-ins did not give (its own note says so)
            lost = sum(1 for e in errors if e.split(".")[0] == str(int(best.group(1))))
            note = note.replace(f"({best.group(2)} points", f"({int(best.group(2)) - lost} points")
        assert note in row["notes"], f"{student}: {note!r} not in {row['notes']!r}"


def workbook_errors(row):
    """The exercises whose check the grader said was the workbook's error (not yet written for its stand-ins)."""
    return {note.split(":", 1)[0] for note in row["notes"].split("; ") if "a grading error of the workbook" in note}


@pytest.mark.parametrize("student", STUDENTS)
def test_every_gaming_attempt_is_flagged_and_nothing_else(graded, student):
    row, expected = graded["rows"][student], graded["expected"][student]
    for flag in expected["flags"]:
        assert flag in row["flags"], f"{student}: {flag!r} not in {row['flags']!r}"
    if not expected["flags"]:
        assert row["flags"] == "", f"{student}: {row['flags']!r}"


def test_feedback_names_the_stub_another_exercise_still_is(graded):
    feedback = (graded["out"].parent / "feedback" / "stub_dependent.md").read_text(encoding="utf-8")
    assert "⏳ Exercise 2.2" in feedback
    line = next(line for line in feedback.splitlines() if "Exercise 2.4" in line)
    assert line.startswith("- ❌") and graded["expected"]["stub_dependent"]["messages"]["2.4"] in line, line


def test_a_broken_app_gets_partial_credit_and_its_failing_test_named(graded):
    row = graded["rows"]["broken_app"]
    assert 5 < float(row["app_score"]) < 6, row
    feedback = (graded["out"].parent / "feedback" / "broken_app.md").read_text(encoding="utf-8")
    assert "Next: stage 6: " in feedback and "failing: test_logout_ends_the_session" in feedback


def test_logs_and_timings_are_kept_for_every_notebook(graded):
    out = graded["out"].parent
    timings = list(csv.DictReader((out / "timings.csv").open(encoding="utf-8")))
    sleepy = next(t for t in timings if t["student"] == "sleepy")
    assert sleepy["timed_out"] == "True" and float(sleepy["seconds"]) >= TIMEOUT
    gamer = [t for t in timings if t["student"] == "gamer"]
    assert {t["what"] for t in gamer} == {"lesson 00", "lesson 02", "lesson 03", "lesson 04", "lesson 05", "lesson 06"}
    assert all(int(t["flags"]) >= 1 for t in gamer)
    pip_log = (out / "logs" / "pip_cell" / "01.log").read_text(encoding="utf-8")
    assert "no-such-package-here" in pip_log


def test_the_html_report_puts_flagged_rows_first_with_a_legend(graded):
    page = graded["out"].with_suffix(".html").read_text(encoding="utf-8")
    assert "app_stage blank: no my_app/ handed in" in page and "a flag never changes a mark" in page
    rows = page.split("<tbody>")[1].split("</tbody>")[0].strip().splitlines()
    classes = [line.split('class="', 1)[1].split('"', 1)[0] for line in rows]
    flagged = [c == "flagged" for c in classes]
    assert flagged == sorted(flagged, reverse=True) and sum(flagged) == sum(
        1 for e in graded["expected"].values() if e["flags"])


def test_the_submissions_are_not_changed(graded):
    assert graded["unchanged"]
    assert [p.name for p in (graded["submissions"] / "zipped").iterdir()] == ["homework.zip"]  # unzipped elsewhere
