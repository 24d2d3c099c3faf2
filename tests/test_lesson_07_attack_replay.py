"""Exercise 7.A1: the student replays, as Mallory, the code she saw Alice type, before Exercise 7.1 defends.

The lesson's promises (issue 22, item 2: attack, then defend): the attack is an exercise the student writes in
Part 1, before 7.1; the pre-written replay is gone from above its check; after the check the student's own
function runs in the lesson's stage 6 scene, and again, after a prediction, against stage 7, which turns it
away. And what the check's scene rests on: the code it hands over still works when Mallory acts, and each run
draws another scene.
"""
import contextlib
import io
import re

import nbformat
import pytest

from workbook import ROOT
from workbook.authoring.release import EXERCISE_LINE
from workbook.checks import FAILED, PASSED, load_all, run_check

LESSON = ROOT / "solutions" / "07_hardening.ipynb"
RELEASED = ROOT / "notebooks" / "07_hardening.ipynb"
BEGIN = "### BEGIN SOLUTION"


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(LESSON, as_version=4).cells


def _index(cells, predicate, what):
    found = [i for i, c in enumerate(cells) if predicate(c)]
    assert found, f"lesson 07 has no {what}"
    return found[0]


def _exercise_cell(cells, exercise_id):
    return _index(cells, lambda c: c.cell_type == "code" and BEGIN in c.source
                  and (m := EXERCISE_LINE.search(c.source)) is not None and m.group(2) == exercise_id,
                  f"answer cell of Exercise {exercise_id}")


def _check_cell(cells, exercise_id):
    return _index(cells, lambda c: c.cell_type == "code" and re.search(
        rf"check\(\s*['\"]{re.escape(exercise_id)}['\"]", c.source), f"check cell of {exercise_id}")


def _part(cells, number):
    starts = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("# Part ")]
    return starts[number - 1], starts[number]


def test_the_replay_is_an_exercise_of_part_1_before_the_defence(cells):
    start, end = _part(cells, 1)
    attack, defence = _exercise_cell(cells, "7.A1"), _exercise_cell(cells, "7.1")
    assert start < attack < _check_cell(cells, "7.A1") < defence < end
    assert _check_cell(cells, "7.A1") == attack + 1, "the check cell follows the answer cell"
    assert load_all()["7.A1"].uses == ("replay",)
    assert "def replay(browser, username, password, seen_code):" in cells[attack].source


def test_the_text_above_puts_the_student_in_mallorys_place_with_hints_in_steps(cells):
    attack = _exercise_cell(cells, "7.A1")
    statement = cells[attack - 1]
    assert statement.cell_type == "markdown" and statement.source.startswith("## Exercise 7.A1")
    assert "You are Mallory" in statement.source
    assert "`replay(browser, username, password, seen_code)`" in statement.source
    hints = re.findall(r"<summary>(Hint \d: [^<]+)</summary>", statement.source)
    assert hints == ["Hint 1: a nudge", "Hint 2: where to look"]
    assert "stage 7" in statement.source, "the statement says the same function must fail against stage 7"


def test_no_cell_above_the_check_has_mallory_log_in_with_the_code(cells):
    """The pre-written replay is gone: above 7.A1's check nobody but Alice types the code."""
    above = cells[:_check_cell(cells, "7.A1")]
    code = "\n".join(c.source for c in above if c.cell_type == "code")
    assert "mallory" not in code.lower(), "a cell above the check still plays Mallory's replay"
    assert "Twenty seconds later Mallory" not in "\n".join(c.source for c in above)


def _runs_the_students_replay(source):
    return "replay(mallory," in source and "except NotImplementedError" in source and \
        "finish Exercise 7.A1 first" in source


def test_after_the_check_the_students_replay_runs_in_the_stage_6_scene(cells):
    check_at = _check_cell(cells, "7.A1")
    run = next(c for c in cells[check_at + 1:] if c.cell_type == "code")
    assert _runs_the_students_replay(run.source) and "app6.test_client()" in run.source


def test_the_same_replay_runs_against_stage_7_after_a_prediction_and_after_7_1(cells):
    start, end = _part(cells, 1)
    runs = [i for i in range(start, end) if cells[i].cell_type == "code" and "enrolled_alice(7)" in cells[i].source]
    assert len(runs) == 1, "Part 1 runs the replay against stage 7 once"
    at = runs[0]
    assert at > _check_cell(cells, "7.1")
    assert _runs_the_students_replay(cells[at].source)
    assert re.search(r"\*\*Predict, then run", cells[at - 1].source), "a prediction comes before the stage 7 run"


def test_the_released_notebook_has_the_stub_and_the_check():
    released = nbformat.read(RELEASED, as_version=4).cells
    answer = next(c for c in released if c.cell_type == "code" and c.source.startswith("# Exercise 7.A1"))
    assert "raise NotImplementedError" in answer.source and "submit(" not in answer.source
    assert any(c.source.strip() == 'check("7.A1", replay)' for c in released)


def _run_part_1(cells, answered):
    """Part 1's code cells after the lesson's first code cell, run in one namespace: what they print."""
    start, end = _part(cells, 1)
    setup = next(c for c in cells if c.cell_type == "code")
    namespace, out = {"__name__": "__main__"}, io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell in [setup, *cells[start:end]]:
            if cell.cell_type != "code" or cell.source.startswith("show("):
                continue
            source = cell.source
            if not answered and BEGIN in source:
                source = source.split(BEGIN)[0] + "    raise NotImplementedError('Exercise: not yet')\n"
            exec(compile(source, cell.id, "exec"), namespace)
    return out.getvalue()


def test_part_1_answered_shows_the_replay_in_on_stage_6_and_out_on_stage_7(cells):
    printed = _run_part_1(cells, answered=True)
    assert "✅ Exercise 7.A1" in printed
    lines = [line for line in printed.splitlines() if line.startswith("Mallory's dashboard:")]
    assert len(lines) == 2 and lines[0].startswith("Mallory's dashboard: 200"), printed
    assert lines[1].startswith("Mallory's dashboard: 302"), "stage 7 sends the replaying browser to log in"
    assert "That code was used already" in printed


def test_part_1_unanswered_says_to_finish_the_exercise_first(cells):
    printed = _run_part_1(cells, answered=False)
    assert "⏳ Exercise 7.A1" in printed
    assert printed.count("finish Exercise 7.A1 first") == 2


# ---- the check's scene -----------------------------------------------------------------------------------

def _recorder(seen):
    def replay(browser, username, password, seen_code):
        seen.append((username, password, seen_code))
        from workbook.visitor import submit_form
        submit_form(browser, "/login", username=username, password=password)
        submit_form(browser, "/verify-2fa", otp=seen_code)
    return replay


def test_each_run_draws_another_owner_password_and_code():
    load_all()
    seen = []
    for _ in range(2):
        assert run_check("7.A1", _recorder(seen)).status == PASSED
    (name_6, password_6, code_6), (name_7, password_7, code_7), second_6 = seen[0], seen[1], seen[2]
    assert (name_6, password_6) == (name_7, password_7), "stage 7 gets the same scene as stage 6"
    assert code_6 != code_7, "the same moment on another app: another secret, another code"
    assert second_6 != seen[0], "a second run draws another scene"


def test_the_code_handed_over_is_still_good_when_mallory_acts(tmp_path):
    """The scene's draws: Mallory acts 1 s to the end of the step after Alice's, where stage 6 takes the code."""
    from workbook.checks import lesson_07

    for offset, wait in ((0, 1), (29, 1), (0, 59), (29, 30)):
        typed_at = lesson_07.SCENE_START + 60 + 30 * 1000 - lesson_07.SCENE_START % 30 + offset
        scene = lesson_07.OwnerTypedACode(str(tmp_path / f"{offset}-{wait}"), 6, "carol42", "pass word 42",
                                          typed_at, typed_at + wait)
        run = scene.mallory(_recorder([]), lesson_07.REPLAY_REQUESTS)
        assert run["dashboard"] == "carol42", (offset, wait, run)


def test_a_replay_that_gets_in_on_stage_6_but_does_not_stop_is_refused_without_running_for_ever():
    load_all()

    def stubborn(browser, username, password, seen_code):
        from workbook.visitor import submit_form
        while True:
            try:
                submit_form(browser, "/login", username=username, password=password)
                submit_form(browser, "/verify-2fa", otp=seen_code)
            except Exception:  # noqa: BLE001, S112 - what a student who "keeps trying" writes
                continue
            if browser.get("/dashboard").status_code == 200:
                return

    result = run_check("7.A1", stubborn)
    assert result.status == FAILED and "one try is the replay" in result.message
