"""Lesson 07's Build steps, followed step by step: the student's own answers go into stage 7's files.

The steps are the lesson's own text (solutions/07_hardening.ipynb): each of its ten parts ends with a
"Build: this part's answers into your app" section, and the steps are numbered 1-12 across the lesson.
Stage 7's files first, with the defences the lesson has the student build not built yet (start_from(7, part=1),
which keeps the student's stage 6 app aside, in the Build before Part 1; workbook/lesson_07_start.py),
then every answer of the lesson that has a place in the app (7.1, 7.2, 7.4-7.11; the solution
notebook's), each at the end of the part whose exercise it is, put in where the steps say; and at the end of
part 5, the page a forged form gets (step 6: the body of csrf_error, which the student writes from a
description; CSRF_ERROR below is one such body).
test_lesson_07_08_build.py runs the stage tests on the finished app; the tests here check that each step
stands where the lesson puts it, that after each part's Build the places of that part and the parts before are
built, those of the later parts still open, and check_my_app(7)'s run passes (the tests of the open places left
out, as the lesson says), and that a wrong answer pasted in makes the stage tests fail, and names the defence.
"""
import ast
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from test_lesson_06_build import auth_module, guard_from_exercise_6_5

from workbook.lesson_07_start import NOT_BUILT, PARTS, STAND_IN_RECOVERY_CODES, open_places, parts_not_built
from workbook.my_app import run_stage_tests, start_from
from workbook.stages import stage

from lesson_build import (
    answer,
    build_section,
    build_sections,
    code_blocks,
    edit,
    function,
    given_cell,
    lesson_cells,
    paste_above,
    replace_body,
    without_imports,
)
from mutants import lesson_05, lesson_06, lesson_07, lesson_07_round_two
from mutants import lesson_07_throttle_and_secrets as throttle_and_secrets

LESSON = "07_hardening.ipynb"
MODULES = ["app.py", "auth.py", "two_factor.py", "user_management.py", "db.py", "throttle.py", "devices.py",
           "sessions.py", "recovery_codes.py", "secrets_at_rest.py", "events.py"]
NEW_PAGES = ["change_password.html", "recovery_codes.html", "replace_phone.html", "replace_phone_scan.html"]
ANSWERED = ["7.1", "7.2", "7.4", "7.5", "7.6", "7.7", "7.8", "7.9", "7.10", "7.11"]
# The Build steps at the end of each part of the lesson, and the exercise each step puts in.
# Part 0: the Build before Part 1, which starts the app from stage 7's files, its defences not built yet.
STEPS_OF_PART = {0: (1,), 1: (2,), 2: (3,), 3: (4,), 4: (5,), 5: (6,), 6: (7,), 7: (8, 9), 8: (10,), 9: (11,), 10: (12,)}
EXERCISE_OF_STEP = {2: "7.1", 3: "7.2", 4: "7.4", 5: "7.5", 7: "7.6", 8: "7.7", 9: "7.8", 10: "7.9", 11: "7.10",
                    12: "7.11"}

# The code the steps give (adapters between an answer's shape and stage 7's), as the lesson prints it.
TRUSTED = '''    cookie = request.cookies.get(cookie_name()) if this_browser() else None
    bucket = failure_bucket(get_db(), user_id, cookie, now)
    return None if bucket == STRANGERS else bucket
'''
TRUST = '''    device = trusted(user_id, now)
    if device is not None:  # trusted already: the same cookie, 90 more days
        get_db().execute("UPDATE devices SET expires = ? WHERE id_hash = ? AND user_id = ?",
                         (now + LIFETIME, device, user_id))
        g.device_cookie = request.cookies.get(cookie_name())
        return False
    g.device_cookie = trust_browser(get_db(), user_id, now)
    return True
'''
# Step 5: ceiling_wait's body (below its docstring), in place of the open place's line.
CEILING_WAIT = '''    since = now - 365 * DAY
    attempts = [(at, bool(succeeded)) for at, succeeded in db.execute(
        "SELECT at, 0 FROM failures WHERE subject = ? AND kind = ? AND bucket = ? AND at > ?"
        " UNION ALL SELECT at, 1 FROM successes WHERE subject = ? AND kind = ? AND bucket = ? AND at > ?"
        " ORDER BY at", (*key, since, *key, since))]
    if may_try(attempts, now):
        return None
    later = sorted({at + window for at, _ in attempts for window, _ceiling in CEILINGS})
    return next((moment - now for moment in later if moment > now and may_try(attempts, moment)), 365 * DAY)
'''
# Step 7: the line that takes the place of find_session's open `return row` (below the `if` the step keeps).
YOUR_SESSION_USER = '''        return row if session_user(db, row["id_hash"], now, idle_seconds, max_seconds) is not None else None
'''
TOTP_SECRET = '''    stored = user["totp_secret"]
    if stored is None or secrets_at_rest.PLAIN_SECRET.fullmatch(stored):
        return secrets_at_rest.decrypt(stored)  # none, or kept in plain text by an older stage 7
    try:
        return secrets_at_rest.load_secret(get_db(), user["id"], secrets_at_rest.keys())
    except secrets_at_rest.InvalidToken:  # no key given opens it
        return None
'''
STORE_SECRET = "secrets_at_rest.store_secret(InTransaction(db), user_id, secret, secrets_at_rest.keys())"
# Step 11: the keys your functions get are bytes, as Fernet.generate_key() made them in Exercise 7.10 (stage 7's are text).
YOUR_KEYS = 'app.extensions["totp_keys"] = [key.encode("ascii") for key in keys]'
YOUR_EVENT = ('event = security_event(kind, {**request.form.to_dict(), "username": user["username"]}, now) '
              'if detail == MESSAGES.get(kind) else {"kind": kind, "detail": detail, "time": now}')
# Step 6: the open body of csrf_error, which the student replaces with a body written from the step's description.
OPEN_CSRF_ERROR = NOT_BUILT[5][1][2]
CSRF_ERROR = '''        return render_template(
            "error.html", title="This form was not sent",
            message="Nothing was changed: the form is out of date, or it came from another site. "
                    "Go back, reload the page and send the form again."), 400
'''

# The open places the steps replace, as workbook/lesson_07_start.py leaves them (file, text) and as the Builds quote them.
OPEN_PAUSE = NOT_BUILT[2][0][2].strip()
OPEN_CSRF = NOT_BUILT[5][0][2].removeprefix("    CSRFProtect(app)\n")
OPEN_SESSION_KEPT = '''    if row["user_id"] is not None:  # an account's session (not a registration)\n'''
OPEN_SESSION = "        return row  # Not built yet: Part 6's Build. Until then an account's session never times out.\n"
OPEN_LOGOUT = NOT_BUILT[6][1][2]
OPEN_INSERT, OPEN_UPDATE = (not_built for _file, _built, not_built in NOT_BUILT[9])
OPEN_EVENT = NOT_BUILT[10][1][2]
# What each part's Build quotes of its open places (the Build before Part 1 lists them; each part's Build says
# what the app lets through until its steps): every quote is in the open text start_from(7, part=1) leaves.
QUOTED = {1: ["`return True  # Not built yet: Part 1's Build ...`"],
          2: ["`locked_until = now  # Not built yet: Part 2's Build puts your pause here. Until then nobody waits.`"],
          3: ["`Not built yet: Part 3's Build puts your device cookies here. Until then no browser is trusted.`",
              "`return None  # Not built yet: ...`", "`return False  # Not built yet: ...`"],
          4: ["`return None  # Not built yet: Part 4's Build puts your ceiling here. Until then a slow guesser never stops.`"],
          5: ["`app.config[\"WTF_CSRF_ENABLED\"] = False  # Not built yet: Part 5's Build. "
              "Until then a form from any site is obeyed.`"],
          6: ["`pass  # Not built yet: Part 6's Build. Until then logging out ends nothing on the server.`",
              "`if row[\"user_id\"] is not None:  # an account's session (not a registration)`",
              "`return row  # Not built yet: ...`", "`pass  # Not built yet: ...`"],
          7: ["`Not built yet: Part 7's Build`", "`return False  # Not built yet: ...`"],
          8: ["`return True  # Not built yet: Part 8's Build. Until then wrong tries are never counted.`"],
          9: ["`# Not built yet: Part 9's Build. Until then the secret is stored as it is.`"],
          10: ["`# Not built yet: Part 10's Build. Until then the owner's message repeats what was typed.`"]}


def stage_7_opened(part):
    """Stage 7's modules as start_from(7, part=``part``) gives them, by name: the places of that part and the later ones open."""
    with tempfile.TemporaryDirectory(prefix="stage-7-opened-") as scratch:
        copy = Path(scratch) / "stage"
        shutil.copytree(stage(7).folder, copy, ignore=shutil.ignore_patterns("instance", "__pycache__"))
        open_places(copy, part)
        return {name: (copy / name).read_bytes() for name in MODULES}


def follow_the_steps(app, answers=None, through_part=10, from_part=1):
    """Lesson 07's Build steps on the student's stage 6 app in ``app``, those of parts 1 to ``through_part``;
    ``answers`` replaces some of the solutions'. ``from_part``: a student behind, who runs
    start_from(7, part=from_part) before that part (the Build before Part 1 says so), then follows the steps of
    that part and the later ones (stage 7's own code stands in the places of the parts before)."""
    answers = {number: answer(LESSON, number) for number in ANSWERED} | {"csrf_error": CSRF_ERROR} | (answers or {})
    steps = {step for part in range(from_part, through_part + 1) for step in STEPS_OF_PART[part]}
    last = max(steps, default=1)
    # 1. Stage 7's files, the places of from_part and the later parts open; the student's app moves aside, untouched.
    mine = {path.relative_to(app): path.read_bytes() for path in app.rglob("*") if path.is_file()}
    start_from(7, app, part=from_part)
    kept = app.with_name(f"{app.name}.before_stage_7")
    assert {path.relative_to(kept): path.read_bytes() for path in kept.rglob("*") if path.is_file()} == mine
    assert parts_not_built(app) == [number for number in PARTS if number >= from_part]
    opened = stage_7_opened(part=from_part)
    for name in MODULES:
        assert (app / name).read_bytes() == opened[name], f"step 1 did not give stage 7's {name}, its places open"
    # ... and the student's own functions that stage 7 keeps as stage 6 had them, brought back from the kept app.
    for module, names in YOURS_KEPT.items():
        mine_there, stage_7s = (kept / module).read_text(encoding="utf-8"), (app / module).read_text(encoding="utf-8")
        for name in names:
            edit(app / module, function(stage_7s, name), function(mine_there, name))
    if 2 > last:
        return
    if 2 in steps:
        # 2. The replay guard (7.1).
        paste_above(app / "user_management.py", "# ANCHOR: replay_check\ndef use_timecode(", answers["7.1"])
        replace_body(app / "user_management.py", "use_timecode", "    return accept_once(get_db(), user_id, timecode)\n")
    if 3 > last:
        return
    if 3 in steps:
        # 3. The pause (7.2): in place of the open line.
        paste_above(app / "throttle.py", "@dataclass(frozen=True)\nclass Attempt:", answers["7.2"])
        edit(app / "throttle.py", OPEN_PAUSE, "locked_until = now + throttle_delay(streak)")
        edit(app / "throttle.py", "FIRST_DELAY = 30        # seconds to wait after the 5th failure in a row ...\n"
             "MAX_DELAY = 15 * 60     # ... doubled after each further one, up to 15 minutes\n", "")
    if 4 > last:
        return
    if 4 in steps:
        # 4. Device cookies (7.4).
        paste_above(app / "devices.py", "def trusted(",
                    given_cell(LESSON, 'STRANGERS = "strangers"') + "\n\n" + answers["7.4"])
        replace_body(app / "devices.py", "trusted", TRUSTED)
        replace_body(app / "devices.py", "trust", TRUST)
    if 5 > last:
        return
    if 5 in steps:
        # 5. The ceiling (7.5): may_try above ceiling_wait, which start_attempt already calls; its body, the lesson's.
        paste_above(app / "throttle.py", "def ceiling_wait(", answers["7.5"])
        replace_body(app / "throttle.py", "ceiling_wait", CEILING_WAIT)
    if 6 > last:
        return
    if 6 in steps:
        # 6. CSRF on (the open line deleted), and the page a forged form gets: csrf_error's body, the student's own.
        edit(app / "app.py", OPEN_CSRF, "")
        edit(app / "app.py", OPEN_CSRF_ERROR, answers["csrf_error"])
    if 7 > last:
        return
    if 7 in steps:
        # 7. Sessions (7.6): session_user in sessions.py, end_all_sessions in auth.py's logout.
        paste_above(app / "sessions.py", "def find_session(", function(answers["7.6"], "session_user"))
        edit(app / "sessions.py", OPEN_SESSION_KEPT + OPEN_SESSION, OPEN_SESSION_KEPT + YOUR_SESSION_USER)
        edit(app / "auth.py", "import user_management\n", "import user_management\nfrom db import get_db\n")
        paste_above(app / "auth.py", "def start_server_session(", function(answers["7.6"], "end_all_sessions"))
        edit(app / "auth.py", OPEN_LOGOUT, '        end_all_sessions(get_db(), g.user["id"])\n')
    if 8 > last:
        return
    if 8 in steps:
        # 8. Making recovery codes (7.7): the student's in place of the start's stand-in, which has the same shape.
        edit(app / "recovery_codes.py", STAND_IN_RECOVERY_CODES,
             given_cell(LESSON, "RECOVERY_ALPHABET = ") + "\n\n" + answers["7.7"].strip() + "\n")
    if 9 > last:
        return
    if 9 in steps:
        # 9. Using a recovery code (7.8): below make_recovery_codes, which stands just above store.
        paste_above(app / "recovery_codes.py", "def store(", answers["7.8"])
        replace_body(app / "recovery_codes.py", "use", "    return use_recovery_code(get_db(), user_id, code)\n")
        edit(app / "recovery_codes.py", function((app / "recovery_codes.py").read_text(encoding="utf-8"),
                                                 "hash_recovery_code"), "")
    if 10 > last:
        return
    if 10 in steps:
        # 10. Wrong tries against the session (7.9).
        paste_above(app / "sessions.py", "def count_reauth_failure(", answers["7.9"])
        replace_body(app / "sessions.py", "count_reauth_failure",
                     "    return count_reauth_try(get_db(), session_key(token), allowed)\n")
    if 11 > last:
        return
    if 11 in steps:
        # 11. Secrets at rest (7.10).
        paste_above(app / "secrets_at_rest.py", "def init_app(", without_imports(answers["7.10"]) + '''


def keys():
    return current_app.extensions["totp_keys"]''')
        imports = [line for line in answers["7.10"].splitlines() if line.startswith(("import ", "from "))
                   and not line.startswith("from cryptography.fernet import ")]
        if imports:  # the cell's own imports, at the top of the module beside its own
            edit(app / "secrets_at_rest.py", "from cryptography.fernet import ",
                 "\n".join(imports) + "\nfrom cryptography.fernet import ")
        edit(app / "secrets_at_rest.py", "def init_app(app, keys):\n", f"def init_app(app, keys):\n    {YOUR_KEYS}\n")
        replace_body(app / "user_management.py", "totp_secret", TOTP_SECRET)
        edit(app / "user_management.py", "from db import get_db, transaction\n",
             "from db import InTransaction, get_db, transaction\n")
        edit(app / "user_management.py", OPEN_INSERT, '(row["reserved_name"], row["password_hash"], None, timecode),')
        edit(app / "user_management.py", "        except sqlite3.IntegrityError:  # an account of an older stage 7 has the name\n"
             "            return None\n", "        except sqlite3.IntegrityError:  # an account of an older stage 7 has the name\n"
             f"            return None\n        {STORE_SECRET}\n")
        edit(app / "user_management.py", OPEN_UPDATE, "(None, timecode, user_id, expected_version),")
        edit(app / "user_management.py", "        if swapped:\n", f"        if swapped:\n            {STORE_SECRET}\n")
    if 12 > last:
        return
    if 12 in steps:
        # 12. The owner's message (7.11): the student's function above record, EVENT_MESSAGES = MESSAGES above it.
        paste_above(app / "events.py", "def record(", "EVENT_MESSAGES = MESSAGES\n\n\n" + answers["7.11"])
        edit(app / "events.py", OPEN_EVENT, f"    {YOUR_EVENT}\n")


# Step 1: the functions of the student's stage 6 app that stage 7 keeps as stage 6 has them (module -> names):
# lessons 03-05's answers, moved into two_factor.py in lesson 06's Build, 06's find_user (6.3: stage 7's username
# column is COLLATE NOCASE, so the exact "username = ?" finds alice as ALICE) and get_user, 06's login_required (the
# guard of 6.5 as lesson 06's Build changed it: stage 7's load_logged_in_user sets g.user only for a full login of
# an account with a phone, so the guard needs nothing more) and password_checked_user (stage 7's
# password_step_required finds its user with it); and in app.py's create_app, the route "/" of lesson 06's Build and
# the error page of lesson 05's.
YOURS_KEPT = {"two_factor.py": ["provisioning_uri", "qr_data_uri", "grouped", "normalise_code"],
              "user_management.py": ["find_user", "get_user"], "auth.py": ["login_required", "password_checked_user"],
              "app.py": ["index", "http_error"]}
# The student's get_user, in words of their own (stage 6's text is the same as stage 7's).
STUDENTS_GET_USER = """def get_user(user_id):
    row = get_db().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return row"""
# Their "/" of lesson 06's Build, written from its description (inside create_app: indented as there).
STUDENTS_INDEX = """def index():
        if g.user is None:
            return redirect(url_for("auth.login"))
        return redirect(url_for("two_factor.dashboard"))"""


def students_own(normalise_code=None, login_required=None, http_error=None, find_user=None):
    """The student's functions of YOURS_KEPT, by name: the solutions' answers to 3.1, 3.2, 4.1, 5.2 and 6.3 (without
    stage 6's docstrings), or ``normalise_code`` for 5.2, ``find_user`` for 6.3; their login_required, lesson 06's Build's changes made to
    the solutions' 6.5, or to ``login_required`` (another answer to 6.5); their password_checked_user, written
    from lesson 06's Build (test_lesson_06_build models it); and in app.py, their index and their error page
    (lesson 05's Build, kept in lesson 06's: stage 5's, as test_lesson_06_build starts from it), or ``http_error``."""
    own = {name: function(without_imports(answer(lesson, exercise)), name) for name, lesson, exercise in (
        ("provisioning_uri", "03_qr_code.ipynb", "3.1"), ("qr_data_uri", "03_qr_code.ipynb", "3.2"),
        ("grouped", "04_template.ipynb", "4.1"), ("normalise_code", "05_verify_route.ipynb", "5.2"),
        ("find_user", "06_login_flow.ipynb", "6.3"))}
    for name, yours in (("normalise_code", normalise_code), ("find_user", find_user)):
        if yours is not None:
            own[name] = function(without_imports(yours), name)
    guard = guard_from_exercise_6_5(login_required)
    return own | {"get_user": STUDENTS_GET_USER, "login_required": function(guard, "login_required"),
                  "password_checked_user": function(auth_module(), "password_checked_user"), "index": STUDENTS_INDEX,
                  "http_error": http_error or function((stage(5).folder / "app.py").read_text(encoding="utf-8"),
                                                       "http_error")}


def stage_6_copy(tmp_path, normalise_code=None, login_required=None, http_error=None, find_user=None):
    """The student's stage 6 app: stage 6, with their own versions of the functions step 1 brings back."""
    app = tmp_path / "my_app"
    shutil.copytree(stage(6).folder, app, ignore=shutil.ignore_patterns("instance", "__pycache__", "CHANGES.diff",
                                                                         "README.md"))
    own = students_own(normalise_code, login_required, http_error, find_user)
    for module, names in YOURS_KEPT.items():
        text = (app / module).read_text(encoding="utf-8")
        for name in names:
            edit(app / module, function(text, name), own[name])
    return app


def test_the_build_section_names_every_step_this_test_takes():
    text = build_section(LESSON)
    assert len(re.findall(r"^\d+\. \*\*", text, re.M)) == 12
    for words in MODULES + NEW_PAGES + [
            "static/style.css", "stage7_session", "check_my_app(7)", "start_from(6)", "start_from(7, part=1)",
            "start_from(7, part=N)",
            "my_app.before_stage_7/", "accept_once(get_db(), user_id, timecode)", "throttle_delay(streak)", "`FIRST_DELAY = 30 ...`",
            "`hash_recovery_code`",
            YOUR_EVENT,
            "EVENT_MESSAGES = MESSAGES", "MESSAGES.get(kind)",
            "failure_bucket(get_db(), user_id, cookie, now)", "trust_browser(get_db(), user_id, now)",
            'limits["ceilings"] == CEILINGS', "ceiling_wait", "id_hash", "idle_seconds", "max_seconds",
            'session_user(db, row["id_hash"], now, idle_seconds, max_seconds)', 'end_all_sessions(get_db(), g.user["id"])',
            "InTransaction", "make_recovery_codes(InTransaction(db), user_id)", "`Not built yet: Part 7's Build`",
            "use_recovery_code(get_db(), user_id, code)", "session_key",
            "count_reauth_try(get_db(), session_key(token), allowed)", YOUR_KEYS, "beside its own",
            "csrf_error", "CSRFProtect(app)", "@app.errorhandler(CSRFError)", "templates/error.html",
            "test_post_without_csrf_token_is_a_400_and_changes_nothing", "Exercise 7.A2",
            "secrets_at_rest.load_secret(get_db(), user[\"id\"], secrets_at_rest.keys())", STORE_SECRET]:
        assert words in text, f"the Build section no longer says {words!r}"
    blocks = code_blocks(text)
    for code in (TRUSTED, TRUST, CEILING_WAIT, YOUR_SESSION_USER, TOTP_SECRET):
        assert code in blocks, f"the Build section no longer gives this code as the test pastes it:\n{code}"
    for exercise in range(1, 12):
        assert f"7.{exercise}" in text, f"the Build section does not say where exercise 7.{exercise} went"


def test_the_steps_are_numbered_in_order_across_the_lesson_and_each_build_ends_in_check_my_app():
    sections = build_sections(LESSON)
    assert len(sections) == len(STEPS_OF_PART), "lesson 07 should end each of its parts, and its start, with a Build section"
    for part, text in zip(STEPS_OF_PART, sections, strict=True):
        steps = [(int(m.group(1)), m.start()) for m in re.finditer(r"^(\d+)\. \*\*", text, re.M)]
        assert tuple(number for number, _ in steps) == STEPS_OF_PART[part], f"part {part}'s Build has steps {steps}"
        assert text.rfind("check_my_app(7)") > steps[-1][1], f"part {part}'s Build must end with check_my_app(7)"
    assert "start_from(6)" in sections[0] and "start_from(7, part=1)" in sections[0], "the Build before Part 1 starts the app"
    assert "The tests of a defence not built yet wait" in sections[0], "the first Build must say which tests wait"
    assert "after Part 10's the whole stage 7 suite runs" in sections[0]
    for part, text in enumerate(sections[1:-1], start=1):
        assert "The whole stage 7 suite passes" not in text, f"part {part}'s Build claims the whole suite passes"
    assert "the whole stage 7 suite runs and passes" in sections[-1]


def test_each_build_quotes_its_open_places_as_the_starting_app_has_them():
    """The Build before Part 1 lists each open place with its part and file; each part's Build quotes what its
    steps replace, as start_from(7, part=1) leaves it."""
    sections = build_sections(LESSON)
    for part in PARTS:
        files = {file for file, _built, _open in NOT_BUILT[part]}
        line = re.search(rf"^    - Part {part}, (.*)$", sections[0], re.M)
        assert line and all(f"`{file}`" in line.group(1) for file in files), f"step 1 does not list Part {part}'s places"
        texts = "".join(not_built for _file, _built, not_built in NOT_BUILT[part])
        for quote in QUOTED[part]:
            assert quote in sections[part], f"part {part}'s Build does not quote {quote}"
            assert quote.strip("`").removesuffix(" ...") in texts, f"part {part}'s Build quotes {quote}, not in the app"
    for part in (1, 5, 6):  # attack, then defend: the attack before the steps, and again after them
        attack = re.search(r'attack_my_app\("7\.A\d", \w+\)', sections[part]).group(0)
        steps = re.search(r"^\d+\. \*\*", sections[part], re.M).start()
        assert sections[part].find(attack) < steps < sections[part].rfind(attack), (
            f"part {part}'s Build should run {attack} before its steps and again after them")


def test_each_step_ends_the_part_whose_exercise_it_puts_in():
    """A Build section is the last cell of its part, after the check of every exercise its steps put in."""
    cells = lesson_cells(LESSON)
    starts = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("# Part ")]
    ends = [*starts[1:], next(i for i, c in enumerate(cells) if c.source.startswith("## What comes next"))]
    assert len(starts) == len(STEPS_OF_PART) - 1
    # The Build before Part 1 (step 1: stage 7's files, the student's own functions back in) is the whole section
    # between the lesson's opening and Part 1, so that Part 1 is replay alone.
    before = next(i for i, c in enumerate(cells) if c.source.startswith("# Before Part 1 ·"))
    assert [c.source.split("\n", 1)[0] for c in cells[before + 1:starts[0]]] == ["## Build: your app on stage 7's files"]
    assert re.findall(r"^(\d+)\. \*\*", cells[before + 1].source, re.M) == ["1"]
    for part, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
        assert cells[start].source.startswith(f"# Part {part} ·"), cells[start].source
        build = cells[end - 1]
        assert build.cell_type == "markdown" and build.source.startswith("## Build"), (
            f"part {part} does not end with its Build section")
        assert sum(c.source.startswith("## Build") for c in cells[start:end]) == 1
        for step in STEPS_OF_PART[part]:
            if step not in EXERCISE_OF_STEP:
                continue
            exercise = EXERCISE_OF_STEP[step]
            text = re.search(rf"^{step}\. \*\*.*?(?=^\d+\. \*\*|^Then run|\Z)", build.source, re.M | re.S).group(0)
            assert f"(Exercise {exercise})" in text, f"step {step} should put in exercise {exercise}"
            checked = [i for i, c in enumerate(cells) if c.cell_type == "code" and f'check("{exercise}"' in c.source]
            assert len(checked) == 1 and start < checked[0] < end - 1, (
                f"step {step} is not at the end of the part that checks exercise {exercise}")


# After each part's Build (0: the Build before Part 1), check_my_app(7)'s own run: the places of that part and the
# parts before are built, the later parts' open, and the stage 7 suite passes with the tests of the open ones left
# out. After the last part test_lesson_07_08_build.py runs the whole suite.
@pytest.mark.slow
@pytest.mark.parametrize("part", range(len(STEPS_OF_PART) - 1))
def test_after_each_parts_build_check_my_app_7_passes_with_the_later_parts_tests_waiting(tmp_path, part):
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=part)
    waiting = parts_not_built(app)
    assert waiting == [number for number in PARTS if number > part], f"after part {part}'s Build: {waiting} open"
    run = run_stage_tests(7, app, extra_args=("-q", "--not-built", ",".join(map(str, waiting))))
    assert run.passed, run.output[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("part", [4, 7, 9])
def test_a_student_behind_catches_up_with_start_from_7_part_n_and_the_rest_of_the_steps(tmp_path, part):
    """The Build before Part 1: behind mid-lesson, run start_from(7, part=N) before Part N. The steps of Part N
    and the later parts then fit the app it gives, and after the last the whole stage 7 suite passes."""
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, from_part=part)
    assert parts_not_built(app) == []
    run = run_stage_tests(7, app, extra_args=("-q",))
    assert run.passed, run.output[-3000:]


def mutant(module, exercise, name):
    found = [m for m in module.MUTANTS if m.exercise == exercise and m.name == name]
    assert len(found) == 1 and not found[0].passes, f"tests/mutants has no single wrong answer {exercise} {name!r}"
    return found[0].source.strip()


def event_mutant(name):
    """A wrong 7.11 without the EVENT_MESSAGES its exercise's setup gives: step 12 makes it stage 7's MESSAGES."""
    return mutant(throttle_and_secrets, "7.11", name).replace(throttle_and_secrets.EVENT_SETUP.strip(), "").strip()


# A wrong answer pasted in at its step, and the stage 7 tests that name the defence it breaks. Every wrong
# answer in tests/mutants to an exercise the steps put in is here, but these, which pass check_my_app(7) because
# the app cannot tell them from a right one (their exercises' checks refuse them):
# - "never committed" (7.1, 7.4, 7.7, 7.8, 7.10) and the three uncommitted 7.6 answers: stage 7's connection
#   commits each statement on its own (isolation_level=None), and 7.7 and 7.10 write inside stage 7's own
#   transaction (InTransaction), so a missing `with db:` changes nothing the app does.
# - 7.1 "read, compare, then write" and 7.8 "select, then delete": wrong only when a second request lands
#   between the SELECT and the write. The stage tests send one request at a time, and when graded the app runs
#   in a process of the student's that no test can pause between two statements.
# - 7.11 "a detail of its own making" ("code failed"): the stage tests can ask that an event name what
#   happened (test_every_security_event_goes_to_notify), not for the exercise's wording.
# Of the second catalogue (2026-12-06), these, which their exercises' checks refuse:
# - 7.7 "drawn with random": random.choice's codes look as random as secrets' to any test of the app (the check
#   seeds `random` and sees them come out twice). 7.7, 7.8 and 7.9 "the SQL built with an f-string" (or "put into
#   the SQL text"): the values are integers and hex hashes, which make working SQL (the checks read the SQL text).
# - 7.9 "read, compare, then write" (one request at a time, as above), "counted in a Python dict" (one app
#   process holds the dict as long as its sessions live), "a session that is not there may go ahead" (the app
#   finds the session before it counts a try).
# - 7.10 "bytes handed back" (pyotp takes a secret as bytes too), "a token no key opens read as a plain secret"
#   (the login fails either way), "MultiFernet handed the keys themselves" (it raises in the student's own code
#   on the first secret stored; the check names it).
# - 7.7 "one code drawn, ten copies of it" and "url-safe token cut to 24 characters" fail the recovery tests with
#   the app's own error (the table refuses a second row; the app's code format refuses the code): the check
#   names both.
WRONG_ANSWERS = {
    "7.1 replays a code": ("7.1", mutant(lesson_07, "7.1", "<= lets the same step in again"), "a_code_works_once"),
    "7.1 every user's step": ("7.1", mutant(lesson_07, "7.1", "every user's row"), "a_code_works_once"),
    "7.1 NULL forgotten": ("7.1", mutant(lesson_07, "7.1", "NULL forgotten"), "a_code_works_once"),
    "7.4 one bucket": ("7.4", mutant(throttle_and_secrets, "7.4", "one shared bucket per account"),
                       "a_trusted_browser_gets_in_while_strangers_are_paused"),
    "7.4 any account's browser": ("7.4", mutant(throttle_and_secrets, "7.4", "any account's browser"),
                                  "another_account_trusts"),
    "7.4 trusted for ever": ("7.4", mutant(throttle_and_secrets, "7.4", "trusted for ever"), "ninety_days_are_over"),
    "7.5 one more failure": ("7.5", mutant(throttle_and_secrets, "7.5", "31 failures before the ceiling"),
                             "thirty_days_of_guessing"),
    "7.5 a success wipes the count": ("7.5", mutant(throttle_and_secrets, "7.5", "a success starts the count again"),
                                      "thirty_days_of_guessing"),
    "7.5 the window's edge": ("7.5", mutant(throttle_and_secrets, "7.5", "a failure 30 days old still counts"),
                              "thirty_days_of_guessing"),
    "7.5 successes count": ("7.5", mutant(throttle_and_secrets, "7.5", "successes counted as failures"), "logs_in_often"),
    "csrf_error 200": ("csrf_error", CSRF_ERROR.replace("), 400\n", ")\n"), "post_without_csrf_token"),
    "csrf_error silent": ("csrf_error", CSRF_ERROR.replace("Nothing was changed: the", "The"),
                          "post_without_csrf_token"),
    "7.6 last_seen stays": ("7.6", mutant(lesson_07_round_two, "7.6", "last_seen never moves"), "twelve_hours"),
    "7.6 no idle limit": ("7.6", mutant(lesson_07_round_two, "7.6", "no idle limit"), "thirty_idle_minutes"),
    "7.7 plain codes": ("7.7", mutant(lesson_07, "7.7", "codes stored as they are"), "stored_hashed"),
    "7.7 old codes kept": ("7.7", mutant(lesson_07, "7.7", "old codes kept"), "recovery_codes_come_with_a_new_phone"),
    "7.7 every user's codes deleted": ("7.7", mutant(lesson_07, "7.7", "every user's codes deleted"),
                                       "recovery_codes_leave_yours_working"),
    "7.7 24 random bits": ("7.7", mutant(lesson_07, "7.7", "24 random bits, the rest of the code a repeated 2"),
                           "recovery_codes_are_random"),
    "7.7 a character per group": ("7.7", mutant(lesson_07, "7.7", "one character drawn per group, repeated four times"),
                                  "recovery_codes_are_random"),
    "7.7 the same 4 at the end": ("7.7", mutant(lesson_07, "7.7", "20 characters drawn, the same 4 at the end"),
                                  "recovery_codes_are_random"),
    "7.8 any code works": ("7.8", mutant(lesson_07, "7.8", "True whatever the DELETE did"),
                           "a_recovery_code_logs_in_once"),
    "7.9 no limit": ("7.9", mutant(lesson_07_round_two, "7.9", "no limit at all"),
                     "replace_phone_failures_end_the_session"),
    "7.9 three whatever allowed says": ("7.9", mutant(lesson_07_round_two, "7.9", "three, whatever allowed says"),
                                        "replace_phone_failures_end_the_session"),
    "7.9 the account's count": ("7.9", mutant(lesson_07_round_two, "7.9", "counted against the account"),
                                "replace_phone_failures_end_the_session"),
    "7.10 base64": ("7.10", mutant(throttle_and_secrets, "7.10", "base64 for encryption"), "no_totp_secret"),
    "7.10 first key only": ("7.10", mutant(throttle_and_secrets, "7.10", "one Fernet: the first key only"),
                            "every_key_decrypts"),
    # Issue 22, second catalogue (2026-12-06): wrong answers written from the lesson text, where the app can tell.
    "7.7 the same codes each time": ("7.7", mutant(lesson_07, "7.7", "the codes drawn once, when the cell runs"),
                                     "recovery_codes_come_with_a_new_phone"),
    "7.8 never deleted": ("7.8", mutant(lesson_07, "7.8", "looked up, never deleted"), "a_recovery_code_logs_in_once"),
    "7.8 used codes in a Python set": ("7.8", mutant(lesson_07, "7.8", "used codes remembered in a Python set"),
                                       "a_recovery_code_logs_in_once"),
    "7.8 any user's code": ("7.8", mutant(lesson_07, "7.8", "any user's code"), "another_users_recovery_code_does_not_work"),
    "7.9 one try too many": ("7.9", mutant(lesson_07_round_two, "7.9", "one try too many"),
                             "replace_phone_failures_end_the_session_not_the_account"),
    "7.9 every session's count": ("7.9", mutant(lesson_07_round_two, "7.9", "every session's count goes up"),
                                  "replace_phone_failures_end_the_session_they_were_made_in_and_no_other"),
    "7.10 the key beside the secret": ("7.10", mutant(throttle_and_secrets, "7.10", "the key kept beside the secret"),
                                       "secret_is_useless_without_the_key"),
    "7.10 a key of its own": ("7.10", mutant(throttle_and_secrets, "7.10", "a key of its own, made at import"),
                              "secret_is_useless_without_the_key"),
    "7.10 the oldest key encrypts": ("7.10", mutant(throttle_and_secrets, "7.10", "encrypts with the oldest key"),
                                     "first_key_encrypts_and_every_key_decrypts"),
    "7.10 a hash, as for passwords": ("7.10", mutant(throttle_and_secrets, "7.10", "a SHA-256 of the secret, as for passwords"),
                                      "first_key_encrypts_and_every_key_decrypts"),
    "7.10 every user's secret overwritten": ("7.10", mutant(throttle_and_secrets, "7.10", "every user's secret overwritten"),
                                             "two_users_have_their_own_secrets"),
    **{f"7.11 {name}": ("7.11", event_mutant(name), "each_event_carries_the_time_it_happened") for name in (
        "the time of the call, not now", "the time rounded to the minute", "one event per kind, made once")},
    **{f"7.11 {name}": ("7.11", event_mutant(name), "repeats_nothing_that_was_typed") for name in (
        "repeats what was typed", "the whole form, for the record", "a masked password: first and last two characters",
        "the first group of a wrong recovery code", "the last digits of a wrong code",
        "the form's token, to trace the request", "the length of the wrong password")},
}


@pytest.mark.slow
@pytest.mark.parametrize("wrong", WRONG_ANSWERS, ids=list(WRONG_ANSWERS))
def test_a_wrong_answer_pasted_in_fails_the_stage_7_test_that_names_its_defence(tmp_path, wrong):
    exercise, source, test_name = WRONG_ANSWERS[wrong]
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, {exercise: source})
    run = run_stage_tests(7, app, extra_args=("-q", "-k", test_name))
    assert not run.passed, f"stage 7's {test_name} tests pass with the wrong answer to {exercise} pasted in"
    failed = [line for line in run.output.splitlines() if line.startswith("FAILED")]
    assert failed and all(test_name in line for line in failed), run.output[-3000:]


def same_code(one, other):
    """The two functions do the same, by their code: docstrings aside."""
    def code(source):
        definition = ast.parse(source).body[0]
        if ast.get_docstring(definition) is not None:
            definition.body = definition.body[1:]
        return ast.dump(definition)
    return code(one) == code(other)


def test_step_1_brings_back_the_students_own_functions_that_stage_7_keeps(tmp_path):
    """Stage 7's copies of them are stage 6's (docstrings aside): the student's own stay in the app, and the step names each one."""
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=1)
    own = students_own()
    for module, names in YOURS_KEPT.items():
        text, stage_7s, stage_6s = ((folder / module).read_text(encoding="utf-8")
                                    for folder in (app, stage(7).folder, stage(6).folder))
        for name in names:
            assert same_code(function(stage_7s, name), function(stage_6s, name)), f"stage 7 changed {name}"
            assert function(text, name) == own[name] != function(stage_7s, name), (
                f"step 1 did not bring back the student's {name}")
            assert f"`{name}`" in build_sections(LESSON)[0], f"step 1 does not name {name}"


@pytest.mark.slow
def test_the_students_own_normalise_code_is_what_check_my_app_7_tests(tmp_path):
    """A 5.2 that takes any Unicode digit (``\\d``), brought back from the student's app, fails stage 7's test of
    malformed codes (other scripts' digits among them): check_my_app(7) tests the student's own code from lesson 05 too."""
    right = stage_6_copy(tmp_path / "right")
    follow_the_steps(right)
    assert run_stage_tests(7, right, extra_args=("-q", "-k", "malformed_codes_are_a_clear_400")).passed
    app = stage_6_copy(tmp_path / "wrong", normalise_code=mutant(lesson_05, "5.2", r"\d instead of [0-9]"))
    follow_the_steps(app)
    run = run_stage_tests(7, app, extra_args=("-q", "-k", "malformed_codes_are_a_clear_400"))
    assert not run.passed, "stage 7's test of malformed codes passes with the student's \\d normalise_code"
    assert "FAILED" in run.output and "malformed_codes_are_a_clear_400" in run.output, run.output[-2000:]


# A wrong version of a function step 1 keeps, in the student's stage 6 app, and the stage 7 tests it fails.
WRONG_KEPT = {
    "login_required lets a password-only session in": (
        {"login_required": mutant(lesson_06, "6.5", "a password alone is let in")},
        "dashboard_is_closed_while_the_code_is_pending or replace_phone_needs_a_full_login"),
    "http_error answers 200": (
        {"http_error": 'def http_error(error):\n'
                       '        return render_template("error.html", title=error.name, message=error.description)'},
        "unknown_page_is_a_clear_404"),
    "find_user gives the id, not the row": (
        {"find_user": mutant(lesson_06, "6.3", "the user's id instead of the row")},
        "taken_username_is_refused or a_name_logs_in_whatever_its_case"),
}


@pytest.mark.slow
@pytest.mark.parametrize("wrong", WRONG_KEPT, ids=list(WRONG_KEPT))
def test_the_students_own_kept_functions_are_what_check_my_app_7_tests(tmp_path, wrong):
    """A wrong guard (6.5 letting a password-only session in: ``pending_user_id`` counts), a wrong error page or a
    6.3 that gives the user's id,
    brought back from the student's app, fails the stage 7 tests of what it gets wrong, which pass with the right
    one: check_my_app(7) tests the student's own guard and error page too."""
    yours, tests = WRONG_KEPT[wrong]
    right = stage_6_copy(tmp_path / "right")
    follow_the_steps(right)
    assert run_stage_tests(7, right, extra_args=("-q", "-k", tests)).passed
    app = stage_6_copy(tmp_path / "wrong", **yours)
    follow_the_steps(app)
    run = run_stage_tests(7, app, extra_args=("-q", "-k", tests))
    assert not run.passed, f"stage 7's tests {tests} pass with the student's {wrong}"
    failed = [line for line in run.output.splitlines() if line.startswith("FAILED")]
    assert failed and all(any(name in line for name in tests.split(" or ")) for line in failed), run.output[-3000:]


@pytest.mark.slow
def test_a_recovery_code_check_that_takes_any_code_fails_the_week_of_attacks_with_a_reason(tmp_path):
    """A 7.8 that lets any code in: the stage tests' guessers stop at the first wrong code that gets in and say
    so, rather than guessing on, a second apart, through a simulated week (which ran past check_my_app's limit
    and left the student with a timeout and no test named)."""
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, {"7.8": mutant(lesson_07, "7.8", "True whatever the DELETE did")})
    run = run_stage_tests(7, app, timeout=240, extra_args=("-q", "-k", "a_week_of_attacks"))
    assert run.returncode is not None, "the week of attacks did not finish: " + run.output[-1000:]
    assert "FAILED" in run.output and "a wrong recovery_code was let in" in run.output, run.output[-2000:]


def unused_names(app):
    """The module-level functions, classes and settings of the app in ``app`` that nothing in it uses."""
    sources = {path.name: path.read_text(encoding="utf-8") for path in app.glob("*.py")}
    everything = "\n".join([*sources.values(), *(path.read_text(encoding="utf-8") for path in app.rglob("*.html"))])
    unused = []
    for file, source in sources.items():
        for node in ast.parse(source).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.decorator_list:
                name = node.name
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
            else:
                continue
            if len(re.findall(rf"\b{re.escape(name)}\b", everything)) == 1:
                unused.append(f"{file}: {name}")
    return unused


def test_after_the_last_build_the_app_keeps_nothing_the_steps_left_unused(tmp_path):
    """What a step replaces with the student's own goes: no dead function or setting of stage 7's is left to
    mislead the student who reads their app later (stage 7 itself has none)."""
    assert unused_names(stage(7).folder) == []
    app = stage_6_copy(tmp_path)
    follow_the_steps(app)
    assert unused_names(app) == []


def test_each_build_says_which_parts_still_wait():
    """After Part N's Build, check_my_app(7) leaves out the tests of the parts still open: the Build says which."""
    sections = build_sections(LESSON)
    for part in range(1, len(STEPS_OF_PART)):
        waiting = [number for number in PARTS if number > part]
        said = re.findall(r"those of (Parts? [^.;]*?) still wait", sections[part])
        if not waiting:
            assert not said, f"part {part}'s Build says {said} still wait, but no part is open after it"
            continue
        assert waiting == list(range(waiting[0], waiting[-1] + 1)), "the parts still open are no longer in a row"
        expected = (f"Part {waiting[0]}" if len(waiting) == 1 else
                    f"Parts {waiting[0]} and {waiting[1]}" if len(waiting) == 2 else f"Parts {waiting[0]} to {waiting[-1]}")
        assert said == [expected], f"part {part}'s Build should say that those of {expected} still wait, not {said}"
