"""An instructor's term, case by case (issue 24): every adjustment kept on every rerun, or the run stopped
before grading, naming the problem (workbook/grading/instructor_file.py, resume.py, lms.py)."""
import csv
import json
import re
import shutil

import pytest
from messy_class import LESSON_FILES, SHARED_ANSWER, answered, exercise_cell, released, write

from workbook.__main__ import main as workbook_main
from workbook.stages import STAGES

pytestmark = pytest.mark.slow


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _grade(submissions, out, *extra):
    assert workbook_main(["grade", str(submissions), "--out", str(out), "--timeout", "30", "--jobs", "2",
                          *map(str, extra)]) == 0
    return _rows(out)


def _shared(path):
    notebook = released(0)
    notebook.cells[exercise_cell(notebook, "0.1")].source = SHARED_ANSWER
    write(notebook, path)


@pytest.fixture()
def term(tmp_path):
    """ana (lesson 1 done), dan and eve (the same answer to 0.1; dan's lesson 1 untouched), hugo (nothing done)."""
    submissions = tmp_path / "submissions"
    write(answered(1, "ana"), submissions / "ana" / "notebooks" / LESSON_FILES[1])
    _shared(submissions / "dan" / "notebooks" / LESSON_FILES[0])
    write(released(1), submissions / "dan" / "notebooks" / LESSON_FILES[1])
    _shared(submissions / "eve" / "notebooks" / LESSON_FILES[0])
    write(released(1), submissions / "hugo" / "notebooks" / LESSON_FILES[1])
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student,exercise,points,reason\ndan,1.1,1,on paper\ndan,1.2,1,on paper\n", encoding="utf-8")
    times = tmp_path / "times.csv"
    times.write_text("student,submitted\nana,2026-12-01T20:00+00:00\ndan,2026-12-02T09:00+00:00\n"
                     "eve,2026-12-03T09:00+00:00\nhugo,2026-12-01T10:00+00:00\n", encoding="utf-8")
    return submissions, out, overrides, times


def _stops(capsys, submissions, out, *extra):
    """The run stops before any grading: exit 2, no report, the message (returned) names the problem."""
    code = workbook_main(["grade", str(submissions), "--out", str(out), "--timeout", "30", *map(str, extra)])
    err = capsys.readouterr().err
    assert code == 2 and "nothing was graded" in err and not out.exists()
    assert not (out.parent / "instructor.json").exists()   # a refused adjustment is not kept either
    return err


def test_unknown_students_and_exercises_stop_the_run_before_grading(term, tmp_path, capsys):
    submissions, out, _overrides, _times = term
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("student,exercise,points,reason\nHugo,1.1,1,\nana,1.9,1,\nbenn,1.1,1,\ndan,1.1,5,\n",
                     encoding="utf-8")
    err = _stops(capsys, submissions, out, "--overrides", wrong)
    assert "no student 'Hugo' (did you mean 'hugo'?)" in err           # the case differs: named, not ignored
    assert "no exercise '1.9' (did you mean" in err and "'1.1'" in err
    assert "no student 'benn'" in err
    assert "points '5' not between 0 and 1" in err or "points 5.0 not between 0 and 1" in err
    times = tmp_path / "times.csv"
    times.write_text("student,submitted\nHUGO,2026-12-01T10:00+00:00\n", encoding="utf-8")
    err = _stops(capsys, submissions, out, "--deadline", "2026-12-01T23:59+00:00", "--submitted", times)
    assert "submitted: no student 'HUGO' (did you mean 'hugo'?)" in err
    roster = tmp_path / "roster.csv"
    roster.write_text("student,id,name\nana,101,Ana\ndan,102,Dan\neve,103,Eve\n", encoding="utf-8")
    err = _stops(capsys, submissions, out, "--lms", "canvas", "--roster", roster)
    assert "'hugo' has no id in the roster" in err and "--canvas-assignment" in err


def test_a_term_of_reruns_keeps_every_adjustment(term, capsys):
    submissions, out, overrides, times = term
    rows = _grade(submissions, out, "--overrides", overrides)
    assert (rows["dan"]["1.1"], rows["dan"]["1.2"], rows["dan"]["1.3"]) == ("1", "1", "0")
    assert "answer to 0.1 like eve's" in rows["dan"]["flags"]
    assert "answer to 0.1 like dan's" in rows["eve"]["flags"]
    assert json.loads((out.parent / "instructor.json").read_text())["overrides"][0]["student"] == "dan"
    assert (out.parent / "logs" / "dan" / "01.log").exists()

    # The README's own regrade command, without --overrides: dan's two overrides are kept, noted once;
    # the classmate's flag and dan's are both still there; the others' rows are as they were.
    again = _grade(submissions, out, "--student", "dan", "--merge")
    assert (again["dan"]["1.1"], again["dan"]["1.2"], again["dan"]["total"]) == ("1", "1", rows["dan"]["total"])
    assert again["dan"]["notes"].count("set to 1 by the instructor") == 2
    assert "like eve's" in again["dan"]["flags"] and "like dan's" in again["eve"]["flags"]
    assert again["ana"] == rows["ana"] and again["eve"] == rows["eve"]

    # dan hands in a new lesson 0 and no lesson 1: regraded, the shared-answer flag goes both ways,
    # his old 01.log goes, and his overrides still hold.
    write(released(0), submissions / "dan" / "notebooks" / LESSON_FILES[0])
    (submissions / "dan" / "notebooks" / LESSON_FILES[1]).unlink()
    again = _grade(submissions, out, "--student", "dan", "--merge")
    assert "identical" not in again["dan"]["flags"] and "identical" not in again["eve"]["flags"]
    assert not (out.parent / "logs" / "dan" / "01.log").exists()
    assert (out.parent / "logs" / "eve" / "00.log").exists()      # the others' logs stay
    assert (again["dan"]["1.1"], again["dan"]["1.2"]) == ("1", "1")

    # A deadline given with a regrade of one student: the penalty for everyone, from the LMS's times.
    again = _grade(submissions, out, "--student", "ana", "--merge", "--deadline", "2026-12-01T23:59+00:00",
                   "--submitted", times)
    assert {name: again[name]["late_days"] for name in again} == {"ana": "0", "dan": "1", "eve": "2", "hugo": "0"}
    assert again["dan"]["final"] == str(round(int(again["dan"]["total"]) * 0.9, 2)).removesuffix(".0")

    # A rerun with no option at all: the deadline, the times and the overrides all still apply.
    capsys.readouterr()
    again = _grade(submissions, out, "--student", "hugo", "--merge")
    assert again["eve"]["late_days"] == "2" and again["dan"]["1.1"] == "1"
    assert again["eve"]["notes"].count("handed in 2 days late") == 1
    # ...and a whole-class rerun without --merge too
    again = _grade(submissions, out)
    assert again["eve"]["late_days"] == "2" and (again["dan"]["1.1"], again["dan"]["1.2"]) == ("1", "1")
    # Graded before the due date: the feedback shows the visible checks only
    _grade(submissions, out, "--deadline", "2099-01-01T00:00+00:00")
    assert "(the hidden checks count after the due date)" in (out.parent / "feedback" / "ana.md").read_text()
    # A deadline removed on purpose: 'none'
    again = _grade(submissions, out, "--deadline", "none")
    assert again["eve"]["late_days"] == "0" and again["eve"]["final"] == again["eve"]["total"]


# ---------------------------------------------------------------------------
# The gradebooks, each read back by the rules of its LMS's documented import


def _class(app_score_stage=None):
    from workbook.grading.grader import load_exercises
    from workbook.grading.model import AppGrade, ClassGrades, ExerciseGrade, NotebookGrade, StudentGrade
    exercises = load_exercises()
    students = []
    for name, solved, late in (("ana", 3, 0), ("ben", 1, 2), ("=cmd", 0, 0)):
        notebook = NotebookGrade(1, "notebooks/01_install.ipynb")
        for index, exercise_id in enumerate(i for i, e in exercises.items() if e.lesson == 1):
            passed = index < solved
            notebook.grades[exercise_id] = ExerciseGrade(exercise_id, "passed" if passed else "failed", "",
                                                         exercises[exercise_id].points if passed else 0)
        app = AppGrade(5, partial=0.4, next_stage=(6, 4, 10)) if name == "ana" else AppGrade(None)
        students.append(StudentGrade(name, {1: notebook}, app, late_days=late, penalty=late * 0.1))
    return ClassGrades(students, exercises)


def _adjustments(lms, **export):
    from workbook.grading.instructor_file import Adjustments
    roster = {"ana": {"id": "101", "name": "Lee, Ana", "email": "ana@example.edu", "sis_id": "S1", "login": "ana",
                      "section": "A"},
              "ben": {"id": "102", "name": "Ode, Ben", "email": "ben@example.edu", "sis_id": "S2", "login": "ben",
                      "section": "A"},
              "=cmd": {"id": "103", "name": "=cmd", "email": "c@example.edu"}}
    return Adjustments(roster=roster, export={"lms": lms, **export})


def _read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_the_canvas_gradebook_is_what_canvas_imports(tmp_path):
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then 'Name (assignment id)';
    an optional second row 'Points Possible'; each row found by ID (or SIS ids); numeric scores."""
    from workbook.grading import lms
    grades = _class()
    path = lms.write_gradebook(grades, tmp_path / "report.csv", _adjustments("canvas", canvas_assignment="12345",
                                                                             app_points=7))
    header, possible, *rows = _read(path)
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and len(header) == 6
    name, assignment_id = re.fullmatch(r"(.+) \((\d+)\)", header[5]).groups()
    assert (name, assignment_id) == ("Flask 2FA Workbook", "12345")
    max_points = grades.max_points
    assert possible[0].strip() == "Points Possible" and float(possible[5]) == max_points + 7
    assert all(row[1].isdigit() for row in rows) and [row[1] for row in rows] == ["101", "102", "103"]
    scores = {row[1]: float(row[5]) for row in rows}
    # ana: 3 points + the app's share (stage 5 and 40 % of stage 6: 5.4 of the stages, of 7 points)
    assert scores == {"101": pytest.approx(3 + 7 * 5.4 / len(STAGES), abs=0.01), "102": pytest.approx(1 * 0.8), "103": 0}
    assert rows[2][0] == "'=cmd"     # never a formula in a spreadsheet


def test_the_moodle_and_plain_gradebooks(tmp_path):
    """Moodle's CSV grade import maps one column to a user field (ID number, email address) and one to the grade
    item: numeric grades with a decimal point."""
    from workbook.grading import lms
    grades = _class()
    path = lms.write_gradebook(grades, tmp_path / "report.csv", _adjustments("moodle"))
    header, *rows = _read(path)
    assert header == ["ID number", "Email address", "Full name", "Flask 2FA Workbook"]
    assert [(row[0], row[1]) for row in rows] == [("101", "ana@example.edu"), ("102", "ben@example.edu"),
                                                  ("103", "c@example.edu")]
    assert [float(row[3]) for row in rows] == [3, pytest.approx(0.8), 0]    # the app counts only when asked
    path = lms.write_gradebook(grades, tmp_path / "report.csv", _adjustments("csv", app_points=10))
    header, *rows = _read(path)
    assert header == ["student", "id", "name", "email", "exercises", "app", "late_days", "grade", "points_possible"]
    ana = dict(zip(header, rows[0], strict=True))
    assert (ana["exercises"], float(ana["app"]), float(ana["grade"]), float(ana["points_possible"])) == (
        "3", pytest.approx(10 * 5.4 / len(STAGES), abs=0.01), pytest.approx(3 + 10 * 5.4 / len(STAGES), abs=0.01),
        grades.max_points + 10)


# ---------------------------------------------------------------------------
# The report an instructor reads; hidden checks never shown before the due date


def test_the_report_marks_overrides_folds_notes_links_html_feedback_and_says_what_the_app_score_is(tmp_path):
    from workbook.grading.instructor_file import Adjustments, apply
    from workbook.grading.model import AppGrade
    from workbook.grading.report import write_reports
    grades = _class()
    ben = grades.students[1]
    ben.app = AppGrade(0, partial=124 / 129, next_stage=(7, 124, 129), failing=["test_a", "test_b"])
    ben.notes += [f"note {number}: " + "x" * 80 for number in range(12)]
    apply(grades, Adjustments(overrides=[{"student": "ben", "exercise": "1.3", "points": 1, "reason": "paper"}]))
    out = tmp_path / "report.csv"
    write_reports(grades, out)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    ben_row = next(line for line in page.splitlines() if ">ben</a>" in line)
    assert '<a href="feedback/ben.html">ben</a>' in ben_row
    assert '<td class="full override" title="set by the instructor">1✎</td>' in ben_row
    assert ben_row.count("✎") == 1
    assert "<details><summary>13 notes</summary>" in ben_row           # folded: the row stays one line high
    assert "stage 6, 96% of stage 7&#x27;s tests (124 of 129 pass); passes no stage in full" in ben_row
    assert "does not pass any stage" not in page and "+ 96%" not in page
    feedback = (tmp_path / "feedback" / "ben.html").read_text(encoding="utf-8")
    assert feedback.startswith("<!DOCTYPE html>") and "<script" not in feedback
    assert "set by your instructor: 1/1" in feedback and "stage 6, 96% of stage 7" in feedback
    assert "stage 6, 96% of stage 7's tests" in (tmp_path / "feedback" / "ben.md").read_text(encoding="utf-8")


def test_gradescope_before_the_due_date_shows_a_score_equal_to_the_visible_tests(tmp_path):
    """A hidden check that fails code the visible check passes: before the due date the overall score is the
    sum of the visible tests (a lower total would give it away); at the regrade after it, the points go."""
    from datetime import datetime, timezone

    from workbook.grading.gradescope import is_before_due_date, results
    grades = _class()
    ana = grades.students[0]
    hidden = ana.grade("1.3")
    hidden.status, hidden.points, hidden.message = "failed", 0, "the hidden check's message"
    hidden.visible_status, hidden.visible_message = "passed", ""
    before = results(ana, grades.exercises, before_due_date=True)
    visible = sum(test["score"] for test in before["tests"] if test["visibility"] == "visible")
    assert before["score"] == visible == 3
    assert all(test["score"] == 0 for test in before["tests"] if test["visibility"] != "visible")
    after = results(ana, grades.exercises)
    assert after["score"] == ana.total == 2 == sum(test["score"] for test in after["tests"])
    metadata = tmp_path / "submission_metadata.json"
    metadata.write_text(json.dumps({"assignment": {"due_date": "2026-12-01T23:59:00.000000-08:00"}}))
    assert is_before_due_date(metadata, now=datetime(2026, 12, 2, 7, 0, tzinfo=timezone.utc))
    assert not is_before_due_date(metadata, now=datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc))
    assert not is_before_due_date(tmp_path / "missing.json")


# ---------------------------------------------------------------------------
# --resume: after an interruption, only what is new or changed


def test_resume_after_an_interruption_grades_only_new_and_changed_work(tmp_path, monkeypatch, capsys):
    from workbook.grading import resume
    from workbook.grading.grader import Grader
    submissions = tmp_path / "submissions"
    for name in ("ana", "ben", "cy"):
        write(answered(1, name), submissions / name / "notebooks" / LESSON_FILES[1])
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    graded = []
    grade_students = Grader.grade_students

    def spy(self, folders):
        graded.append(sorted(folders))
        return grade_students(self, folders)
    monkeypatch.setattr(Grader, "grade_students", spy)
    record = resume.Progress.record

    def interrupted(self, student):       # Ctrl-C as soon as the first student is graded
        record(self, student)
        raise KeyboardInterrupt
    monkeypatch.setattr(resume.Progress, "record", interrupted)
    assert workbook_main(["grade", str(submissions), "--out", str(out), "--timeout", "30", "--jobs", "1"]) == 130
    assert "--resume" in capsys.readouterr().err and not out.exists()
    monkeypatch.setattr(resume.Progress, "record", record)
    first = [json.loads(line)["name"] for line in resume.progress_path(out).read_text().splitlines()]
    assert len(first) == 1

    rows = _grade(submissions, out, "--resume")
    assert graded[-1] == sorted({"ana", "ben", "cy"} - set(first))       # the first one is not graded again
    assert [rows[name]["total"] for name in ("ana", "ben", "cy")] == ["4", "4", "4"]   # 1.1-1.3 and 1.Q1

    # a student added, one who hands in again (a 1.2 that now fails), one whose folder is only copied anew
    write(answered(1, "dan"), submissions / "dan" / "notebooks" / LESSON_FILES[1])
    write(released(1), submissions / "ben" / "notebooks" / LESSON_FILES[1])
    shutil.copytree(submissions / "cy", tmp_path / "cy-copy")
    shutil.rmtree(submissions / "cy")
    shutil.copytree(tmp_path / "cy-copy", submissions / "cy")    # new file dates, the same content
    rows = _grade(submissions, out, "--resume")
    assert graded[-1] == ["ben", "dan"]
    assert {name: rows[name]["total"] for name in rows} == {"ana": "4", "ben": "0", "cy": "4", "dan": "4"}
    rows = _grade(submissions, out, "--resume")          # nothing changed: nothing graded
    assert graded[-1] == [] and rows["dan"]["total"] == "4"


def test_feedback_written_before_the_due_date_shows_the_visible_checks_only():
    from workbook.grading.feedback_page import feedback_page
    from workbook.grading.report import feedback_text
    grades = _class()
    ana = grades.students[0]
    hidden = ana.grade("1.3")
    hidden.status, hidden.points, hidden.message = "failed", 0, "the hidden check's message"
    hidden.visible_status, hidden.visible_message = "passed", ""
    grades.hide_hidden_checks = True
    for page in (feedback_text(grades, ana), feedback_page(grades, ana)):
        assert "the hidden check&#x27;s message" not in page and "the hidden check's message" not in page
        assert "Score: 3 /" in page and "(the hidden checks count after the due date)" in page
    assert "✅ Exercise 1.3" in feedback_text(grades, ana)
    grades.hide_hidden_checks = False          # after the due date: the instructor's marks, hints and all
    assert "❌ Exercise 1.3" in feedback_text(grades, ana) and "Score: 2 /" in feedback_text(grades, ana)
    assert "the hidden check&#x27;s message" in feedback_page(grades, ana)
