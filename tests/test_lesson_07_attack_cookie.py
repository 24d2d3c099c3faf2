"""Exercise 7.A3: the student, as the thief, reuses a session cookie copied from a proxy's log, before the defence.

Lesson 07's "Sessions that end on the server": the log line (the raw Set-Cookie header) is shown on stage 6, the
student writes ``reuse_cookie(browser, set_cookie_header)``, the check confirms the copy opens the owner's dashboard
on stage 6 after her logout and on stage 7 only until it, and then the lesson runs the student's function against
stage 7 (predict, then run) before Exercise 7.6 ends sessions on the server. The check's wrong answers are in
tests/mutants/lesson_07_attack_cookie.py (tests/test_check_mutants.py -k 7.A3).
"""
import contextlib
import io
import re

import nbformat
import pytest

from workbook import ROOT
from workbook.authoring import release
from workbook.checks import PASSED, run_check
from workbook.checks import lesson_07 as checks

SOLUTION = ROOT / "solutions" / "07_hardening.ipynb"
HEADING = "## Sessions that end on the server"
DEFENCE = "## Exercise 7.6"
RIGHT = '''
def reuse_cookie(browser, set_cookie_header):
    name, value = set_cookie_header.split(";", 1)[0].split("=", 1)
    browser.set_cookie(name, value)
'''


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(SOLUTION, as_version=4).cells


def _at(cells, predicate, what):
    found = [i for i, cell in enumerate(cells) if predicate(cell)]
    assert len(found) == 1, f"lesson 07 should have one {what}, has {len(found)}"
    return found[0]


def _section(cells):
    """(index of the section's heading, of the answer cell, of its check cell, of Exercise 7.6's heading)."""
    heading = _at(cells, lambda c: c.cell_type == "markdown" and c.source.startswith(HEADING), "session section")
    answer = _at(cells, lambda c: c.cell_type == "code" and c.source.startswith("# Exercise 7.A3:"), "7.A3 answer")
    check = _at(cells, lambda c: c.cell_type == "code" and re.search(r"check\(\s*['\"]7\.A3['\"]", c.source),
                "7.A3 check cell")
    defence = _at(cells, lambda c: c.cell_type == "markdown" and c.source.startswith(DEFENCE), "Exercise 7.6")
    return heading, answer, check, defence


def test_the_attack_is_an_exercise_before_the_defence(cells):
    heading, answer, check, defence = _section(cells)
    assert heading < answer < check < defence
    assert "### BEGIN SOLUTION" in cells[answer].source and "def reuse_cookie(browser, set_cookie_header):" in \
        cells[answer].source
    builds = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Build")]
    assert any(check < build for build in builds), "the attack comes after the Build that puts in the defence"
    assert "7.A3" in release.exercise_ids(nbformat.read(SOLUTION, as_version=4))


def test_the_text_puts_the_student_in_the_thiefs_place_and_hints_in_steps(cells):
    heading, answer, _, _ = _section(cells)
    statement = cells[answer - 1].source
    assert statement.startswith("## Exercise 7.A3:")
    assert re.search(r"\bthief\b", statement) and "You play the thief" in statement
    assert "reuse_cookie(browser, set_cookie_header)" in statement
    nudge, where = statement.index("Hint 1: a nudge"), statement.index("Hint 2: where to look")
    assert nudge < where and statement.count("<details>") == 2
    setup = "\n".join(c.source for c in cells[heading:answer] if c.cell_type == "markdown")
    assert "proxy" in setup and "`Set-Cookie`" in setup, "the setup says what the thief has: a proxy's log line"


def test_no_prewritten_copy_of_the_cookie_is_left_above_the_check(cells):
    """The old demo put the copied cookie into a browser itself (with_cookie): the student does that now."""
    heading, _, check, _ = _section(cells)
    above = "\n".join(c.source for c in cells[heading:check] if c.cell_type == "code" and "BEGIN SOLUTION" not in
                      c.source)
    assert "with_cookie(" not in above and "set_cookie(" not in above and "session_transaction" not in above


def test_after_the_check_a_prediction_then_the_students_function_against_stage_7(cells):
    _, _, check, defence = _section(cells)
    after = cells[check + 1:defence]
    predict = next(i for i, c in enumerate(after) if c.cell_type == "markdown" and "**Predict, then run:**" in c.source)
    demo = next(i for i, c in enumerate(after) if c.cell_type == "code" and "reuse_cookie(" in c.source)
    assert predict < demo
    source = after[demo].source
    # Against the part's own stage 7 (its opening cell's app7s: Alice logs in there, the proxy logs her header).
    assert "thief_with(app7s" in source and "log_in(alice7s)" in source and "enrolled_alice(" not in source
    assert "except NotImplementedError" in source and "7.A3 first" in source
    explained = next(i for i, c in enumerate(after) if "Stage 7 keeps a row per session" in c.source)
    assert explained > demo, "the text that answers the prediction comes after the run"


def _run_section(cells, answer_source=None):
    """The lesson's first code cell, then every code cell of the part from its opening cell (which makes the apps)
    to the end of the section (the answer cell replaced by ``answer_source`` when given), run in one namespace:
    what they print."""
    heading, answer, _, defence = _section(cells)
    part = max(i for i in range(heading) if cells[i].cell_type == "markdown" and cells[i].source.startswith("# Part "))
    setup = next(c.source for c in cells if c.cell_type == "code")
    namespace, printed = {"__name__": "__main__"}, io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(setup, "<lesson 07 setup>", "exec"), namespace)
        for i in range(part, defence):
            if cells[i].cell_type == "code":
                source = answer_source if i == answer and answer_source is not None else cells[i].source
                exec(compile(source, f"<lesson 07 cell {cells[i].id}>", "exec"), namespace)
    return printed.getvalue()


def test_the_section_runs_answered_and_shows_the_copy_refused_only_by_stage_7(cells):
    printed = _run_section(cells)
    assert "✅ Exercise 7.A3" in printed
    lines = dict(line.split(":", 1) for line in printed.splitlines() if line.startswith("stage ") and ":" in line)
    assert lines["stage 6, after her logout"].strip() == "200 Welcome, alice"
    assert lines["stage 7, while she is logged in"].strip() == "200 Welcome, alice"
    assert lines["stage 7, after her logout"].strip() == "302 -> login"
    assert "the proxy's log:     Set-Cookie: stage6_session=" in printed
    assert re.search(r"after 31 more: +302 -> login", printed)


def test_the_section_runs_with_the_stub_and_says_to_finish_the_exercise(cells):
    stub = release.stub_source(next(c.source for c in cells if c.source.startswith("# Exercise 7.A3:")), "07")
    printed = _run_section(cells, stub)
    assert "⏳ Exercise 7.A3" in printed
    assert printed.count("finish Exercise 7.A3 first") == 3
    assert re.search(r"after 31 more: +302 -> login", printed), "the timeout demo runs without the answer too"


# --- the check ----------------------------------------------------------------------------------

def _right_answer():
    namespace = {}
    exec(RIGHT, namespace)
    return namespace["reuse_cookie"]


def test_the_checks_apps_never_use_a_name_a_student_could_hard_code():
    names = {checks._drawn_cookie_name(number) for number in (6, 7) for _ in range(300)}
    assert not names & {"session", "stage6_session", "stage7_session"}
    assert len(names) > 20, "the cookie's name is drawn, not fixed"


@pytest.mark.parametrize("secure", [False, True], ids=["plain", "Secure, __Host-"])
def test_a_copy_opens_stage_7_until_the_logout_only(tmp_path, secure):
    world = checks.StageWhereAliceLogsIn(7, str(tmp_path), "judy42", "portal7_sid", secure, "Lax")
    header = world.log_in()
    assert header.startswith("__Host-portal7_sid=" if secure else "portal7_sid=") and "SameSite=Lax" in header
    before = world.thief(_right_answer(), header)
    assert before["status"] == 200 and before["heading"] == "Welcome, judy42"
    assert world.log_out() == "login"
    after = world.thief(_right_answer(), header)
    assert after["status"] == 302 and after["location"] == "login"


def test_the_check_refuses_a_stage_7_whose_logout_leaves_the_copy_valid(monkeypatch):
    """What the check's last step is for: were stage 7's logout only to forget the cookie in Alice's browser (stage
    6's way), the right attack would still get in, and the check says so instead of passing."""
    def forget_only(world):
        world.alice.delete_cookie(world.cookie_name)
        return "login"

    monkeypatch.setattr(checks.StageWhereAliceLogsIn, "log_out", forget_only)
    result = run_check("7.A3", _right_answer())
    assert result.status != PASSED and "still got into her account" in result.message


def test_the_right_answer_passes_on_every_draw():
    for _ in range(5):
        assert run_check("7.A3", _right_answer()).status == PASSED
