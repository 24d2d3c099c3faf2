"""Checks for lesson 06: the login flow (passwords, queries, the page in between, the guard)."""
import base64
import io
import random
import secrets
import shutil
import sqlite3
import string
import tempfile
from pathlib import Path

import pyotp
import pyqrcode
from flask import Flask, redirect, request, session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import ISSUER
from ..phone import Phone
from . import exercise, for_all, hidden_check, question
from .student_side import is_plain, plain_result, raised, raised_kind, raised_message, student_side, type_name

SQLITE_ERRORS = ("Error", "DatabaseError", "OperationalError", "ProgrammingError", "IntegrityError",
                 "InterfaceError", "DataError", "NotSupportedError", "InternalError")


def _lesson():
    """This module where the student's code runs: the fixtures the checks hand it are built there."""
    return student_side.module("workbook.checks.lesson_06")

PASSWORD = "correct horse battery"
SCHEMA = """
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    pending_secret TEXT,
    totp_secret    TEXT
);
"""


def users_db(names=("alice", "bob", "o'neil")):
    """An in-memory users table like stage 6's, with hashed passwords (pbkdf2: quick to make)."""
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.executescript(SCHEMA)
    for name in names:
        db.execute("INSERT INTO users (username, password_hash) VALUES (?, ?)",
                   (name, generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")))
    db.commit()
    return db


def _users_db(names=("alice", "bob", "o'neil")):
    """users_db(names), built where the student's code runs."""
    return _lesson().users_db(list(names))


def row_columns(row):
    """(The name of ``row``'s type, its columns as a dict when it reads like a sqlite3.Row (keys()), else None)."""
    keys = getattr(row, "keys", None)
    if not callable(keys):
        return type(row).__name__, None
    return type(row).__name__, {key: row[key] for key in keys()}


def _username_of(row, asked):
    if row is None:
        return None
    if is_plain(row):
        kind, columns = type(row).__name__, row if type(row) is dict else None
    else:
        kind, columns = plain_result(_lesson().row_columns(row), f"reading the row find_user(db, {asked!r}) gave")
    assert kind != "list", (
        f"find_user(db, {asked!r}) returned a list: return the one row from .fetchone() "
        "(or None), not a list from .fetchall()."
    )
    assert columns is not None, (
        f"find_user(db, {asked!r}) returned {row!r} (of type {kind}), not the user's row: the caller needs "
        "every column of it (row['password_hash'], row['totp_secret']), so return the row itself, "
        "with all its columns, as the cursor gives it."
    )
    assert "username" in columns, (
        f"find_user(db, {asked!r}) returned a row without the username column (it has {list(columns)}): "
        "select every column of the user, SELECT * FROM users ..."
    )
    return columns["username"]


# --- 6.1: the attack, before the defence -----------------------------------------

def _qr_img(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=3)
    return '<img alt="QR code" src="data:image/png;base64,' + base64.b64encode(picture.getvalue()).decode() + '">'


def guide_like_app(username, password, secret, two_factor_page="/2fa"):
    """The lesson's single 2FA page, its mistake kept: the QR code for anyone who knows the password.

    One user, ``username`` with ``password``, whose TOTP secret is ``secret``; the login sends the browser on to
    ``two_factor_page`` (the check draws all four). Each request it answered is noted in
    ``app.config["REQUESTS_ANSWERED"]``: (method, path, status)."""
    app = Flask("lesson_06_guide_like")
    app.config.update(TESTING=True, SECRET_KEY=secrets.token_hex(16), REQUESTS_ANSWERED=[])
    users = {username: {"password": password, "secret": secret}}

    @app.get("/login")
    def login_page():
        return '<form method="post"><input name="username"><input name="password" type="password"></form>'

    @app.post("/login")
    def login():
        user = users.get(request.form.get("username", ""))
        if user is None or request.form.get("password") != user["password"]:
            return "Wrong username or password.", 401
        session["username"] = request.form["username"]
        return redirect(two_factor_page)

    @app.get(two_factor_page)
    def two_factor():
        if "username" not in session:
            return redirect("/login")
        uri = pyotp.TOTP(users[session["username"]]["secret"]).provisioning_uri(
            name=session["username"], issuer_name=ISSUER)
        return "<h1>Scan me</h1>" + _qr_img(uri) + '<form method="post"><input name="otp"></form>'

    @app.after_request
    def note(response):
        app.config["REQUESTS_ANSWERED"].append((request.method, request.path, response.status_code))
        return response

    return app


def stage_6_with_user_enrolled(username, password):
    """The real stage 6 app (its database in a folder of its own), where ``username`` has turned 2FA on with
    their phone; ``remove_database_folder(app)`` when done."""
    from ..app_loader import make_stage_app
    from ..fixed_clock import FixedClock
    clock = FixedClock(1_700_000_000)
    folder = tempfile.mkdtemp(prefix="lesson06-check-")
    app = make_stage_app(6, {"TESTING": True, "SECRET_KEY": secrets.token_hex(16),
                             "DATABASE": str(Path(folder) / "users.sqlite"), "CLOCK": clock})
    owner = app.test_client()
    owner.post("/register", data={"username": username, "password": password})
    owner.post("/login", data={"username": username, "password": password})
    phone = Phone(clock=clock)
    phone.scan(owner.get("/enable-2fa").data)
    owner.post("/enable-2fa", data={"otp": phone.code()})
    owner.post("/logout")
    return app


def remove_database_folder(app):
    """Remove the folder stage_6_with_user_enrolled made for ``app``'s database."""
    shutil.rmtree(Path(app.config["DATABASE"]).parent, ignore_errors=True)


def _attack(steal_second_factor, app, username, password, where):
    try:
        return plain_result(steal_second_factor(app.test_client(), username, password),
                            "steal_second_factor(client, username, password)")
    except Exception as error:
        if not raised(error, "PhoneError"):
            raise
        raise AssertionError(
            f"{where} your attack raised PhoneError ({raised_message(error)}): when the page you land on shows no "
            "QR code, there is nothing to take, so return None."
        ) from None


@exercise("6.1", "Take the second factor with the password alone", uses=["steal_second_factor"])
def check_steal_second_factor(steal_second_factor):
    # The user, the password and the secret are drawn for this run: only an attack that reads the page works.
    username, password = "user_" + secrets.token_hex(3), secrets.token_urlsafe(12)
    secret = pyotp.random_base32()
    lesson = _lesson()
    two_factor_page = "/" + secrets.choice(("second-factor", "verify", "two-step", "otp")) + "-" + secrets.token_hex(3)
    weak = lesson.guide_like_app(username, password, secret, two_factor_page)
    got = _attack(steal_second_factor, weak, username, password, "against the guide-like app,")
    answered = [tuple(entry) for entry in plain_result(weak.config["REQUESTS_ANSWERED"], "the app's log")]
    logged_in = ("POST", "/login", 302) in answered
    missing = [path for method, path, status in answered if status == 404]
    assert got is not None or not logged_in or not missing, (
        f"you logged in, then asked for {missing[0]}, an address this app does not have: you cannot know the "
        "address of an app's 2FA page in advance (it differs from app to app, and this one's changes every run). "
        "After the login, follow where the login sends you, as a browser does."
    )
    assert got is not None, (
        "against the guide-like app your attack came back with nothing, yet its 2FA page shows the QR code to "
        "anyone who knows the password: log in as the user first (a POST to /login with the username and "
        "password, following the redirect as a browser does), then scan the page you land on."
    )
    assert not (type(got) is str and got.isdigit()), (
        f"you returned a code ({got}): a code is dead within a minute, while the secret makes every code, "
        "forever. Return the secret that the phone read from the QR code."
    )
    assert got == secret, (
        f"you returned {got!r}, not the secret in the QR code of the page the login leads to: scan that "
        "page with a Phone and return the secret of the account it read."
    )
    defended = lesson.stage_6_with_user_enrolled(username, password)
    try:
        got = _attack(steal_second_factor, defended, username, password,
                      "against stage 6, whose code page shows no QR code,")
    finally:
        lesson.remove_database_folder(defended)
    assert got is None, (
        f"against stage 6 your attack returned {got!r}, but stage 6 never shows the QR code again once 2FA "
        "is on: return None when the page you land on has no QR code to scan."
    )


# --- 6.2 -----------------------------------------------------------------

class EqualToEverything(str):
    """An attempt that says it equals anything, and notes whether it was compared or hashed.

    A function that compares ``attempt == password`` gets True from it; one that
    hashes it (check_password_hash encodes it to bytes first) sees its real text.
    Built where the student's code runs; the check reads ``compared`` and ``hashed``.
    """
    hashed = False
    compared = False

    def __eq__(self, other):
        self.compared = True
        return True

    def __ne__(self, other):
        self.compared = True
        return False

    __hash__ = str.__hash__

    def encode(self, *args, **kwargs):
        self.hashed = True
        return str(self).encode(*args, **kwargs)


def _scrypt_work(stored):
    """n * r of a werkzeug scrypt hash (the memory and time it costs), or None for another method."""
    parts = stored.split("$", 1)[0].split(":")
    if parts[0] == "scrypt" and len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]) * int(parts[2])
    return None


def _pbkdf2_iterations(stored):
    method = stored.split("$", 1)[0]
    parts = method.split(":")
    if parts[0] == "pbkdf2" and len(parts) == 3:
        return int(parts[2])
    return None


def _hash_and_check(hash_and_check, password, attempt):
    result = plain_result(hash_and_check(password, attempt), "hash_and_check(password, attempt)")
    assert type(result) is tuple and len(result) == 2, (
        f"return a pair (stored_hash, matches), not {result!r}."
    )
    assert not (type(result[0]) is bool and type(result[1]) is str), (
        "you returned (matches, stored): return the pair in the order (stored, matches)."
    )
    return result


@exercise("6.2", "Hash a password and check it", uses=["hash_and_check"])
def check_hash_and_check(hash_and_check):
    # Drawn for this run: no hash of it exists yet. It always holds a capital and a space, so that a password
    # tidied before hashing (lower(), strip(), spaces taken out) is told apart on every run.
    password = f"{PASSWORD} {secrets.choice(string.ascii_uppercase)}{secrets.token_urlsafe(6)}"
    stored, matches = _hash_and_check(hash_and_check, password, password)
    assert type(stored) is str, f"the stored hash should be a str, not {type_name(stored)}."
    assert password not in stored, "the stored value still contains the password: store what generate_password_hash makes of it."
    assert check_password_hash(stored, password) or stored.split(":", 1)[0] not in ("scrypt", "pbkdf2"), (
        "the stored value is a werkzeug hash, but not of this password: hash the password exactly as it was "
        "typed, with nothing changed (no lower(), strip() or other tidying), or a different password gets in."
    )
    assert check_password_hash(stored, password), (
        "werkzeug cannot check that stored value against the password: make it with "
        "werkzeug.security.generate_password_hash, not a plain digest such as hashlib.sha256."
    )
    work = _scrypt_work(stored)
    assert work is None or work >= 2 ** 14 * 8, (
        f"scrypt with the settings {stored.split('$', 1)[0]!r} is fast to guess: keep werkzeug's default method "
        "(generate_password_hash with no method: scrypt with n=32768, r=8), which is slow on purpose."
    )
    iterations = _pbkdf2_iterations(stored)
    assert iterations is None or iterations >= 100_000, (
        f"pbkdf2 with only {iterations} iterations is fast to guess: keep werkzeug's default method "
        "(generate_password_hash with no method: scrypt), which is slow on purpose."
    )
    assert matches is True, (
        "the attempt was the right password, so `matches` should be True: check the attempt against `stored` "
        "with check_password_hash."
    )
    # Each call costs two scrypt hashes (a tenth of a second each), so this one checks three things:
    # a new salt, a wrong attempt refused, and that the refusal came from the stored hash.
    trap = _lesson().EqualToEverything(password[0].upper() + password[1:])
    again, wrong = _hash_and_check(hash_and_check, password, trap)
    assert again != stored, (
        "hashing the same password twice gave the same text: a salted hash (generate_password_hash) "
        "is different every time, so two users with one password do not look alike."
    )
    from_the_hash = (
        "your `matches` does not come from the stored hash: you compared the attempt with the password "
        "itself (== or compare_digest). The app no longer has the password, only `stored`: check the "
        "attempt against `stored` with check_password_hash."
    )
    assert wrong is False or trap.compared is not True, from_the_hash
    assert wrong is False, "a different attempt (one capital letter) should give matches == False."
    assert trap.hashed is True, from_the_hash


@hidden_check("6.2")
def check_hash_is_slow_and_honest(hash_and_check):
    stored, empty = _hash_and_check(hash_and_check, "another password", "")
    assert type(stored) is str and stored.split(":", 1)[0] in ("scrypt", "pbkdf2"), (
        "use one of werkzeug's slow password hashes (scrypt or pbkdf2), not a plain fast digest."
    )
    assert empty is False, "an empty attempt must not match."


# --- 6.3 -----------------------------------------------------------------

def _find(find_user, db, username):
    """Call the student's find_user, turning the usual crashes into hints."""
    try:
        return find_user(db, username)
    except Exception as error:
        if raised(error, "ProgrammingError"):
            if "closed" in raised_message(error):
                raise AssertionError(
                    f"find_user(db, {username!r}) raised ProgrammingError ({raised_message(error)}): find_user closed "
                    "the connection it was given, which the caller still needs: leave it open."
                ) from None
            if "bindings" in raised_message(error):
                raise AssertionError(
                    f"find_user(db, {username!r}) raised ProgrammingError ({raised_message(error)}): the parameters "
                    "must be a tuple (mind the comma of a one-item tuple). A bare string counts as one parameter "
                    "per character."
                ) from None
            raise AssertionError(f"find_user(db, {username!r}) raised ProgrammingError ({raised_message(error)}).") from None
        if raised(error, *SQLITE_ERRORS):
            raise AssertionError(
                f"the name {username!r} broke your query ({raised_kind(error)}: {raised_message(error)}): the input "
                "became part of your SQL. Pass the name as a parameter, apart from the SQL text (the lesson's "
                "section \"Parameterised queries\"; the sqlite3 docs' \"How to use placeholders\")."
            ) from None
        raise


@exercise("6.3", "Find a user safely", uses=["find_user"])
def check_find_user(find_user):
    db = _users_db(("alice", "bob", "o'neil", "al_ce"))
    assert _username_of(_find(find_user, db, "alice"), "alice") == "alice", "find_user(db, 'alice') should return alice's row."
    assert _username_of(_find(find_user, db, "bob"), "bob") == "bob", "find_user(db, 'bob') should return bob's row."
    assert _find(find_user, db, "nobody") is None, "for a name that is not in the table, return None (.fetchone() does)."
    found = _find(find_user, db, "o'neil")
    assert _username_of(found, "o'neil") == "o'neil", (
        "find_user(db, \"o'neil\") should return that user's row: look the name up exactly as given (a parameter "
        "needs no cleaning, and a real name may hold a quote).")
    injected = _find(find_user, db, "nobody' OR '1'='1")
    assert injected is None, (
        "the name  nobody' OR '1'='1  found a user: your query was rewritten by the input (SQL injection). "
        "Keep the name out of the SQL text: a placeholder, with the name passed separately (the lesson's section "
        "\"Parameterised queries\")."
    )
    for asked, what in (("ALICE", "ALICE is not alice"), ("al%", "'al%' is not a user"),
                        ("al_ce", "'al_ce' is al_ce, not alice"), ("a*", "'a*' is not a user"),
                        ("alice ", "'alice ', with a space at the end, is not alice"),
                        ("lic", "'lic' is only part of alice")):
        got = _username_of(_find(find_user, db, asked), asked)
        assert got == (asked if asked == "al_ce" else None), (
            f"find_user(db, {asked!r}) found {got!r}: names must match exactly, and {what}. "
            "Compare for equality, not LIKE (which ignores case and reads % and _ as wildcards), GLOB or COLLATE "
            "NOCASE, and look up the name as given, not a tidied copy of it."
        )


    # A user found in one database is not in another: nothing may be kept between calls.
    other = _users_db(("bob",))
    assert _find(find_user, other, "alice") is None, (
        "find_user(db, 'alice') found alice in a database without her: look her up in the db you are given "
        "each time, not in rows kept from an earlier call."
    )
    _names_stay_data(find_user)


class RecordingConnection:
    """A sqlite3 connection that notes the SQL text of every statement run through it (in ``statements``)."""

    def __init__(self, db):
        self._db, self.statements = db, []

    def execute(self, sql, *args):
        self.statements.append(sql)
        return self._db.execute(sql, *args)

    def cursor(self):
        connection = self

        class _Cursor:
            def __init__(self):
                self._cursor = connection._db.cursor()

            def execute(self, sql, *args):
                connection.statements.append(sql)
                self._cursor.execute(sql, *args)
                return self

            def __getattr__(self, name):
                return getattr(self._cursor, name)
        return _Cursor()

    def __getattr__(self, name):
        return getattr(self._db, name)


def _names_stay_data(find_user):
    """Any name (other scripts, quotes, % and _) is found exactly, and never becomes part of the SQL text."""
    from hypothesis import strategies as st

    def any_names(names):
        db = _lesson().RecordingConnection(_users_db(names))
        for name in names[:3] + [names[0] + "x"]:
            got = _username_of(_find(find_user, db, name), name)
            assert got == (name if name in names else None), (
                f"find_user(db, {name!r}) found {got!r}: every name must match exactly, letters outside ASCII, "
                "quotes, % and _ included."
            )
        statements = plain_result(db.statements, "the connection's statements")
        built = [sql for sql in statements for name in names if type(sql) is str and name in sql]
        assert not built, (
            f"the name was written into the SQL text ({built[0]!r}): however it is quoted or escaped, that is SQL "
            "built from the input. Keep the SQL text fixed and pass the name separately, as a parameter."
        )
    name = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                   min_size=1, max_size=10).map(lambda text: "«" + text + "»")
    for_all(st.lists(name, min_size=1, max_size=4, unique=True), any_names, max_examples=20)


@hidden_check("6.3")
def check_find_user_other_names(find_user):
    db = _users_db(("Zoë", "x'; DROP TABLE users; --"))
    assert _username_of(_find(find_user, db, "Zoë"), "Zoë") == "Zoë", "find_user(db, 'Zoë') should find Zoë."
    assert _username_of(_find(find_user, db, "x'; DROP TABLE users; --"), "") == "x'; DROP TABLE users; --"
    assert _find(find_user, db, "zoë") is None, "names must match exactly."


# --- 6.4 -----------------------------------------------------------------

def user_row(username="alice", pending_secret=None, totp_secret=None):
    """A sqlite3.Row of a users table like stage 6's (the row find_user gives)."""
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.executescript(SCHEMA)
    db.execute("INSERT INTO users (username, password_hash, pending_secret, totp_secret) VALUES (?, ?, ?, ?)",
               (username, "hash", pending_secret, totp_secret))
    return db.execute("SELECT * FROM users").fetchone()


def _row(**values):
    """user_row(**values), built where the student's code runs."""
    return _lesson().user_row(**values)


SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _next_page(next_page_after_password, row):
    try:
        return plain_result(next_page_after_password(row), "next_page_after_password(user_row)")
    except Exception as error:
        if raised(error, "RuntimeError"):
            raise AssertionError(
                f"your code raised RuntimeError ({raised_message(error).splitlines()[0]}): return the path as a "
                "string, '/enable-2fa' or '/verify-2fa'; this function is called with a row only, outside a request."
            ) from None
        if raised(error, "AttributeError"):
            raise AssertionError(
                f"your code raised AttributeError ({raised_message(error)}): a sqlite3.Row has no .get() or "
                "attributes; read a column like a dict key, user_row['totp_secret']."
            ) from None
        if raised(error, "IndexError", "KeyError"):
            raise AssertionError(
                f"your code raised {raised_kind(error)} ({raised_message(error)}): the columns are id, username, "
                "password_hash, pending_secret and totp_secret; read one with user_row['totp_secret']."
            ) from None
        raise


@exercise("6.4", "Choose the page after the password", uses=["next_page_after_password"])
def check_next_page_after_password(next_page_after_password):
    secret = pyotp.random_base32()    # drawn for this run
    new_user = _next_page(next_page_after_password, _row())
    assert new_user == "/enable-2fa", (
        f"a user without 2FA (totp_secret is NULL) should go to '/enable-2fa', not {new_user!r}."
    )
    enrolled = _next_page(next_page_after_password, _row(totp_secret=secret))
    halfway = _next_page(next_page_after_password, _row(pending_secret=secret))
    assert not (enrolled == "/enable-2fa" and halfway == "/verify-2fa"), (
        "a user with a totp_secret went to '/enable-2fa', and one with only a pending_secret to '/verify-2fa': "
        "your answer reads the wrong column. Look at totp_secret, not pending_secret, and read it by name "
        "(user_row['totp_secret'])."
    )
    assert enrolled == "/verify-2fa", (
        f"a user with a totp_secret should go to '/verify-2fa' (code only, no QR), not {enrolled!r}."
    )
    assert halfway == "/enable-2fa", (
        f"a user who saw the QR code but never confirmed a code has no totp_secret yet: "
        f"send them to '/enable-2fa', not {halfway!r}. Look at totp_secret, not pending_secret."
    )


@hidden_check("6.4")
def check_next_page_with_plain_dicts(next_page_after_password):
    assert next_page_after_password({"id": 1, "username": "a", "totp_secret": None, "pending_secret": None}) == "/enable-2fa"
    assert next_page_after_password({"id": 1, "username": "a", "totp_secret": SECRET, "pending_secret": None}) == "/verify-2fa"
    # Users drawn for this run, in every state: the page follows totp_secret alone.
    draw = random.SystemRandom()
    for _ in range(3):
        totp_secret, pending_secret = draw.choice([(pyotp.random_base32(), None), (None, pyotp.random_base32()),
                                                   (None, None), (pyotp.random_base32(), pyotp.random_base32())])
        row = _row(username="user_" + secrets.token_hex(3), pending_secret=pending_secret, totp_secret=totp_secret)
        expected = "/verify-2fa" if totp_secret else "/enable-2fa"
        got = _next_page(next_page_after_password, row)
        assert got == expected, (
            f"a user {'with' if totp_secret else 'without'} a totp_secret"
            f"{' and with a pending_secret' if pending_secret else ''} should go to {expected!r}, not {got!r}."
        )


# --- 6.5 -----------------------------------------------------------------

PREFIX = "/proxy/5006"          # where the guarded app lives when reached through Jupyter's proxy


def guarded_app(login_required):
    """A Flask app whose /dashboard and /notes/<int:note_id> are guarded by ``login_required`` (the student's)."""
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY=secrets.token_hex(16))

    @app.get("/login")
    def login():
        return "the login page"

    @app.get("/dashboard")
    @login_required
    def dashboard():
        return f"dashboard of user {session.get('user_id')}"

    @app.get("/notes/<int:note_id>")
    @login_required
    def note(note_id):
        return f"note {note_id}"

    return app


def view_name(app, endpoint):
    """The __name__ of the function ``app`` runs for ``endpoint``."""
    return app.view_functions[endpoint].__name__


def _guarded_app(login_required):
    """guarded_app(login_required), built where the student's code runs."""
    try:
        return _lesson().guarded_app(login_required)
    except Exception as error:
        if raised(error, "RuntimeError") and "context" in raised_message(error):
            raise AssertionError(
                "your decorator read the session when it was applied to the view, outside any request "
                f"({raised_message(error).splitlines()[0]}): read it inside the function it returns, which runs on "
                "every request."
            ) from None
        if not raised(error, "AssertionError"):
            raise
        raise AssertionError(
            f"Flask refused two views guarded by your decorator ({raised_message(error)}): both now carry the inner "
            "function's name. Each guarded view must keep its own name (the functools docs: a decorator that "
            "copies it)."
        ) from None


def _goes_to_login(response, what):
    status = response.status_code
    location = plain_result(response.headers.get("Location", ""), "the response's headers")
    assert status in (301, 302, 303, 307, 308), (
        f"{what}: got status {status}; send the visitor on to the login page instead of the page (a redirect, "
        "as in the lesson's login view)."
    )
    assert status not in (301, 308), (
        f"{what}: a permanent redirect ({status}) is remembered by the browser, so once logged in the page would "
        "still send you to the login page: use redirect()'s default, a temporary one."
    )
    path = str(location).split("?", 1)[0]
    assert path.rstrip("/").endswith("login"), f"{what}: redirected to {location!r}, not to the login page."
    assert path.endswith(f"{PREFIX}/login"), (
        f"{what}: redirected to {location!r}, but this app is served under {PREFIX}/ (as behind Jupyter's proxy), "
        f"where the login page is {PREFIX}/login: let url_for write the address of the view named login."
    )


def _visit(client, path, what):
    """GET ``path`` of the app served under PREFIX, turning a crash inside the decorator into a hint."""
    try:
        return client.get(path, base_url=f"http://localhost{PREFIX}/")
    except Exception as error:
        if raised(error, "KeyError"):
            raise AssertionError(
                f"{what}: your code raised KeyError ({raised_message(error)}): an empty session has no such key, so "
                "read it in a way that gives None for a missing key (a session works like a dict)."
            ) from None
        if raised(error, "TypeError"):
            raise AssertionError(
                f"{what}: your code raised TypeError ({raised_message(error)}): the inner function must call the view "
                "and pass on every argument, positional and keyword, that Flask gives it, and return what it returns; "
                "the decorator itself returns the inner function."
            ) from None
        raise


def _page(response):
    return plain_result(response.get_data(as_text=True), "the page")


@exercise("6.5", "Guard the protected page", uses=["login_required"])
def check_login_required(login_required):
    draw = random.SystemRandom()      # a user and a note drawn for this run
    user_id, note_id = draw.randrange(1, 10 ** 6), draw.randrange(10 ** 6)
    app = _guarded_app(login_required)
    client = app.test_client()
    _goes_to_login(_visit(client, "/dashboard", "with an empty session"), "with an empty session")

    with client.session_transaction() as data:
        data["pending_user_id"] = user_id  # the password was right, the code not yet entered
    what = "with only pending_user_id in the session (password, no code)"
    _goes_to_login(_visit(client, "/dashboard", what), what + ": only user_id means both factors passed")

    with client.session_transaction() as data:
        data.clear()
        data["user_id"] = user_id
    response = _visit(client, "/dashboard", "logged in")
    assert response.status_code == 200, (
        f"with user_id in the session (both factors passed) the page should open, got {response.status_code}: "
        "the guard must let the request through to the view, and give back the view's own answer. It reads the "
        "session on every request, keeping nothing from an earlier one."
    )
    assert _page(response) == f"dashboard of user {user_id}", "return exactly what the guarded view returns."
    response = _visit(client, f"/notes/{note_id}", "a guarded page with a URL argument, logged in")
    assert _page(response) == f"note {note_id}", (
        f"a guarded page with a URL argument (/notes/{note_id}) did not get it: pass the view's arguments "
        "through to the view: pass on every argument, positional and keyword."
    )


@hidden_check("6.5")
def check_login_required_passes_arguments(login_required):
    app = _guarded_app(login_required)
    client = app.test_client()
    _goes_to_login(_visit(client, "/notes/3", "a guarded page with a URL argument, logged out"),
                   "a guarded page with a URL argument, logged out")
    # A user and a note drawn for this run: the guarded view's own answer, whatever it is, comes through.
    draw = random.SystemRandom()
    user_id, note_id = draw.randrange(1, 10 ** 6), draw.randrange(10 ** 6)
    with client.session_transaction() as data:
        data["user_id"] = user_id
    assert _page(_visit(client, "/dashboard", "logged in")) == f"dashboard of user {user_id}", (
        "return exactly what the guarded view returns."
    )
    assert _page(_visit(client, f"/notes/{note_id}", "logged in")) == f"note {note_id}", (
        "pass the view's arguments through to the view."
    )
    assert _lesson().view_name(app, "note") == "note", (
        "the guarded view lost its name: each guarded view must keep its own name (the functools docs).")


# --- questions ----------------------------------------------------------------------

question(
    "6.Q1", "Which pages SameSite=Lax holds back",
    prompt="Your app is at `https://app.example.com` and its session cookie is marked `SameSite=Lax`. A page "
           "that submits a form to your app by script, the moment it loads, gets your cookie sent along from "
           "which of these?",
    options={
        "a": "None of them: SameSite=Lax keeps the cookie off every POST from another address.",
        "b": "`https://app.example.com:8443` and `https://blog.example.com`, but not `https://evil.example.net`.",
        "c": "Only `https://evil.example.net`: subdomains and other ports of your address are held back.",
        "d": "All three: SameSite only concerns links, never forms.",
    },
    answer="b",
    why_not={
        "a": "SameSite is about sites, not addresses (origins). Another port or subdomain of example.com is the "
             "same site, so its forms still carry your cookie. A CSRF token in each form (lesson 07) covers them.",
        "c": "that is the wrong way round: Lax holds the cookie back on POSTs from other sites, and another "
             "port or subdomain of example.com is the same site.",
        "d": "a cross-site form POST is exactly what Lax holds the cookie back from; a top-level link (a GET) "
             "is what it still lets through.",
    },
)
