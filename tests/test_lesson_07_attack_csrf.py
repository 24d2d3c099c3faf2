"""Attack 7.A2, a form from another site: the student writes Mallory's page before stage 7's CSRF token is shown.

The lesson's promises (solutions/07_hardening.ipynb): the exercise comes in the CSRF section, in Mallory's
shoes, before the defence; no cell above its check shows the forged form; its check cell follows; then,
after a prediction, a demo runs the student's own page against stage 7, guarded for the unfinished stub; then
the text explains the token and says why SameSite=Lax did not stop a page on another port. And the browser the
check plays (workbook/cross_site.py) reads pages as a browser does.
"""
import re

import nbformat
import pytest

from workbook import ROOT, cross_site
from workbook.authoring.release import EXERCISE_LINE
from workbook.checks import EXERCISES, NOT_DONE, PASSED, load_all, run_check

LESSON = ROOT / "solutions" / "07_hardening.ipynb"
PAGE_URL, APP_URL = "http://127.0.0.1:8123/prize.html", "http://127.0.0.1:5555"

load_all()


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(LESSON, as_version=4).cells


def _index(cells, predicate):
    found = [i for i, c in enumerate(cells) if predicate(c)]
    assert len(found) == 1, found
    return found[0]


def test_the_attack_is_an_exercise_in_the_csrf_section_before_the_defence(cells):
    answer = _index(cells, lambda c: c.cell_type == "code" and (m := EXERCISE_LINE.search(c.source))
                    and m.group(2) == "7.A2")
    assert "### BEGIN SOLUTION" in cells[answer].source and "def mallorys_page(app_url):" in cells[answer].source
    section = _index(cells, lambda c: c.source.startswith("## CSRF: forms sent from another site"))
    part = _index(cells, lambda c: c.source.startswith("# Part 5 · Forged forms"))
    assert part < section < answer
    prose = cells[answer - 1].source
    assert "## Exercise 7.A2" in prose and "You are Mallory" in prose
    assert "<details><summary>Hint 1: a nudge</summary>" in prose and "Hint 2: where to look" in prose
    assert "A form Alice would have to press does not count" in prose and "fetch()" in prose
    assert cells[answer + 1].source.strip() == 'check("7.A2", mallorys_page)'
    token = _index(cells, lambda c: c.cell_type == "markdown" and "What turned the page away is the **CSRF token**" in c.source)
    listing = _index(cells, lambda c: c.cell_type == "code" and 'show(7, "app.py", "csrf_setup")' in c.source)
    assert answer + 1 < token < listing, "the token and stage 7's CSRF set-up come after the attack's check"


def test_no_cell_above_the_check_shows_the_forged_form(cells):
    check = _index(cells, lambda c: c.cell_type == "code" and 'check("7.A2"' in c.source)
    above = "\n".join(c.source for c in cells[:check] if "# Exercise 7.A2" not in c.source)
    assert not re.search(r"<form[^>]*/logout", above), "a cell above the check shows the forged form"
    assert not re.search(r"forms\[0\]\.submit\(\)|getElementById\([^)]*\)\.submit\(\)", above)


def test_after_the_check_a_prediction_then_the_students_page_against_stage_7(cells):
    check = _index(cells, lambda c: c.cell_type == "code" and 'check("7.A2"' in c.source)
    predict, demo = cells[check + 1], cells[check + 2]
    assert "**Predict, then run:**" in predict.source and "SameSite=Lax" in predict.source
    assert demo.cell_type == "code" and "mallorys_page(app_url)" in demo.source and "enrolled_alice(7)" in demo.source
    assert "except NotImplementedError:" in demo.source and "finish Exercise 7.A2 first" in demo.source
    explained = cells[check + 3].source
    assert "same site" in explained and "another port" in explained, "SameSite is about sites: say why it let the page by"


def test_the_lesson_no_longer_says_samesite_stops_every_other_page(cells):
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "A per-session token in a hidden field, plus `SameSite=Lax`, stops it." not in text
    assert "(the CSRF section's second layer)" not in text


def test_the_demo_runs_with_the_stub_and_with_the_answer(cells, capsys):
    """The demo after the check says to finish the exercise while the stub is there, and shows stage 7's 400 after."""
    setup = next(c.source for c in cells if c.cell_type == "code")
    check = _index(cells, lambda c: c.cell_type == "code" and 'check("7.A2"' in c.source)
    answer = cells[check - 1].source.replace("### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION", "")
    for definition, said in (("def mallorys_page(app_url):\n    raise NotImplementedError()\n", "finish Exercise 7.A2"),
                             (answer, "stage 7 answers: 400")):
        namespace = {"__name__": "__main__"}
        exec(setup, namespace)
        exec(definition, namespace)
        exec(cells[check + 2].source, namespace)
        out = capsys.readouterr().out
        assert said in out, out
        if "400" in said:
            assert "Alice's cookie went along: True" in out and "Alice's dashboard: 200" in out


def test_a_stub_is_not_done_and_the_answer_passes():
    def stub(app_url):
        raise NotImplementedError("Exercise 7.A2: A form from another site")

    assert run_check("7.A2", stub).status == NOT_DONE
    assert EXERCISES["7.A2"].uses == ("mallorys_page",)


@pytest.mark.parametrize("html, how, method, url", [
    ('<form id="f" action="{app}/logout" method="post"></form><script>document.getElementById("f").submit()</script>',
     cross_site.SUBMITTED_FORM, "POST", "{app}/logout"),
    ('<form action="/logout" method="post"></form><script>document.forms[0].submit()</script>',
     cross_site.SUBMITTED_FORM, "POST", "http://127.0.0.1:8123/logout"),
    ('<form action="logout" method="post"></form><script>document.forms[0].submit()</script>',
     cross_site.SUBMITTED_FORM, "POST", "http://127.0.0.1:8123/logout"),
    ('<base href="{app}/"><form action="logout" method="post"></form><script>document.forms[0].submit()</script>',
     cross_site.SUBMITTED_FORM, "POST", "{app}/logout"),
    ('<form id="a" action="{app}/a"></form><form name="b" action="{app}/b" method="post"></form>'
     '<script>document.forms["b"].submit()</script>', cross_site.SUBMITTED_FORM, "POST", "{app}/b"),
    ('<form action="{app}/search"><input name="q" value="x"></form><script>document.forms[0].submit()</script>',
     cross_site.SUBMITTED_FORM, "GET", "{app}/search?q=x"),
    ('<form action="{app}/logout" method="post"><button onclick="this.form.submit()">Win</button></form>',
     cross_site.FORM_TO_PRESS, "POST", "{app}/logout"),
    ('<form action="{app}/logout" method="post"></form>'
     '<script>document.body.addEventListener("click", () => document.forms[0].submit())</script>',
     cross_site.FORM_TO_PRESS, "POST", "{app}/logout"),
    ('<img src="{app}/logout">', cross_site.LOADED, "GET", "{app}/logout"),
    ('<meta http-equiv="refresh" content="0; url={app}/logout">', cross_site.LOADED, "GET", "{app}/logout"),
    ('<a href="{app}/logout">win</a>', cross_site.LINK, "GET", "{app}/logout"),
    ('<script>fetch("{app}/logout", {method: "POST"})</script>', cross_site.SCRIPT_REQUEST, None, None),
    ("<p>nothing here</p>", cross_site.NOTHING, None, None),
])
def test_the_browser_the_check_plays_reads_a_page_as_a_browser_does(html, how, method, url):
    request = cross_site.what_the_page_sends(html.replace("{app}", APP_URL), PAGE_URL, APP_URL)
    assert request.how == how
    if method:
        assert (request.method, request.url) == (method, url.replace("{app}", APP_URL))


def test_an_origin_is_scheme_host_and_port():
    assert cross_site.path_in_app("http://127.0.0.1:5555/logout?x=1", APP_URL) == "/logout?x=1"
    for elsewhere in ("https://127.0.0.1:5555/logout", "http://localhost:5555/logout", "http://127.0.0.1:5556/logout"):
        assert cross_site.path_in_app(elsewhere, APP_URL) is None, elsewhere
    assert cross_site.origin("http://example.com/") == ("http", "example.com", 80)


def test_the_solution_logs_alice_out_of_stage_6_and_not_of_stage_7(cells):
    answer = next(c.source for c in cells if c.cell_type == "code" and c.source.startswith("# Exercise 7.A2:"))
    namespace = {}
    exec(answer, namespace)
    assert run_check("7.A2", namespace["mallorys_page"]).status == PASSED


def test_the_build_step_after_the_attack_asks_for_the_page_a_forged_form_gets_without_showing_it(cells):
    """Part 5's Build (step 6): the student writes csrf_error's body from a description; the lesson's listing of
    stage 7's CSRF set-up stops at CSRFProtect(app), above the handler."""
    from workbook.listings import listing

    build = next(c.source for c in cells if c.id == "07-build-csrf")
    assert build.startswith("## Build") and "\n6. **The page a forged form gets.**" in build
    assert "csrf_error" in build and "400" in build and "nothing was changed" in build and "reload" in build
    shown = listing(7, "app.py", "csrf_setup")
    assert "CSRFProtect(app)" in shown and "csrf_error" not in shown and "render_template" not in shown
    assert "render_template(\"error.html\"" not in build, "the step describes the body, it does not give it"


@pytest.mark.parametrize("html, how", [
    ('<script>document.forms[0].submit()</script><form action="{app}/logout" method="post"></form>', cross_site.TOO_EARLY),
    ('<head><script>document.getElementById("f").submit()</script></head><form id="f" action="{app}/x"></form>',
     cross_site.TOO_EARLY),
    ('<script>window.onload = () => document.forms[0].submit()</script><form action="{app}/logout" method="post"></form>',
     cross_site.SUBMITTED_FORM),
    ('<script>document.addEventListener("DOMContentLoaded", () => document.forms[0].submit())</script>'
     '<form action="{app}/logout" method="post"></form>', cross_site.SUBMITTED_FORM),
])
def test_a_script_runs_where_the_browser_meets_it(html, how):
    """A <script> that acts at once finds only the forms above it; one that waits for the page finds them all."""
    assert cross_site.what_the_page_sends(html.replace("{app}", APP_URL), PAGE_URL, APP_URL).how == how


FORM = '<form id="f" action="{app}/logout" method="post">{controls}</form>'


@pytest.mark.parametrize("html, how", [
    (FORM + '<script>function go() { document.forms[0].submit() }</script>', cross_site.FORM_TO_PRESS),
    (FORM + '<script>function go() { document.forms[0].submit() }\ngo()</script>', cross_site.SUBMITTED_FORM),
    (FORM + '<script>function go() { document.forms[0].submit() }\nsetTimeout(go, 10)</script>',
     cross_site.SUBMITTED_FORM),
    (FORM + '<script>(function go() { document.forms[0].submit() })()</script>', cross_site.SUBMITTED_FORM),
    (FORM + '<script>window.onload = function go() { document.forms[0].submit() }</script>',
     cross_site.SUBMITTED_FORM),
    (FORM + '<script>var n = 1;\nfunction go() { document.forms[0].submit() }</script>', cross_site.FORM_TO_PRESS),
    (FORM + '<script>// document.forms[0].submit()\n</script>', cross_site.FORM_TO_PRESS),
    (FORM + '<script>/* document.forms[0].submit() */</script>', cross_site.FORM_TO_PRESS),
    (FORM + '<script>var u = "http://x//"; document.forms[0].submit()</script>', cross_site.SUBMITTED_FORM),
    (FORM + '<script type="text/plain">document.forms[0].submit()</script>', cross_site.FORM_TO_PRESS),
    (FORM + '<script type="text/javascript">document.forms[0].submit()</script>', cross_site.SUBMITTED_FORM),
    (FORM + '<script type="module">document.forms[0].submit()</script>', cross_site.SUBMITTED_FORM),
    (FORM + '<script>document.getElementById("g").submit()</script>', cross_site.FORM_TO_PRESS),
    (FORM + '<script>document.forms[1].submit()</script>', cross_site.FORM_TO_PRESS),
    (FORM + '<script>document.querySelector("form.x").submit()</script>', cross_site.SUBMITTED_FORM),
    (FORM.replace("{controls}", '<button name="submit">go</button>') + '<script>document.forms[0].submit()</script>',
     cross_site.FORM_TO_PRESS),
    (FORM.replace("{controls}", '<input id="submit" type="submit">') + '<script>document.forms[0].submit()</script>',
     cross_site.FORM_TO_PRESS),
    (FORM.replace("{controls}", '<button name="submit">go</button>')
     + '<script>document.forms[0].requestSubmit()</script>', cross_site.SUBMITTED_FORM),
    ('<template>' + FORM + '</template><script>document.forms[0].submit()</script>', cross_site.NOTHING),
    ('<noscript>' + FORM + '</noscript><script>document.forms[0].submit()</script>', cross_site.NOTHING),
])
def test_a_script_counts_only_where_a_browser_runs_it(html, how):
    """Comments, other script types, functions nothing calls, <template> and <noscript> run nothing; a call that
    finds no form, or a form.submit hidden by a control named submit, sends nothing either."""
    page = html.replace("{controls}", "").replace("{app}", APP_URL)
    assert cross_site.what_the_page_sends(page, PAGE_URL, APP_URL).how == how
