"""The lessons teach what is true, and make the student think before they see an answer.

Read from solutions/ (the source of notebooks/), lesson by lesson:

* facts the lessons state, held against the thing itself (the Key Uri Format, pyotp, base32,
  the stage apps' own settings);
* no exercise's answer shown above its check cell, in a cell or a listing of a stage file;
* no check message that hands out the answer's own call;
* a question with diagnostic wrong answers in every lesson;
* the newcomer's path through 00-08 (issue 22's "Done when"): a Build section of numbered steps
  ending in ``check_my_app(n)`` in every lesson from 02, where ``my_app/`` first appears, and an
  attack the student writes in every security lesson (``SECURITY_LESSONS``, each with its reason).

``DESIGNED_LESSONS`` is every lesson: all of them are held to the design rules. A piece a lesson
does not have yet is listed in ``KNOWN_GAPS`` and its test is an xfail(strict=True) naming it, so
the gap shows in every run and the test turns red the day the piece lands until the entry goes.
"""
import ast
import base64
import re
import string

import nbformat
import pyotp
import pytest

from workbook import ROOT
from workbook.app_loader import make_stage_app

DESIGNED_LESSONS = [0, 1, 2, 3, 4, 5, 6, 7, 8]

# The lesson where my_app/ first appears (start_from(1), then the Build steps to stage 2).
FIRST_APP_LESSON = 2

# Every lesson that defends against an attack, with the exercise where the student writes that
# attack against the weak version first, and why the lesson is a security lesson.
SECURITY_LESSONS = {
    2: ("2.1", "the signed session cookie: forge one with a known key before keeping the key secret"),
    5: ("5.5", "guessing codes: brute-force stage 5's verify route (odds in 5.4), which nothing throttles yet"),
    6: ("6.1", "the 2FA page: pass it with the password alone before stage 6 turns that away"),
    7: ("7.3", "the throttle's price: lock the owner out as a stranger who knows only her username"),
    8: ("8.1", "phishing: take over the session a live relay kept, which TOTP cannot stop"),
}
# Not security lessons, with why: 00 finds its way around; 01 installs libraries; 03 encodes
# the secret into a QR code (its risk, a secret on screen, is lesson 02's); 04 moves the page
# into a template (the escaping it relies on is Jinja's default, shown, not attacked).

# Pieces a lesson does not have yet: (what, lesson) -> why. Each is an xfail(strict=True).
KNOWN_GAPS = {}


def _known_gap(what, lesson):
    reason = KNOWN_GAPS.get((what, lesson))
    return pytest.param(lesson, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else lesson


def solution_path(lesson):
    return next((ROOT / "solutions").glob(f"{lesson:02d}_*.ipynb"))


def cells(lesson):
    return nbformat.read(solution_path(lesson), as_version=4).cells


def markdown(lesson):
    return "\n\n".join(cell.source for cell in cells(lesson) if cell.cell_type == "markdown")


# --- facts the lessons state ----------------------------------------------------------------

def test_lesson_00_says_totp_does_not_stop_a_live_relay():
    text = markdown(0)
    assert "a thief with only your password is stuck." not in text
    assert "relay" in text and "Lesson 08" in text, "lesson 00 must say TOTP does not stop a live phishing relay"


def test_base32_leaves_out_the_digits_0_1_8_and_9():
    alphabet = set(base64.b32encode(bytes(range(256))).decode().rstrip("="))
    left_out = sorted(set(string.digits) - alphabet)
    assert left_out == ["0", "1", "8", "9"]
    text = markdown(2)
    assert "0, 1, 8 and 9" in text and "no 0/O or 1/I" not in text


def test_a_code_is_accepted_for_90_seconds_60_of_them_after_it_shows():
    """valid_window=1, counted in the server's seconds: the lesson's two numbers are pyotp's."""
    totp = pyotp.TOTP("HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ")
    shown_from = 1_700_000_010                      # a step starts here: the phone shows this code for 30 s
    code = totp.at(shown_from)
    accepted = [t for t in range(shown_from - 120, shown_from + 120)
                if totp.verify(code, for_time=t, valid_window=1)]
    assert len(accepted) == 90 and accepted[0] == shown_from - 30
    assert accepted[-1] + 1 - shown_from == 60
    text = markdown(5)
    assert "accepted for 90 seconds of the server's time" in text and "up to 60 seconds" in text
    assert "usable for up to 90 seconds" not in text
    later = markdown(7)                             # lesson 07 counts the same way
    assert "accepts a code for 90 seconds of its own time" in later and "up to 60 seconds" in later
    assert "60 to 90 seconds" not in later


@pytest.mark.parametrize("lesson", [2, 3, 4, 5, 6])
def test_the_session_cookie_a_lesson_names_is_its_stage_apps(lesson):
    config = {"SECRET_KEY": "x" * 32, "TESTING": True}
    if lesson == 6:
        config["DATABASE"] = ":memory:"
    expected = make_stage_app(lesson, config).config["SESSION_COOKIE_NAME"]
    named = re.findall(r"cookie named `(\w+)`|`(\w+)` cookie", markdown(lesson))
    for name in [a or b for a, b in named]:
        assert name == expected, f"lesson {lesson:02d} names the cookie `{name}`; stage {lesson} calls it {expected}"


def test_exercise_3_3_follows_the_key_uri_format():
    """The separator may be %3A, spaces may precede the account, neither name may hold a ':'."""
    from workbook.checks.lesson_03 import READ_LABEL_CASES
    labels = [uri.split("/", 3)[3].split("?")[0] for uri, _ in READ_LABEL_CASES]
    assert any("%3a" in label.lower() and ":" not in label for label in labels), "no case with an encoded separator"
    assert any(re.search(r"(:|%3A)(%20| )", label, re.I) for label in labels), "no case with spaces before the account"
    for _, (issuer, account) in READ_LABEL_CASES:
        assert ":" not in (issuer or "") + account, "the Key Uri Format allows no ':' inside a name"
    text = markdown(3)
    assert "a `:` inside a name becomes `%3A`" not in text and "may itself arrive encoded" in text


def test_lesson_06_says_a_post_alone_does_not_stop_a_cross_site_logout():
    text = markdown(6)
    assert "so that a link or an image on another site cannot log you out" not in text
    cell = next(c.source for c in cells(6) if c.cell_type == "markdown" and "Logging out is a POST" in c.source)
    assert "SameSite=Lax" in cell and "token" in cell and "lesson 07" in cell
    # Sites and origins: said after question 6.Q1 (which asks it), not above it.
    order = [c.id for c in cells(6)]
    sites = next(c for c in cells(6) if c.cell_type == "markdown" and "`SameSite` is about *sites*" in c.source)
    assert "origin" in sites.source and "same site" in sites.source.lower(), "SameSite is about sites, not origins"
    assert order.index(sites.id) > order.index("06-q1-check")


def test_lesson_04_does_not_present_httponly_as_an_xss_defence():
    text = markdown(4)
    assert "HttpOnly" in text and "only hides the cookie itself from scripts" in text


# --- facts the lessons state, read again by a security educator (issue 22, item 6) ------------

def _stage_module(number):
    from workbook.app_loader import load_module
    from workbook.stages import stage
    return load_module(stage(number).folder)


def test_lesson_00_says_clocks_a_second_apart_can_give_different_codes():
    totp = pyotp.TOTP("HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ")
    boundary = 1_700_000_010                        # a multiple of 30: a new step starts here
    assert totp.at(boundary - 1) != totp.at(boundary), "one second apart, across a boundary: two codes"
    text = markdown(0)
    assert "disagreed by a 30-second step or more" not in text
    assert "clocks a second apart are enough" in text


def test_lesson_00_calls_a_passkey_both_factors_only_because_stage_8_requires_user_verification():
    from workbook.stages import stage
    source = (stage(8).folder / "passkeys.py").read_text(encoding="utf-8")
    assert source.count("require_user_verification=True") == 2, "registration and login both require it"
    text = markdown(0)
    assert "adds the second factor that stops it" not in text
    assert "with a PIN or fingerprint checked on the device, are both factors in one" in text


def test_lesson_02_counts_three_right_codes_once_a_step_either_side_is_accepted():
    totp = pyotp.TOTP("HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ")
    now = 1_700_000_011
    right = {totp.at(now + 30 * step) for step in range(-2, 3) if totp.verify(totp.at(now + 30 * step),
                                                                              for_time=now, valid_window=1)}
    assert len(right) == 3
    assert "(three, once lesson 05 accepts a step either side)" in markdown(2)


def test_lesson_03_claims_no_cached_copy_only_because_the_page_is_no_store():
    app = make_stage_app(3, {"SECRET_KEY": "x" * 32, "TESTING": True})
    assert app.test_client().get("/").headers["Cache-Control"] == "no-store"
    text = markdown(3)
    assert "no copy of a secret-bearing picture left anywhere" not in text
    assert "`Cache-Control: no-store`, so no cache keeps a copy" in text


def test_the_bare_wrong_code_reply_has_the_words_lessons_04_and_05_say():
    demo = next(c.source for c in cells(4) if c.get("id") == "04-30")
    reply = re.search(r'return "([^"]+)", 401', demo)[1]
    assert len(reply.split()) == 2
    assert "A blank page with two words" in markdown(4)
    assert "three words" not in markdown(4) + markdown(5)


def test_lesson_05_gives_stage_7s_ceiling_as_the_guessers_limit():
    throttle = _stage_module(7).throttle
    assert throttle.FREE_ATTEMPTS == 5
    assert throttle.CEILINGS[0] == (30 * 24 * 3600, 30)
    text = markdown(5)
    assert "a few hundred guesses" not in text
    assert "stops it at 30 wrong codes in 30 days, so that a month holds 30 guesses" in text
    assert "turned away with 429s after five wrong codes" in text


def test_lesson_07_says_stage_6s_cookie_leaves_samesite_to_the_browser():
    app = make_stage_app(6, {"SECRET_KEY": "x" * 32, "TESTING": True, "DATABASE": ":memory:"})
    assert app.config["SESSION_COOKIE_SAMESITE"] is None
    cell = next(c.source for c in cells(7) if c.get("id") == "07-35")
    assert "stage 6's cookie has no such attribute, so the browser's default decides" in cell


def test_lesson_07_does_not_present_httponly_as_stopping_an_injected_script():
    text = markdown(7)
    assert "an injected script cannot steal the session" not in text
    flag = next(line for line in text.splitlines() if line.startswith("- `HttpOnly`:"))
    assert "Question 4.Q1" in flag and "escaping, not this flag, is the defence against XSS" in flag


def test_lesson_07_quotes_stage_7s_429_advice_as_the_app_words_it():
    from workbook.stages import stage
    advice = "A browser you signed in with before counts its own tries, so it may still let you in."
    assert advice in (stage(7).folder / "auth.py").read_text(encoding="utf-8")
    cell = next(c.source for c in cells(7) if c.get("id") == "07-k06")
    assert f"stage 7's advice in its 429, \"{advice}\"" in cell


def test_lesson_07_describes_the_content_security_policy_stage_7_sends():
    policy = dict(directive.strip().split(" ", 1) for directive in _stage_module(7).CONTENT_SECURITY_POLICY.split(";"))
    text = markdown(7)
    # The directives that default-src does not stand in for, or that it only loosens to 'self':
    for name in ("form-action", "frame-ancestors", "base-uri", "object-src"):
        assert f"`{name} {policy[name]}`" in text, f"lesson 07 does not say what `{name} {policy[name]}` does"
    assert policy["frame-ancestors"] == "'none'" and "no page at all, not even one of this site's own" in text
    assert "no other site may show these pages in a frame" not in text
    assert "`default-src` does not cover them" not in text, "object-src falls back to default-src (CSP Level 3)"


def test_lesson_07_says_every_stage_trusts_x_forwarded_prefix_only_behind_a_proxy():
    from workbook.stages import STAGES
    for each in STAGES:
        source = (each.folder / "app.py").read_text(encoding="utf-8")
        assert 'if app.config.get("BEHIND_PROXY")' in source, f"stage {each.number} puts ProxyFix in front otherwise"
    assert "Every stage app trusts it only when told it runs behind a proxy" in markdown(7)


def test_the_debug_mode_warnings_say_the_debugger_asks_for_a_pin_that_can_be_computed():
    import inspect

    from werkzeug.debug import DebuggedApplication, get_pin_and_cookie_name
    assert inspect.signature(DebuggedApplication).parameters["pin_security"].default is True
    assert "get_machine_id" in inspect.getsource(get_pin_and_cookie_name)   # facts about the machine
    warning = next(c.source for c in cells(7) if c.get("id") == "07-68")
    assert "PIN printed in the terminal" in warning and "no password" in warning
    for path in ("README.md", "app_steps/step_07_hardening/README.md"):
        text = " ".join((ROOT / path).read_text(encoding="utf-8").split())
        assert "debugger runs any code typed into it, behind a PIN" in text, path


# SP 800-63B-4 (final, 2025): the sections the workbook cites, by their number there. Revision 3
# numbered them otherwise (throttling 5.2.2, look-up secrets 5.1.2, OTP verifiers 5.1.4.2,
# binding 6.1.2.1, sessions 7.1-7.2, cookies 7.1.1, password verifiers 5.1.1.2).
SP_800_63B_4 = {
    "3.1.1.2": "Password Verifiers",
    "3.1.2": "Look-Up Secrets",
    "3.1.4.2": "Single-Factor OTP Verifiers (an OTP accepted only once)",
    "3.2.2": "Rate Limiting (Throttling): at most 100 consecutive failures",
    "4.1.2.1": "Binding an Additional Authenticator",
    "4.6": "notifications to the subscriber",
    "5.1-5.2": "Session Bindings, Reauthentication",
    "5.1.1": "Browser Cookies (__Host-, SameSite, HttpOnly)",
}


def test_the_nist_sections_cited_are_those_of_sp_800_63b_4():
    readme = (ROOT / "app_steps" / "step_07_hardening" / "README.md").read_text(encoding="utf-8")
    cited = re.findall(r"NIST SP 800-63B §([\d.-]+)", readme)
    assert cited, "the stage 7 README names who asks for each protection"
    for section in cited:
        assert section in SP_800_63B_4, f"§{section} is not a section of SP 800-63B-4 the workbook cites"
    assert "revision 3." not in readme and "SP 800-63B-4, the final revision of 2025" in readme


def test_the_app_contract_starts_the_apps_with_the_workbooks_python():
    """A fresh terminal has activated nothing: a bare `python` or `flask` there is another Python, or none."""
    text = (ROOT / "docs" / "app_contract.md").read_text(encoding="utf-8")
    commands = re.findall(r"`([^`]*app_steps/[^`]*/app\.py[^`]*)`", text)
    assert commands
    for command in commands:
        assert command.startswith(".venv/bin/python "), f"the contract shows `{command}`"
    assert "prints them for PowerShell, with the workbook's `.venv\\Scripts\\python.exe`" in markdown(0), (
        "lesson 00 says what to do on Windows")


# --- questions with diagnostic wrong answers --------------------------------------------------

@pytest.mark.parametrize("lesson", DESIGNED_LESSONS)
def test_every_lesson_asks_a_question_and_shows_its_options(lesson):
    from workbook.authoring.release import question_ids
    from workbook.checks import QUESTIONS, load_all
    load_all()
    notebook = nbformat.read(solution_path(lesson), as_version=4)
    asked = question_ids(notebook)
    assert asked, f"lesson {lesson:02d} has no question (a '# Question {lesson}.Q1: ...' cell)"
    text = markdown(lesson)
    for question_id in asked:
        question = QUESTIONS[question_id]
        assert question.prompt in text, f"{question_id}: the lesson must show the registered prompt"
        for letter, option in question.options.items():
            assert f"**({letter})** {option}" in text, f"{question_id}: option ({letter}) is not shown as registered"
        assert len(question.why_not) >= 2, f"{question_id}: at least two wrong options, each with its hint"


# --- think before you see -------------------------------------------------------------------

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MIN_CALL = 18          # characters: shorter calls (int(x), Phone()) are vocabulary, not an answer
# Calls an exercise's own text names on purpose: the rule it states, or the earlier answers it composes.
GIVEN = {
    "2.1": {"SecureCookieSessionInterface()": "the class the hints name; making one is not the answer"},
    "3.2": {'pyqrcode.create(text, error="M")': "the lesson's list of the three steps names the library calls"},
    "4.3": {"provisioning_uri(secret, account_name)": "the stage helper the exercise hands over, by name"},
    "5.2": {'raw.replace(" ", "")': "the exercise's rule: remove ordinary spaces only"},
    "5.3": {"normalise_code(raw)": "5.3 composes the answers of 5.1 and 5.2, which its text names",
            "code_is_valid(secret, code, now)": "5.3 composes the answers of 5.1 and 5.2, which its text names"},
}


def _squeeze(text):
    return re.sub(r"\s+", "", text)


def answer_calls(solution_source):
    """The answer's own calls: each outermost call of the code between the markers, as written."""
    lines = solution_source.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(i for i, line in enumerate(lines) if line.strip() == END)
    body = "def answer():\n" + "\n".join(lines[start + 1:end])   # the answer is a function's body
    tree = ast.parse(body)
    calls, inner = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for child in ast.walk(node):
                if child is not node and isinstance(child, ast.Call):
                    inner.add(id(child))
    for node in ast.walk(tree):
        segment = ast.get_source_segment(body, node) if isinstance(node, (ast.Call, ast.Return, ast.Assign)) else None
        if not segment:
            continue
        outermost_call = isinstance(node, ast.Call) and id(node) not in inner
        # Every outermost call, and any longer piece (a call inside one, a return, an assignment).
        if len(_squeeze(segment)) >= (MIN_CALL if outermost_call else 30):
            calls.append(segment)
    return calls


def answer_template(solution_source):
    """The longer lines of an answer that is a template written as a string (none for code)."""
    lines = [line.strip() for line in solution_source.split(BEGIN, 1)[1].split(END, 1)[0].splitlines()]
    if not any('"""' in line for line in lines):
        return []
    return [line for line in lines if len(_squeeze(line)) >= 2 * MIN_CALL and '"""' not in line]


def _listing_calls(source):
    """The stage files a code cell displays: show(...) / listing(...) calls with constant arguments."""
    from workbook import listings
    shown = []
    try:
        tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                   for line in source.splitlines()))
    except SyntaxError:
        return shown
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("show", "listing") \
                and node.args and all(isinstance(a, ast.Constant) for a in node.args):
            shown.append(listings.listing(*[a.value for a in node.args]))
    return shown


def exercises_and_what_comes_before(lesson):
    """(exercise id, its solution cell, [texts a student sees above the exercise's check cell])."""
    from workbook.authoring.release import EXERCISE_LINE
    notebook = cells(lesson)
    found = []
    for cell in notebook:
        heading = EXERCISE_LINE.search(cell.source) if cell.cell_type == "code" else None
        if heading is None or BEGIN not in cell.source:
            continue
        exercise_id = heading.group(2)
        check_at = next(i for i, c in enumerate(notebook)
                        if c.cell_type == "code" and re.search(rf"check\(\s*['\"]{re.escape(exercise_id)}['\"]", c.source))
        seen = []
        for other in notebook[:check_at]:
            if other is cell:
                continue
            seen.append(other.source)
            if other.cell_type == "code":
                seen += _listing_calls(other.source)
        found.append((exercise_id, cell.source, seen))
    return found


def _cases():
    return [(lesson, *case) for lesson in DESIGNED_LESSONS for case in exercises_and_what_comes_before(lesson)]


@pytest.mark.parametrize("lesson, exercise_id, solution, seen", _cases(), ids=lambda v: v if isinstance(v, str) and
                         re.fullmatch(r"\d+\.A?\d+", v) else None)
def test_no_answer_is_shown_above_its_check(lesson, exercise_id, solution, seen):
    shown = _squeeze("\n".join(seen))
    given_away = [call for call in answer_calls(solution)
                  if _squeeze(call) in shown and call not in GIVEN.get(exercise_id, {})]
    assert not given_away, f"exercise {exercise_id}: its answer is shown above its check: {given_away}"
    # A template answer: the lesson teaches its parts one by one above, but never shows it whole.
    template = answer_template(solution)
    shown_lines = [line for line in template if _squeeze(line) in shown]
    assert len(shown_lines) <= len(template) // 2, (
        f"exercise {exercise_id}: most of its template is shown above its check: {shown_lines}")


def _check_messages(lesson):
    """Every string constant in a lesson's checks module: the hints its ❌ lines are made of."""
    path = ROOT / "workbook" / "checks" / f"lesson_{lesson:02d}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return "\n".join(node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str))


@pytest.mark.parametrize("lesson, exercise_id, solution, seen", _cases(), ids=lambda v: v if isinstance(v, str) and
                         re.fullmatch(r"\d+\.A?\d+", v) else None)
def test_no_hint_hands_out_the_answers_call(lesson, exercise_id, solution, seen):
    messages = _squeeze(_check_messages(lesson))
    given_away = [call for call in answer_calls(solution)
                  if _squeeze(call) in messages and call not in GIVEN.get(exercise_id, {})]
    assert not given_away, f"exercise {exercise_id}: a check's hint gives the answer's call verbatim: {given_away}"


@pytest.mark.parametrize("lesson", DESIGNED_LESSONS)
def test_every_lesson_asks_for_a_prediction_before_a_demo(lesson):
    assert re.search(r"\*\*Predict|Predict before", markdown(lesson)), f"lesson {lesson:02d}: no 'predict, then run'"


@pytest.mark.parametrize("lesson", DESIGNED_LESSONS)
def test_hints_come_in_steps(lesson):
    """A hint is a nudge first, then where to look: folded, one step at a time, never a bare 'Hint:' line."""
    text = markdown(lesson)
    assert not re.search(r"^Hints?:", text, re.M), f"lesson {lesson:02d} still has a one-step 'Hint:' line"


# --- build: the student's own app ----------------------------------------------------------

def _follow_lesson_05_build_steps(folder):
    """Stage 4 in ``folder``, changed the way lesson 05's Build section says, step by step."""
    app_py = folder / "app.py"
    source = app_py.read_text(encoding="utf-8")

    def change(old, new):
        nonlocal source
        assert source.count(old) == 1, f"stage 4's app.py no longer has {old!r}: update the Build steps"
        source = source.replace(old, new)

    # 1. What counts as a code: the answer to 5.2 above create_app, with import re.
    change("import os\n", "import os\nimport re\n")
    change("def create_app(", 'def normalise_code(raw):\n    if raw is None or len(raw) > 20:\n        return None\n'
           '    code = raw.replace(" ", "")\n    return code if re.fullmatch("[0-9]{6}", code) else None\n\n\n'
           "def create_app(")
    # 2. One route, two methods; request imported; the MethodNotAllowed handler deleted.
    change("from flask import Flask, render_template, session", "from flask import Flask, render_template, request, session")
    change('''    @app.errorhandler(MethodNotAllowed)
    def form_not_wired_yet(error):
        message = "This page cannot check codes yet: stage 5 adds the route that verifies them."
        return render_template("error.html", title="Codes are not checked yet", message=message), 405
''', "")
    # 3. and 4. The page with a message, and the POST.
    change('''    @app.get("/")
    def home():
        secret = secret_for_this_session()
        page = render_template(
            "index.html",
            account_name=app.config["ACCOUNT_NAME"],
            qr_code=qr_data_uri(provisioning_uri(secret, app.config["ACCOUNT_NAME"])),
            manual_key=grouped(secret),
        )
        # A page that shows a secret must not be kept in any cache.
        return page, {"Cache-Control": "no-store"}''', '''    def enrolment_page(secret, error=None, status=200):
        page = render_template(
            "index.html",
            account_name=app.config["ACCOUNT_NAME"],
            qr_code=qr_data_uri(provisioning_uri(secret, app.config["ACCOUNT_NAME"])),
            manual_key=grouped(secret),
            error=error,
        )
        return page, status, {"Cache-Control": "no-store"}

    @app.route("/", methods=["GET", "POST"])
    def home():
        if request.method == "GET":
            return enrolment_page(secret_for_this_session())
        if session.get("enrolment_id") not in totp_secrets:
            return render_template("error.html", title="No QR code", message="Open the page again."), 400
        secret = totp_secrets[session["enrolment_id"]]
        code = normalise_code(request.form.get("otp"))
        if code is None:
            return enrolment_page(secret, "Type the 6 digits your app shows.", 400)
        if not pyotp.TOTP(secret).verify(code, for_time=app.config["CLOCK"](), valid_window=1):
            return enrolment_page(secret, "That code is not right.", 401)
        return render_template("enabled.html")''')
    # 5. Errors are pages.
    change("from werkzeug.exceptions import MethodNotAllowed", "from werkzeug.exceptions import HTTPException")
    change("\n    return app\n", '''
    @app.errorhandler(HTTPException)
    def http_error(error):
        return render_template("error.html", title=error.name, message=error.description), error.code

    return app
''')
    # 6. Its own cookie.
    change('SESSION_COOKIE_NAME="stage4_session"', 'SESSION_COOKIE_NAME="stage5_session"')
    app_py.write_text(source, encoding="utf-8")
    index = folder / "templates" / "index.html"
    page = index.read_text(encoding="utf-8")
    assert page.count("  <form ") == 1
    index.write_text(page.replace("  <form ", '  {% if error %}<p role="alert">{{ error }}</p>{% endif %}\n  <form '),
                     encoding="utf-8")
    (folder / "templates" / "enabled.html").write_text(
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>2FA is on</title></head>\n'
        "<body><h1>2FA is enabled</h1></body>\n</html>\n", encoding="utf-8")


def test_lesson_05_build_section_lists_the_steps_and_ends_with_check_my_app():
    build = next(c.source for c in cells(5) if c.cell_type == "markdown" and c.source.startswith("## Build"))
    steps = re.findall(r"^\d+\. \*\*", build, re.M)
    assert len(steps) == 6 and "check_my_app(5)" in build and "start_from(4)" in build
    for name in ("templates/index.html", "templates/enabled.html", "HTTPException", "SESSION_COOKIE_NAME"):
        assert name in build, f"the Build steps never mention {name}"


@pytest.mark.slow
def test_lesson_05_build_steps_turn_stage_4_into_an_app_that_passes_stage_5(tmp_path):
    """A student who follows the six steps on stage 4 gets an app that passes every stage 5 test."""
    import shutil

    from workbook.my_app import run_stage_tests
    from workbook.stages import stage
    folder = tmp_path / "my_app"
    shutil.copytree(stage(4).folder, folder, ignore=shutil.ignore_patterns("__pycache__", "CHANGES.diff", "README.md"))
    before = run_stage_tests(5, folder)
    assert not before.passed, "stage 4 itself must fail the stage 5 tests"
    _follow_lesson_05_build_steps(folder)
    after = run_stage_tests(5, folder)
    assert after.passed, after.output[-3000:]


def _follow_lesson_04_build_steps(folder):
    """Stage 3 in ``folder``, changed the way lesson 04's Build section says, with the lesson's own 4.2 template."""
    app_py = folder / "app.py"
    source = app_py.read_text(encoding="utf-8")

    def change(old, new):
        nonlocal source
        assert source.count(old) == 1, f"stage 3's app.py no longer has {old!r}: update the Build steps"
        source = source.replace(old, new)

    # 1. The template: the answer to Exercise 4.2, as the solution notebook writes it.
    answer = next(c.source for c in cells(4) if c.cell_type == "code" and c.source.startswith("# Exercise 4.2"))
    namespace = {}
    exec(answer.replace(BEGIN, "").replace(END, ""), namespace)
    (folder / "templates").mkdir(exist_ok=True)
    (folder / "templates" / "index.html").write_text(namespace["enrolment_template"](), encoding="utf-8")
    # 2. The view renders it.
    change("from flask import Flask, session\nfrom markupsafe import escape\n",
           "from flask import Flask, render_template, session\nfrom werkzeug.exceptions import MethodNotAllowed\n")
    start = source.index('        qr_code = qr_data_uri(provisioning_uri(secret, app.config["ACCOUNT_NAME"]))')
    end = source.index("        # A page that shows a secret must not be kept in any cache.")
    source = source[:start] + '''        page = render_template(
            "index.html",
            account_name=app.config["ACCOUNT_NAME"],
            qr_code=qr_data_uri(provisioning_uri(secret, app.config["ACCOUNT_NAME"])),
            manual_key=grouped(secret),
        )
''' + source[end:]
    # 3. A page for the form, for now.
    (folder / "templates" / "error.html").write_text(
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{{ title }}</title></head>\n<body>\n'
        '  <h1>{{ title }}</h1>\n  <p role="alert">{{ message }}</p>\n'
        "  <p><a href=\"{{ url_for('home') }}\">Back to the QR code</a></p>\n</body>\n</html>\n", encoding="utf-8")
    change("\n    return app\n", '''
    @app.errorhandler(MethodNotAllowed)
    def not_yet(error):
        return render_template("error.html", title="Codes are not checked yet",
                               message="Checking codes comes in the next stage."), 405

    return app
''')
    # 4. Its own cookie.
    change('SESSION_COOKIE_NAME="stage3_session"', 'SESSION_COOKIE_NAME="stage4_session"')
    app_py.write_text(source, encoding="utf-8")


@pytest.mark.slow
def test_lesson_04_build_steps_turn_stage_3_into_an_app_that_passes_stage_4(tmp_path):
    """A student who follows the four steps on stage 3, with their 4.2 template, passes every stage 4 test."""
    import shutil

    from workbook.my_app import run_stage_tests
    from workbook.stages import stage
    build = next(c.source for c in cells(4) if c.cell_type == "markdown" and c.source.startswith("## Build"))
    assert len(re.findall(r"^\d+\. \*\*", build, re.M)) == 4 and "check_my_app(4)" in build
    folder = tmp_path / "my_app"
    shutil.copytree(stage(3).folder, folder, ignore=shutil.ignore_patterns("__pycache__", "CHANGES.diff", "README.md"))
    _follow_lesson_04_build_steps(folder)
    after = run_stage_tests(4, folder)
    assert after.passed, after.output[-3000:]
    # What stage 4 adds that its behaviour tests leave alone: the code form, and a page for its POST.
    from workbook import pages
    from workbook.app_loader import make_app
    from workbook.checks.lesson_04 import check_otp_input
    client = make_app(folder, {"TESTING": True, "SECRET_KEY": "x" * 32}).test_client()
    html = client.get("/").get_data(as_text=True)
    check_otp_input(html)
    form = pages.parse(html).form("otp")
    assert form.method == "post" and form.action == "/"
    reply = client.post("/", data={"otp": "123456"})
    assert reply.status_code == 405 and pages.parse(reply.data).text.strip()


def _answer_source(lesson, exercise_id):
    """The solution notebook's answer to an exercise, markers removed: what a student who solved it wrote."""
    source = next(c.source for c in cells(lesson) if c.cell_type == "code"
                  and c.source.startswith(f"# Exercise {exercise_id}:"))
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))


@pytest.mark.slow
def test_lesson_03_build_steps_turn_stage_2_into_an_app_that_passes_stage_3(tmp_path):
    """A student who follows the three steps on stage 2, with their 3.1 and 3.2, passes every stage 3 test."""
    import shutil

    from workbook.my_app import run_stage_tests
    from workbook.stages import stage
    build = next(c.source for c in cells(3) if c.cell_type == "markdown" and c.source.startswith("## Build"))
    assert len(re.findall(r"^\d+\. \*\*", build, re.M)) == 3 and "check_my_app(3)" in build
    folder = tmp_path / "my_app"
    shutil.copytree(stage(2).folder, folder, ignore=shutil.ignore_patterns("__pycache__", "CHANGES.diff", "README.md"))
    assert not run_stage_tests(3, folder).passed, "stage 2 itself must fail the stage 3 tests"
    app_py = folder / "app.py"
    source = app_py.read_text(encoding="utf-8")
    # 1. The two functions, with what they need.
    functions = ("import base64\nimport io\n\nimport pyqrcode\n\nISSUER = \"Flask 2FA Workbook\"\n\n\n"
                 + _answer_source(3, "3.1") + "\n\n\n" + _answer_source(3, "3.2") + "\n\n\n")
    assert source.count("def create_app(") == 1
    source = source.replace("def create_app(", functions + "def create_app(")
    # 2. The page: the QR code and the grouped key; the code goes.
    start = source.index("        code = pyotp.TOTP(secret).at(")
    end = source.index("        # A page that shows a secret must not be kept in any cache.")
    source = source[:start] + '''        qr_code = qr_data_uri(provisioning_uri(secret, app.config["ACCOUNT_NAME"]))
        key = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Scan</title></head><body>"
            f"<img src='{qr_code}' alt='QR code for your authenticator app'>"
            f"<p>Or type this key: <code>{escape(key)}</code></p></body></html>"
        )
''' + source[end:]
    # 3. Its own cookie.
    assert source.count('SESSION_COOKIE_NAME="stage2_session"') == 1
    source = source.replace('SESSION_COOKIE_NAME="stage2_session"', 'SESSION_COOKIE_NAME="stage3_session"')
    app_py.write_text(source, encoding="utf-8")
    after = run_stage_tests(3, folder)
    assert after.passed, after.output[-3000:]


@pytest.mark.slow
def test_lesson_02_build_steps_turn_stage_1_into_an_app_that_passes_stage_2(tmp_path):
    """A student who follows the three steps on stage 1 passes every stage 2 test."""
    import shutil

    from workbook.my_app import run_stage_tests
    from workbook.stages import stage
    build = next(c.source for c in cells(2) if c.cell_type == "markdown" and c.source.startswith("## Build"))
    assert len(re.findall(r"^\d+\. \*\*", build, re.M)) == 3 and "check_my_app(2)" in build
    folder = tmp_path / "my_app"
    shutil.copytree(stage(1).folder, folder, ignore=shutil.ignore_patterns("__pycache__", "CHANGES.diff", "README.md"))
    assert not run_stage_tests(2, folder).passed, "stage 1 itself must fail the stage 2 tests"
    app_py = folder / "app.py"
    source = app_py.read_text(encoding="utf-8")
    source = source.replace("import os\n", "import os\nimport secrets\nimport time\n", 1)
    source = source.replace("from flask import Flask\n", "from flask import Flask, session\n", 1)
    start, end = source.index("def create_app("), source.index('\nif __name__ == "__main__":')
    source = source[:start] + '''def create_app(test_config=None):
    app = Flask(__name__)
    # 1. Settings first; a random key when none is given, never one in the source.
    app.config.from_mapping(CLOCK=time.time, ACCOUNT_NAME="student", SESSION_COOKIE_NAME="stage2_session")
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.logger.warning("FLASK_SECRET_KEY is not set: a random key is used.")

    # 2. One secret per visitor, on the server; only an id in the cookie.
    totp_secrets = {}

    def secret_for_this_session():
        enrolment_id = session.get("enrolment_id")
        if enrolment_id not in totp_secrets:
            enrolment_id = secrets.token_urlsafe(16)
            session["enrolment_id"] = enrolment_id
            totp_secrets[enrolment_id] = pyotp.random_base32()
        return totp_secrets[enrolment_id]

    # 3. The page.
    @app.get("/")
    def index():
        secret = secret_for_this_session()
        key = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        code = pyotp.TOTP(secret).at(app.config["CLOCK"]())
        page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Your secret</title></head>"
                f"<body><p>Your secret: <code>{escape(key)}</code></p><p>Its code now: {code}</p></body></html>")
        return page, {"Cache-Control": "no-store"}

    return app

''' + source[end:]
    app_py.write_text(source, encoding="utf-8")
    after = run_stage_tests(2, folder)
    assert after.passed, after.output[-3000:]


# --- done when: a build step, an attack and a question on the newcomer's path ----------------

def build_section(lesson):
    """The lesson's "## Build" markdown cell, or None."""
    return next((c.source for c in cells(lesson) if c.cell_type == "markdown" and c.source.startswith("## Build")),
                None)


@pytest.mark.parametrize("lesson", [_known_gap("build", n) for n in range(FIRST_APP_LESSON, 9)])
def test_every_lesson_with_an_app_has_build_steps_ending_in_check_my_app(lesson):
    build = build_section(lesson)
    assert build, f"lesson {lesson:02d} has no '## Build' section: the student's own app skips a stage"
    steps = list(re.finditer(r"^\d+\. \*\*", build, re.M))
    assert steps, f"lesson {lesson:02d}'s Build section has no numbered steps ('1. **...**')"
    assert build.rfind(f"check_my_app({lesson})") > steps[-1].start(), (
        f"lesson {lesson:02d}'s Build section must end with check_my_app({lesson}), after its last step")
    assert f"start_from({lesson - 1})" in build, f"lesson {lesson:02d}: name start_from({lesson - 1}) as the catch-up"


def test_the_lessons_before_the_app_have_no_build_section():
    for lesson in range(FIRST_APP_LESSON):
        assert build_section(lesson) is None, f"lesson {lesson:02d} has a Build section before my_app/ exists"


# The attacks issue 22 names in item 2, each an exercise the student writes against the weak version before
# the lesson's defence (what the issue calls it -> lesson, exercise). Each check runs the student's function
# against the defended version too, where it must fail (tests/mutants: the wrong answers that "get in anyway").
NAMED_ATTACKS = {
    "replay a code": (7, "7.A1"),
    "a brute force whose odds they compute and run with CLOCK": (5, "5.5"),
    "a cross-site form": (7, "7.A2"),
    "reuse of a copied session cookie": (7, "7.A3"),
    "the relay takeover of lesson 08": (8, "8.1"),
}
ATTACKS = sorted({(lesson, exercise_id) for lesson, (exercise_id, _why) in SECURITY_LESSONS.items()}
                 | set(NAMED_ATTACKS.values()))


@pytest.mark.parametrize("lesson, exercise_id", [
    pytest.param(lesson, exercise_id, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[("attack", lesson)]))
    if ("attack", lesson) in KNOWN_GAPS else (lesson, exercise_id) for lesson, exercise_id in ATTACKS])
def test_every_security_lesson_has_the_student_write_an_attack(lesson, exercise_id):
    """The attack is an exercise with an answer to write, introduced as the attacker's, checked before the Build."""
    from workbook.authoring.release import EXERCISE_LINE
    notebook = cells(lesson)
    at = next((i for i, c in enumerate(notebook) if c.cell_type == "code" and BEGIN in c.source
               and (m := EXERCISE_LINE.search(c.source)) and m.group(2) == exercise_id), None)
    assert at is not None, f"lesson {lesson:02d} has no exercise {exercise_id} for the student to write"
    prose = next(c.source for c in reversed(notebook[:at]) if c.cell_type == "markdown")
    assert re.search(r"attack|Mallory|stranger|guess|thief", prose, re.I), (
        f"exercise {exercise_id}: the text above it does not put the student in the attacker's place")
    # Lesson 07 ends each part with Build steps: the attack comes before the Build of its part, which with the
    # later parts' Builds puts in the defence. Elsewhere there is one Build, at the end.
    builds = [i for i, c in enumerate(notebook) if c.cell_type == "markdown" and c.source.startswith("## Build")]
    assert any(at < build for build in builds) or not builds, (
        f"exercise {exercise_id}: the attack comes after the Build steps that defend against it")
    if lesson != 7:
        assert all(at < build for build in builds), f"exercise {exercise_id}: the attack comes after the Build"
    if exercise_id in DEFENDED_BY:
        defence = next(i for i, c in enumerate(notebook) if c.cell_type == "code" and BEGIN in c.source
                       and (m := EXERCISE_LINE.search(c.source)) and m.group(2) == DEFENDED_BY[exercise_id])
        assert at < defence, f"exercise {exercise_id}: the attack must come before {DEFENDED_BY[exercise_id]}, its defence"
        # ... and once the defended version exists, the lesson runs the student's own attack against it again.
        name = re.search(r"^def (\w+)\(", notebook[at].source, re.M).group(1)
        checked = next(i for i, c in enumerate(notebook) if c.cell_type == "code" and f'check("{exercise_id}"' in c.source)
        assert any(re.search(rf"\b{name}\(", c.source) for c in notebook[checked + 1:] if c.cell_type == "code"), (
            f"exercise {exercise_id}: no cell after its check runs the student's {name}() against the defended version")


# Lesson 07's attacks and the exercise where the student then writes the defence.
DEFENDED_BY = {"7.A1": "7.1", "7.3": "7.4", "7.A3": "7.6"}


def test_every_security_lesson_is_a_designed_lesson_with_a_reason():
    assert set(SECURITY_LESSONS) <= set(DESIGNED_LESSONS)
    assert all(len(why) > 20 for _, why in SECURITY_LESSONS.values())
    assert {2, 5, 6, 7, 8} <= set(SECURITY_LESSONS), "issue 22 names 02, 05, 06, 07 and 08 as security lessons"
    assert all(lesson in SECURITY_LESSONS for lesson, _ in NAMED_ATTACKS.values())
    assert len(ATTACKS) == 8, f"five lessons' attacks and the three more of lesson 07: {ATTACKS}"


# --- the stated times -----------------------------------------------------------------------

# Issue 22: "every lesson's stated time from a timed walk, not a guess".
HOW = r"((?:a tester's timed walk|testers' timed walks of every part), \d{4}-\d\d-\d\d: \d+-\d+)"
FIRST_CELL_TIME = re.compile(r"^About (\d+) minutes\b[^\n]*\(" + HOW, re.M)
README_TIME = re.compile(r"^\| (\d\d) · [^|]+\| (\d+) min \| " + HOW, re.M)


@pytest.mark.parametrize("lesson", DESIGNED_LESSONS)
def test_each_lesson_states_its_time_and_how_it_was_found(lesson):
    found = FIRST_CELL_TIME.search(cells(lesson)[0].source)
    assert found, f"lesson {lesson:02d}'s first cell must say 'About N minutes (a tester's timed walk, DATE: LOW-HIGH)'"
    low, high = map(int, found.group(2).rsplit(": ", 1)[1].split("-"))
    assert low <= int(found.group(1)) <= high


def test_the_readme_lists_the_times_the_lessons_state():
    stated = {lesson: FIRST_CELL_TIME.search(cells(lesson)[0].source).groups() for lesson in DESIGNED_LESSONS}
    listed = {int(number): (minutes, how)
              for number, minutes, how in README_TIME.findall((ROOT / "README.md").read_text(encoding="utf-8"))}
    assert listed == stated, "README.md's table of lesson times and the lessons' first cells disagree"


# --- questions and predictions come before what answers them (the tester's walk, 2026-12-05) ---------

@pytest.mark.parametrize("lesson, asked_in, answer_text", [
    (0, "00-q1-check", "Not every thief, though."),
    (2, "02-q1-check", "The signature does one thing"),
    (4, "04-q1-check", "which only hides the cookie itself from scripts"),
    (5, "05-q1-check", "Every step of slack has a price"),
    (6, "06-q1-check", "`SameSite` is about *sites*"),
    (8, "lesson08-48", "- **A downgrade to codes.**"),
    (0, "00-19", "They match: the same secret and the same time step"),
    (4, "04-12", "Flask turns on Jinja's **autoescaping**"),
], ids=lambda value: str(value)[:20])
def test_the_text_that_answers_a_question_or_prediction_comes_after_it(lesson, asked_in, answer_text):
    order = [c.id for c in cells(lesson)]
    where = [c.id for c in cells(lesson) if answer_text in c.source]
    assert len(where) == 1, f"lesson {lesson:02d}: {answer_text!r} is no longer said once"
    assert order.index(where[0]) > order.index(asked_in), f"lesson {lesson:02d} answers {asked_in} above it"


@pytest.mark.parametrize("lesson", [2, 3])
def test_the_stage_diff_is_shown_only_on_request_after_the_build(lesson):
    shown = [c.source for c in cells(lesson) if c.cell_type == "code"
             and any(line.startswith("show_changes(") for line in c.source.splitlines())]
    assert not shown, f"lesson {lesson:02d} prints the Build's answer on Run All"


def test_lesson_02_lists_the_stage_code_the_build_asks_for_only_on_request():
    listed = [c.source for c in cells(2) if c.cell_type == "code" and _listing_calls(c.source)]
    assert listed and all("if SHOW_THE_BUILDS_ANSWER:" in source for source in listed), (
        "lesson 02 lists stage 2's code, the Build's answer, on Run All")


def test_lesson_05_runs_the_stages_normalise_code_only_after_5_2s_check():
    notebook = cells(5)
    check_at = next(i for i, c in enumerate(notebook) if 'check("5.2"' in c.source)
    early = [c.id for c in notebook[:check_at] if c.cell_type == "code" and "stage5.normalise_code" in c.source]
    assert not early, f"lesson 05 prints the stage's normalise_code above 5.2's check: {early}"


@pytest.mark.parametrize("wrong", [lambda text: "data:image/png;base64,AAAA", lambda text: b"not even text",
                                   lambda text: 1 / 0])
def test_lesson_03_draws_with_the_stages_function_when_3_2_is_wrong(wrong, capsys):
    """A wrong 3.2 gets a one-line note and stage 3's picture, never a QRDecodeError two cells later."""
    from workbook.phone import Phone
    cell = next(c.source for c in cells(3) if c.id == "03-21")
    contract = "otpauth://totp/Flask%202FA%20Workbook:student?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=Flask%202FA%20Workbook"
    namespace = {"qr_data_uri": wrong, "contract": contract, "Phone": Phone}
    exec(cell, namespace)
    assert "not right yet" in capsys.readouterr().out
    assert Phone().scan(namespace["image"]).secret == "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ"
