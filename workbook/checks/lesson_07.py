"""Checks for lesson 07: hardening (replay, throttling, device cookies, sessions, recovery codes, secrets at rest).

The checks compare plain values only, and whatever they hand your functions (a database connection, a
stage 7 app, its clock, a temporary folder) is built where your code runs, by the public functions of
this module below (``users_db``, ``StatementLog``, ``Stage7WithAnOwner``...), through ``student_side``:
when the instructor grades, your code runs in a process of its own and the checks in the grader's.
Steps, ids, codes and times are drawn afresh on every run, so an answer has to work them out.
"""
import base64
import hashlib
import os
import random
import re
import secrets
import sqlite3

from . import RUN_SEED, exercise, hidden_check, question, reference_only
from .student_side import plain, plain_result, raised, raised_kind, raised_message, student_side

TIMECODE = 56_666_666  # the 30-second step at Unix time 1_699_999_980
DRAW = random.SystemRandom()   # the checks' own draws: a notebook's random.seed() cannot foresee them


def _lesson():
    """This module where the student's code runs: the fixture builders below, called there."""
    return student_side.module(__name__)


def _sqlite():
    return student_side.module("sqlite3")


def _temporary_folder():
    """A temporary folder where the student's code runs (``with ... as folder``: its path, a str)."""
    return student_side.module("tempfile").TemporaryDirectory()


def _rows(db, sql, params=()):
    """The rows ``sql`` reads on ``db`` (where the student's code runs), as a list of tuples."""
    return plain(_lesson().rows(db, sql, params))


# --- Fixture builders: run where the student's code runs; no answers in them ---------------------

def rows(db, sql, params=()):
    """The rows a query reads, as plain tuples."""
    return [tuple(row) for row in db.execute(sql, tuple(params))]


class _TextsNotedCursor(sqlite3.Cursor):
    def execute(self, sql, *args):
        self.connection.texts.append(sql)
        return super().execute(sql, *args)

    def executemany(self, sql, *args):
        self.connection.texts.append(sql)
        return super().executemany(sql, *args)


class TextsNotedConnection(sqlite3.Connection):
    """A sqlite3 connection that notes the SQL text of each statement run on it as the code wrote it, before its
    parameters are put in (``texts``): a value found there was built into the SQL."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.texts = []

    def cursor(self, factory=_TextsNotedCursor):
        return super().cursor(factory)

    def execute(self, sql, *args):
        self.texts.append(sql)
        return super().execute(sql, *args)

    def executemany(self, sql, *args):
        self.texts.append(sql)
        return super().executemany(sql, *args)

    def executescript(self, sql):
        self.texts.append(sql)
        return super().executescript(sql)


def sql_texts(db):
    """The SQL texts run on ``db`` (a TextsNotedConnection) since it was made, as they were written."""
    return [text for text in db.texts if type(text) is str]


def users_db(path=":memory:"):
    """A users table (alice is 1, bob is 2) with an empty last_timecode each."""
    db = sqlite3.connect(path, factory=TextsNotedConnection)
    db.row_factory = sqlite3.Row
    db.executescript("""
        CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, username TEXT, last_timecode INTEGER);
        INSERT OR IGNORE INTO users (id, username) VALUES (1, 'alice'), (2, 'bob');
    """)
    db.commit()
    db.texts.clear()
    return db


class StatementLog:
    """Notes the SQL statements run on ``db`` from now until ``stop()``, which gives them (BEGIN/COMMIT left out)."""

    def __init__(self, db):
        self.db, self.seen = db, []
        db.set_trace_callback(self.seen.append)

    def stop(self):
        self.db.set_trace_callback(None)
        return [s.strip() for s in self.seen
                if s.strip().split(" ", 1)[0].upper() in ("SELECT", "UPDATE", "DELETE", "INSERT")]


def enrolled_owner(number, database, username, password, clock, adjust=None, app_dir=None, **settings):
    """Stage ``number`` (6 or 7) for a check: its database at ``database``, ``clock`` its clock, where ``username``
    (password ``password``) registered and enrolled her phone from her browser, then logged out. The app, her
    browser (a test client that keeps her cookies) and her phone. ``settings`` add to the check's settings or
    replace them; ``adjust(app)`` runs before anyone registers (a stage weakened, a request noted). With
    ``app_dir``, the app is the one in that folder (the student's own, at stage ``number``), not the stage's."""
    from cryptography.fernet import Fernet

    from ..app_loader import make_app, make_stage_app
    from ..phone import Phone
    from ..visitor import submit_form

    config = {
        "TESTING": True, "SECRET_KEY": "the lesson 07 check's key, not a real one", "CLOCK": clock,
        "DATABASE": database, "SESSION_COOKIE_SECURE": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1", "NOTIFY": lambda username, event: None,
        # a key of its own, so that a stage 7 app writes nothing in its instance folder (read-only when graded)
        "TOTP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    } | settings
    app = make_app(app_dir, config) if app_dir is not None else make_stage_app(number, config)
    if adjust is not None:
        adjust(app)
    browser, phone = app.test_client(), Phone(clock=clock)
    submit_form(browser, "/register", username=username, password=password)
    if number < 7:       # stage 7 goes from /register straight to /enable-2fa, in the same session
        submit_form(browser, "/login", username=username, password=password)
    phone.scan(browser.get("/enable-2fa").data)
    submit_form(browser, "/enable-2fa", otp=phone.code())
    submit_form(browser, "/dashboard")                      # the Log out button
    return app, browser, phone


def _last(db, user_id):
    return _rows(db, "SELECT last_timecode FROM users WHERE id = ?", (user_id,))[0][0]


def _statements(db, function, *args):
    """What ``function(*args)`` returned, and the SQL statements it ran on ``db`` (BEGIN/COMMIT left out)."""
    log = _lesson().StatementLog(db)
    try:
        result = function(*args)
    finally:
        statements = plain(log.stop())
    return result, statements


def _sql_kept_fixed(db, values, what):
    """Refuse SQL built from ``values`` (``what`` names them): each must reach SQLite as a parameter."""
    texts = plain(_lesson().sql_texts(db))
    wholes = [re.compile(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])") for value in values
              if len(str(value)) >= 4]  # values of 4 characters or more: the 10 of "LIMIT 10" is no value
    built = next((text for text in texts for whole in wholes if whole.search(text)), None)
    assert built is None, (
        f"{what} was written into the SQL text ({_short(built, 90)}): however it is formatted or quoted, that is SQL "
        "built from the values. Keep the SQL text fixed, with ? placeholders, and pass the values separately, "
        "as a tuple (lesson 06's section \"Parameterised queries\")."
    )


# --- 7.A1: replay the code you saw (an attack on stage 6, turned away by stage 7) -----------------

SCENE_START = 1_700_000_000       # when the owner enrols, in the checks' fixed clock
REPLAY_REQUESTS = 40              # a right replay sends 4 to 8 requests
DASHBOARD_HEADING = re.compile(r"<h1>\s*Welcome,\s*(.*?)\s*</h1>", re.S)


class OwnersLoginFailed(RuntimeError):
    """Alice's own login, before any attack, did not reach her dashboard: the app under attack refuses its owner."""


class _TooManyRequests(BaseException):
    """The replay sent more requests than a replay needs many times over (a BaseException: a student's
    ``except Exception`` around a request does not swallow it)."""


class OwnerTypedACode:
    """Stage ``number`` (6 or 7) in ``folder``, where ``username`` (password ``password``) enrolled from her
    browser and logged out; at Unix time ``typed_at`` she logs in with the code her phone shows
    (``seen_code``, what Mallory saw), and the clock then stands at ``replayed_at``, when Mallory acts. With
    ``zero_first`` the scene moves on by whole 30-second steps (the same moment in its step) until that code starts
    with 0, as one code in ten does: a replay that handles the code as a number loses that 0."""

    def __init__(self, folder, number, username, password, typed_at, replayed_at, zero_first=False, app_dir=None):
        from ..fixed_clock import FixedClock
        from ..visitor import submit_form

        self.username, self.password = username, password
        self.clock = FixedClock(SCENE_START)
        self.requests, self._recording = [], False
        self.app, owner, phone = enrolled_owner(
            number, os.path.join(folder, "users.sqlite"), username, password, self.clock,
            adjust=lambda app: app.after_request(self._note), app_dir=app_dir)
        while zero_first and not phone.code(at=typed_at).startswith("0"):
            typed_at, replayed_at = typed_at + 30, replayed_at + 30
        self.clock.now = typed_at
        self.seen_code = phone.code()
        submit_form(owner, "/login", username=username, password=password)
        answered = submit_form(owner, "/verify-2fa", otp=self.seen_code)
        if answered.status_code != 302:
            raise OwnersLoginFailed(f"the right code her phone showed, sent to /verify-2fa, got {answered.status_code}, "
                                    "not a redirect to her dashboard")
        self.clock.now = replayed_at

    def _note(self, response):
        from flask import request

        if self._recording:
            form = request.form
            self.requests.append({
                "method": request.method, "path": request.path, "status": response.status_code,
                "location": response.headers.get("Location", ""), "fields": sorted(form),
                "username": form.get("username"), "otp": form.get("otp"),
                "password_given": "password" in form and form.get("password") == self.password,
            })
        return response

    def mallory(self, replay, limit):
        """Run ``replay(a fresh browser, username, password, seen_code)``; then: the requests the app saw
        (method, path, status, where a redirect went, the fields sent, the username and code typed), how many
        of them came from that browser, whether it had to be stopped after ``limit``, what it raised (as text),
        the name its /dashboard welcomes (None when it is not let in), and whether the app's forms carry a CSRF
        token."""
        browser, sent = self.app.test_client(), []
        send = browser.open

        def counted(*args, **kwargs):
            if len(sent) >= limit:
                raise _TooManyRequests()
            sent.append(1)
            return send(*args, **kwargs)

        browser.open, self._recording, stopped, raised = counted, True, False, None
        try:
            replay(browser, self.username, self.password, self.seen_code)
        except _TooManyRequests:
            stopped = True
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - what the attack raised is part of what it did
            raised = f"{type(error).__name__}: {error}"
        finally:
            browser.open, self._recording = send, False
        dashboard = browser.get("/dashboard")
        heading = DASHBOARD_HEADING.search(dashboard.get_data(as_text=True)) if dashboard.status_code == 200 else None
        return {"requests": self.requests, "sent": len(sent), "stopped": stopped, "raised": raised,
                "dashboard": heading.group(1) if heading else None, "csrf": "csrf" in self.app.extensions}


def _digits(code):
    return str(code).replace(" ", "") if code is not None else None


def _replay_went_wrong(run, username, seen):
    """The hint naming what the replay did instead of the attack, or None when it went as a replay goes."""
    requests, csrf = run["requests"], run["csrf"]
    posted = [r for r in requests if r["method"] == "POST"]
    codes = [r for r in posted if r["path"] == "/verify-2fa"]
    others = sorted({_digits(r["otp"]) for r in codes if r["otp"] is not None and _digits(r["otp"]) != seen})
    if run["stopped"]:
        if others:
            return (f"your replay sent {REPLAY_REQUESTS} requests and was still going, with {len(others)} codes "
                    f"besides the one Mallory saw: that is guessing (Part 2 has it, and its odds), not a replay. "
                    "Send the code you were given, once.")
        return (f"your replay sent {REPLAY_REQUESTS} requests and was still going: one try is the replay. When the "
                "app refuses the code, stop; a used code does not become right by trying again.")
    if run["sent"] == 0:
        return ("your function sent no request from the browser it was given: the check opens /dashboard in the "
                "browser you were given, so log in with that one (a browser of your own is another visitor).")
    if len(others) > 1:
        return (f"you sent {len(others)} codes besides the one Mallory saw: that is guessing (Part 2), not a replay. "
                "Send the code you were given.")
    if others and not any(_digits(r["otp"]) == seen for r in codes):
        if others == [seen.lstrip("0") or "0"]:
            zeros = "0" * (len(seen) - len(others[0]))
            return (f"you sent {others[0]}, which is the code you were given ({seen}) without the {zeros} in front: a "
                    "code is six digits, not a number, and the form wants all six. Keep seen_code as the string "
                    "it is.")
        return (f"you sent the code {others[0]}, not the one you were given ({seen}): a code is good for a minute "
                "or so, and each run of the check has Alice type a new one. Replay the code Mallory saw.")
    logins = [r for r in posted if r["path"] == "/login"]
    passed = [i for i, r in enumerate(requests) if r["method"] == "POST" and r["path"] == "/login"
              and r["status"] in (302, 303) and r["username"] == username and "/verify-2fa" in r["location"]]
    if not passed:
        strangers = sorted({r["username"] for r in logins if r["username"] and r["username"] != username})
        if strangers:
            return (f"your password step was for {strangers[0]!r}: the account to get into is {username!r}, the username you "
                    "were given" + (" (log_in() from the lesson's first cell always types alice's name and the lesson's "
                                    "password)." if strangers[0] == "alice" else
                                    ": Mallory wants Alice's account, not one of her own."))
        if csrf and any(r["status"] == 400 and "csrf_token" not in r["fields"] for r in logins):
            return ("your login form got 400: stage 7's forms carry a hidden csrf_token, which a browser sends "
                    "back with the form. Send the form as a browser does (submit() copies the hidden "
                    "fields).")
        if any(not r["password_given"] for r in logins):
            return (f"the password step refused your password for {username!r}: use the password you were given "
                    "(Mallory watched Alice type it).")
        if any(r["path"] == "/verify-2fa" for r in requests):
            return ("the code step comes after the password step: /verify-2fa sends a browser that has not passed "
                    "/login back to it, so the code counted for nothing. Log in with the password first, in the "
                    "same browser.")
        return "your browser never passed the password step at /login: " + (
            f"your function raised {run['raised']}" if run["raised"] else "no login form with the password reached it")
    after = [r for r in requests[passed[0]:] if r["method"] == "POST" and r["path"] == "/verify-2fa"]
    if not after:
        asked = re.search(r"/verify-2fa has no POST form with the fields \['(\w+)'", run["raised"] or "")
        if asked:
            return (f"the code went in a field called {asked.group(1)!r}, and the form on /verify-2fa has no such "
                    "field: use the name the form gives its field (the lesson's first code cell fills it in).")
        if codes:
            return ("the code step comes after the password step: your function sent the code to /verify-2fa before "
                    "its password step, when it counted for nothing, and no code after it. Log in with the password "
                    "first, then send the code, in the same browser.")
        return "your browser passed the password step, then sent no code to /verify-2fa" + (
            f": your function raised {run['raised']}" if run["raised"] else ".")
    if csrf and any(r["status"] == 400 and "csrf_token" not in r["fields"] for r in after):
        return ("your code form got 400: stage 7's forms carry a hidden csrf_token, which a browser sends "
                "back with the form. Send the form as a browser does (submit() copies the hidden "
                "fields).")
    if not any(_digits(r["otp"]) == seen for r in after):
        named = sorted({f for r in after for f in r["fields"] if f != "csrf_token"})
        return (f"the code went in a field called {named[0]!r}, and the form on /verify-2fa has no such field: use "
                "the name the form gives its field (the lesson's first code cell fills it in)." if named else
                "your code form reached /verify-2fa without the code Mallory saw in it.")
    tries = [r for r in after if _digits(r["otp"]) == seen]
    if len(tries) > 1:
        return (f"your function sent the code Mallory saw {len(tries)} times: one try is the replay. A code the app "
                "took is used up, and one it refused does not become right by trying again: send it once.")
    return None


@exercise("7.A1", "Replay the code you saw", uses=["replay"])
def check_replay(replay):
    # A capital in the name: stage 6 finds a name exactly as it was registered, so it is typed as given.
    username = f"{DRAW.choice(OWNER_NAMES).title()}{DRAW.randrange(10, 100)}"
    password = secrets.token_urlsafe(DRAW.randrange(9, 16))
    typed_at = SCENE_START + 60 + DRAW.randrange(30 * DAY)
    # The code typed at typed_at is accepted until the end of the step after it: Mallory acts before then.
    replayed_at = typed_at + DRAW.randrange(1, 30 * (typed_at // 30 + 2) - typed_at)
    after = replayed_at - typed_at

    zero_on = DRAW.choice((6, 7))     # one of the two scenes has a code that starts with 0
    with _temporary_folder() as folder:
        weak = _lesson().OwnerTypedACode(folder, 6, username, password, typed_at, replayed_at, zero_on == 6)
        seen = plain(weak.seen_code)
        run = plain(weak.mallory(replay, REPLAY_REQUESTS))
    wrong = _replay_went_wrong(run, username, seen)
    assert wrong is None, f"on stage 6, {after} s after Alice typed {seen}: {wrong}"
    assert run["dashboard"] == username, (
        f"on stage 6, {after} s after Alice typed {seen}, your browser ends " + (
            f"on the dashboard of {run['dashboard']!r}, not of {username!r}: get into Alice's account."
            if run["dashboard"] else
            "logged out (its /dashboard sends it to /login): the replay must leave it logged in as Alice.")
    )

    with _temporary_folder() as folder:
        strong = _lesson().OwnerTypedACode(folder, 7, username, password, typed_at, replayed_at, zero_on == 7)
        seen = plain(strong.seen_code)
        run = plain(strong.mallory(replay, REPLAY_REQUESTS))
    assert run["dashboard"] != username, (
        "stage 7 let your browser into Alice's account with a code she had used already: what did your function "
        "send besides the replay?")
    wrong = _replay_went_wrong(run, username, seen)
    assert wrong is None, f"your replay got into stage 6; on stage 7, {wrong}"
    refused = [r["status"] for r in run["requests"] if r["method"] == "POST" and r["path"] == "/verify-2fa"
               and _digits(r["otp"]) == seen]
    assert 401 in refused, (
        f"on stage 7 the code Mallory saw was answered {refused}, not refused as used (401): replay it as on stage 6.")


# --- 7.1 -----------------------------------------------------------------

CHANGES_QUERY = re.compile(r"SELECT\s+(total_)?changes\(\s*\)\s*;?", re.I)


def _one_statement(statements, verb, what):
    # Asking SQLite how many rows the write changed (SELECT changes()) reads no table: still one check.
    statements = [s for s in statements if not CHANGES_QUERY.fullmatch(s)]
    assert len(statements) == 1 and statements[0].upper().startswith(verb), (
        f"do the check and the change in one {verb} ... WHERE ... (no SELECT first): between a SELECT and "
        f"the {verb} another worker can {what}. Your SQL: {statements}"
    )


@exercise("7.1", "Accept each time step once", uses=["accept_once"])
def check_accept_once(accept_once):
    step = TIMECODE + DRAW.randrange(-10 ** 6, 10 ** 6)   # a step of these weeks, another on each run

    def accepted(db, user_id, timecode):
        return plain_result(accept_once(db, user_id, timecode), "accept_once")

    # A users table in a file, opened twice: two workers of one app, as under gunicorn -w 4.
    with _temporary_folder() as folder:
        path = os.path.join(folder, "users.sqlite")
        db, other_worker = _lesson().users_db(path), _lesson().users_db(path)
        try:
            first, statements = _statements(db, accept_once, db, 1, step)
            first = plain_result(first, "accept_once")
            assert first is True, (
                f"the first use of a step should give True, got {first!r}. Return whether the UPDATE changed "
                "a row (last_timecode starts as NULL: allow that in the WHERE clause)."
            )
            assert _last(db, 1) == step, "after accepting, users.last_timecode should hold that step: SET last_timecode = ?."
            _one_statement(statements, "UPDATE", "accept the same code")
            _sql_kept_fixed(db, [step], "the step")
            assert re.search(r"where.*last_timecode", statements[0], re.I | re.S), (
                "the UPDATE's WHERE clause should compare last_timecode with the new step, so the check and "
                "the write are one."
            )
            assert _last(other_worker, 1) == step, (
                "another connection (another worker) cannot see the new last_timecode: commit it (put the "
                "UPDATE inside `with db:`)."
            )
            again = accepted(db, 1, step)
            assert again is False, (
                f"the same step a second time should give False (a replayed code), got {again!r}: "
                "only change the row when last_timecode < the new step (not <=)."
            )
            older = accepted(db, 1, step - 1)
            assert older is False, "an older step than the last one accepted must give False too."
            assert _last(db, 1) == step, "a refused step must not change last_timecode."
            assert accepted(db, 1, step + 1) is True, "a later step (the next code) should give True."
            assert accepted(db, 2, step) is True, (
                "bob's first code was refused: each user has their own last_timecode (WHERE id = ?)."
            )
            assert _last(db, 1) == step + 1, "accepting bob's code changed alice's row: put id = ? in the WHERE clause."
            assert accepted(other_worker, 1, step + 1) is False, (
                "a second worker accepted a step the first had already used."
            )
        finally:
            db.close()
            other_worker.close()


@hidden_check("7.1")
def check_accept_once_far_steps(accept_once):
    db = _lesson().users_db()
    far = 2 ** 40 + DRAW.randrange(2 ** 20)
    assert plain_result(accept_once(db, 2, far), "accept_once") is True, "a very large step should work like any other."
    assert plain_result(accept_once(db, 2, far), "accept_once") is False
    assert plain_result(accept_once(db, 1, 1), "accept_once") is True, "alice's first step is hers alone."


@hidden_check("7.1")
def check_accept_once_drawn_steps(accept_once):
    """Steps drawn on each run, some replayed, some older, for both users: against what they should give."""
    db, last = _lesson().users_db(), {1: None, 2: None}
    start = DRAW.randrange(10 ** 7, 10 ** 8)
    for _ in range(30):
        user_id = DRAW.choice((1, 2))
        known = last[user_id]
        step = start + DRAW.randrange(50) if known is None else known + DRAW.choice((-3, -1, 0, 0, 1, 2, 7))
        expected = known is None or step > known
        got = plain_result(accept_once(db, user_id, step), "accept_once")
        assert got is expected, (
            f"user {user_id}'s step {step}, the last one accepted being {known}, gave {got!r}, not {expected}: "
            "accept a step only when it is later than the last one accepted for that user."
        )
        if expected:
            last[user_id] = step
        assert _last(db, user_id) == last[user_id], "last_timecode should hold the last step accepted."


# --- 7.2 -----------------------------------------------------------------

LESSON_EXAMPLES = (0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 50)   # the failure counts the lesson works out


def _delay(throttle_delay, failures):
    return plain_result(throttle_delay(failures), f"throttle_delay({failures})")


@exercise("7.2", "Wait longer after each failure", uses=["throttle_delay"])
def check_throttle_delay(throttle_delay):
    # Each count asked twice, in an order drawn on each run: the same count must give the same delay.
    asked = [*range(12)] * 2
    DRAW.shuffle(asked)
    given = {}
    for failures in asked:
        got = _delay(throttle_delay, failures)
        before = given.setdefault(failures, got)
        assert got == before, (
            f"throttle_delay({failures}) gave {before!r}, then {got!r} when asked again: work the delay out from "
            "failures alone, keeping nothing between calls (the app asks for any account, in any order)."
        )
    for failures in range(5):
        got = _delay(throttle_delay, failures)
        assert got == 0, f"throttle_delay({failures}) gave {got!r}: the first 5 failures cost nothing (0 seconds)."
    # the lesson's examples, then counts drawn on each run, against the rule worked out here
    drawn = [DRAW.randrange(12) for _ in range(6)] + [DRAW.randrange(12, 10 ** 9) for _ in range(6)]
    for failures in [*LESSON_EXAMPLES, *drawn]:
        expected = 0 if failures < 5 else min(900, 30 * 2 ** min(failures - 5, 10))
        got = _delay(throttle_delay, failures)
        assert got == expected, (
            f"throttle_delay({failures}) gave {got!r}, expected {expected}: 30 s after the 5th failure, "
            "doubled after each further one, never more than 900 s (15 minutes). Work the first few out by hand "
            "from the lesson's section \"Throttling\", then compare with what your function gives."
        )


@hidden_check("7.2")
def check_throttle_delay_never_shrinks(throttle_delay):
    delays = [_delay(throttle_delay, failures) for failures in range(200)]
    assert delays == sorted(delays), "the delay must never get shorter as failures add up."
    assert _delay(throttle_delay, 10 ** 6) == 900, "a huge number of failures should still wait 900 s, not more."


# --- 7.3 and 7.4: a stranger who keeps the owner out, and device cookies ------------------------

DAY = 24 * 3600
OWNER_PASSWORD = "correct horse battery"
OWNER_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
STRANGER_REQUESTS = 600    # a right attack needs about 120
OWNER_TRIES = 8


class _StillGoing(Exception):
    """The stranger's attack sent more requests than a right one needs many times over."""


class Stage7WithAnOwner:
    """Stage 7 (or, ``per_account_only``, stage 7 with one bucket per account) in ``folder``, where an owner
    called ``username`` enrolled from her browser; she keeps that browser and is logged out."""

    def __init__(self, folder, username, per_account_only=True):
        from ..fixed_clock import FixedClock
        from ..stage_variants import without_device_cookies

        self.database, self.username = os.path.join(folder, "users.sqlite"), username
        self.clock = FixedClock(1_700_000_000)
        self.app, self.owner, _phone = enrolled_owner(
            7, self.database, username, OWNER_PASSWORD, self.clock,
            adjust=without_device_cookies if per_account_only else None)
        self.clock.advance(60)

    def stranger(self, keep_out, limit):
        """``keep_out(its browser, username, clock)``: the statuses of the requests it sent, and whether it
        had to be stopped after ``limit`` of them."""
        browser, statuses = self.app.test_client(), []
        send = browser.open

        def counted(*args, **kwargs):
            if len(statuses) >= limit:
                raise _StillGoing()
            response = send(*args, **kwargs)
            statuses.append(response.status_code)
            return response

        browser.open = counted
        try:
            keep_out(browser, self.username, self.clock)
        except _StillGoing:
            return {"statuses": statuses, "stopped": True}
        return {"statuses": statuses, "stopped": False}

    def password_failures(self):
        """How many failed passwords the app counted against the owner's account."""
        with sqlite3.connect(self.database) as db:
            return db.execute(
                "SELECT COUNT(*) FROM failures JOIN users ON failures.subject = 'user:' || users.id"
                " WHERE users.username = ? AND failures.kind = 'password'", (self.username,)).fetchone()[0]

    def owner_refused(self, waits):
        """How many of the owner's right passwords, each after a wait of ``waits`` (seconds), got 429."""
        from ..visitor import submit_form

        refused = 0
        for wait in waits:
            self.clock.advance(wait)
            refused += submit_form(self.owner, "/login", username=self.username,
                                   password=OWNER_PASSWORD).status_code == 429
        return refused


@exercise("7.3", "Keep the owner out", uses=["keep_out"])
def check_keep_out(keep_out):
    with _temporary_folder() as folder:
        username = f"{DRAW.choice(OWNER_NAMES)}{DRAW.randrange(10, 100)}"
        world = _lesson().Stage7WithAnOwner(folder, username, True)
        try:
            attack = plain(world.stranger(keep_out, STRANGER_REQUESTS))
        except NotImplementedError:
            raise
        except Exception as error:
            if plain(world.password_failures()) != 0:
                raise
            raise AssertionError(
                f"your function raised {raised_kind(error)} ({_short(raised_message(error), 80)}) before any "
                f"request counted as a failed password for {username!r}: fail at /login, with the username you "
                "were given (a stranger has no password, so the code step is out of reach).") from None
        statuses, stopped = attack["statuses"], attack["stopped"]
        failed = plain(world.password_failures())
        if failed == 0:
            assert 400 not in statuses, (
                "your requests got 400 and counted for nothing: the login form carries a hidden csrf_token. "
                "Send the form as a browser does (submit() copies the hidden fields)."
            )
            raise AssertionError(
                f"none of your requests counted as a failed password for {username!r}: fail at /login, with "
                "the username you were given (a stranger has no password, so the code step is out of reach)."
            )
        assert not stopped, (
            f"your attack sent {STRANGER_REQUESTS} requests and was still going ({failed} failed passwords "
            "counted): while the app makes you wait, more requests count for nothing. Let the clock run for "
            "the wait each 429 names, and stop once that wait is longer than a day."
        )
        refused = plain(world.owner_refused([DRAW.randrange(3600, 36 * 3600) for _ in range(OWNER_TRIES)]))
        assert refused == OWNER_TRIES, (
            f"the owner's right password still got in {OWNER_TRIES - refused} of {OWNER_TRIES} times over the "
            f"following days ({failed} failed passwords counted): your attack stopped too soon. Each 429 says "
            "how long to wait (Retry-After): let the clock run that long and go on, until the wait is longer "
            "than a day."
        )


STRANGERS = "strangers"
DEVICE_LIFETIME = 90 * DAY


def devices_db(path=":memory:"):
    """An empty devices table (id_hash, user_id, expires)."""
    db = sqlite3.connect(path, factory=TextsNotedConnection)
    db.execute("CREATE TABLE devices (id_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, expires REAL NOT NULL)")
    db.commit()
    db.texts.clear()
    return db


def trusted_elsewhere(path, id_hash, user_id, expires):
    """Another worker of the app trusts a browser: its row written, and committed, on a connection of its own."""
    with sqlite3.connect(path) as other:
        other.execute("INSERT INTO devices (id_hash, user_id, expires) VALUES (?, ?, ?)", (id_hash, user_id, expires))
    other.close()


def _same_places(one, other):
    """The longest run of characters two ids have at the same places."""
    longest = run = 0
    for a, b in zip(one, other, strict=False):   # ids of any length: the places both have
        run = run + 1 if a == b else 0
        longest = max(longest, run)
    return longest


def _drawn_after_seeding(function, make_db, *args):
    """Two calls ``function(make_db(), *args)``, each after random.seed(7) where the student's code runs."""
    where = student_side.module("random")
    state = where.getstate()
    try:
        where.seed(7)
        first = plain_result(function(make_db(), *args), "your function")
        where.seed(7)
        second = plain_result(function(make_db(), *args), "your function")
    finally:
        where.setstate(state)
    return first, second


@exercise("7.4", "Count a trusted browser's failures apart", uses=["trust_browser", "failure_bucket"])
def check_device_buckets(trust_browser, failure_bucket):
    now = 1_700_000_000 + DRAW.randrange(10 ** 6)
    alice, bob = DRAW.sample(range(1, 10 ** 6), 2)

    def bucket(user_id, cookie, when):
        return plain_result(failure_bucket(db, user_id, cookie, when), "failure_bucket")

    with _temporary_folder() as folder:
        path = os.path.join(folder, "devices.sqlite")
        db, other_worker = _lesson().devices_db(path), _sqlite().connect(path)
        try:
            cookie = plain_result(trust_browser(db, alice, now), "trust_browser")
            assert type(cookie) is str and len(cookie) >= 22, (
                f"trust_browser should return the new cookie's value, a random id as text of 128 bits or more, "
                f"not {cookie!r}."
            )
            stored = _rows(db, "SELECT id_hash, user_id, expires FROM devices")
            assert not any(cookie in str(value) for row in stored for value in row), (
                "the table holds the cookie's id as it is: a thief of the database file could copy it into his "
                "own browser and pass for Alice's. Store its hash (hash_id)."
            )
            assert stored == [(sha256_hex(cookie), alice, now + DEVICE_LIFETIME)], (
                f"devices should hold one row, (hash_id(cookie), user_id, now + DEVICE_LIFETIME), not {stored}."
            )
            assert _rows(other_worker, "SELECT COUNT(*) FROM devices") == [(1,)], (
                "another connection (another worker) cannot see the trusted browser: commit it (inside `with db:`)."
            )
            own = bucket(alice, cookie, now + DAY)
            assert own != cookie, (
                "the bucket is the cookie's raw id: buckets are stored with every failure, so a thief of the "
                "database file would read the id there. Name the bucket by the hash."
            )
            assert own == sha256_hex(cookie), (
                f"Alice's own browser, trusted a day ago, got the bucket {own!r}: with one shared bucket, a "
                "stranger's wrong passwords close her own browser too. A trusted browser's bucket is its "
                "cookie's hash."
            )
            made_up = secrets.token_urlsafe(32)
            assert bucket(alice, made_up, now) == STRANGERS, (
                "a cookie the app never issued got a bucket of its own: a stranger would make up a new cookie "
                "for every few guesses and never be paused. Trust a cookie only when its hash is in devices."
            )
            assert bucket(alice, None, now) == STRANGERS, "a browser with no device cookie is a stranger."
            bob_cookie = plain_result(trust_browser(db, bob, now), "trust_browser")
            assert bucket(alice, bob_cookie, now) == STRANGERS, (
                "a browser that bob's account trusts got a bucket of its own on alice's account: a browser is "
                "trusted for one account, so match the user_id too."
            )
            assert bucket(bob, bob_cookie, now) == sha256_hex(bob_cookie), "bob's own browser was not trusted."
            assert bucket(alice, cookie, now + DEVICE_LIFETIME - 1) == sha256_hex(cookie), (
                "a browser trusted 90 days ago less a second no longer counted apart: the trust lasts until `expires`."
            )
            late = bucket(alice, cookie, now + DEVICE_LIFETIME)
            assert late == STRANGERS, (
                "a browser trusted 90 days ago to the second still counted apart: the trust ends at `expires` "
                "(expires > now, not >=)."
            )
            again = plain_result(trust_browser(db, alice, now), "trust_browser")
            assert again != cookie, "two browsers got the same cookie: draw a new random id each time."
            _sql_kept_fixed(db, [sha256_hex(cookie), sha256_hex(bob_cookie), now], "the cookie's hash or the time")
            elsewhere = secrets.token_urlsafe(32)
            _lesson().trusted_elsewhere(path, sha256_hex(elsewhere), alice, now + DAY)
            assert bucket(alice, elsewhere, now) == sha256_hex(elsewhere), (
                "a browser that another worker of the app trusted (its row is in devices, committed) got "
                "the strangers' bucket: ask the table each time, not something your functions remember between "
                "calls (each worker of the app has its own memory)."
            )
            ids = [plain_result(trust_browser(db, DRAW.randrange(1, 10 ** 6), now), "trust_browser") for _ in range(6)]
            fixed = len(os.path.commonprefix(ids))      # a prefix every id has ("dev-"...) hides nothing
            alike = max((_same_places(one[fixed:], other[fixed:]), one, other)
                        for i, one in enumerate(ids) for other in ids[i + 1:])
            assert alike[0] < 10, (   # a uuid4's fixed dashes and version make runs of 8 once in 2,000 runs
                f"two of your ids have {alike[0]} characters alike in the same places ({alike[1]!r}, {alike[2]!r}): "
                "they are not drawn at random. An id made from the time or the machine (uuid1, the clock) is one "
                "anybody can predict: draw it with the `secrets` module."
            )
        finally:
            db.close()
            other_worker.close()
    first, second = _drawn_after_seeding(trust_browser, _lesson().devices_db, 1, 0)
    assert first != second, (
        "after random.seed(7), your cookie came out the same twice: it comes from the `random` module, whose "
        "next numbers anyone can work out. Use the `secrets` module."
    )


# --- 7.5: a ceiling that counts failures, not streaks ----------------------------------------

CEILINGS = ((30 * DAY, 30), (365 * DAY, 100))


def _allowed(attempts, now):
    """Fewer than 30 failures in the last 30 days and fewer than 100 in the last 365 (a failure
    ``window`` seconds old has left the window)."""
    return all(sum(1 for at, succeeded in attempts if not succeeded and now - at < window) < ceiling
               for window, ceiling in CEILINGS)


def _guesser_against_an_owner(may_try, start, days=40):
    """Failures a guesser gets in any 30 days, trying every hour when allowed, while the owner signs in every
    6 hours (40 days: long enough for the first failures to leave the window; each try is a call, which costs
    a round trip to the student's process when graded)."""
    attempts, failures = [], []
    for hour in range(days * 24):
        now = start + hour * 3600
        if hour % 6 == 0:
            attempts.append((now, True))
        if plain_result(may_try(list(attempts), now + 60), "may_try"):
            attempts.append((now + 60, False))
            failures.append(now + 60)
    return max(sum(1 for t in failures if end - 30 * DAY < t <= end) for end in failures) if failures else 0


@exercise("7.5", "A ceiling that counts failures, not streaks", uses=["may_try"])
def check_may_try(may_try):
    seed = RUN_SEED
    rng = random.Random(seed)
    now = 1_700_000_000 + rng.randrange(10 ** 7)

    def failures(count, oldest, newest=1):
        """``count`` failures between ``oldest`` and ``newest`` seconds ago, oldest first."""
        return [(now - rng.randrange(newest, oldest), False) for _ in range(count)]

    def ask(attempts):
        return plain_result(may_try(sorted(attempts), now), "may_try")

    seen = f"(inputs from seed {seed})"
    assert ask([]) is True, "an account with no attempts at all was refused."
    assert ask(failures(29, 30 * DAY)) is True, (
        f"29 failures in the last 30 days were refused: the 30th may still be tried {seen}."
    )
    thirty = failures(30, 30 * DAY)
    if ask(thirty) is True:
        import time

        shift = int(time.time()) - now          # the same attempts, and now, moved to the present
        moved = plain_result(may_try(sorted((at + shift, ok) for at, ok in thirty), now + shift), "may_try")
        assert moved is not False, (
            f"30 failures in the last 30 days, and your function allowed another; the same failures moved to "
            f"today were refused: your function reads the clock. Count against the `now` you are given (the "
            f"app asks about other moments than this one) {seen}."
        )
        raise AssertionError(
            f"30 failures in the last 30 days, and your function allowed another: at most 30 in any 30 days {seen}.")
    old_first = failures(3, 400 * DAY, 366 * DAY) + thirty
    assert ask(old_first) is False, (
        f"30 failures in the last 30 days, after 3 more than a year old, and your function allowed another: the "
        f"list comes oldest first, so an attempt out of the window at its start says nothing about those after "
        f"it. Look at every attempt {seen}."
    )
    owner_between = thirty + [(now - rng.randrange(1, 30 * DAY), True) for _ in range(5)] + [(now - 1, True)]
    assert ask(owner_between) is False, (
        f"30 failures in 30 days with the owner's successes between them, and your function allowed another: "
        f"a success must not wipe the failures before it, and they need not come in a row. Count every "
        f"failure in the window {seen}."
    )
    owner = [(now - hours * 3600, True) for hours in range(6, 6 * 300, 6)]
    assert ask(owner) is True, "300 successes and no failure were refused: only failures count."
    assert ask(failures(60, 300 * DAY, 31 * DAY)) is True, (
        f"60 failures, all more than 30 days old (fewer than 100 in the year), were refused: the 30-day "
        f"ceiling counts the last 30 days only {seen}."
    )
    edge = [(now - 30 * DAY, False)] + failures(29, 30 * DAY)
    assert ask(edge) is True, (
        f"the oldest of 30 failures was exactly 30 days old, so it has left the window (a failure counts "
        f"while now - its time < 30 days): one more try is allowed {seen}."
    )
    assert ask([(now - 30 * DAY + 1, False)] + failures(29, 30 * DAY)) is False, (
        f"30 failures, the oldest one second less than 30 days old, and another try was allowed {seen}."
    )
    year = [(now - DAY - day * 3 * DAY - rng.randrange(DAY), False) for day in range(100)]
    assert ask(year) is False, (
        f"100 failures in the last year (never 30 in 30 days), and another try was allowed: the year's "
        f"ceiling is 100 {seen}."
    )
    assert ask(year[:99]) is True, f"99 failures in the year, 10 in any 30 days, were refused {seen}."
    assert ask(year[:99] + [(now - 360 * DAY - rng.randrange(1, 5 * DAY), False)]) is False, (
        f"99 failures in the year and one 360 to 365 days old, and another try was allowed: the year's window "
        f"is 365 days (365 * 24 * 3600 seconds) {seen}."
    )
    assert ask(year + [(now - 366 * DAY, False)] * 5) is False and ask(year[:99] + [(now - 365 * DAY, False)]) is True, (
        f"a failure 365 days old has left the year's window {seen}."
    )
    worst = _guesser_against_an_owner(may_try, now)
    assert worst <= 30, (
        f"a guesser who tries every hour while the owner signs in every 6 hours got {worst} failures in 30 days: "
        f"the owner's successes must not give the guesser new tries {seen}."
    )
    for _ in range(40):
        attempts = [(now - rng.randrange(1, 400 * DAY), rng.random() < 0.2) for _ in range(rng.randrange(0, 140))]
        attempts += [(now - rng.choice((30 * DAY, 365 * DAY)), False) for _ in range(rng.randrange(3))]
        got, expected = ask(attempts), _allowed(attempts, now)
        assert got is expected, (
            f"for {len(attempts)} attempts ({sum(not ok for _, ok in attempts)} failures) your function said "
            f"{got!r}, not {expected!r}: at most 30 failures in any 30 days and 100 in any 365 {seen}."
        )


# --- 7.A2: a form from another site ----------------------------------------------------------

# The app's port and Mallory's, drawn for each run from ports no lesson names (the stage apps use 5001-5008).
LAB_PORTS = [port for port in range(1024, 49152) if not 5000 <= port <= 5010 and port not in (8000, 8080, 8888)]


class AliceLoggedIn:
    """Stage ``number`` (6 or 7) in ``folder``, where Alice enrolled her phone and is logged in (password and
    code) in her browser, a Flask test client that keeps her cookies: the browser Mallory's page is opened in."""

    def __init__(self, folder, number, app_dir=None):
        from ..fixed_clock import FixedClock
        from ..visitor import submit_form

        clock = FixedClock(1_700_000_000)
        self.app, self.browser, phone = enrolled_owner(
            number, os.path.join(folder, "users.sqlite"), "alice", OWNER_PASSWORD, clock, app_dir=app_dir)
        clock.advance(60)
        submit_form(self.browser, "/login", username="alice", password=OWNER_PASSWORD)
        submit_form(self.browser, "/verify-2fa", otp=phone.code())

    def dashboard(self):
        """The status of Alice's dashboard in her browser: 200 while she is logged in."""
        return self.browser.get("/dashboard").status_code

    def receives(self, method, path, fields, page_url):
        """Alice's browser sends ``method`` ``path`` with ``fields`` and her cookies, from Mallory's page at
        ``page_url``: the app's status."""
        from ..cross_site import send_to_app

        return send_to_app(self.browser, method, path, fields, page_url).status_code


def _mallorys_page(mallorys_page, app_url):
    html = plain_result(mallorys_page(app_url), "mallorys_page(app_url)")
    assert type(html) is str, (
        f"mallorys_page(app_url) returned a {type(html).__name__}: return the page's HTML, as a str, the text a "
        "browser gets from Mallory's server."
    )
    return html


def _submit_that_does_not_run(html):
    """Why a submit() in the page sent nothing ("" when the page has none)."""
    from ..cross_site import SUBMIT_CALL

    return (" Your page does call submit(), but not where a browser runs it as the page loads: in a comment, in a "
            "function nothing calls, in a <script> whose type is not JavaScript, in a handler that waits for Alice, "
            "or on a form inside <template> or <noscript> (no form at all to a browser that runs scripts). And a call "
            "on a form the page does not have, or on a form with a control named submit (which hides the form's own "
            "submit()), stops with an error." if SUBMIT_CALL.search(html) else "")


# The three calls that stop a page's script until the visitor presses a button in a dialog.
DIALOG_CALL = re.compile(r"(?<![\w$])(?:window\s*\.\s*)?(alert|confirm|prompt)\s*\(")


def _dialog_before_submit(html):
    """The dialog (alert, confirm or prompt) a script of the page opens before its first submit(), or None: the
    script stops at the dialog until Alice presses a button in it."""
    from .. import pages
    from ..cross_site import INERT, STRINGS_AND_COMMENTS, SUBMIT_CALL

    page = pages.parse(INERT.sub("", html))
    handlers = [value for _tag, attributes in page.tags for name, value in attributes.items() if name.startswith("on")]
    # inline scripts in the document's order, then the handlers (onload runs once the page is read)
    code = "\n".join(STRINGS_AND_COMMENTS.sub(lambda match: match.group(1) or " ", text)
                     for text in [*page.scripts, *handlers])
    submit, dialog = SUBMIT_CALL.search(code), DIALOG_CALL.search(code)
    return dialog.group(1) if dialog and submit and dialog.start() < submit.start() else None


def _request_to_the_app(request, app_url, page_url, html=""):
    """What the page ``html`` makes Alice's browser send, when it goes to the app: (method, path); else a hint."""
    from urllib.parse import urlsplit

    from ..cross_site import FORM_TO_PRESS, LINK, NOTHING, SCRIPT_REQUEST, TOO_EARLY, origin, path_in_app

    assert request.how != NOTHING, (
        "your page sends nothing: no form, link, image or script in it makes Alice's browser send a request. "
        "Mallory's page must make her browser send one to the app at app_url." + _submit_that_does_not_run(html)
    )
    assert request.how != SCRIPT_REQUEST, (
        "your page builds its request in a script (fetch() or XMLHttpRequest). The check plays a browser that "
        "reads the page's HTML and does not run such scripts; and a real browser sends Alice's cookie with a "
        "fetch() to another origin only when the script asks for it, and reads nothing back. Write the request "
        "as HTML the browser sends by itself, with her cookie, whatever the script says."
    )
    assert request.how != TOO_EARLY, (
        "your script runs before the browser has read the form it submits: a browser runs a <script> where it "
        "meets it, reading the page from the top, so the form below it does not exist yet and nothing is sent. "
        "Put the script where the form already exists, or make it wait until the page is read."
    )
    assert request.how != LINK, (
        f"your page holds a link ({request.url}) that Alice would have to click: she has no reason to, and a link "
        "sends a GET, which is why lesson 06 made logging out a POST. The page must send its request by itself."
    )
    assert request.how != FORM_TO_PRESS, (
        "your page holds a form that waits for Alice to press it: she won't. A forged form works because the "
        "page sends it by itself as it loads, with no click (an onclick waits for one)."
        + _submit_that_does_not_run(html)
    )
    try:
        urlsplit(request.url).port  # noqa: B018 - reading it is the test: a port that is no number raises
    except ValueError:
        raise AssertionError(
            f"your page's request went to {request.url}, which is not an address a browser can send anything to: "
            "the port runs into the path. app_url ends with the port, with no / after it."
        ) from None
    path = path_in_app(request.url, app_url)
    if path is None:
        scheme, host, port = origin(request.url)
        ours = origin(app_url)
        if (scheme, host, port) == origin(page_url):
            raise AssertionError(
                f"your page's request went to {request.url}: that is Mallory's own server, where her page came from, "
                f"not the app. A browser reads an address without a scheme and host against the page it is in, and "
                f"this page is at {page_url}. The app you were given is at {app_url}."
            )
        if scheme != ours[0]:
            raise AssertionError(
                f"your page's request went to {request.url}: {scheme or 'no scheme'} is another scheme than the "
                f"app's ({app_url}), so another origin, where nothing answers."
            )
        if host != ours[1]:
            raise AssertionError(
                f"your page's request went to {request.url}: another host than the app's ({app_url}). The browser "
                "treats each host name as its own, even two names for the same machine."
            )
        raise AssertionError(
            f"your page's request went to {request.url}, but the app is at {app_url} this time (the check draws its "
            "port for each run): build the address from app_url."
        )
    return request.method, path


def _open_on(number, request, page_url):
    """(the app's status, Alice's dashboard status afterwards): ``request`` sent from Mallory's page to stage
    ``number``, where Alice is logged in."""
    with _temporary_folder() as folder:
        alice = _lesson().AliceLoggedIn(folder, number)
        assert plain(alice.dashboard()) == 200, f"the check could not log Alice in to stage {number}"
        method, path, fields = request
        status = plain(alice.receives(method, path, fields, page_url))
        return status, plain(alice.dashboard())


@exercise("7.A2", "A form from another site", uses=["mallorys_page"])
def check_mallorys_page(mallorys_page):
    from ..cross_site import LOADED, SUBMITTED_FORM, what_the_page_sends

    for number in (6, 7):
        app_port, mallory_port = DRAW.sample(LAB_PORTS, 2)
        app_url = f"http://127.0.0.1:{app_port}"
        page_url = f"http://127.0.0.1:{mallory_port}/{DRAW.choice(('prize', 'cats', 'win'))}.html"
        html = _mallorys_page(mallorys_page, app_url)
        request = what_the_page_sends(html, page_url, app_url)
        dialog = _dialog_before_submit(html) if request.how == SUBMITTED_FORM else None
        assert dialog is None, (
            f"your page calls {dialog}() before it submits the form: a dialog stops the page's script until Alice "
            "presses one of its buttons, so the form waits for her press (she won't, and confirm() lets her say "
            "no). Submit without asking her anything."
        )
        method, path = _request_to_the_app(request, app_url, page_url, html)
        status, dashboard = _open_on(number, (method, path, plain(request.fields)), page_url)
        sent = f"your page sent {method} {path.split('?')[0]}"
        if number == 6 and dashboard == 200:
            assert not (status == 405 and method == "GET"), (
                f"{sent}, and stage 6 answered 405 Method Not Allowed: that address changes nothing on a GET, so "
                "Alice is still logged in. "
                + ("An image, a frame or a page refresh always sends a GET." if request.how == LOADED else
                   "A form is sent as a GET unless it says otherwise.")
            )
            assert status != 404, (
                f"{sent}, and stage 6 has no such page (404), so Alice is still logged in. Which of the app's "
                "forms logs out? Look at what the Log out button in the page's header sends."
            )
            raise AssertionError(
                f"{sent}, stage 6 answered {status}{': that address takes no POST' if status == 405 else ''}, "
                "and Alice is still logged in: the request must change something for her, here log her out. Look "
                "at what the Log out button in the page's header sends."
            )
        if number == 7:
            assert status == 400 and dashboard == 200, (
                f"against stage 7, {sent} and got {status}, and Alice's dashboard then answered {dashboard}: stage 7 "
                "should have refused the forged request (400) and left her logged in. Does your page send the same "
                "request whatever app_url it is given?"
            )


# --- 7.A3: a copied session cookie, reused after the owner's logout ------------------------------

# The check's apps name their session cookie anew on each run (never the lesson's stage6_session or stage7_session,
# nor Flask's default "session"), so that the name has to come from the header.
COOKIE_APPS = ("intranet", "mail", "wiki", "shop", "payroll", "forum", "crm", "portal")
COOKIE_KINDS = ("session", "sess", "sid", "login")


def _drawn_cookie_name(number):
    # A capital in every name: a cookie's name is matched exactly, case included.
    return f"{DRAW.choice(COOKIE_APPS).title()}{number}_{DRAW.choice(COOKIE_KINDS)}"


class PaddedSessionCookies:
    """Flask's signed session cookie written in standard base64, with its '=' padding, as some frameworks write
    theirs (express's cookie-session, for one): a value that holds '=' (and may hold '+' and '/'). The check's
    stage 7 runs with it, so that a header is read as a browser reads it, name up to the first '=', value from
    there to the first ';'."""

    def __new__(cls):
        from flask.sessions import SecureCookieSessionInterface

        class Padded(SecureCookieSessionInterface):
            def get_signing_serializer(self, app):
                signed = super().get_signing_serializer(app)
                if signed is None:
                    return None

                class InBase64:
                    @staticmethod
                    def dumps(data):
                        token = signed.dumps(data)
                        token += " " * ((1 - len(token)) % 3)     # one byte over a multiple of 3: '==' at the end
                        return base64.b64encode(token.encode("ascii")).decode("ascii")

                    @staticmethod
                    def loads(value, max_age=None):
                        try:
                            token = base64.b64decode(value.encode("ascii"), validate=True).decode("ascii").rstrip()
                        except ValueError as error:
                            from itsdangerous import BadSignature
                            raise BadSignature("not base64") from error
                        return signed.loads(token, max_age=max_age)
                return InBase64()
        return Padded()


class StageWhereAliceLogsIn:
    """Stage ``number`` (6 or 7) with a database in ``folder``, whose session cookie is called ``cookie_name``
    (``Secure`` when ``secure``; ``same_site`` its SameSite attribute, None for none), and where ``username``
    enrolled her phone and logged out. Her password and the app's key are drawn here and told to no one."""

    def __init__(self, number, folder, username, cookie_name, secure=False, same_site=None, app_dir=None,
                 padded=False):
        from ..fixed_clock import FixedClock

        def in_base64(app):
            app.session_interface = PaddedSessionCookies()

        self.username, self.password = username, secrets.token_urlsafe(12)
        self.clock = FixedClock(1_700_000_000)
        self.app, self.alice, self.phone = enrolled_owner(
            number, os.path.join(folder, f"stage{number}.sqlite"), username, self.password, self.clock,
            SECRET_KEY=secrets.token_hex(32), SESSION_COOKIE_NAME=cookie_name, SESSION_COOKIE_SECURE=secure,
            SESSION_COOKIE_SAMESITE=same_site, app_dir=app_dir, adjust=in_base64 if padded else None)
        self.cookie_name = self.app.config["SESSION_COOKIE_NAME"]   # stage 7 puts __Host- before a Secure one
        self.clock.advance(60)

    def log_in(self):
        """Alice logs in with both factors: the Set-Cookie header that gave her browser its session, as a proxy's
        log keeps it."""
        from ..visitor import submit_form

        submit_form(self.alice, "/login", username=self.username, password=self.password)
        response = submit_form(self.alice, "/verify-2fa", otp=self.phone.code())
        return next(line for line in response.headers.getlist("Set-Cookie")
                    if line.startswith(self.cookie_name + "="))

    def log_out(self):
        """Alice presses Log out; where the app sends her."""
        from ..visitor import submit_form

        return submit_form(self.alice, "/dashboard").headers.get("Location")

    def thief(self, reuse_cookie, set_cookie_header):
        """``reuse_cookie(browser, set_cookie_header)`` on a fresh browser (the thief's), then a GET of /dashboard in
        that browser: the requests the function sent, the cookies it left in the browser ([name, value, domain, path],
        values as the app reads them), the session cookie's values the app itself set meanwhile, and what /dashboard
        gave."""
        browser, sent, set_by_the_app = self.app.test_client(), [], []
        send = browser.open

        def recorded(*args, **kwargs):
            response = send(*args, **kwargs)
            sent.append(f"{response.request.method} {response.request.path}")
            for line in response.headers.getlist("Set-Cookie"):
                name, _, rest = line.partition("=")
                if name == self.cookie_name:
                    set_by_the_app.append(rest.partition(";")[0])
            return response

        # While the thief's code runs, the app signs with a key of the moment (and still reads what its own key
        # signed): a session that code signs itself, with the key a test client can reach, is told from the copy.
        key, of_the_moment = self.app.config["SECRET_KEY"], secrets.token_hex(32)
        self.app.config.update(SECRET_KEY=of_the_moment, SECRET_KEY_FALLBACKS=[key])
        browser.open = recorded
        try:
            reuse_cookie(browser, set_cookie_header)
        finally:
            browser.open = send
            self.app.config.update(SECRET_KEY=key, SECRET_KEY_FALLBACKS=[of_the_moment])
        held = [[cookie.decoded_key, cookie.decoded_value, cookie.domain, cookie.path]
                for cookie in browser._cookies.values()]
        dashboard = browser.get("/dashboard")
        heading = re.search(r"<h1>(.*?)</h1>", dashboard.get_data(as_text=True), re.S)
        return {"sent": sent, "cookies": held, "set_by_the_app": set_by_the_app, "host": dashboard.request.host,
                "status": dashboard.status_code, "location": dashboard.headers.get("Location"),
                "heading": heading.group(1).strip() if heading else None}


@reference_only
def _logged_cookie(set_cookie_header):
    """The name and value of the cookie a Set-Cookie header sets (the checks' own reading of it)."""
    cookie, _, attributes = set_cookie_header.partition(";")
    name, _, value = cookie.partition("=")
    return name.strip(), value.strip(), attributes


def _short(value, length=24):
    return repr(value if len(value) <= length else value[:length] + "...")


def _thief(world, reuse_cookie, header):
    """What the thief's browser got with ``reuse_cookie``, as plain values; a hint for an older Werkzeug's call."""
    try:
        return plain(world.thief(reuse_cookie, header))
    except NotImplementedError:
        raise
    except Exception as error:
        if raised(error, "TypeError") and "set_cookie" in raised_message(error):
            raise AssertionError(
                f"your code raised TypeError in set_cookie ({raised_message(error)}). The test client's set_cookie "
                "changed in Werkzeug 3, the version this workbook runs: the server name that older examples pass "
                "first is gone, and its first argument is the cookie's name. help(browser.set_cookie) lists what "
                "it takes.") from None
        if raised(error, "AttributeError") and "NoneType" in raised_message(error):
            raise AssertionError(
                f"your code raised AttributeError ({raised_message(error)}) on the header {_short(header, 40)}: a "
                "search of yours found nothing there (a regex gives None when it does not match). The check's apps "
                "name their cookie anew on each run, never as the lesson's stage apps do: read the name from the "
                "header, whatever it is, up to its first '='.") from None
        if raised(error, "ValueError") and "unpack" in raised_message(error):
            raise AssertionError(
                f"your code raised ValueError ({raised_message(error)}) on the header {_short(header, 40)}. A "
                "cookie's value may hold '=' (base64 pads with it, as this app's does): split the pair at the first "
                "'=' only. The name ends there; the value runs from it to the first ';'.") from None
        raise


def _copy_got_in(seen, header, username, where):
    """Refuse, with the mistake named, unless the thief's browser opened the owner's dashboard with the header's
    cookie."""
    name, value, attributes = _logged_cookie(header)
    allowed = {value, *seen["set_by_the_app"]}        # the header's value, or one the app itself set since
    in_her_account = seen["status"] == 200 and username in (seen["heading"] or "")
    copies = [cookie for cookie in seen["cookies"] if cookie[0] == name and cookie[1] in allowed]
    if in_her_account and copies:
        return
    posted = [request for request in seen["sent"] if not request.startswith(("GET ", "HEAD "))]
    if posted:
        raise AssertionError(
            f"{where}, your function sent {', '.join(posted)}: the thief has no password (the check draws a new one "
            "on each run) and no phone for the code after it. The logged header is all the thief has, and it is "
            "enough: "
            "its cookie is Alice's session.")
    if in_her_account:
        raise AssertionError(
            f"{where}, the thief's browser got into Alice's account, but not with the cookie from the header: your "
            "code made a session cookie itself, signed with the app's own key (session_transaction does that, and "
            "so does lesson 02's serializer given the app's secret_key), a key the thief does not have. Put the "
            "header's cookie itself into the browser.")
    cookies = seen["cookies"]
    if not cookies:
        raise AssertionError(
            f"{where}, the thief's browser holds no cookie after your function: put the header's cookie into the "
            "browser you were given. The check opens /dashboard in that one; a browser your function makes or "
            "returns is not the thief's.")
    named = [cookie for cookie in cookies if cookie[0] == name]
    if not named:
        got = next((cookie for cookie in cookies if cookie[1] == value), cookies[0])[0]
        default = " ('session' is only Flask's default name)" if got == "session" else ""
        raise AssertionError(
            f"{where}, the thief's browser holds a cookie named {got!r}, but the app's cookie is called {name!r}"
            f"{default}, and an app reads its own cookie only. Take the name from the header, before its first "
            "'=': the check's apps name their cookie anew on each run.")
    cookie = named[-1]
    got = cookie[1]
    rule = "A cookie's value runs from the '=' after its name up to the first ';'."
    if got not in allowed:
        if got.startswith(value):
            raise AssertionError(
                f"{where}, your cookie's value runs on past the first ';' into the attributes ({_short(got[len(value):])} "
                "after the value). What follows the first ';' are instructions to the browser (where to send the "
                f"cookie, whether scripts may read it), never sent back to the app. {rule}")
        if got and got in attributes:
            raise AssertionError(
                f"{where}, your cookie's value is {got!r}, which comes from the attributes after the first ';', not "
                f"the value. {rule}")
        if value.startswith(got) and value[len(got):].startswith("="):
            raise AssertionError(
                f"{where}, your cookie's value stops at an '=' inside it: {_short(got)}, then {_short(value[len(got):])}. "
                "A cookie's value may hold '=' (base64 pads with it, as this app's does): only the first '=' ends "
                f"the name. {rule}")
        if value.startswith(got):
            raise AssertionError(f"{where}, your cookie's value is cut short: {_short(got)}. {rule}")
        raise AssertionError(
            f"{where}, your cookie {name!r} holds {_short(got)}, not the header's value {_short(value)}: copy the "
            "value from the header you are given, as it is. Each app of the check signs with a key drawn on each "
            "run, so a value from elsewhere (the lesson's log line) opens nothing, and a value your code signs "
            "needs the app's own key, which the thief does not have.")
    if cookie[2] != seen["host"]:
        raise AssertionError(
            f"{where}, the thief's browser holds the header's cookie, but for the domain {cookie[2]!r}, and the app "
            f"answers the thief's browser at {seen['host']!r} (the test client's host): a browser sends a cookie only "
            "to its own domain. The header names no Domain, so the cookie belongs to the host that sent it: the one "
            "the thief's browser talks to.")
    if not "/dashboard".startswith(cookie[3].rstrip("/") or "/"):
        raise AssertionError(
            f"{where}, the thief's browser holds the header's cookie, but for the path {cookie[3]!r}, so it is not "
            "sent to /dashboard. The header says which path (Path=...).")
    if got != value:
        raise AssertionError(
            f"{where}, the thief's browser holds no copy of the header's cookie, only one the app set for it on a "
            f"request your function sent ({', '.join(seen['sent'])}): the session of nobody. Put the header's cookie "
            "into the browser itself, to keep: a Cookie header passed to one request is not kept (and this test "
            "client sends the cookies it holds in its place).")
    raise AssertionError(
        f"{where}, the thief's browser holds the header's cookie, yet /dashboard gave {seen['status']}"
        f"{' -> ' + seen['location'] if seen['location'] else ''}, not Alice's page (your function sent: "
        f"{', '.join(seen['sent']) or 'nothing'}). Put the cookie into the browser, and do nothing else with it.")


@exercise("7.A3", "Reuse a copied session cookie", uses=["reuse_cookie"])
def check_reuse_cookie(reuse_cookie):
    username = f"{DRAW.choice(OWNER_NAMES)}{DRAW.randrange(10, 100)}"
    with _temporary_folder() as folder:
        # Stage 6, with cookie attributes of its own drawn (another deployment of the same app).
        stage6 = _lesson().StageWhereAliceLogsIn(6, folder, username, _drawn_cookie_name(6), DRAW.random() < 0.5,
                                                  DRAW.choice((None, "Lax", "Strict")))
        header = plain(stage6.log_in())
        stage6.log_out()
        _copy_got_in(_thief(stage6, reuse_cookie, header), header, username, "On stage 6, after Alice's logout")
        # Stage 7: the same function, while she is logged in (it gets in), then after her logout (it must not).
        # Stage 7 writes its session cookie's value in padded base64 (another deployment): it holds '='.
        stage7 = _lesson().StageWhereAliceLogsIn(7, folder, username, _drawn_cookie_name(7), DRAW.random() < 0.5,
                                                  "Lax", padded=True)
        header = plain(stage7.log_in())
        _copy_got_in(_thief(stage7, reuse_cookie, header), header, username,
                     "On stage 7, while Alice was still logged in (a copy works there too, until the server ends "
                     "her session)")
        stage7.log_out()
        after = _thief(stage7, reuse_cookie, header)
        assert after["status"] != 200, (
            f"On stage 7, after Alice's logout, the thief's browser still got into her account (your function "
            f"sent: {', '.join(after['sent']) or 'nothing'}): stage 7 ended her session on the server, so the copied "
            "cookie alone opens nothing. The thief has only the logged header: put its cookie into the browser, "
            "nothing more.")


# --- 7.6 and 7.9: sessions, wrong tries at /replace-phone ------------------------------------

IDLE_SECONDS, MAX_SECONDS = 30 * 60, 12 * 3600
LOGIN_TIME = 1_700_000_000
SESSIONS = (("alice-laptop", 1), ("alice-phone", 1), ("bob-laptop", 2))


def sessions_db(login_time=LOGIN_TIME, sessions=SESSIONS, path=":memory:"):
    """Stage 7's sessions table, holding ``sessions`` ((id, user_id) pairs), each started and last seen at
    ``login_time`` (in the database file ``path``, or in memory). Its ``id_hash`` column keeps each session id's
    SHA-256, as stage 7's does (the ids here stand for those hashes); ``reauth_failures`` counts 7.9's tries."""
    db = sqlite3.connect(path, factory=TextsNotedConnection)
    db.row_factory = sqlite3.Row
    db.executescript("""
        CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, started REAL NOT NULL,
                               last_seen REAL NOT NULL, reauth_failures INTEGER NOT NULL DEFAULT 0);
    """)
    for session_id, user_id in sessions:
        db.execute("INSERT INTO sessions (id_hash, user_id, started, last_seen) VALUES (?, ?, ?, ?)",
                   (session_id, user_id, login_time, login_time))
    db.commit()
    db.texts.clear()
    return db


def open_db(path):
    """Another connection to the database file ``path``: another worker of the same app."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    return db


NOT_COMMITTED = ("your change is not committed: another connection to the same database file (another worker of "
                 "the app, or the app after a restart) does not see it, and it is lost when this connection "
                 "closes. The exercise's last line says how to commit each write.")


@exercise("7.6", "End sessions on the server", uses=["session_user", "end_all_sessions"])
def check_session_user(session_user, end_all_sessions):
    # The sessions table in a file, opened twice: the connection your functions get, and another worker's.
    with _temporary_folder() as folder:
        connections = []
        try:
            _check_session_user(session_user, end_all_sessions, os.path.join(folder, "sessions.sqlite"), connections)
        finally:
            for connection in connections:
                connection.close()


def _check_session_user(session_user, end_all_sessions, path, connections):
    login = LOGIN_TIME + DRAW.randrange(10 ** 6)

    def user(session_id, now, *limits):
        return plain_result(session_user(db, session_id, now, *limits), "session_user")

    db = _lesson().sessions_db(login, SESSIONS, path)
    other_worker = _lesson().open_db(path)
    connections += [db, other_worker]
    got = user("alice-laptop", login + 60)
    assert got == 1, (
        f"a session used a minute ago should give its user_id 1, got {got!r}."
        + (" If you hash session_id: it is already what the table keeps in id_hash (the app hashed the cookie's "
           "id), so look it up as it is, without hashing it again." if got is None else "")
    )
    assert user("no-such-session", login) is None, (
        "a session id that is not in the table (a forged or ended one) must give None."
    )
    _sql_kept_fixed(db, ["alice-laptop", "no-such-session"], "the session id")
    # A busy user: a request every 20 minutes for nearly 12 hours.
    for now in [*range(login + 20 * 60, login + MAX_SECONDS, 20 * 60), login + MAX_SECONDS - 60]:
        got = user("alice-laptop", now)
        assert got == 1, (
            f"alice, busy all along (a request every 20 minutes), was logged out {int((now - login) / 60)} "
            "minutes after her login: set last_seen = now each time the session is used, so the 30 idle "
            "minutes count from her last request, not from the login."
        )
    seen_elsewhere = _rows(other_worker, "SELECT last_seen FROM sessions WHERE id_hash = 'alice-laptop'")
    assert seen_elsewhere == [(now,)], f"alice's last_seen moved to {now} on your connection, but {NOT_COMMITTED}"
    idle = user("bob-laptop", login + IDLE_SECONDS + 1)
    assert idle is None, (
        "bob's session, unused for 30 minutes and 1 second, still gave his user_id: end a session when "
        "now - last_seen > idle_seconds (the idle limit, 30 * 60 unless the call says otherwise)."
    )
    assert user("bob-laptop", login + 60) is None, (
        "an idle session came back to life: delete its row when it times out."
    )
    assert not _rows(other_worker, "SELECT id_hash FROM sessions WHERE id_hash = 'bob-laptop'"), (
        f"bob's timed-out session is gone from your connection, but {NOT_COMMITTED}")
    late = user("alice-laptop", login + MAX_SECONDS + 1)
    assert late is None, (
        "alice's session, busy all along, still worked 12 hours after her login: end a session when "
        "now - started > max_seconds (12 * 3600 unless the call says otherwise), however recent the last "
        "request (the absolute limit)."
    )
    db.close()
    os.remove(path)
    db = _lesson().sessions_db(login, SESSIONS, path)
    other_worker = _lesson().open_db(path)
    connections += [db, other_worker]
    end_all_sessions(db, 1)
    left = {row[0] for row in _rows(db, "SELECT id_hash FROM sessions")}
    assert left == {"bob-laptop"}, (
        f"after end_all_sessions(db, 1) these sessions are left: {sorted(left)}. Delete every session of "
        "that user (a stolen copy of any cookie must open nothing), and no one else's."
    )
    elsewhere = {row[0] for row in _rows(other_worker, "SELECT id_hash FROM sessions")}
    assert elsewhere == {"bob-laptop"}, (
        f"end_all_sessions ended alice's sessions on your connection, but {NOT_COMMITTED} (another worker still "
        f"lets in {sorted(elsewhere - {'bob-laptop'})})")
    assert user("alice-phone", login + 60) is None, "an ended session still gave its user."
    # Another app's limits, drawn on each run, longer than the defaults and then shorter: the call gives them.
    for shorter in (False, True):
        db.close()
        os.remove(path)
        db = _lesson().sessions_db(login, SESSIONS, path)
        connections.append(db)
        _check_given_limits(user, login, shorter)


def _drawn_limits(shorter=None):
    """An idle limit and an absolute one other than 30 minutes and 12 hours: both shorter than those, both
    longer, or (``shorter=None``) each drawn either way."""
    idle_shorter, longest_shorter = (shorter, shorter) if shorter is not None else (DRAW.random() < 0.5,
                                                                                   DRAW.random() < 0.5)
    idle = (DRAW.randrange(5, 26) if idle_shorter else DRAW.randrange(35, 120)) * 60
    longest = (DRAW.randrange(2, 11) if longest_shorter else DRAW.randrange(14, 25)) * 3600 + DRAW.randrange(3600)
    return idle, longest


def _check_given_limits(user, login, shorter):
    """``user(session_id, now, idle_seconds, max_seconds)`` on a fresh SESSIONS table whose sessions began at
    ``login``, with limits shorter (or longer) than the defaults: a limit kept at its default, or at the smaller or
    larger of the two, fails one of the two runs. Each limit is tried at its edge: exactly idle_seconds (or
    max_seconds) since is not yet more than it."""
    idle, longest = _drawn_limits(shorter)
    minutes = f"idle_seconds={idle} ({idle // 60} minutes)"
    for session_id, after, expected in (("alice-laptop", idle, 1), ("bob-laptop", idle + 60, None)):
        got = user(session_id, login + after, idle, longest)
        edge = " (exactly the limit: a session ends when it has been idle for more than idle_seconds)" if (
            after == idle) else ""
        assert got == expected, (
            f"called with {minutes}, a session idle for {after // 60} minutes{edge} gave {got!r}, not {expected!r}: "
            "compare with the idle_seconds the call gives you; 30 * 60 is only its default (stage 7 passes "
            "the limit of its settings)."
        )
    # Alice busy all along, with requests closer together than the idle limit, until past the absolute one.
    busy_idle = DRAW.randrange(40, 90) * 60
    hours = f"max_seconds={longest} ({longest / 3600:.1f} hours)"
    step = busy_idle - 5 * 60
    for now in [*range(login + step, login + longest, step), login + longest - 60, login + longest]:
        got = user("alice-phone", now, busy_idle, longest)
        edge = (" (exactly the limit: a session ends when it started more than max_seconds ago)"
                if now == login + longest else "")
        assert got == 1, (
            f"called with {hours} and idle_seconds={busy_idle} ({busy_idle // 60} minutes), alice's session, busy "
            f"all along (a request every {step // 60} minutes), ended {(now - login) / 3600:.1f} hours after her "
            f"login{edge}: compare with the max_seconds and the idle_seconds the call gives you; 12 * 3600 and "
            "30 * 60 are only their defaults."
        )
    got = user("alice-phone", login + longest + 60, busy_idle, longest)
    assert got is None, (
        f"called with {hours}, alice's session, busy all along, still worked a minute past that limit: "
        "compare with the max_seconds the call gives you; 12 * 3600 is only its default."
    )


@hidden_check("7.6")
def check_session_user_drawn_days(session_user, end_all_sessions):
    """Sessions with ids, users, request times and limits drawn on each run, against the limits worked out here."""
    login = LOGIN_TIME + DRAW.randrange(10 ** 7)
    users = DRAW.sample(range(1, 10 ** 6), 3)
    sessions = [(hashlib.sha256(secrets.token_bytes(16)).hexdigest(), DRAW.choice(users)) for _ in range(6)]
    db = _lesson().sessions_db(login, sessions)
    given = DRAW.random() < 0.5      # the limits passed as keywords, or the defaults
    idle, longest = _drawn_limits() if given else (IDLE_SECONDS, MAX_SECONDS)
    limits = {"idle_seconds": idle, "max_seconds": longest} if given else {}
    state = {session_id: [user_id, login, login] for session_id, user_id in sessions}   # user, started, last seen
    now = login
    for _ in range(60):
        # Steps that keep clear of the limits' exact edges: well inside, or well past the idle limit.
        now += DRAW.choice((DRAW.randrange(60, idle - 60), DRAW.randrange(60, min(600, idle - 60)),
                            DRAW.randrange(idle + 60, 2 * idle)))
        while now - login == longest or any(now - seen == idle for _, _, seen in state.values()):
            now += 1     # never on a limit's exact edge, where > and >= part ways
        session_id = DRAW.choice(sessions)[0]
        expected, known = None, state.get(session_id)
        if known:
            user_id, started, last_seen = known
            seen = f"started at {started} and last seen at {last_seen}"
            if now - last_seen > idle or now - started > longest:
                del state[session_id]
            else:
                known[2], expected = now, user_id
        else:
            seen = "ended before"
        got = plain_result(session_user(db, session_id, now, **limits), "session_user")
        assert got == expected, (
            f"a session {seen}, used at {now}, gave {got!r}, not {expected!r}: at most {idle // 60} idle minutes "
            f"since the last request, {longest / 3600:.1f} hours since the login"
            + (f" (the call gave idle_seconds={idle}, max_seconds={longest})." if given else " (the defaults).")
        )
    ended = DRAW.choice(users)
    end_all_sessions(db, ended)
    left = {row[0] for row in _rows(db, "SELECT id_hash FROM sessions WHERE user_id = ?", (ended,))}
    assert not left, "end_all_sessions left sessions of that user."


def _failures(db, session_id):
    return _rows(db, "SELECT reauth_failures FROM sessions WHERE id_hash = ?", (session_id,))[0][0]


@exercise("7.9", "Count wrong tries against the session", uses=["count_reauth_try"])
def check_count_reauth_try(count_reauth_try):
    def counted(session_id, **allowed):
        return plain_result(count_reauth_try(db, session_id, **allowed), "count_reauth_try")

    with _temporary_folder() as folder:
        path = os.path.join(folder, "sessions.sqlite")
        db = _lesson().sessions_db(LOGIN_TIME, SESSIONS, path)
        other_worker = _lesson().open_db(path)
        try:
            first, statements = _statements(db, count_reauth_try, db, "alice-laptop")
            answers = [plain_result(first, "count_reauth_try")] + [counted("alice-laptop") for _ in range(4)]
            assert answers[:3] == [True, True, True], (
                f"the first 3 tries in a session should give True, got {answers[:3]}: add one to "
                "reauth_failures in an UPDATE whose WHERE clause refuses a 4th try; rowcount says whether it went "
                "ahead."
            )
            assert answers[3:] == [False, False], (
                f"tries 4 and 5 gave {answers[3:]}: after 3 tries the session is spent (False), and the app ends it. "
                "Compare with < allowed, not <=."
            )
            count = _failures(db, "alice-laptop")
            assert count, (
                "nothing was counted in the session's row (reauth_failures is still 0): the count must live in the "
                "database, where every worker of the app and every copy of the cookie meets it, not in Python."
            )
            assert count in (3, 5), (
                f"after 5 tries, 3 of them let through, reauth_failures is {count}: count each try once."
            )
            _one_statement(statements, "UPDATE", "count the same try")
            assert _failures(other_worker, "alice-laptop") == count, NOT_COMMITTED
            other = counted("alice-phone")
            assert other is True, (
                "alice's other session was refused after her laptop's session used its tries: count against the "
                "session (WHERE id_hash = ?), not the account. Otherwise a stolen cookie locks the owner out."
            )
            assert _failures(db, "bob-laptop") == 0, "bob's session was counted too: WHERE id_hash = ? on the session."
            gone = counted("a-session-that-ended")
            assert gone is False, (
                f"a session that is not in the table (no such session: it has ended) gave {gone!r}: return whether "
                "the UPDATE counted a try in that session's row (rowcount == 1), so that an ended session gets "
                "no more tries."
            )
            allowed = DRAW.choice((1, 2, 4, 5))     # never the default 3
            strict = [counted("bob-laptop", allowed=allowed) for _ in range(allowed + 1)]
            assert strict == [True] * allowed + [False], (
                f"with allowed={allowed}, bob's session gave {strict}, not {[True] * allowed + [False]}: use the "
                "`allowed` you are given, not a number of your own."
            )
            _sql_kept_fixed(db, ["alice-laptop", "alice-phone", "bob-laptop", "a-session-that-ended"], "a session id")
        finally:
            db.close()
            other_worker.close()


@hidden_check("7.9")
def check_count_reauth_try_is_one_update(count_reauth_try):
    db = _lesson().sessions_db()
    result, statements = _statements(db, count_reauth_try, db, "alice-laptop")
    assert plain_result(result, "count_reauth_try") is True
    assert len(statements) == 1 and statements[0].upper().startswith("UPDATE"), (
        "count and check in one UPDATE ... WHERE reauth_failures < ?: with a SELECT first, a burst of "
        f"requests sent at once all see the old count. Your SQL: {statements}"
    )


@hidden_check("7.9")
def check_count_reauth_try_drawn_limits(count_reauth_try):
    """Session ids and limits drawn on each run, against the count worked out here."""
    sessions = [(secrets.token_urlsafe(12), DRAW.randrange(1, 10 ** 6)) for _ in range(3)]
    db = _lesson().sessions_db(LOGIN_TIME, sessions)
    for _ in range(25):
        session_id, allowed = DRAW.choice(sessions)[0], DRAW.randrange(1, 6)
        before = _failures(db, session_id)
        expected = before < allowed
        got = plain_result(count_reauth_try(db, session_id, allowed=allowed), "count_reauth_try")
        assert got is expected, (
            f"a session with {before} wrong tries, allowed={allowed}, gave {got!r}, not {expected}."
        )
        after = _failures(db, session_id)
        assert after == before + 1 or (not expected and after == before), (
            f"reauth_failures went from {before} to {after}: count each try once.")


# --- 7.7 and 7.8: recovery codes ------------------------------------------

CODE_FORMAT = re.compile(r"[a-z2-7]{4}(-[a-z2-7]{4}){5}")
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def sha256_hex(code):
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def codes_db(path=":memory:", users=((1, "alice"), (2, "bob"))):
    """A users table holding ``users`` ((id, username) pairs) and an empty recovery_codes table."""
    db = sqlite3.connect(path, factory=TextsNotedConnection)
    db.row_factory = sqlite3.Row
    db.executescript("""
        CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT);
        CREATE TABLE recovery_codes (user_id INTEGER NOT NULL, code_hash TEXT NOT NULL,
                                     PRIMARY KEY (user_id, code_hash));
    """)
    with db:
        db.executemany("INSERT INTO users (id, username) VALUES (?, ?)", users)
    db.texts.clear()
    return db


def filled_codes_db(path=":memory:", stored=()):
    """``codes_db`` with the recovery_codes rows ``stored`` ((user_id, code_hash) pairs)."""
    db = codes_db(path)
    with db:
        db.executemany("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", stored)
    db.texts.clear()
    return db


def _stored(db, user_id):
    return {row[0] for row in _rows(db, "SELECT code_hash FROM recovery_codes WHERE user_id = ?", (user_id,))}


def _made(make_recovery_codes, db, user_id):
    """``make_recovery_codes(db, user_id)``, with the table's refusal of a row stored twice named."""
    try:
        return _codes(make_recovery_codes(db, user_id))
    except Exception as error:
        if raised(error, "IntegrityError") and "UNIQUE" in raised_message(error):
            raise AssertionError(
                f"the table refused a row twice ({raised_message(error)}): two of your 10 codes are the same, or "
                "an old code was not removed first. Draw each of the 10 codes afresh, character by character."
            ) from None
        raise


def _drawn_code():
    return "-".join("".join(DRAW.choice(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(6))


def _codes(value):
    codes = plain_result(value, "make_recovery_codes")
    assert type(codes) is list and len(codes) == 10, f"return a list of 10 codes, not {codes!r}."
    return codes


LOW_ENTROPY = ("your codes are far from random: {}. A recovery code stands in for the password and the phone at "
               "once, so a guesser must face all of it: each of the 24 characters drawn on its own from the whole "
               "RECOVERY_ALPHABET (5 bits each, 120 bits a code). Reread how the exercise says to draw them.")


def _random_enough(codes):
    """Refuse codes whose characters are not drawn one by one: 24 characters from 32 have about 17 different ones
    (7 or fewer: about 1 chance in 10**9), and 20 codes hold many characters at each position."""
    for code in codes:
        letters = set(code.replace("-", ""))
        assert len(letters) >= 8, LOW_ENTROPY.format(f"{code!r} uses only {len(letters)} different characters")
    for position in range(24):
        seen = {code.replace("-", "")[position] for code in codes}
        assert len(seen) >= 5, LOW_ENTROPY.format(
            f"across {len(codes)} codes, character {position + 1} is always one of {sorted(seen)}")


@exercise("7.7", "Make ten recovery codes", uses=["make_recovery_codes"])
def check_make_recovery_codes(make_recovery_codes):
    alice, bob = DRAW.sample(range(1000, 10 ** 6), 2)
    with _temporary_folder() as folder:
        path = os.path.join(folder, "codes.sqlite")
        db, other_worker = _lesson().codes_db(path, [(alice, "alice"), (bob, "bob")]), _sqlite().connect(path)
        try:
            bobs = _made(make_recovery_codes, db, bob)
            codes = _made(make_recovery_codes, db, alice)
            for code in codes:
                assert not (type(code) is str and re.fullmatch("[0-9a-f]{64}", code)), (
                    "you returned the hashes: return the codes themselves (the only time they exist in plain "
                    "text), and store their hashes."
                )
                assert type(code) is str and CODE_FORMAT.fullmatch(code), (
                    f"{code!r} is not like abcd-efgh-ijkm-nopq-rstu-vwxy: 24 characters from RECOVERY_ALPHABET "
                    "in groups of 4 joined by '-'."
                )
            assert len(set(codes)) == 10, (
                "two of the codes are the same: draw each one afresh, character by character.")
            _random_enough(bobs + codes)
            stored = _stored(db, alice)
            assert stored, "nothing was stored in recovery_codes for alice: one row per code, holding its hash."
            for code in codes:
                assert code not in stored, (
                    "a code is stored as it is: store its hash (the lesson's hash_code), never the code itself.")
            for changed, how in ((lambda code: code.replace("-", ""), "without its dashes"),
                                 (str.upper, "in upper case")):
                assert stored != {sha256_hex(changed(code)) for code in codes}, (
                    f"you stored the hash of each code {how}: the app hashes the code as you return it, so no "
                    "code would ever match. Store hash_code(code) of the code exactly as returned."
                )
            assert stored == {sha256_hex(code) for code in codes}, (
                "the stored hashes do not match the codes returned: store the hashes of exactly the 10 "
                "codes you return."
            )
            assert _stored(other_worker, alice) == stored, (
                "another connection (another worker) cannot see the new codes: commit them, as in Exercise 7.1."
            )
            assert _stored(db, bob) == {sha256_hex(code) for code in bobs}, (
                "making alice's codes changed bob's: remove only this user's rows."
            )
            fresh = _made(make_recovery_codes, db, alice)
            assert set(fresh).isdisjoint(codes), "a second call gave some of the same codes: they must be random each time."
            assert _stored(db, alice) == {sha256_hex(code) for code in fresh}, (
                "after a second call the user should have only the 10 new codes: the old ones must stop working, "
                "so remove them first."
            )
            _sql_kept_fixed(db, [alice, bob, *(sha256_hex(code) for code in codes + bobs + fresh)], "a user id or a hash")
        finally:
            db.close()
            other_worker.close()
    first, second = _drawn_after_seeding(make_recovery_codes, _lesson().codes_db, 1)
    assert set(first).isdisjoint(second), (
        "after random.seed(7), your codes came out the same twice: they come from the `random` module, "
        "whose next numbers anyone can work out from a few outputs. Draw them with the module made for secrets "
        "(the exercise names it)."
    )


@hidden_check("7.7")
def check_make_recovery_codes_use_the_whole_alphabet(make_recovery_codes):
    drawn = _codes(make_recovery_codes(_lesson().codes_db(), 1)) + _codes(make_recovery_codes(_lesson().codes_db(), 1))
    letters = set("".join(str(code) for code in drawn).replace("-", ""))
    assert len(letters) >= 24, "draw every character from the whole RECOVERY_ALPHABET (32 characters)."


@hidden_check("7.7")
def check_make_recovery_codes_drawn_users(make_recovery_codes):
    """Users with ids drawn on each run: each gets the hashes of exactly the codes returned to them."""
    users = [(user_id, f"user{user_id}") for user_id in DRAW.sample(range(3, 10 ** 6), 3)]
    db = _lesson().codes_db(":memory:", users)
    given = {user_id: _codes(make_recovery_codes(db, user_id)) for user_id, _ in users}
    for user_id, codes in given.items():
        assert _stored(db, user_id) == {sha256_hex(str(code)) for code in codes}, (
            f"user {user_id}'s stored hashes do not match the codes returned to that user."
        )


def _recovery_fixture(path):
    """(alice, bob, alice's three codes, bob's code, the db holding their hashes): ids and codes drawn per run."""
    alice, bob = DRAW.sample(range(1000, 10 ** 6), 2)
    alice_codes, bob_code = [_drawn_code() for _ in range(3)], _drawn_code()
    stored = [(alice, sha256_hex(code)) for code in alice_codes] + [(bob, sha256_hex(bob_code))]
    return alice, bob, alice_codes, bob_code, _lesson().filled_codes_db(path, stored)


@exercise("7.8", "Use a recovery code once", uses=["use_recovery_code"])
def check_use_recovery_code(use_recovery_code):
    def used(user_id, code):
        return plain_result(use_recovery_code(db, user_id, code), "use_recovery_code")

    with _temporary_folder() as folder:
        path = os.path.join(folder, "codes.sqlite")
        alice, bob, alice_codes, bob_code, db = _recovery_fixture(path)
        other_worker = _sqlite().connect(path)
        try:
            first, statements = _statements(db, use_recovery_code, db, alice, alice_codes[0])
            first = plain_result(first, "use_recovery_code")
            assert first is True, (
                f"alice's first recovery code should give True, got {first!r}: DELETE the row with her user_id "
                "and the code's hash (the table holds hashes, never codes), then return whether a row went."
            )
            assert sha256_hex(alice_codes[0]) not in _stored(db, alice), "a used code must be gone from the table."
            _one_statement(statements, "DELETE", "use the same code")
            assert sha256_hex(alice_codes[0]) not in _stored(other_worker, alice), (
                "another connection (another worker) still sees the used code: commit the DELETE (inside `with db:`)."
            )
            again = used(alice, alice_codes[0])
            assert again is False, f"the same code a second time should give False, got {again!r}: each code works once."
            assert used(alice, _drawn_code()) is False, (
                "a code that was never issued should give False: return whether the DELETE removed a row "
                "(rowcount == 1)."
            )
            assert used(alice, bob_code) is False, (
                "bob's code let alice in: match user_id = ? as well as the hash."
            )
            assert _stored(db, bob) == {sha256_hex(bob_code)}, "trying bob's code on alice's account must not use it up."
            assert len(_stored(db, alice)) == 2, "alice's other two codes should still be there."
            assert used(bob, bob_code) is True, "bob's own code should work for bob."
            _sql_kept_fixed(db, [alice, bob, *(sha256_hex(code) for code in [*alice_codes, bob_code])], "a user id or a hash")
        finally:
            db.close()
            other_worker.close()


@hidden_check("7.8")
def check_use_recovery_code_strange_input(use_recovery_code):
    alice, _, alice_codes, _, db = _recovery_fixture(":memory:")
    assert plain_result(use_recovery_code(db, alice, "x' OR '1'='1"), "use_recovery_code") is False
    assert len(_stored(db, alice)) == 3, "a strange input deleted codes: pass values as ? parameters."
    assert plain_result(use_recovery_code(db, alice, alice_codes[2]), "use_recovery_code") is True


@hidden_check("7.8")
def check_use_recovery_code_drawn_tries(use_recovery_code):
    """Codes drawn on each run, tried by either user in any order, against the table worked out here."""
    alice, bob, alice_codes, bob_code, db = _recovery_fixture(":memory:")
    left = {(alice, code) for code in alice_codes} | {(bob, bob_code)}
    tries = [(user_id, code) for user_id in (alice, bob) for code in [*alice_codes, bob_code, _drawn_code()]] * 2
    DRAW.shuffle(tries)
    for user_id, code in tries:
        expected = (user_id, code) in left
        got = plain_result(use_recovery_code(db, user_id, code), "use_recovery_code")
        assert got is expected, f"user {user_id} trying a code gave {got!r}, not {expected}."
        left.discard((user_id, code))
    assert _stored(db, alice) | _stored(db, bob) == {sha256_hex(code) for _, code in left}


# --- 7.10: TOTP secrets at rest -----------------------------------------------------------------

def secrets_db(path=":memory:"):
    """A users table (alice is 1, bob is 2) with an empty totp_secret each."""
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL, totp_secret TEXT);
        INSERT INTO users (id, username) VALUES (1, 'alice'), (2, 'bob');
    """)
    return db


def database_text(db):
    """Everything a database holds, as SQL text (what a thief of its file reads)."""
    return "\n".join(db.iterdump())


def _stored_secret(db, user_id):
    value = _rows(db, "SELECT totp_secret FROM users WHERE id = ?", (user_id,))[0][0]
    return value.decode("ascii", "replace") if type(value) is bytes else value


def _stored_type(db, user_id):
    return type(_rows(db, "SELECT totp_secret FROM users WHERE id = ?", (user_id,))[0][0]).__name__


def _hashed(secret, stored):
    """Whether ``stored`` is a hash of ``secret`` (a fast digest as hex, or an Argon2/werkzeug hash)."""
    if not isinstance(stored, str):
        return False
    digests = {hashlib.new(name, secret.encode()).hexdigest() for name in ("md5", "sha1", "sha256", "sha512")}
    return stored in digests or stored.startswith(("$argon2", "$2b$", "scrypt:", "pbkdf2:"))


def _stored_by(store_secret, db, user_id, secret, keys):
    """``store_secret(db, user_id, secret, keys)``, with MultiFernet handed the keys themselves named."""
    try:
        store_secret(db, user_id, secret, keys)
    except Exception as error:
        if raised(error, "AttributeError") and "encrypt" in raised_message(error):
            raise AssertionError(
                f"your code raised AttributeError ({raised_message(error)}): MultiFernet takes a list of Fernet "
                "objects, one made from each key, not the keys themselves."
            ) from None
        raise


def _decrypts_with(key, token, secret):
    from cryptography.fernet import Fernet, InvalidToken
    try:
        return Fernet(key).decrypt(token.encode("ascii")).decode() == secret
    except (InvalidToken, ValueError, TypeError, AttributeError, UnicodeError):
        return False


@exercise("7.10", "Keep the TOTP secrets encrypted", uses=["store_secret", "load_secret"])
def check_secrets_at_rest(store_secret, load_secret):
    import pyotp
    from cryptography.fernet import Fernet

    old_key = Fernet.generate_key()
    alice_secret, bob_secret = pyotp.random_base32(), pyotp.random_base32()
    with _temporary_folder() as folder:
        path = os.path.join(folder, "users.sqlite")
        db, thief = _lesson().secrets_db(path), _sqlite().connect(path)
        try:
            _stored_by(store_secret, db, 1, alice_secret, [old_key])
            stolen = plain(_lesson().database_text(thief))
            assert _stored_secret(thief, 1), (
                "another connection (another worker, or a thief of the file) sees no secret for alice: store it "
                "in users.totp_secret and commit (inside `with db:`)."
            )
            assert alice_secret not in stolen, (
                "the secret is in the database file as it is: whoever copies the file can make alice's codes."
            )
            encodings = {base64.b64encode(alice_secret.encode()).decode().rstrip("="),
                         base64.urlsafe_b64encode(alice_secret.encode()).decode().rstrip("="),
                         base64.b32decode(alice_secret).hex()}
            assert not any(encoded in stolen for encoded in encodings), (
                "the secret is only encoded (base64 or hex), not encrypted: anyone can decode it without a key. "
                "Encrypt it with Fernet."
            )
            assert not _hashed(alice_secret, _stored_secret(db, 1)), (
                "the secret is stored as a hash: a hash cannot be turned back, and the app needs the secret itself "
                "to work out each code. What the server must read back is encrypted (Fernet); only what it merely "
                "compares, a password, is hashed."
            )
            assert _stored_type(db, 1) == "str", (
                f"the token is stored as {_stored_type(db, 1)}: Fernet gives bytes; decode them and store the token "
                "as text, as the exercise says (encode it again when loading)."
            )
            assert old_key.decode() not in stolen and old_key.decode().rstrip("=") not in stolen, (
                "the key is stored in the same database as the secrets: a thief of the file has both. The key "
                "stays outside the database (FLASK_TOTP_ENCRYPTION_KEYS)."
            )
            assert _decrypts_with(old_key, _stored_secret(db, 1), alice_secret), (
                "what is stored is not a Fernet token of the secret made with the key you were given: encrypt "
                "with Fernet and that key (never a key of your own, nor a home-made cipher), and store the "
                "token as text."
            )
            loaded = plain_result(load_secret(db, 1, [old_key]), "load_secret")
            assert loaded == alice_secret, f"load_secret gave {loaded!r}, not alice's secret (as text)."
            new_key = Fernet.generate_key()
            keys = [new_key, old_key]      # rotation: the new key first, the old one still there
            try:
                after = plain_result(load_secret(db, 1, keys), "load_secret")
            except NotImplementedError:
                raise
            except Exception as error:  # noqa: BLE001 - the hint names the usual cause
                after = raised_kind(error)
            assert after == alice_secret, (
                f"after a new key was put first, alice's secret, stored under the old key, gave {after!r}: every "
                "key in the list must be able to decrypt (MultiFernet), not only the first."
            )
            _stored_by(store_secret, db, 2, bob_secret, keys)
            assert _decrypts_with(old_key, _stored_secret(db, 1), alice_secret), (
                "storing bob's secret changed alice's: UPDATE only that user's row (WHERE id = ?)."
            )
            assert _decrypts_with(new_key, _stored_secret(db, 2), bob_secret), (
                "a secret stored after the rotation was not encrypted with the first (newest) key: once the old "
                "key is dropped, it could not be read."
            )
            assert plain_result(load_secret(db, 2, [new_key]), "load_secret") == bob_secret, (
                "bob's secret could not be read with the new key alone.")
            assert plain_result(load_secret(db, 1, keys), "load_secret") == alice_secret
            assert _stored_secret(db, 1) != _stored_secret(db, 2)
            try:
                opened = plain_result(load_secret(db, 1, [Fernet.generate_key()]), "load_secret")
            except NotImplementedError:
                raise
            except Exception as error:  # noqa: BLE001 - any refusal will do; InvalidToken is Fernet's
                opened = f"<{raised_kind(error)}>"
            assert opened.startswith("<") if isinstance(opened, str) else False, (
                f"with a key that never encrypted it, load_secret gave {opened!r}: when no key opens the token, "
                "let Fernet's InvalidToken through (the app then refuses the login), never hand back the token "
                "or anything else as the secret."
            )
        finally:
            db.close()
            thief.close()


# --- 7.11: the owner hears of it, without a secret ------------------------------------------------

EVENT_MESSAGES = {
    "password_failed": "A wrong password for your account, from a browser you have not signed in with.",
    "code_failed": "A wrong code from an authenticator app, after your password was right.",
    "recovery_code_failed": "A wrong recovery code, after your password was right.",
}


def _typed_form(kind):
    """What a browser sent with the failed attempt: a password, a code or a recovery code, and the form's token."""
    letters = "abcdefghijkmnpqrstuvwxyz23456789"
    form = {"username": "alice", "csrf_token": secrets.token_urlsafe(24)}
    if kind == "password_failed":
        form["password"] = "".join(secrets.choice(letters) for _ in range(14))
    elif kind == "code_failed":
        form["otp"] = f"{secrets.randbelow(10 ** 6):06d}"
    else:
        form["recovery_code"] = "-".join("".join(secrets.choice(letters) for _ in range(4)) for _ in range(6))
    return form


def _another(name, value):
    """Another value for the same field (for a password, also of another length)."""
    letters = "abcdefghijkmnpqrstuvwxyz23456789"
    if name == "otp":
        return "".join(str((int(digit) + 1 + secrets.randbelow(9)) % 10) for digit in value)
    if name == "password":
        return "".join(secrets.choice(letters.upper()) for _ in range(len(value) + 1 + secrets.randbelow(6)))
    return "".join(secrets.choice(letters.upper()) if c != "-" else c for c in value)


def _pieces(value, length):
    plain = value.replace("-", "")
    return {plain[i:i + length] for i in range(len(plain) - length + 1)}


def _unround_time(seconds):
    """The nearest time at or after `seconds` that is no whole number of 2, 3 or 5 seconds, nor of a minute.

    A time rounded to the minute (or to ten seconds) is then never the time given, whatever the draw.
    """
    while seconds % 2 == 0 or seconds % 3 == 0 or seconds % 5 == 0:
        seconds += 1
    return seconds


@exercise("7.11", "Tell the owner, never the secret", uses=["security_event"])
def check_security_event(security_event):
    now = _unround_time(1_700_000_000 + DRAW.randrange(10 ** 6))
    for kind, message in EVENT_MESSAGES.items():
        form = _typed_form(kind)
        event = plain_result(security_event(kind, dict(form), now), "security_event")
        assert type(event) is dict, f"security_event should return a dict, not {event!r}."
        assert set(event) == {"kind", "detail", "time"}, (
            f"the event has the keys {sorted(event)}: give NOTIFY exactly kind, detail and time. Whatever else "
            "you hand it ends up in an e-mail or a log, which more people read, for longer, than the database."
        )
        assert event["kind"] == kind and event["time"] == now, "kind and time should be the ones you were given."
        detail = str(event["detail"])
        typed = {name: value for name, value in form.items() if name in ("password", "otp", "recovery_code", "csrf_token")}
        for name, value in typed.items():
            assert value not in detail, (
                f"the detail repeats the {name} that was typed: a wrong password is often a near miss of the right "
                "one (or her password elsewhere), a wrong recovery code a typo of a good one. An event says what "
                "happened, never what was typed."
            )
            shortest = 3 if name == "otp" else 4
            # pieces that the owner's message or the username hold by chance are not a leak
            leaked = sorted(piece for piece in _pieces(value, shortest) if piece in detail.replace("-", "")
                            and piece not in message and piece not in form["username"])
            assert not leaked, (
                f"the detail shows part of the {name} that was typed ({leaked[0]!r}): a masked secret still gives "
                "away the characters it shows. Leave out every character of it."
            )
        for name in typed:
            other = dict(form, **{name: _another(name, form[name])})
            again = plain_result(security_event(kind, other, now), "security_event")
            assert type(again) is dict and str(again.get("detail")) == detail, (
                f"the detail changed when only the {name} typed changed: it shows something of it (a few "
                "characters, its length). A masked secret still gives away what it shows. Leave it out whole."
            )
        assert message in detail, (
            f"the owner reads the detail: start from EVENT_MESSAGES[kind], which says what happened in her words, "
            f"not {detail!r}."
        )
        later = _unround_time(now + DRAW.randrange(1, 10 ** 5))
        event = plain_result(security_event(kind, _typed_form(kind), later), "security_event")
        assert type(event) is dict and event.get("time") == later, (
            f"a second {kind} event, at {later}, says its time is {event.get('time') if type(event) is dict else event!r}: "
            "each event is made afresh from the `now` you are given, nothing kept from an earlier call."
        )


# --- questions ----------------------------------------------------------------------------------

question(
    "7.Q1", "What a device cookie does",
    prompt="Alice's own browser holds stage 7's device cookie for her account. What does that cookie do?",
    options={
        "a": "It is a second factor: from that browser, her password alone lets her in.",
        "b": "Her browser's failed attempts count apart, so a stranger's wrong passwords cannot make it wait.",
        "c": "Because it is `HttpOnly`, a script injected into one of the app's pages can do her no harm.",
        "d": "Every browser can have a bucket of its own: a stranger who sends a cookie he made up is "
             "throttled apart from the others.",
    },
    answer="b",
    why_not={
        "a": "a device cookie is not a factor: stage 7 still asks that browser for the password and the code, "
             "and whoever copies the cookie holds it too. It only chooses which failure count applies.",
        "c": "HttpOnly hides the cookie itself from scripts, nothing more. A script injected into the page runs "
             "as the page: it can send the app's forms with her cookies attached and read what the pages show. "
             "Escaping output and a Content-Security-Policy keep scripts out.",
        "d": "the server trusts only a cookie whose hash it stored for that account. A made-up cookie is not "
             "found, so its browser counts with the strangers, who share one bucket; otherwise a stranger "
             "would make up a new cookie every few guesses and never wait.",
    },
)

question(
    "7.Q2", "When a phone may be bound",
    prompt="Alice has just chosen a username and a password. Which way of binding her phone keeps the account "
           "from someone who knows only her password?",
    options={
        "a": "Create the account at `/register`; then each login with the password shows the QR code until a "
             "phone has been confirmed.",
        "b": "Keep the name, the password hash and a new secret in the registering session's row, and create "
             "the account only when that session's code is right.",
        "c": "Create the account with its phone as in (b), and let a user who lost the phone turn 2FA off with "
             "the password, so that the next login enrols the new phone.",
    },
    answer="b",
    why_not={
        "a": "until Alice confirms her phone, anyone with the password logs in, is shown a QR code and binds "
             "his own phone: binding a phone needs every factor, in the session that proved them.",
        "c": "turning 2FA off with the password alone brings back the password-only enrolment of (a): whoever "
             "knows the password turns it off, or waits until Alice does, and binds his phone. Replacing a phone "
             "needs the password and a code or a recovery code, in the session that then binds the new one.",
    },
)

question(
    "7.Q3", "What keeps the TOTP secrets from a thief of the database file",
    prompt="A thief copies stage 7's database file. Which way of storing the TOTP secrets keeps them from him, "
           "while the app can still check codes?",
    options={
        "a": "Hash each secret with Argon2id, as the passwords are.",
        "b": "Encrypt each secret with Fernet, with a key that comes from `FLASK_TOTP_ENCRYPTION_KEYS` and is "
             "not in the file.",
        "c": "Encrypt each secret with Fernet, with the key kept in a settings table of the same database.",
        "d": "Store each secret base64-encoded, so that it no longer looks like a secret.",
    },
    answer="b",
    why_not={
        "a": "the app needs the secret itself to work out the code of the moment, and a hash cannot be turned "
             "back into it: the app could no longer check codes. What the server must read back is encrypted; "
             "what it only compares (a password) is hashed.",
        "c": "the thief copies the key along with the data it protects: a key must live apart from the data "
             "(an environment variable, a secrets manager).",
        "d": "base64 is an encoding anyone can undo without a key: the thief decodes every secret.",
    },
)


# --- Your attacks against your own app, after the Build that defends against each -------------------

# What each attack's Build put into the student's app: where to look when the attack still gets in.
YOUR_DEFENCE = {"7.A1": "step 2, your accept_once (Exercise 7.1), which use_timecode calls",
                "7.A2": "CSRFProtect(app) in app.py with no WTF_CSRF_ENABLED = False below it, and step 6's csrf_error",
                "7.A3": "step 7, your session_user and end_all_sessions (Exercise 7.6), which logout calls"}


def against_your_app(exercise_id, attack, app_dir):
    """Your attack of ``exercise_id`` (7.A1, 7.A2 or 7.A3) against your own app in ``app_dir`` (at stage 7), in the
    scene its check plays on stage 7: (whether it got in, what happened, in words). Runs where it is called, as
    your own code: a lesson's cell, not a grade."""
    with _temporary_folder() as folder:
        if exercise_id == "7.A1":
            typed_at = SCENE_START + 3600
            scene = OwnerTypedACode(folder, 7, "alice", OWNER_PASSWORD, typed_at, typed_at + 20, app_dir=app_dir)
            run = scene.mallory(attack, REPLAY_REQUESTS)
            got_in = run["dashboard"] == "alice"
            if got_in:
                return True, "Mallory's browser is on Alice's dashboard, 20 s after Alice typed the code"
            if run["raised"]:
                return False, f"your function raised {run['raised']}, and Mallory's browser is not logged in"
            return False, "Mallory's browser is not logged in: the code Alice typed 20 s before did not work twice"
        if exercise_id == "7.A2":
            from ..cross_site import send_to_app, what_the_page_sends

            app_url, page_url = "http://127.0.0.1:5007", "http://127.0.0.1:8000/prize.html"
            scene = AliceLoggedIn(folder, 7, app_dir=app_dir)
            if scene.dashboard() != 200:
                raise OwnersLoginFailed("with her password and the right code, her dashboard still did not open")
            html = attack(app_url)
            request = what_the_page_sends(html, page_url, app_url)
            method, path = _request_to_the_app(request, app_url, page_url, html)
            status = send_to_app(scene.browser, method, path, request.fields, page_url).status_code
            got_in = scene.dashboard() != 200
            return got_in, (f"your page's {method} {path} got {status}, and " +
                            ("Alice is logged out" if got_in else "Alice is still logged in"))
        if exercise_id == "7.A3":
            scene = StageWhereAliceLogsIn(7, folder, "alice", "stage7_session", app_dir=app_dir)
            header = scene.log_in()
            scene.log_out()
            browser = scene.app.test_client()
            attack(browser, header)
            got_in = browser.get("/dashboard").status_code == 200
            return got_in, ("the copied cookie opens Alice's dashboard after her logout" if got_in else
                            "the copied cookie opens nothing after Alice's logout")
    raise ValueError(f"{exercise_id!r} is not one of lesson 07's attacks: 7.A1, 7.A2 or 7.A3")
