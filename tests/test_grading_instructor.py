"""What an instructor needs around the marks: regrade one student into the report, overrides that survive
a rerun, a deadline with a late penalty, and the LMS gradebook (workbook/grading/adjust.py)."""
import csv
import os
import time

import pytest
from messy_class import LESSON_FILES, answered, full, released, write

from workbook.__main__ import main as workbook_main

pytestmark = pytest.mark.slow


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _grade(submissions, out, *extra):
    assert workbook_main(["grade", str(submissions), "--out", str(out), "--timeout", "30", "--jobs", "2",
                          *map(str, extra)]) == 0


@pytest.fixture()
def class_of_two(tmp_path):
    submissions = tmp_path / "submissions"
    write(answered(1, "ana"), submissions / "ana" / "notebooks" / LESSON_FILES[1])
    write(released(1), submissions / "ben" / "notebooks" / LESSON_FILES[1])
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    return submissions, out


def test_regrade_one_student_into_the_report_with_overrides_kept(class_of_two, tmp_path):
    submissions, out = class_of_two
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student,exercise,points,reason\nben,1.1,1,answered on paper\n", encoding="utf-8")
    _grade(submissions, out, "--overrides", overrides)
    rows = _rows(out)
    lesson_1 = sum(full(1).values())
    assert (rows["ana"]["total"], rows["ben"]["total"], rows["ben"]["1.1"]) == (str(lesson_1), "1", "1")
    assert "1.1: set to 1 by the instructor (was 0): answered on paper" in rows["ben"]["notes"]

    # ana is graded again, merged into the report: ben's row, override and all, is kept as it was
    _grade(submissions, out, "--student", "ana", "--merge", "--overrides", overrides)
    again = _rows(out)
    assert list(again) == ["ana", "ben"] and again["ben"] == rows["ben"]
    assert again["ana"]["total"] == str(lesson_1)

    # ben is graded again: the checks still give 1.1 nothing, the override still gives 1, noted once
    _grade(submissions, out, "--student", "ben", "--merge", "--overrides", overrides)
    again = _rows(out)
    assert again["ben"]["1.1"] == "1" and again["ben"]["notes"].count("set to 1 by the instructor") == 1
    assert again["ana"]["total"] == str(lesson_1)


def test_a_late_submission_loses_the_penalty_and_the_gradebook_has_the_final_grade(class_of_two, tmp_path):
    submissions, out = class_of_two
    lesson_1 = sum(full(1).values())
    write(answered(1, "ben"), submissions / "ben" / "notebooks" / LESSON_FILES[1])
    times = tmp_path / "submitted.csv"
    times.write_text("student,submitted\nana,2026-12-01T20:00+00:00\nben,2026-12-03T09:00+00:00\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("student,id,name,sis_id,login,section\nana,101,Ana Lee,S1,ana,A\nben,102,Ben Ode,S2,ben,A\n",
                      encoding="utf-8")
    _grade(submissions, out, "--deadline", "2026-12-01T23:59+00:00", "--late-penalty", 10, "--submitted", times,
           "--lms", "canvas", "--canvas-assignment", 12345, "--roster", roster, "--app-points", 7)
    rows = _rows(out)
    assert (rows["ana"]["late_days"], rows["ana"]["final"]) == ("0", str(lesson_1))
    assert rows["ben"]["late_days"] == "2"      # 1 day and 9 hours: two days begun
    assert float(rows["ben"]["final"]) == pytest.approx(lesson_1 * 0.8)
    assert "handed in 2 days late: -20% of the total" in rows["ben"]["notes"]
    with open(out.parent / "gradebook-canvas.csv", newline="", encoding="utf-8") as handle:
        book = list(csv.reader(handle))
    assert book[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert book[0][5] == "Flask 2FA Workbook (12345)"     # Canvas finds the assignment by the id in brackets
    # the app counts only when asked (--app-points 7): 7 more points possible; neither hands in an app
    assert book[1][0].strip() == "Points Possible" and book[1][5] == str(int(_rows(out)["ana"]["max"]) + 7)
    assert book[2][:2] == ["Ana Lee", "101"] and float(book[3][5]) == pytest.approx(lesson_1 * 0.8)

    # the instructor waives ben's penalty: an override, which survives every rerun
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student,exercise,points,reason\nben,late,0,was ill\n", encoding="utf-8")
    _grade(submissions, out, "--deadline", "2026-12-01T23:59+00:00", "--submitted", times, "--overrides", overrides,
           "--lms", "moodle", "--roster", roster)
    assert _rows(out)["ben"]["final"] == str(lesson_1)
    with open(out.parent / "gradebook-moodle.csv", newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == ["ID number", "Email address", "Full name", "Flask 2FA Workbook"]


def test_a_file_date_is_never_a_submission_time(class_of_two, tmp_path, capsys):
    """A deadline without the LMS's times stops before grading; a student missing from them: a warning, no penalty."""
    submissions, out = class_of_two
    old = time.time() - 5 * 86400
    for path in (submissions / "ana").rglob("*"):
        os.utime(path, (old, old))
    deadline = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 12 * 3600))
    assert workbook_main(["grade", str(submissions), "--out", str(out), "--deadline", deadline]) == 2
    assert "no submission times" in capsys.readouterr().err and not out.exists()

    times = tmp_path / "times.csv"
    times.write_text(f"student,submitted\nana,{deadline}\n", encoding="utf-8")
    _grade(submissions, out, "--deadline", deadline, "--submitted", times)
    rows = _rows(out)
    assert rows["ana"]["late_days"] == "0" and rows["ben"]["late_days"] == "0"   # ben's files are new: no matter
    assert "no submission time: no late penalty applied" in rows["ben"]["notes"]
    assert "ben: no submission time; no late penalty" in capsys.readouterr().err
