"""Lesson 07's starting app (workbook/lesson_07_start.py): stage 7 with the student's defences not built yet.

``start_from(7, part=N)`` copies stage 7 with the places of Part N and every later part left open; each says
"Not built yet: Part N's Build". ``check_my_app(7)`` leaves out the tests of the parts still open (their Builds
put them in), and only those: the grader runs every test whatever the files say.
"""
import re

import pytest

from workbook.lesson_07_start import MARKER, NOT_BUILT, PARTS, SHAPED, TESTS_OF_PART, open_places, parts_not_built
from workbook.my_app import check_my_app, run_stage_tests, start_from
from workbook.stages import stage


def failed_tests(output):
    """The names (without parameters) of the tests pytest's ``-rf`` summary lists as failed."""
    return {match for match in re.findall(r"^FAILED \S+::(\w+)", output, re.M)}


def shaped(file):
    """Stage 7's ``file`` with its recovery codes in Exercise 7.7's shape, as every start has it (``SHAPED``)."""
    source = (stage(7).folder / file).read_text(encoding="utf-8")
    for shaped_file, built, changed in SHAPED:
        if shaped_file == file:
            source = source.replace(built, changed)
    return source


def test_every_place_is_in_stage_7_once_and_says_which_part_builds_it():
    for part, places in NOT_BUILT.items():
        for file, built, _not_built in places:
            assert shaped(file).count(built) == 1, f"Part {part}: stage 7's {file} does not hold its place once"
        assert any(MARKER.format(part=part) in not_built for _file, _built, not_built in places), (
            f"Part {part}'s open places do not say so")
    assert set(TESTS_OF_PART) == set(PARTS), "a part is left open with no test waiting for it, or the other way"
    for file, built, _shaped in SHAPED:  # stage 7's recovery codes in Exercise 7.7's shape: no marker, no test waits
        assert (stage(7).folder / file).read_text(encoding="utf-8").count(built) == 1, f"stage 7's {file} moved"


def test_the_tests_waiting_for_a_part_are_stage_7_tests():
    from workbook import ROOT
    source = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests" / "stages").glob("test_*.py"))
    for part, names in TESTS_OF_PART.items():
        for name in names:
            assert re.search(rf"^def {name}\(", source, re.M), f"Part {part} waits for {name}, which is no stage test"


def test_start_from_7_part_n_opens_part_n_and_every_later_part(tmp_path, capsys):
    app = tmp_path / "my_app"
    start_from(7, app, part=4)
    assert parts_not_built(app) == [4, 5, 6, 7, 8, 9, 10]
    said = capsys.readouterr().out
    assert "Not built yet: the defences of Parts 4, 5, 6, 7, 8, 9 and 10" in said, said
    # Parts 1 to 3 are stage 7's own: the same files as stage 7 opened from Part 4.
    opened = tmp_path / "opened"
    start_from(7, opened)
    open_places(opened, 4)
    for name in ("user_management.py", "throttle.py", "devices.py", "app.py", "sessions.py", "auth.py",
                 "recovery_codes.py", "db.py", "events.py"):
        assert (app / name).read_text(encoding="utf-8") == (opened / name).read_text(encoding="utf-8"), name


def test_start_from_7_part_keeps_the_students_work_and_says_what_it_refuses(tmp_path, capsys):
    app = tmp_path / "my_app"
    app.mkdir()
    (app / "app.py").write_text("# my own stage 6 app\n", encoding="utf-8")
    start_from(7, app, part=1)
    assert (tmp_path / "my_app.before_stage_7" / "app.py").read_text(encoding="utf-8") == "# my own stage 6 app\n"
    assert parts_not_built(app) == PARTS
    capsys.readouterr()
    start_from(7, app, part=1)  # again: nothing to do, nothing moved
    assert "already an untouched copy of stage 7, ready for Part 1," in capsys.readouterr().out
    assert not (tmp_path / "my_app.before_stage_7.2").exists()
    for number, part in ((6, 1), (7, 0), (7, 11), (7, "1")):
        assert start_from(number, app, part=part) is None
        assert capsys.readouterr().out.startswith("❌ part= goes with stage 7 only")
    assert parts_not_built(app) == PARTS


@pytest.mark.slow
@pytest.mark.parametrize("part", PARTS)
def test_each_part_left_open_alone_fails_every_test_that_waits_for_it(tmp_path, part):
    """A test waits for a part only if that part's open place fails it: none is left out for nothing."""
    app = tmp_path / "app"
    start_from(7, app)
    for file, built, not_built in SHAPED + NOT_BUILT[part]:  # the shape every start has, then the part's places
        path = app / file
        path.write_text(path.read_text(encoding="utf-8").replace(built, not_built), encoding="utf-8")
    run = run_stage_tests(7, app, extra_args=("-q", "-rf", "-k", " or ".join(TESTS_OF_PART[part])))
    passing = set(TESTS_OF_PART[part]) - failed_tests(run.output)
    assert not passing, f"Part {part}'s open place does not fail {sorted(passing)}:\n{run.output[-2000:]}"


@pytest.mark.slow
def test_with_recovery_codes_made_but_never_accepted_every_failure_names_the_recovery_code(tmp_path):
    """A slip walked in Part 7's Build: make_recovery_codes written, `use` left open (no code accepted). Each stage
    test that fails says a recovery code did not work, where some once said only `assert False` or `401 < 400`."""
    import xml.etree.ElementTree as ElementTree

    app, report = tmp_path / "app", tmp_path / "report.xml"
    start_from(7, app)
    make_recovery_codes, use = NOT_BUILT[7]
    assert "def make_recovery_codes" in make_recovery_codes[1] and "Not built yet" in use[2]
    for file, built, not_built in [*SHAPED, use]:
        path = app / file
        path.write_text(path.read_text(encoding="utf-8").replace(built, not_built), encoding="utf-8")
    run = run_stage_tests(7, app, extra_args=("-q", "-k", " or ".join(TESTS_OF_PART[7]), "--junitxml", str(report)))
    messages = {case.get("name"): case.find("failure").get("message", "")
                for case in ElementTree.parse(report).iter("testcase") if case.find("failure") is not None}
    assert len(messages) >= 10, f"only {sorted(messages)} failed:\n{run.output[-2000:]}"
    silent = {name: message.splitlines()[0] for name, message in messages.items()
              if "recovery code" not in message.split("\nassert ")[0]}
    assert not silent, f"these failures do not say a recovery code was refused: {silent}"


@pytest.mark.slow
@pytest.mark.parametrize("part", [1, 5])  # the lesson's start, and a catch-up in the middle
def test_caught_up_before_a_part_the_app_passes_every_test_that_does_not_wait(tmp_path, part):
    """start_from(7, part=N): what a student behind in lesson 07 runs before Part N. Its own stage 7 code for the
    parts before passes their tests, and every test not waiting for a later part."""
    app = tmp_path / "my_app"
    start_from(7, app, part=part)
    waiting = parts_not_built(app)
    assert waiting == [number for number in PARTS if number >= part]
    run = run_stage_tests(7, app, extra_args=("-q", "-rf", "--not-built", ",".join(map(str, waiting))))
    assert run.passed, run.output[-3000:]
    if waiting:  # the grader asks for every test, whatever the files say: the open places fail
        graded = run_stage_tests(7, app, extra_args=("-q", "-rf"))
        assert not graded.passed
        assert failed_tests(graded.output) <= {name for number in waiting for name in TESTS_OF_PART[number]}


@pytest.mark.slow
def test_check_my_app_7_on_the_starting_app_passes_and_names_the_parts_that_wait(tmp_path, capsys):
    app = tmp_path / "my_app"
    start_from(7, app, part=1)
    capsys.readouterr()
    check_my_app(7, app)
    said = capsys.readouterr().out
    assert said.startswith("✅ Your app passes every stage 7 test of what it has built so far"), said
    assert "Not built yet: the defences of Parts 1, 2, 3, 4, 5, 6, 7, 8, 9 and 10" in said, said
    # A place built wrongly is no longer waiting: its tests run, and fail.
    path = app / "user_management.py"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    return True  # " + MARKER.format(part=1), "    return True  # my replay guard"), encoding="utf-8")
    check_my_app(7, app)
    said = capsys.readouterr().out
    assert said.startswith("❌ Stage 7 tests:") and "test_a_code_works_once" in said, said
    assert "Not built yet: the defences of Parts 2, 3, 4, 5, 6, 7, 8, 9 and 10" in said, said


def test_catching_up_mid_lesson_names_only_the_students_own_work(tmp_path, capsys):
    """A student whose app went through Parts 1-3 catches up before Part 6: the places still open in their app are
    the new copy's too, so they are no work of theirs to name; their answers to Parts 1-3 are."""
    from test_lesson_07_build import follow_the_steps, stage_6_copy

    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=3)
    capsys.readouterr()
    start_from(7, app, part=6)
    said = capsys.readouterr().out
    report = said[said.index("Not built yet"):]
    for open_place in ("logout", "find_session", "count_reauth_failure", "ceiling_wait", "create_user",
                       "make_recovery_codes", "record"):
        assert open_place not in report, f"{open_place} is named as the student's work:\n{said}"
    assert re.search(r"Only in your app.*\n(  .*\n)*  user_management\.py: .*accept_once", report), said
    assert parts_not_built(app) == [6, 7, 8, 9, 10]
